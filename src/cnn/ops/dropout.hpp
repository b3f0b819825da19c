/// \file
/// \ingroup ch06
/// \brief Dropout: during training, zero a random fraction of the values.
///
/// With rate p, each value is kept with probability 1 - p and multiplied by 1 / (1 - p), or set
/// to 0 ("inverted dropout", as Keras does). The scaling keeps the expected value unchanged, so at
/// inference the layer simply passes its input through. No unit can rely on any particular other
/// unit being present, which discourages co-adapted features and reduces overfitting.
#pragma once

#include <cstddef>

#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Forward in training. x is any shape (here (N, ...) as a Tensor4); `mask` receives the kept
/// positions' scale (1 / (1 - rate)) or 0; returns x * mask.
/// \param x the values, any shape
/// \param rate the fraction zeroed, in [0, 1)
/// \param rng draws one uniform number per value
/// \param mask receives x's shape of 0 and 1 / (1 - rate)
/// \return x * mask
/// \throws std::invalid_argument for a rate outside [0, 1)
Tensor4 dropout_forward(const Tensor4& x, float rate, Rng& rng, Tensor4& mask);

/// Backward: dy * mask, the same positions and scale as the forward pass.
/// \param dy the gradient of the output, the mask's shape
/// \param mask the forward pass's
/// \return dx = dy * mask
/// \throws std::invalid_argument when dy and mask differ in shape
Tensor4 dropout_backward(const Tensor4& dy, const Tensor4& mask);

}  // namespace cnn
