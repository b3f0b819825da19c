/// \file
/// \ingroup ch01
/// \brief The fully connected (Dense, "Affine") operation: every input feeds every unit.
///
/// \f[ y = x\,W + b, \qquad x:(N, D),\; W:(D, M),\; b:(M),\; y:(N, M) \f]
///
/// Each of the M units has its own weight for every one of the D inputs, so the layer has
/// \f$(D + 1)\,M\f$ parameters. \ref chapter01 "Chapter 01" shows what that costs on images. These
/// are the operation's two passes, functions on arrays; the Dense layer (layers/dense.hpp) owns the
/// weights and calls them.
#pragma once

#include <cstddef>
#include "cnn/tensor/tensor.hpp"

namespace cnn {

// [dense_forward]
/// Forward pass: `y = x w + b`.
/// x is (N, D), w is (D, M), b is (M); returns y (N, M).
/// \param x the inputs (N, D)
/// \param w the weights (D, M)
/// \param b the biases (M)
/// \return y (N, M)
/// \throws std::invalid_argument when the shapes do not fit together
Tensor2 dense_forward(const Tensor2& x, const Tensor2& w, const Tensor1& b);
// [dense_forward]

// [dense_backward]
/// Backward pass. dy is (N, M), the gradient of the loss with respect to y;
/// x (N, D) and w (D, M) are the forward pass's inputs.
/// Accumulates `dw += x^T dy` (D, M) and `db += sum over n of dy` (M); returns dx = dy w^T (N, D).
/// \param dy the gradient of y (N, M)
/// \param x the forward pass's inputs (N, D)
/// \param w the weights (D, M)
/// \param dw the weights' gradient (D, M), added to
/// \param db the biases' gradient (M), added to
/// \return dx (N, D)
/// \throws std::invalid_argument when the shapes do not fit together
Tensor2 dense_backward(const Tensor2& dy, const Tensor2& x, const Tensor2& w, Tensor2& dw,
                       Tensor1& db);
// [dense_backward]

/// Parameters of a Dense layer with `inputs` inputs and `units` units: a weight per
/// input-unit pair plus one bias per unit.
/// \param inputs D
/// \param units M
/// \return (D + 1) M
constexpr std::size_t dense_parameter_count(std::size_t inputs, std::size_t units) {
    return (inputs + 1) * units;
}

}  // namespace cnn
