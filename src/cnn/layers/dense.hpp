/// \file
/// \ingroup ch01
/// \brief The Dense layer: every input feeds every unit, `y = x W + b`, then an activation.
///
/// The layer owns its kernel W (D, M), its bias b (M), their gradients, and the input of the
/// last forward pass, which is all its backward pass needs; the arithmetic is the operation
/// of ops/dense.hpp. Its input is a batch of vectors (N, D), travelling between layers as
/// (N, D, 1, 1) (layers/layer.hpp): the layer sees it as the matrix (N, D) without copying.
///
/// Parameters: \f$(D + 1)\,M\f$.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cnn/layers/layer.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// How a layer's weights start (biases always start at zero).
enum class Init {
    automatic,       ///< he_normal before a ReLU, glorot_uniform otherwise
    he_normal,       ///< for layers followed by ReLU
    glorot_uniform,  ///< for the rest, e.g. the layer before softmax (Keras's default)
};

/// Everything a Dense layer can be asked for, named as in Keras.
struct DenseOptions {
    std::size_t units = 0;                       ///< M, the number of outputs
    Activation activation = Activation::linear;  ///< applied to x W + b
    Init init = Init::automatic;                 ///< how the kernel starts
};

/// A fully connected layer on flat inputs (D).
class Dense : public KerasLayer<Dense> {
public:
    /// `units` outputs, no activation, the kernel's start chosen automatically: Keras's
    /// Dense(units).
    /// \param units M, the number of outputs (at least 1)
    /// \throws std::invalid_argument if `units` is 0
    explicit Dense(std::size_t units) : Dense(DenseOptions{units}) {}
    /// Every option at once.
    /// \param options the number of outputs, the activation and the kernel's start
    /// \throws std::invalid_argument if `options.units` is 0
    explicit Dense(const DenseOptions& options);
    /// The activation applied to x W + b, as Keras's `activation=`.
    /// \param name "linear" (or "", the default), "relu" or "softmax"
    /// \return this layer, for chaining
    /// \throws std::invalid_argument for any other name
    Dense& activation(const std::string& name);
    /// How the kernel starts when the layer is built.
    /// \param init he_normal, glorot_uniform, or automatic (he_normal before a ReLU)
    /// \return this layer, for chaining
    Dense& init(Init init);

    std::string type() const override { return "Dense"; }
    std::string default_name() const override { return "dense"; }
    Shape build(const Shape& input_shape, Rng& rng) override;
    /// W as "<name>/kernel" and b as "<name>/bias", with their gradients.
    /// \return the two views, kernel first
    std::vector<Parameter> parameters() override;
    /// D * M: one multiply-add per weight.
    /// \return D * M (0 before build())
    std::size_t multiply_adds(const Shape&) const override { return w_.size(); }
    Activation activation() const override { return options_.activation; }

    /// The options set so far.
    /// \return them, as the constructor and the calls above left them
    const DenseOptions& options() const { return options_; }
    /// The input width D, known once the layer is built.
    /// \return D (0 before build())
    std::size_t inputs() const { return w_.shape(0); }
    /// The output width M.
    /// \return M
    std::size_t units() const { return options_.units; }
    /// The kernel W, for an optimizer or a weights file to change.
    /// \return W (D, M); empty before build()
    Tensor2& weights() { return w_; }
    /// The kernel W.
    /// \return W (D, M); empty before build()
    const Tensor2& weights() const { return w_; }
    /// The bias b, for an optimizer or a weights file to change.
    /// \return b (M); empty before build()
    Tensor1& bias() { return b_; }
    /// The bias b.
    /// \return b (M); empty before build()
    const Tensor1& bias() const { return b_; }

protected:
    /// The input.
    /// \return the number of bytes
    std::size_t kept_by_operation() const override { return x_.size() * sizeof(float); }
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    // Throws unless t is (N, width) or (N, width, 1, 1) and the layer is built.
    void expect_rows(const Tensor4& t, std::size_t width, const char* what) const;

    DenseOptions options_;
    Tensor2 w_, dw_;
    Tensor1 b_, db_;
    Tensor2 x_;  // the input of the last forward pass, as (N, D)
};

}  // namespace cnn
