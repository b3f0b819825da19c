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

//! [sequential_passes]
std::vector<LayerCall> Sequential::wiring() {
    std::vector<LayerCall> steps;
    const Layer* previous = nullptr;  // the model's input
    for (std::size_t i = 0; i < size(); ++i) {
        steps.push_back({&layer(i), {previous}, {}, {}});
        previous = &layer(i);
    }
    return steps;
}

Tensor4 Sequential::run_forward(Tensor4 x, bool training, bool apply_softmax) {
    for (std::size_t i = 0; i < size(); ++i) {
        const bool last = i + 1 == size();
        x = layer(i).forward(std::move(x), training, !last || apply_softmax);
    }
    return x;
}

void Sequential::run_backward(Tensor4 dlogits) {
    Tensor4 grad = layer(size() - 1).backward_from_logits(std::move(dlogits));
    for (std::size_t i = size() - 1; i-- > 0;) {
        grad = layer(i).backward(std::move(grad));
    }
}
//! [sequential_passes]

const Layer& Sequential::output_layer() const {
    return layer(size() - 1);
}

}  // namespace cnn
