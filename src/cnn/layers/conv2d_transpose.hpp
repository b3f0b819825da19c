/// \file
/// \ingroup ch11
/// \brief The Conv2DTranspose layer: the backward pass of a convolution, run forward, to make
/// feature maps larger (a decoder's upsampling step).
///
/// Keras's `Conv2DTranspose(filters, kernel_size, strides, padding)`: from x (N, C_in, H, W) it
/// makes y (N, filters, H_out, W_out), with H_out = H S for 'same' and
/// H S + max(FH - S, 0) for 'valid' (conv_transpose_output_size()). Stride 2 doubles the size,
/// where a Conv2D with stride 2 halves it: y is the input gradient of that Conv2D
/// (ops/conv2d_transpose.hpp), and the layer's backward pass is the Conv2D's forward pass.
///
/// The layer owns its filters W (C_in, C_out, FH, FW) (PyTorch's ConvTranspose2d layout; Keras
/// stores the same numbers as (FH, FW, C_out, C_in)), its biases b (C_out), their gradients and
/// the input of the last forward pass, which its weight gradient needs. Weights start
/// Glorot-uniform as in Keras, whose fans for a (kh, kw, out, in) kernel are
/// fan_in = C_out·FH·FW and fan_out = C_in·FH·FW (the fans of the convolution it transposes;
/// the Glorot limit only sees their sum); biases start at zero. Parameters:
/// \f$C_{out}(C_{in} \cdot FH \cdot FW + 1)\f$.
///
/// **Engines.** The layer computes through a Conv2DEngine, the interface that
/// \ref chapter04 "chapter 04's" Conv2D computes through, and takes the same default
/// (default_conv2d_engine()): a program that installs \ref chapter07 "chapter 07's" fast
/// engines (use_fast_engines()) makes this layer fast too. Forward is the engine's
/// backward_input() (the input gradient alone, one matrix product per image); backward is the
/// engine's forward() for dx and its backward_weights() with the roles of x and dy swapped for
/// dW: three products per image and step, as PyTorch's ConvTranspose2d computes. The engine's
/// fused ReLU is never used: the ReLU, if any, comes after the transposed convolution, which
/// is the engine's backward pass.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/engine.hpp"
#include "cnn/layers/layer.hpp"
#include "cnn/ops/conv2d_transpose.hpp"
#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Everything a Conv2DTranspose layer can be asked for, named as in Keras.
struct Conv2DTransposeOptions {
    std::size_t filters = 0;                     ///< C_out: the output channels
    std::size_t kernel_rows = 3;                 ///< FH
    std::size_t kernel_cols = 3;                 ///< FW
    std::size_t stride_rows = 1;                 ///< S along H: the output is about S times taller
    std::size_t stride_cols = 1;                 ///< S along W
    PaddingMode padding = PaddingMode::valid;    ///< 'valid' or 'same' (Keras's rule)
    Activation activation = Activation::linear;  ///< applied to the layer's output
    Conv2DEngineFactory engine;                  ///< empty: default_conv2d_engine()
};

/// A 2-D transposed convolution layer over batches (N, C, H, W).
class Conv2DTranspose : public KerasLayer<Conv2DTranspose> {
public:
    /// `filters` output channels from kernel_size x kernel_size filters, as Keras's
    /// Conv2DTranspose(filters, kernel_size). Stride 1, 'valid' padding and no activation until
    /// the calls below say otherwise; the input channels C_in come from the input at build().
    /// \param filters C_out, the number of output channels (at least 1 by build())
    /// \param kernel_size FH = FW (at least 1 by build())
    Conv2DTranspose(std::size_t filters, std::size_t kernel_size);
    /// Every option at once.
    /// \param options filters, kernel size, strides, padding, activation and engine
    explicit Conv2DTranspose(const Conv2DTransposeOptions& options);
    /// Filters of FH x FW = rows x cols pixels, for a kernel that is not square.
    /// \param rows FH (at least 1 by build())
    /// \param cols FW (at least 1 by build())
    /// \return this layer, for chaining
    Conv2DTranspose& kernel_size(std::size_t rows, std::size_t cols);
    /// The same stride S along H and W: neighbouring input pixels stamp their kernels S pixels
    /// apart, so the output is about S times larger.
    /// \param stride S (at least 1 by build())
    /// \return this layer, for chaining
    Conv2DTranspose& strides(std::size_t stride) { return strides(stride, stride); }
    /// A stride per axis.
    /// \param rows the stride along H (at least 1 by build())
    /// \param cols the stride along W (at least 1 by build())
    /// \return this layer, for chaining
    Conv2DTranspose& strides(std::size_t rows, std::size_t cols);
    /// 'valid' (the default: every stamp kept whole) or 'same' (output exactly S times the
    /// input; Keras's rule crops the stamps' overhang, more at the bottom and right).
    /// \param mode "valid" or "same"
    /// \return this layer, for chaining
    /// \throws std::invalid_argument for any other mode
    Conv2DTranspose& padding(const std::string& mode);
    /// The activation applied to the output, as Keras's `activation=`.
    /// \param name "linear" (or "", the default), "relu" or "softmax"
    /// \return this layer, for chaining
    /// \throws std::invalid_argument for any other name
    Conv2DTranspose& activation(const std::string& name);
    /// The convolution engine that computes this layer, made when it is built.
    /// \param factory makes the engine; empty for default_conv2d_engine()
    /// \return this layer, for chaining
    Conv2DTranspose& engine(Conv2DEngineFactory factory);

    std::string type() const override { return "Conv2DTranspose"; }
    std::string default_name() const override { return "conv2d_transpose"; }
    Shape build(const Shape& input_shape, Rng& rng) override;
    /// W as "<name>/kernel" and b as "<name>/bias", with their gradients.
    /// \return the two views, kernel first
    std::vector<Parameter> parameters() override;
    Activation activation() const override { return options_.activation; }
    /// H · W · C_in · C_out · FH · FW: every input pixel stamps every weight once (what
    /// PyTorch's profilers count; the stamps' overhang that 'same' crops is counted too).
    /// \param output_shape (C_out, H_out, W_out), unused: the count follows the input's size
    /// \return the multiply-adds per example (0 before build())
    std::size_t multiply_adds(const Shape& output_shape) const override;

    /// The output size and the transposed convolution's geometry for an input of h rows and w
    /// columns.
    /// \param h the input's height H
    /// \param w the input's width W
    /// \return Conv2DTransposeGeometry::keras() for this layer's options
    Conv2DTransposeGeometry geometry(std::size_t h, std::size_t w) const;
    /// The options set so far.
    /// \return them, as the constructor and the calls above left them
    const Conv2DTransposeOptions& options() const { return options_; }
    /// The engine chosen at build().
    /// \return the engine
    /// \throws std::logic_error before build()
    const Conv2DEngine& engine() const;
    /// The engine's scratch memory (Conv2DEngine::workspace_bytes()).
    /// \return bytes; 0 before build() or before the first call
    std::size_t workspace_bytes() const override {
        return engine_ ? engine_->workspace_bytes() : 0;
    }
    /// The owner of the engine's scratch memory (Conv2DEngine::workspace_owner()).
    /// \return its address; the layer's own before build()
    const void* workspace_owner() const override {
        return engine_ ? engine_->workspace_owner() : this;
    }
    /// The filters W, for an optimizer or a weights file to change.
    /// \return W (C_in, C_out, FH, FW); empty before build()
    Tensor4& weights() { return w_; }
    /// The filters W.
    /// \return W (C_in, C_out, FH, FW); empty before build()
    const Tensor4& weights() const { return w_; }
    /// The biases b, for an optimizer or a weights file to change.
    /// \return b (C_out); empty before build()
    Tensor1& bias() { return b_; }
    /// The biases b.
    /// \return b (C_out); empty before build()
    const Tensor1& bias() const { return b_; }

protected:
    /// The input of the last forward pass, which the weight gradient needs.
    /// \return the number of bytes
    std::size_t kept_by_operation() const override { return x_.size() * sizeof(float); }
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    Conv2DTransposeOptions options_;
    Shape input_shape_built_;  // (C_in, H, W) seen by build(), for multiply_adds()
    EngineSlot<Conv2DEngine> engine_;
    Tensor4 w_, dw_;
    Tensor1 b_, db_;
    Tensor4 x_;  // the input of the last forward pass
};

}  // namespace cnn
