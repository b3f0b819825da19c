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

#include <array>
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
    /// \return the name
    virtual std::string name() const = 0;
    /// True if the engine can apply the ReLU itself (`relu` below); otherwise the layer
    /// applies it.
    /// \return false unless an engine overrides it
    virtual bool fuses_relu() const { return false; }
    /// x (N, C, H, W), w (FN, C, FH, FW), b (FN); returns y (N, FN, OH, OW), after a ReLU
    /// when `relu` (only asked of engines that fuse it).
    /// \param x the input images (N, C, H, W)
    /// \param w the filters (FN, C, FH, FW)
    /// \param b the biases (FN)
    /// \param geometry the strides and padding; OH and OW follow from them
    /// \param relu whether to end with a ReLU
    /// \return y (N, FN, OH, OW)
    virtual Tensor4 forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                            const Conv2DGeometry& geometry, bool relu) = 0;
    /// forward() for training through a fused ReLU: returns y and also writes it into `kept`,
    /// the copy from which the backward pass reads the ReLU's mask (`kept`'s memory is reused
    /// when it already has y's shape). The default copies y after forward(); an engine that
    /// writes y on several threads can write the copy beside it, while y's values are in cache.
    /// \param x the input images (N, C, H, W)
    /// \param w the filters (FN, C, FH, FW)
    /// \param b the biases (FN)
    /// \param geometry the strides and padding
    /// \param relu whether to end with a ReLU
    /// \param kept receives a copy of y
    /// \return y (N, FN, OH, OW)
    virtual Tensor4 forward_keeping(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                    const Conv2DGeometry& geometry, bool relu, Tensor4& kept);
    /// dy (N, FN, OH, OW) is the gradient of forward()'s output y (which a fused ReLU needs
    /// for its mask; otherwise it may be empty). Accumulates dw and db; returns dx.
    /// \param dy the gradient of the loss with respect to y (N, FN, OH, OW)
    /// \param x forward()'s input (N, C, H, W)
    /// \param y forward()'s output (N, FN, OH, OW), or empty unless `relu`
    /// \param w the filters (FN, C, FH, FW)
    /// \param geometry the strides and padding forward() used
    /// \param relu whether forward() ended with a fused ReLU, whose mask is y > 0
    /// \param dw the filters' gradient (FN, C, FH, FW), added to
    /// \param db the biases' gradient (FN), added to
    /// \return dx (N, C, H, W)
    virtual Tensor4 backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                             const Tensor4& w, const Conv2DGeometry& geometry, bool relu,
                             Tensor4& dw, Tensor1& db) = 0;
    /// The input gradient alone: what backward() returns without a fused ReLU, without the
    /// filters' and biases' gradients. It depends on the shape of forward()'s input, not on its
    /// values. Chapter 11's Conv2DTranspose runs it as its forward pass. The
    /// default calls backward() on zeros of x's shape and drops the gradients it also computes;
    /// the im2col engines override it with one matrix product per image instead of two.
    /// \param dy the gradient of the loss with respect to y (N, FN, OH, OW)
    /// \param w the filters (FN, C, FH, FW)
    /// \param x_shape the shape (N, C, H, W) of forward()'s input
    /// \param geometry the strides and padding forward() used
    /// \return dx (N, C, H, W)
    /// \throws std::invalid_argument or GeometryError when the shapes do not fit together
    virtual Tensor4 backward_input(const Tensor4& dy, const Tensor4& w,
                                   const std::array<std::size_t, 4>& x_shape,
                                   const Conv2DGeometry& geometry);
    /// The filters' and biases' gradients alone: what backward() accumulates, without dx.
    /// Chapter 11's Conv2DTranspose needs only these in its backward pass, and so does a
    /// model's first layer, whose input gradient would go to the data. The default calls
    /// backward() and drops dx; the im2col engines override it with one matrix product per
    /// image instead of two, and no col2im.
    /// \param dy the gradient of the loss with respect to y (N, FN, OH, OW)
    /// \param x forward()'s input (N, C, H, W)
    /// \param y forward()'s output (N, FN, OH, OW), or empty unless `relu`
    /// \param w the filters (FN, C, FH, FW)
    /// \param geometry the strides and padding forward() used
    /// \param relu whether forward() ended with a fused ReLU, whose mask is y > 0
    /// \param dw the filters' gradient (FN, C, FH, FW), added to
    /// \param db the biases' gradient (FN), added to
    /// \throws std::invalid_argument or GeometryError when the shapes do not fit together
    virtual void backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                  const Tensor4& w, const Conv2DGeometry& geometry, bool relu,
                                  Tensor4& dw, Tensor1& db);
    /// Scratch memory the engine keeps from call to call.
    /// \return bytes (0 for chapter 04's engine, which keeps none)
    virtual std::size_t workspace_bytes() const { return 0; }
    /// Who owns that scratch memory: engines that share one (\ref chapter07 "chapter 07's",
    /// made by one factory) name the same owner, and memory counts count it once.
    /// \return the owner's address; by default the engine's own
    virtual const void* workspace_owner() const { return this; }
};

/// Makes one engine per layer (an engine may keep scratch memory between calls).
using Conv2DEngineFactory = std::function<std::unique_ptr<Conv2DEngine>()>;

/// \ref chapter04 "Chapter 04's" engine: im2col and one matrix product per image
/// (ops/conv2d_im2col.hpp).
/// \return a new engine
std::unique_ptr<Conv2DEngine> make_im2col_engine();

/// The engine of every Conv2D layer built from now on whose options name none;
/// \ref chapter04 "chapter 04's" im2col engine until a program sets another. An empty factory
/// restores that default.
/// \param factory makes each layer's engine; empty for \ref chapter04 "chapter 04's" im2col
///        engine
void set_default_conv2d_engine(Conv2DEngineFactory factory);

/// The factory set_default_conv2d_engine() set last: what a Conv2D layer built now, whose
/// options name no engine, computes with. Later layers that compute through a Conv2DEngine
/// (chapter 11's Conv2DTranspose) take the same default.
/// \return the factory; \ref chapter04 "chapter 04's" make_im2col_engine() unless a program set
///         another
Conv2DEngineFactory default_conv2d_engine();

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
    /// Stride 1, 'valid' padding and no activation until the calls below say otherwise; the
    /// number of input channels C comes from the input when the layer is built.
    /// \param filters FN, the number of filters and of output channels (at least 1 by build())
    /// \param kernel_size FH = FW, the filters' height and width in pixels (at least 1)
    Conv2D(std::size_t filters, std::size_t kernel_size);
    /// Every option at once.
    /// \param options filters, kernel size, strides, padding, activation and engine
    explicit Conv2D(const Conv2DOptions& options);
    /// Filters of FH x FW = rows x cols pixels, for a kernel that is not square.
    /// \param rows FH (at least 1 by build())
    /// \param cols FW (at least 1 by build())
    /// \return this layer, for chaining
    Conv2D& kernel_size(std::size_t rows, std::size_t cols);
    /// The same stride S along H and W: the window moves S pixels between outputs.
    /// \param stride S (at least 1 by build())
    /// \return this layer, for chaining
    Conv2D& strides(std::size_t stride) { return strides(stride, stride); }
    /// A stride per axis.
    /// \param rows the stride along H (at least 1 by build())
    /// \param cols the stride along W (at least 1 by build())
    /// \return this layer, for chaining
    Conv2D& strides(std::size_t rows, std::size_t cols);
    /// 'valid' (no padding, the default) or 'same' (Keras's rule, ops/geometry.hpp).
    /// \param mode "valid" or "same"
    /// \return this layer, for chaining
    /// \throws std::invalid_argument for any other mode
    Conv2D& padding(const std::string& mode);
    /// The activation applied to the convolution's output, as Keras's `activation=`.
    /// \param name "linear" (or "", the default), "relu" or "softmax"
    /// \return this layer, for chaining
    /// \throws std::invalid_argument for any other name
    Conv2D& activation(const std::string& name);
    /// The engine that computes this layer, made when it is built (fast/engines.hpp has the
    /// fast ones).
    /// \param factory makes the engine; empty for the process-wide default
    /// \return this layer, for chaining
    Conv2D& engine(Conv2DEngineFactory factory);

    std::string type() const override { return "Conv2D"; }
    std::string default_name() const override { return "conv2d"; }
    Shape build(const Shape& input_shape, Rng& rng) override;
    /// W as "<name>/kernel" and b as "<name>/bias", with their gradients.
    /// \return the two views, kernel first
    std::vector<Parameter> parameters() override;
    Activation activation() const override { return options_.activation; }
    /// OH * OW * FN * C * FH * FW: one multiply-add per weight per output position.
    /// \param output_shape (FN, OH, OW)
    /// \return OH · OW · FN · C · FH · FW (0 before build())
    std::size_t multiply_adds(const Shape& output_shape) const override;

    /// The stride and padding this layer uses on an input of h rows and w columns.
    /// \param h the input's height H
    /// \param w the input's width W
    /// \return the geometry, with 'same' padding worked out for that size
    Conv2DGeometry geometry(std::size_t h, std::size_t w) const;
    /// The options set so far.
    /// \return them, as the constructor and the calls above left them
    const Conv2DOptions& options() const { return options_; }
    /// The engine chosen at build().
    /// \return the engine
    /// \throws std::logic_error before build()
    const Conv2DEngine& engine() const;
    /// The engine's scratch memory (Conv2DEngine::workspace_bytes()).
    /// \return bytes; 0 before build() or before the first call
    std::size_t workspace_bytes() const override { return engine_ ? engine_->workspace_bytes() : 0; }
    /// The owner of the engine's scratch memory (Conv2DEngine::workspace_owner()).
    /// \return its address; the layer's own before build()
    const void* workspace_owner() const override {
        return engine_ ? engine_->workspace_owner() : this;
    }
    /// The filters W, for an optimizer or a weights file to change.
    /// \return W (FN, C, FH, FW); empty before build()
    Tensor4& weights() { return w_; }
    /// The filters W.
    /// \return W (FN, C, FH, FW); empty before build()
    const Tensor4& weights() const { return w_; }
    /// The biases b, for an optimizer or a weights file to change.
    /// \return b (FN); empty before build()
    Tensor1& bias() { return b_; }
    /// The biases b.
    /// \return b (FN); empty before build()
    const Tensor1& bias() const { return b_; }

protected:
    /// The input and, with a fused ReLU, the output.
    /// \return the number of bytes
    std::size_t kept_by_operation() const override {
        return (x_.size() + y_.size()) * sizeof(float);
    }
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    Tensor4 backward_operation(Tensor4 dy) override;
    /// The filters' and biases' gradients without dx (Conv2DEngine::backward_weights()): a
    /// model's first convolution skips the matrix product and the col2im of its input gradient.
    /// \param dy the gradient with respect to the output
    void backward_parameters_operation(Tensor4 dy) override;
    bool applies_own_activation() const override { return fused_relu(); }

private:
    // Checks that forward() ran, recomputes a fused ReLU's mask if it kept none; returns the
    // geometry of the last forward pass.
    Conv2DGeometry prepare_backward();
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
