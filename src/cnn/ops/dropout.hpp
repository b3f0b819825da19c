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
Tensor4 dropout_forward(const Tensor4& x, float rate, Rng& rng, Tensor4& mask);

/// Backward: dy * mask, the same positions and scale as the forward pass.
Tensor4 dropout_backward(const Tensor4& dy, const Tensor4& mask);

}  // namespace cnn
