/// \file
/// \ingroup ch04
/// \brief EngineSlot: how a layer owns the engine that computes it (Conv2D, MaxPooling2D).
///
/// A layer's engine is made by a factory when the layer is built, because an engine may keep
/// scratch memory sized for that layer. Layers are values (a model takes them by copy,
/// `model.add(Conv2D(...))`), so the slot is too: a copy of a layer gets a fresh engine from
/// the same factory. Whether engines share scratch memory is the factory's to decide:
/// \ref chapter07 "chapter 07's" give the engines they make one set, which they take turns with.
#pragma once

#include <functional>
#include <memory>
#include <utility>

namespace cnn {

/// One layer's engine of type E, and the factory it came from.
/// \tparam E the engine interface (Conv2DEngine, MaxPooling2DEngine)
template <class E>
class EngineSlot {
public:
    /// Makes one engine.
    using Factory = std::function<std::unique_ptr<E>()>;

    /// No engine yet.
    EngineSlot() = default;
    /// The same factory, and a fresh engine from it if `other` has one.
    /// \param other the slot copied
    EngineSlot(const EngineSlot& other)
        : factory_(other.factory_), engine_(other.engine_ ? other.factory_() : nullptr) {}
    /// As the copy constructor; leaves this slot unchanged if the factory throws.
    /// \param other the slot copied
    /// \return this slot
    EngineSlot& operator=(const EngineSlot& other) {
        EngineSlot copy(other);  // may throw; *this changes only after it succeeded
        *this = std::move(copy);
        return *this;
    }
    /// Takes the other slot's engine and factory.
    EngineSlot(EngineSlot&&) noexcept = default;
    /// Takes the other slot's engine and factory.
    /// \return this slot
    EngineSlot& operator=(EngineSlot&&) noexcept = default;
    ~EngineSlot() = default;

    /// Makes the engine (again) from `factory`.
    /// \param factory kept for copies of the slot; must make an engine
    void make(Factory factory) {
        factory_ = std::move(factory);
        engine_ = factory_();
    }
    /// Whether an engine has been made.
    /// \return true after make()
    explicit operator bool() const { return engine_ != nullptr; }
    /// The engine's members.
    /// \return the engine, nullptr before make()
    E* operator->() const { return engine_.get(); }
    /// The engine, which must have been made.
    /// \return the engine
    E& operator*() const { return *engine_; }

private:
    Factory factory_;
    std::unique_ptr<E> engine_;
};

}  // namespace cnn
