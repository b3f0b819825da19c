#include "cnn/layers/layer.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include "cnn/losses/softmax_cross_entropy.hpp"
#include "cnn/ops/relu.hpp"

namespace cnn {

std::string batch_shape_to_string(const Shape& shape) {
    std::string text = "(None";
    for (std::size_t extent : shape) {
        text += ", " + std::to_string(extent);
    }
    return text + ")";
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

std::string layer_shape_error(const Layer& layer, const std::string& expected, const Shape& got,
                              const std::string& hint) {
    return layer.type() + " " + layer.name() + ": expected input " + expected + ", got " +
           batch_shape_to_string(got) + hint;
}

void expect_built(const Layer& layer, bool built) {
    if (!built) {
        throw std::logic_error(layer.type() + " " + layer.name() +
                               ": the layer has not been built yet (build(), or add it to a model)");
    }
}

namespace {

void expect_one_input(const Layer& layer, std::size_t inputs) {
    if (inputs != 1) {
        throw std::invalid_argument(layer.type() + " " + layer.name() + ": expected 1 input, got " +
                                    std::to_string(inputs));
    }
}

}  // namespace

Shape Layer::build_inputs(const std::vector<Shape>& input_shapes, Rng& rng) {
    expect_one_input(*this, input_shapes.size());
    return build(input_shapes[0], rng);
}

Tensor4 Layer::forward_inputs(std::vector<Tensor4> xs, bool training, bool apply_softmax) {
    expect_one_input(*this, xs.size());
    return forward(std::move(xs[0]), training, apply_softmax);
}

std::vector<Tensor4> Layer::backward_inputs(Tensor4 dy, bool from_logits, InputGradient input) {
    std::vector<Tensor4> dx;
    dx.push_back(from_logits ? backward_from_logits(std::move(dy), input)
                             : backward(std::move(dy), input));
    return dx;
}

void expect_forward_first(const Layer& layer, bool ran) {
    if (!ran) {
        throw std::logic_error(layer.type() + " " + layer.name() +
                               ": backward() called before forward()");
    }
}

std::size_t Layer::parameter_count() { return count_values(parameters()); }

std::size_t Layer::kept_for_backward() const {
    return relu_input_.size() * sizeof(float) + kept_by_operation();
}

//! [layer_backward_shared]
std::vector<SharedTensor4> Layer::backward_inputs_shared(SharedTensor4 dy, bool from_logits,
                                                         InputGradient input) {
    if (!dy) {
        throw std::invalid_argument(type() + " " + name() + ": backward_inputs_shared() of no dy");
    }
    std::vector<Tensor4> dx;
    if (dy.use_count() == 1) {  // nobody else reads dy: written over, as ever
        dx = backward_inputs(std::move(*dy), from_logits, input);
    } else if (std::optional<Tensor4> read = backward_reading(*dy, from_logits, input)) {
        dx.push_back(std::move(*read));  // dx in new memory, dy as it was
    } else {
        dx = backward_inputs(Tensor4(*dy), from_logits, input);  // a copy to write over
    }
    std::vector<SharedTensor4> shared;
    for (Tensor4& d : dx) {
        shared.push_back(std::make_shared<Tensor4>(std::move(d)));
    }
    return shared;
}
//! [layer_backward_shared]

std::optional<Tensor4> Layer::backward_reading(const Tensor4& dy, bool from_logits,
                                               InputGradient input) {
    // Undoing an activation writes over dy, and a skipped input gradient's parameter pass
    // (backward_parameters_operation()) takes dy to itself: both need their own copy.
    if (!dy_reaches_operation(from_logits) || input == InputGradient::skip) {
        return std::nullopt;
    }
    return backward_operation_reading(dy);
}

bool Layer::dy_reaches_operation(bool from_logits) const {
    // A fused activation is the operation's own business, a linear one needs nothing, and from
    // the logits a softmax is the loss's business.
    return applies_own_activation() || activation() == Activation::linear ||
           (from_logits && activation() == Activation::softmax);
}

Tensor4 Layer::backward_from_logits(Tensor4 dlogits, InputGradient input) {
    if (dy_reaches_operation(true)) {
        return run_operation_backward(std::move(dlogits), input);
    }
    return backward(std::move(dlogits), input);
}

Tensor4 Layer::run_operation_backward(Tensor4 dy, InputGradient input) {
    if (input == InputGradient::skip) {
        backward_parameters_operation(std::move(dy));
        return Tensor4();
    }
    return backward_operation(std::move(dy));
}

Tensor4 Layer::forward(Tensor4 x, bool training, bool apply_softmax) {
    Tensor4 y = forward_operation(std::move(x), training);
    if (applies_own_activation()) {
        return y;
    }
    switch (activation()) {
    case Activation::linear:
        return y;
    case Activation::relu:
        relu_input_ = std::move(y);
        return relu_forward(relu_input_);
    case Activation::softmax:
        if (!apply_softmax) {
            return y;  // the logits, for the fused softmax cross-entropy
        }
        const std::array<std::size_t, 4> shape = {y.shape(0), y.shape(1), 1, 1};
        return reshaped<4>(softmax(reshaped<2>(std::move(y), {shape[0], shape[1]})), shape);
    }
    return y;
}

Tensor4 Layer::backward(Tensor4 dy, InputGradient input) {
    if (dy_reaches_operation(false)) {
        return run_operation_backward(std::move(dy), input);
    }
    if (activation() == Activation::relu) {
        return run_operation_backward(relu_backward(std::move(dy), relu_input_), input);
    }
    // A softmax: a model never asks for this, it trains through the fused loss, from the logits.
    throw std::logic_error(type() + " " + name() + ": a softmax activation is trained through "
                           "the fused softmax cross-entropy loss, not on its own");
}

}  // namespace cnn
