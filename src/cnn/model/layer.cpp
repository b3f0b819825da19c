#include "cnn/model/layer.hpp"

#include <algorithm>
#include <stdexcept>

#include "cnn/layers/relu.hpp"
#include "cnn/losses/softmax_cross_entropy.hpp"

namespace cnn {

std::string batch_shape_to_string(const Shape& shape) {
    std::string text = "(None";
    for (std::size_t extent : shape) {
        text += ", " + std::to_string(extent);
    }
    return text + ")";
}

Tensor2 batch_to_matrix(const Tensor4& x) {
    Tensor2 m = Tensor2::from_shape({x.shape(0), x.size() / std::max<std::size_t>(1, x.shape(0))});
    std::copy(x.begin(), x.end(), m.begin());
    return m;
}

Tensor4 matrix_to_batch(const Tensor2& m) {
    Tensor4 x = Tensor4::from_shape({m.shape(0), m.shape(1), 1, 1});
    std::copy(m.begin(), m.end(), x.begin());
    return x;
}

Activation parse_activation(const std::string& name) {
    if (name.empty() || name == "linear") {
        return Activation::linear;
    }
    if (name == "relu") {
        return Activation::relu;
    }
    if (name == "softmax") {
        return Activation::softmax;
    }
    throw std::invalid_argument("unknown activation '" + name +
                                "': expected 'linear', 'relu' or 'softmax'");
}

std::size_t Layer::parameter_count() {
    std::size_t total = 0;
    for (const Parameter& p : parameters()) {
        total += p.size;
    }
    return total;
}

Tensor4 Layer::forward(const Tensor4& x, bool training, bool apply_softmax) {
    Tensor4 y = forward_operation(x, training);
    if (applies_own_activation()) {
        return y;
    }
    switch (activation_) {
    case Activation::linear:
        return y;
    case Activation::relu:
        relu_input_ = std::move(y);
        return relu_forward(relu_input_);
    case Activation::softmax:
        if (!apply_softmax) {
            return y;  // the logits, for the fused softmax cross-entropy
        }
        return matrix_to_batch(softmax(batch_to_matrix(y)));  // (N, K, 1, 1) as (N, K)
    }
    return y;
}

Tensor4 Layer::backward(const Tensor4& dy) {
    if (applies_own_activation()) {
        return backward_operation(dy);
    }
    switch (activation_) {
    case Activation::linear:
        return backward_operation(dy);
    case Activation::relu:
        return backward_operation(relu_backward(dy, relu_input_));
    case Activation::softmax:
        // The model never asks for this: it trains through the fused loss, from the logits.
        break;
    }
    throw std::logic_error(name_ + ": a softmax activation is trained through the fused "
                           "softmax cross-entropy loss, not on its own");
}

}  // namespace cnn
