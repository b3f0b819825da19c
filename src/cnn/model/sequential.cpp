#include "cnn/model/sequential.hpp"

#include <stdexcept>

namespace cnn {

Shape Sequential::build_layers() {
    const Shape input = layer(0).declared_input_shape();
    if (input.empty()) {
        throw std::invalid_argument("Sequential " + name() + ": the first layer (" +
                                    layer(0).name() +
                                    ") needs an input_shape, e.g. input_shape({1, 28, 28})");
    }
    Shape shape = input;
    for (std::size_t i = 0; i < size(); ++i) {
        shape = layer(i).build(shape, rng());
        set_output_shape(layer(i), shape);
    }
    return input;
}

std::vector<LayerCall> Sequential::wiring() {
    std::vector<LayerCall> steps;
    const Layer* previous = nullptr;  // the model's input
    for (std::size_t i = 0; i < size(); ++i) {
        steps.push_back({&layer(i), {previous}, {}, {}});
        previous = &layer(i);
    }
    return steps;
}

//! [sequential_forward]
Tensor4 Sequential::run_forward(Tensor4 x, bool training, bool apply_softmax) {
    for (std::size_t i = 0; i < size(); ++i) {
        const bool last = i + 1 == size();
        x = layer(i).forward(std::move(x), training, !last || apply_softmax);
    }
    return x;
}
//! [sequential_forward]

//! [sequential_backward]
void Sequential::run_backward(Tensor4 dlogits) {
    // The first layer's input gradient would go to the data, which nothing trains: skipped.
    const auto input_gradient = [](std::size_t i) {
        return i == 0 ? InputGradient::skip : InputGradient::compute;
    };
    const std::size_t last = size() - 1;
    Tensor4 grad = layer(last).backward_from_logits(std::move(dlogits), input_gradient(last));
    for (std::size_t i = last; i-- > 0;) {
        grad = layer(i).backward(std::move(grad), input_gradient(i));
    }
}
//! [sequential_backward]

const Layer& Sequential::output_layer() const {
    return layer(size() - 1);
}

}  // namespace cnn
