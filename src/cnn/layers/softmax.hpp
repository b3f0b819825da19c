/// \file
/// \ingroup ch01
/// \brief Softmax as a layer of its own (Keras's `Softmax()`), on flat inputs (K).
///
/// Like every softmax in the book it is trained fused with the cross-entropy loss
/// (losses/softmax_cross_entropy.hpp): the layer base applies it for predictions only.
#pragma once

#include <stdexcept>
#include <string>

#include "cnn/layers/layer.hpp"

namespace cnn {

/// Turns K scores into K probabilities.
class Softmax : public KerasLayer<Softmax> {
public:
    std::string type() const override { return "Softmax"; }
    std::string default_name() const override { return "softmax"; }
    Shape build(const Shape& input_shape, Rng&) override {
        if (input_shape.size() != 1) {
            throw std::invalid_argument(layer_shape_error(*this, "(None, K)", input_shape));
        }
        return input_shape;
    }
    Activation activation() const override { return Activation::softmax; }

protected:
    Tensor4 forward_operation(Tensor4 x, bool) override { return x; }
    Tensor4 backward_operation(Tensor4 dy) override { return dy; }
};

}  // namespace cnn
