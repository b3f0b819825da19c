/// \file
/// \ingroup ch01
/// \brief Weight initialisation: He (for ReLU layers) and Glorot (for the rest).
///
/// A layer's starting weights set the scale of everything that flows through it. With
/// `fan_in` inputs per unit, He initialisation draws from a normal of variance `2 / fan_in`,
/// which keeps the variance of activations roughly constant through ReLU layers (ReLU zeroes
/// half its inputs, hence the 2). Glorot (Xavier) draws uniformly from
/// `[-sqrt(6 / (fan_in + fan_out)), +sqrt(6 / (fan_in + fan_out))]`, balancing forward and
/// backward variance for layers without ReLU, such as the last one before softmax.
#pragma once

#include <cstddef>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "cnn/tensor/random.hpp"

namespace cnn {

/// Fills `weights` with He-normal values for a layer with `fan_in` inputs per unit.
/// \tparam Rank 2 (Dense kernels) or 4 (convolution filters)
/// \param weights overwritten with draws from N(0, 2 / fan_in)
/// \param fan_in inputs per unit, at least 1
/// \param rng draws the values
/// \throws std::invalid_argument for fan_in = 0
template <std::size_t Rank>
void he_normal(xt::xtensor<float, Rank>& weights, std::size_t fan_in, Rng& rng);

/// Fills `weights` with Glorot-uniform values for `fan_in` inputs and `fan_out` outputs per unit.
/// \tparam Rank 2 (Dense kernels) or 4 (convolution filters)
/// \param weights overwritten with draws from U(-l, l), l = sqrt(6 / (fan_in + fan_out))
/// \param fan_in inputs per unit
/// \param fan_out outputs per unit
/// \param rng draws the values
/// \throws std::invalid_argument for fan_in + fan_out = 0
template <std::size_t Rank>
void glorot_uniform(xt::xtensor<float, Rank>& weights, std::size_t fan_in, std::size_t fan_out,
                    Rng& rng);

}  // namespace cnn
