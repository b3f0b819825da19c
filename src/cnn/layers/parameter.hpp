/// \file
/// \ingroup ch01
/// \brief A trainable tensor and its gradient, as an optimizer sees them.
///
/// Layers keep their weights in tensors of whatever rank suits them (a Dense kernel is
/// `(D, M)`, a bias `(M)`). An optimizer does not care about shape: it walks the values and
/// the gradients element by element. A Parameter is that flat view, plus the name and shape
/// the book prints and saves.
///
/// The same view serves the values a layer learns *without* a gradient, its state
/// (Layer::state(): BatchNormalization's moving averages, Keras's non-trainable weights). Their
/// `grad` is nullptr: they are saved and loaded with the weights but never handed to an
/// optimizer.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// A flat, non-owning view of one trainable tensor and its gradient (same size), or of a
/// layer's state, without a gradient.
struct Parameter {
    std::string name;                ///< e.g. "dense_1/kernel"
    float* value = nullptr;          ///< the weights, `size` floats
    float* grad = nullptr;           ///< the gradient of the loss, `size` floats; nullptr for state
    std::size_t size = 0;            ///< number of elements
    std::vector<std::size_t> shape;  ///< the tensor's shape, for printing and saving
};

/// Makes the view of `value` and `grad`, which must have the same shape.
/// \tparam Rank the tensors' rank
/// \param name the parameter's name, e.g. "dense_1/kernel"
/// \param value the weights, which must outlive the view
/// \param grad their gradient, value's shape, which must outlive the view
/// \return the view
/// \throws std::invalid_argument when value and grad differ in shape
template <std::size_t Rank>
Parameter make_parameter(std::string name, xt::xtensor<float, Rank>& value,
                         xt::xtensor<float, Rank>& grad) {
    if (value.shape() != grad.shape()) {
        throw std::invalid_argument("parameter " + name + ": value is " +
                                    shape_to_string(value.shape()) + " but gradient is " +
                                    shape_to_string(grad.shape()));
    }
    return Parameter{std::move(name), value.data(), grad.data(), value.size(),
                     std::vector<std::size_t>(value.shape().begin(), value.shape().end())};
}

/// Makes the view of a layer's state (Layer::state()): `value` without a gradient.
/// \tparam Rank the tensor's rank
/// \param name the state's name, e.g. "batch_normalization/moving_mean"
/// \param value the values, which must outlive the view
/// \return the view, its `grad` nullptr
template <std::size_t Rank>
Parameter make_state(std::string name, xt::xtensor<float, Rank>& value) {
    return Parameter{std::move(name), value.data(), nullptr, value.size(),
                     std::vector<std::size_t>(value.shape().begin(), value.shape().end())};
}

/// Sets every gradient to zero; call once per step, before the backward pass accumulates.
/// \param parameters trainable views, each with a gradient (not a layer's state)
void zero_gradients(const std::vector<Parameter>& parameters);

/// Total number of values (of trainable parameters, or of state).
/// \param parameters the views
/// \return the sum of their sizes
std::size_t count_values(const std::vector<Parameter>& parameters);

}  // namespace cnn
