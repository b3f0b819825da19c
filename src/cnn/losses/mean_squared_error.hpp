/// \file
/// \ingroup ch02
/// \brief Mean squared error, the loss for fitting numbers rather than classes.
///
/// \f[ L = \frac{1}{n} \sum_i (y_i - t_i)^2, \qquad
///     \frac{\partial L}{\partial y_i} = \frac{2}{n} (y_i - t_i), \f]
/// over all n elements of the prediction y and the target t. \ref chapter02 "Chapter 02" uses it to
/// learn a kernel from the feature map it should produce.
#pragma once

#include <cstddef>
#include <stdexcept>

#include <xtensor/xtensor.hpp>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// L = mean of (y - t)^2 over all elements; y and t have the same shape.
/// \tparam Rank the tensors' rank
/// \param y the prediction
/// \param t the target, y's shape
/// \return L, computed in double; 0 for empty tensors
/// \throws std::invalid_argument when y and t differ in shape
template <std::size_t Rank>
double mean_squared_error_forward(const xt::xtensor<float, Rank>& y,
                                  const xt::xtensor<float, Rank>& t) {
    if (y.shape() != t.shape()) {
        throw std::invalid_argument("mean_squared_error: prediction " + shape_to_string(y.shape()) +
                                    " and target " + shape_to_string(t.shape()) + " differ");
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double d = static_cast<double>(y.data()[i]) - static_cast<double>(t.data()[i]);
        sum += d * d;
    }
    return y.size() == 0 ? 0.0 : sum / static_cast<double>(y.size());
}

/// dL/dy = 2 (y - t) / n.
/// \tparam Rank the tensors' rank
/// \param y the prediction
/// \param t the target, y's shape
/// \return dL/dy, y's shape
/// \throws std::invalid_argument when y and t differ in shape
template <std::size_t Rank>
xt::xtensor<float, Rank> mean_squared_error_backward(const xt::xtensor<float, Rank>& y,
                                                     const xt::xtensor<float, Rank>& t) {
    if (y.shape() != t.shape()) {
        throw std::invalid_argument("mean_squared_error: prediction " + shape_to_string(y.shape()) +
                                    " and target " + shape_to_string(t.shape()) + " differ");
    }
    const float scale = y.size() == 0 ? 0.0f : 2.0f / static_cast<float>(y.size());
    return (y - t) * scale;
}

}  // namespace cnn
