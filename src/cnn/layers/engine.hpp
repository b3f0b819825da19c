/// \file
/// \ingroup ch04
/// \brief EngineSlot: how a layer owns the engine that computes it (Conv2D, MaxPooling2D).
///
/// A layer's engine is made by a factory when the layer is built, because an engine may keep
/// scratch memory sized for that layer. Layers are values (a model takes them by copy,
/// `model.add(Conv2D(...))`), so the slot is too: a copy of a layer gets a fresh engine from
/// the same factory, never a share of another layer's scratch memory.
#pragma once

#include <functional>
#include <memory>
#include <utility>

namespace cnn {

/// One layer's engine of type E, and the factory it came from.
template <class E>
class EngineSlot {
public:
    using Factory = std::function<std::unique_ptr<E>()>;

    EngineSlot() = default;
    EngineSlot(const EngineSlot& other)
        : factory_(other.factory_), engine_(other.engine_ ? other.factory_() : nullptr) {}
    EngineSlot& operator=(const EngineSlot& other) {
        EngineSlot copy(other);  // may throw; *this changes only after it succeeded
        *this = std::move(copy);
        return *this;
    }
    EngineSlot(EngineSlot&&) noexcept = default;
    EngineSlot& operator=(EngineSlot&&) noexcept = default;
    ~EngineSlot() = default;

    /// Makes the engine (again) from `factory`.
    void make(Factory factory) {
        factory_ = std::move(factory);
        engine_ = factory_();
    }
    explicit operator bool() const { return engine_ != nullptr; }
    E* operator->() const { return engine_.get(); }
    E& operator*() const { return *engine_; }

private:
    Factory factory_;
    std::unique_ptr<E> engine_;
};

}  // namespace cnn
