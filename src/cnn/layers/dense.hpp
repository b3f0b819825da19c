/// \file
/// \ingroup ch01
/// \brief The fully connected (Dense, "Affine") layer: every input feeds every unit.
///
/// \f[ y = x\,W + b, \qquad x:(N, D),\; W:(D, M),\; b:(M),\; y:(N, M) \f]
///
/// Each of the M units has its own weight for every one of the D inputs, so the layer has
/// \f$(D + 1)\,M\f$ parameters. Chapter 01 shows what that costs on images.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cnn/layers/parameter.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

//! [dense_forward]
/// Forward pass: `y = x w + b`.
/// x is (N, D), w is (D, M), b is (M); returns y (N, M).
Tensor2 dense_forward(const Tensor2& x, const Tensor2& w, const Tensor1& b);
//! [dense_forward]

//! [dense_backward]
/// Backward pass. dy is (N, M), the gradient of the loss with respect to y;
/// x (N, D) and w (D, M) are the forward pass's inputs.
/// Accumulates `dw += x^T dy` (D, M) and `db += sum over n of dy` (M); returns dx = dy w^T (N, D).
Tensor2 dense_backward(const Tensor2& dy, const Tensor2& x, const Tensor2& w, Tensor2& dw,
                       Tensor1& db);
//! [dense_backward]

/// Parameters of a Dense layer with `inputs` inputs and `units` units: a weight per
/// input-unit pair plus one bias per unit.
constexpr std::size_t dense_parameter_count(std::size_t inputs, std::size_t units) {
    return (inputs + 1) * units;
}

/// How a layer's weights start (biases always start at zero).
enum class Init {
    he_normal,       ///< for layers followed by ReLU
    glorot_uniform,  ///< for the rest, e.g. the layer before softmax
};

/// Hyperparameters of a Dense layer.
struct DenseOptions {
    std::size_t inputs = 0;         ///< D, the length of each input row
    std::size_t units = 0;          ///< M, the number of outputs
    Init init = Init::he_normal;    ///< how the weights start
    std::string name = "dense";     ///< prefix of the parameter names
};

/// A Dense layer: owns W (D, M), b (M), their gradients and the cached input.
class Dense {
public:
    Dense(const DenseOptions& options, Rng& rng);

    /// x is (N, D); returns (N, M) and caches x for backward().
    Tensor2 forward(const Tensor2& x);
    /// dy is (N, M); accumulates the parameter gradients and returns dx (N, D).
    Tensor2 backward(const Tensor2& dy);

    /// Views of W and b with their gradients, for an optimizer.
    std::vector<Parameter> parameters();
    /// (D + 1) M.
    std::size_t parameter_count() const { return w_.size() + b_.size(); }

    std::size_t inputs() const { return w_.shape(0); }
    std::size_t units() const { return w_.shape(1); }
    const Tensor2& weights() const { return w_; }
    Tensor2& weights() { return w_; }
    const Tensor1& bias() const { return b_; }
    Tensor1& bias() { return b_; }

private:
    std::string name_;
    Tensor2 w_, dw_;
    Tensor1 b_, db_;
    Tensor2 x_;  // the input of the last forward(), all that backward() needs
};

}  // namespace cnn
