/// \file
/// \ingroup ch01
/// \brief The rectified linear unit, \f$\mathrm{ReLU}(x) = \max(x, 0)\f$, element by element.
///
/// Without a non-linearity between them, stacked Dense layers collapse into one linear map.
/// ReLU is the simplest non-linearity that trains well: it passes positive values unchanged
/// and zeroes the rest, so its gradient is 1 where the input was positive and 0 elsewhere.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <utility>

#include <xtensor/xnoalias.hpp>
#include <xtensor/xtensor.hpp>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

// [relu]
/// Forward: y = max(x, 0). x and y have the same shape, any rank.
template <std::size_t Rank>
xt::xtensor<float, Rank> relu_forward(const xt::xtensor<float, Rank>& x) {
    return xt::maximum(x, 0.0f);
}

/// Backward: dx = dy where x > 0, else 0, written over dy. dy and x have the same shape.
/// At exactly x = 0 the derivative is undefined; like most libraries we use 0 there.
template <std::size_t Rank>
xt::xtensor<float, Rank> relu_backward(xt::xtensor<float, Rank> dy,
                                       const xt::xtensor<float, Rank>& x) {
    if (dy.shape() != x.shape()) {
        throw std::invalid_argument("relu_backward: dy is " + shape_to_string(dy.shape()) +
                                    " but the forward input was " + shape_to_string(x.shape()));
    }
    // Each dx value needs only the dy value it replaces: noalias tells xtensor so, and it
    // writes over dy instead of building the result in a temporary first.
    xt::noalias(dy) = xt::where(x > 0.0f, dy, 0.0f);
    return dy;
}
// [relu]

// The parameters of the declarations a chapter page quotes, kept out of the quoted lines.
// clang-format off
/// \fn template <std::size_t Rank> xt::xtensor<float, Rank> relu_forward(const xt::xtensor<float, Rank>& x)
/// \tparam Rank the tensors' rank
/// \param x the input, any shape
/// \return y, x's shape
///
/// \fn template <std::size_t Rank> xt::xtensor<float, Rank> relu_backward(xt::xtensor<float, Rank> dy, const xt::xtensor<float, Rank>& x)
/// \tparam Rank the tensors' rank
/// \param dy the gradient of y, overwritten by dx
/// \param x the forward pass's input, dy's shape
/// \return dx, x's shape
/// \throws std::invalid_argument when dy and x differ in shape
// clang-format on

}  // namespace cnn
