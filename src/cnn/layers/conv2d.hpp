/// \file
/// \ingroup ch04
/// \brief The Conv2D layer: FN filters over C channels, with strides and 'valid'/'same'
/// padding, then an activation.
///
/// The layer owns its filters W (FN, C, FH, FW), its biases b (FN), their gradients, and the
/// input of the last forward pass, which is all its backward pass needs. Weights start
/// He-normal with fan-in C·FH·FW, biases at zero. Parameters: \f$FN\,(C \cdot FH \cdot FW + 1)\f$,
/// whatever the image size.
///
/// **Engines.** What computes the convolution is the layer's engine, a Conv2DEngine. By
/// default it is this chapter's im2col and matrix product (ops/conv2d_im2col.hpp).
/// \ref chapter07 "Chapter 07" adds faster engines that compute the same values; a program that
/// wants them says so, through Conv2DOptions::engine for one layer or set_default_conv2d_engine()
/// for every layer built afterwards. The layer itself never changes: only the engine it is handed.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cnn/layers/engine.hpp"
#include "cnn/layers/layer.hpp"
#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// How a Conv2D layer computes its convolution: forward and backward of y = W * x + b,
/// optionally followed by a ReLU the engine computes in the same pass.
class Conv2DEngine {
public:
    virtual ~Conv2DEngine() = default;
    /// A short name for reports, e.g. "im2col".
    virtual std::string name() const = 0;
    /// True if the engine can apply the ReLU itself (`relu` below); otherwise the layer
    /// applies it.
    virtual bool fuses_relu() const { return false; }
    /// x (N, C, H, W), w (FN, C, FH, FW), b (FN); returns y (N, FN, OH, OW), after a ReLU
    /// when `relu` (only asked of engines that fuse it).
    virtual Tensor4 forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                            const Conv2DGeometry& geometry, bool relu) = 0;
    /// dy (N, FN, OH, OW) is the gradient of forward()'s output y (which a fused ReLU needs
    /// for its mask; otherwise it may be empty). Accumulates dw and db; returns dx.
    virtual Tensor4 backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                             const Tensor4& w, const Conv2DGeometry& geometry, bool relu,
                             Tensor4& dw, Tensor1& db) = 0;
};

/// Makes one engine per layer (an engine may keep scratch memory between calls).
using Conv2DEngineFactory = std::function<std::unique_ptr<Conv2DEngine>()>;

/// \ref chapter04 "Chapter 04's" engine: im2col and one matrix product per image
/// (ops/conv2d_im2col.hpp).
std::unique_ptr<Conv2DEngine> make_im2col_engine();

/// The engine of every Conv2D layer built from now on whose options name none;
/// \ref chapter04 "chapter 04's" im2col engine until a program sets another. An empty factory
/// restores that default.
void set_default_conv2d_engine(Conv2DEngineFactory factory);

/// Everything a Conv2D layer can be asked for, named as in Keras.
struct Conv2DOptions {
    std::size_t filters = 0;                     ///< FN
    std::size_t kernel_rows = 3;                 ///< FH
    std::size_t kernel_cols = 3;                 ///< FW
    std::size_t stride_rows = 1;                 ///< S along H
    std::size_t stride_cols = 1;                 ///< S along W
    PaddingMode padding = PaddingMode::valid;    ///< 'valid' or 'same' (Keras's rule)
    Activation activation = Activation::linear;  ///< applied to the convolution's output
    Conv2DEngineFactory engine;                  ///< empty: the process-wide default
};

/// A 2-D convolution layer over batches (N, C, H, W).
class Conv2D : public KerasLayer<Conv2D> {
public:
    /// `filters` filters of kernel_size x kernel_size, as Keras's Conv2D(filters, kernel_size).
    Conv2D(std::size_t filters, std::size_t kernel_size);
    explicit Conv2D(const Conv2DOptions& options);
    Conv2D& kernel_size(std::size_t rows, std::size_t cols);
    Conv2D& strides(std::size_t stride) { return strides(stride, stride); }
    Conv2D& strides(std::size_t rows, std::size_t cols);
    Conv2D& padding(const std::string& mode);  ///< "valid" (default) or "same"
    Conv2D& activation(const std::string& name);
    Conv2D& engine(Conv2DEngineFactory factory);

    std::string type() const override { return "Conv2D"; }
    std::string default_name() const override { return "conv2d"; }
    Shape build(const Shape& input_shape, Rng& rng) override;
    /// W as "<name>/kernel" and b as "<name>/bias", with their gradients.
    std::vector<Parameter> parameters() override;
    Activation activation() const override { return options_.activation; }
    /// OH * OW * FN * C * FH * FW: one multiply-add per weight per output position.
    std::size_t multiply_adds(const Shape& output_shape) const override;

    /// The stride and padding this layer uses on an input of h rows and w columns.
    Conv2DGeometry geometry(std::size_t h, std::size_t w) const;
    const Conv2DOptions& options() const { return options_; }
    /// The engine chosen at build().
    const Conv2DEngine& engine() const;
    Tensor4& weights() { return w_; }
    const Tensor4& weights() const { return w_; }
    Tensor1& bias() { return b_; }
    const Tensor1& bias() const { return b_; }

protected:
    /// The input and, with a fused ReLU, the output.
    std::size_t kept_by_operation() const override {
        return (x_.size() + y_.size()) * sizeof(float);
    }
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    Tensor4 backward_operation(Tensor4 dy) override;
    bool applies_own_activation() const override { return fused_relu(); }

private:
    bool fused_relu() const {
        return static_cast<bool>(engine_) && engine_->fuses_relu() && options_.activation == Activation::relu;
    }

    Conv2DOptions options_;
    EngineSlot<Conv2DEngine> engine_;
    Tensor4 w_, dw_;
    Tensor1 b_, db_;
    Tensor4 x_;  // the input of the last forward pass
    Tensor4 y_;  // its output, when a fused ReLU needs it for its mask
};

}  // namespace cnn
