/// \file
/// \ingroup ch05
/// \brief The pooling layers: MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D.
///
/// Pooling layers have a window size, a stride and a padding, and no weights at all: they
/// combine their inputs with a fixed rule (max or mean), so there is nothing to learn and
/// parameter_count() is 0. As in Keras, the stride defaults to the window size, so windows
/// tile the input without overlapping: MaxPooling2D(2) halves each side. The arithmetic is
/// ops/pooling.hpp.
///
/// Max pooling has an engine, as Conv2D does (layers/conv2d.hpp): this chapter's loops by
/// default; \ref chapter07 "chapter 07" splits them between threads, with the same winners bit for
/// bit.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cnn/layers/engine.hpp"
#include "cnn/layers/layer.hpp"
#include "cnn/ops/pooling.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Everything a pooling layer can be asked for, named as in Keras.
struct Pooling2DOptions {
    std::size_t pool_rows = 2;                 ///< window height
    std::size_t pool_cols = 2;                 ///< window width
    std::size_t stride_rows = 0;               ///< 0: the window height (Keras's strides=None)
    std::size_t stride_cols = 0;               ///< 0: the window width
    PaddingMode padding = PaddingMode::valid;  ///< 'valid' or 'same'
};

/// How a MaxPooling2D layer computes (\ref chapter07 "chapter 07" adds a threaded engine).
class MaxPooling2DEngine {
public:
    virtual ~MaxPooling2DEngine() = default;
    /// Max pooling of x into `result` (its y and winners are resized as needed; the winners'
    /// memory is reused from call to call).
    /// \param x the input (N, C, H, W)
    /// \param window the window size, strides and padding
    /// \param result receives y (N, C, OH, OW) and each output's winner, an index into x
    virtual void forward(const Tensor4& x, const Pool2DWindow& window, MaxPoolResult& result) = 0;
    /// dx of x_shape, each dy value added at its winner's position.
    /// \param dy the gradient of y (N, C, OH, OW)
    /// \param winner forward()'s winners, one per element of dy
    /// \param x_shape the shape of forward()'s x, (N, C, H, W)
    /// \return dx (N, C, H, W), zero where no window's maximum was
    virtual Tensor4 backward(const Tensor4& dy, const std::vector<PoolIndex>& winner,
                             const std::array<std::size_t, 4>& x_shape) = 0;
};

/// Makes one engine per layer.
using MaxPooling2DEngineFactory = std::function<std::unique_ptr<MaxPooling2DEngine>()>;

/// This chapter's engine: the loops of ops/pooling.hpp.
/// \return a new engine
std::unique_ptr<MaxPooling2DEngine> make_loop_max_pooling2d_engine();

/// The engine of every MaxPooling2D layer built from now on; this chapter's loops until a
/// program sets another. An empty factory restores that default.
/// \param factory makes each layer's engine; empty for the loops
void set_default_max_pooling2d_engine(MaxPooling2DEngineFactory factory);

/// Everything a MaxPooling2D layer can be asked for: the window, and its engine.
struct MaxPooling2DOptions : Pooling2DOptions {
    MaxPooling2DEngineFactory engine;  ///< empty: the process-wide default
};

/// The window, strides and padding `options` give on an input of h rows and w columns.
/// \param options the layer's options; a stride of 0 means the window's size
/// \param h the input's height H
/// \param w the input's width W
/// \return the window, with 'same' padding worked out for that size
Pool2DWindow pool2d_window(const Pooling2DOptions& options, std::size_t h, std::size_t w);

/// What pooling layers share: their options (Options derives from Pooling2DOptions) and how
/// they shape their output.
/// \tparam Derived the pooling layer itself (MaxPooling2D, AveragePooling2D)
/// \tparam Options its options
template <class Derived, class Options = Pooling2DOptions>
class Pooling2D : public KerasLayer<Derived> {
public:
    /// Square windows of pool_size x pool_size, strides equal to the window, 'valid' padding.
    /// \param pool_size the window's height and width
    explicit Pooling2D(std::size_t pool_size) {
        options_.pool_rows = options_.pool_cols = pool_size;
    }
    /// Every option at once.
    /// \param options the window, strides and padding
    explicit Pooling2D(const Options& options) : options_(options) {}
    /// The same stride along H and W, as Keras's `strides=`; by default the window's size.
    /// \param stride the stride; 0 restores the default
    /// \return this layer, for chaining
    Derived& strides(std::size_t stride) {
        options_.stride_rows = options_.stride_cols = stride;
        return static_cast<Derived&>(*this);
    }
    /// 'valid' (no padding, the default) or 'same' (Keras's rule, ops/geometry.hpp).
    /// \param mode "valid" or "same"
    /// \return this layer, for chaining
    /// \throws std::invalid_argument for any other mode
    Derived& padding(const std::string& mode) {
        options_.padding = parse_padding(mode);
        return static_cast<Derived&>(*this);
    }
    /// Checks the input and returns the pooled shape (pooled_shape()).
    /// \param input_shape (C, H, W)
    /// \return (C, OH, OW)
    /// \throws std::invalid_argument for another rank; GeometryError when the window does not
    ///         fit the input
    Shape build(const Shape& input_shape, Rng&) override;
    /// The options set so far.
    /// \return them, as the constructor and the calls above left them
    const Options& options() const { return options_; }
    /// The window this layer uses on an input of h rows and w columns.
    /// \param h the input's height H
    /// \param w the input's width W
    /// \return pool2d_window() of the layer's options: window size, strides, padding
    Pool2DWindow window(std::size_t h, std::size_t w) const { return pool2d_window(options_, h, w); }

protected:

    /// The window, strides and padding.
    Options options_;
    /// The shape of the last forward input, (N, C, H, W).
    std::array<std::size_t, 4> x_shape_{};
};

/// Max pooling: each window replaced by its largest value.
class MaxPooling2D : public Pooling2D<MaxPooling2D, MaxPooling2DOptions> {
public:
    /// Keras's MaxPooling2D(pool_size): windows of pool_size x pool_size, as many strides.
    /// \param pool_size the window's height and width
    explicit MaxPooling2D(std::size_t pool_size = 2) : Pooling2D(pool_size) {}
    /// Every option at once.
    /// \param options the window, strides, padding and engine
    explicit MaxPooling2D(const MaxPooling2DOptions& options) : Pooling2D(options) {}
    /// The engine that computes this layer, made when it is built.
    /// \param factory makes the engine; empty for the process-wide default
    /// \return this layer, for chaining
    MaxPooling2D& engine(MaxPooling2DEngineFactory factory) {
        options_.engine = std::move(factory);
        return *this;
    }
    std::string type() const override { return "MaxPooling2D"; }
    std::string default_name() const override { return "max_pooling2d"; }
    Shape build(const Shape& input_shape, Rng& rng) override;

protected:
    /// The winners: one index (a PoolIndex, 4 bytes) per output value.
    /// \return the number of bytes
    std::size_t kept_by_operation() const override {
        return result_.winner.size() * sizeof(PoolIndex);
    }
    /// x is (N, C, H, W); returns (N, C, OH, OW) and remembers each window's winner.
    /// \param x the input (N, C, H, W)
    /// \param training unused: pooling is the same in training and inference
    /// \return y (N, C, OH, OW)
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    /// dy is (N, C, OH, OW); returns dx (N, C, H, W): the gradient goes to the winners.
    /// \param dy the gradient of y (N, C, OH, OW)
    /// \return dx (N, C, H, W)
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    EngineSlot<MaxPooling2DEngine> engine_;
    MaxPoolResult result_;  // the winners, kept for backward() (their memory reused)
};

/// Average pooling: each window replaced by the mean of its values.
class AveragePooling2D : public Pooling2D<AveragePooling2D> {
public:
    /// Keras's AveragePooling2D(pool_size): windows of pool_size x pool_size, as many strides.
    /// \param pool_size the window's height and width
    explicit AveragePooling2D(std::size_t pool_size = 2) : Pooling2D(pool_size) {}
    /// Every option at once.
    /// \param options the window, strides and padding
    explicit AveragePooling2D(const Pooling2DOptions& options) : Pooling2D(options) {}
    std::string type() const override { return "AveragePooling2D"; }
    std::string default_name() const override { return "average_pooling2d"; }

protected:
    /// x is (N, C, H, W); returns (N, C, OH, OW).
    /// \param x the input (N, C, H, W)
    /// \param training unused: pooling is the same in training and inference
    /// \return y (N, C, OH, OW)
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    /// dy is (N, C, OH, OW); returns dx (N, C, H, W): each gradient shared by its window.
    /// \param dy the gradient of y (N, C, OH, OW)
    /// \return dx (N, C, H, W)
    Tensor4 backward_operation(Tensor4 dy) override;
};

/// Global average pooling: each whole map replaced by its mean, (C, H, W) -> (C).
class GlobalAveragePooling2D : public KerasLayer<GlobalAveragePooling2D> {
public:
    std::string type() const override { return "GlobalAveragePooling2D"; }
    std::string default_name() const override { return "global_average_pooling2d"; }
    Shape build(const Shape& input_shape, Rng& rng) override;

protected:
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    std::array<std::size_t, 4> x_shape_{};
};

/// The output shape (C, OH, OW) of a pooling layer on `input` (C, H, W); errors name the layer.
/// \param layer the pooling layer, named in errors
/// \param options its window, strides and padding
/// \param input the input shape (C, H, W)
/// \return (C, OH, OW)
/// \throws std::invalid_argument for another rank; GeometryError when the window does not fit
Shape pooled_shape(const Layer& layer, const Pooling2DOptions& options, const Shape& input);

template <class Derived, class Options>
Shape Pooling2D<Derived, Options>::build(const Shape& input_shape, Rng&) {
    return pooled_shape(*this, options_, input_shape);
}

}  // namespace cnn
