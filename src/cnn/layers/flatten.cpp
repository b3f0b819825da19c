#include "cnn/layers/flatten.hpp"

#include <stdexcept>

namespace cnn {

Shape Flatten::build(const Shape& input, Rng&) {
    std::size_t size = 1;
    for (std::size_t extent : input) {
        size *= extent;
    }
    return {size};
}

Tensor4 Flatten::forward_operation(Tensor4 x, bool) {
    x_shape_ = {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
    const std::size_t n = x.shape(0);
    x.reshape({n, x_shape_[1] * x_shape_[2] * x_shape_[3], std::size_t{1}, std::size_t{1}});
    return x;  // the same buffer, relabelled (N, D, 1, 1)
}

Tensor4 Flatten::backward_operation(Tensor4 dy) {
    if (dy.size() != x_shape_[0] * x_shape_[1] * x_shape_[2] * x_shape_[3] ||
        dy.shape(0) != x_shape_[0]) {
        throw std::invalid_argument("Flatten " + name() + ": backward got dy " +
                                    shape_to_string(dy.shape()) + " for the forward input " +
                                    shape_to_string(x_shape_));
    }
    dy.reshape(x_shape_);
    return dy;
}

}  // namespace cnn
