#include "cnn/ops/dropout.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

Tensor4 dropout_forward(const Tensor4& x, float rate, Rng& rng, Tensor4& mask) {
    if (!(rate >= 0.0f && rate < 1.0f)) {
        throw std::invalid_argument("Dropout: expected a rate in [0, 1), got " + std::to_string(rate));
    }
    const float keep_scale = 1.0f / (1.0f - rate);
    mask = Tensor4::from_shape(x.shape());
    for (float& m : mask) {
        m = rng.uniform() < rate ? 0.0f : keep_scale;
    }
    return x * mask;
}

Tensor4 dropout_backward(const Tensor4& dy, const Tensor4& mask) {
    if (dy.shape() != mask.shape()) {
        throw std::invalid_argument("Dropout backward: dy " + shape_to_string(dy.shape()) +
                                    " does not match the forward pass " +
                                    shape_to_string(mask.shape()));
    }
    return dy * mask;
}

}  // namespace cnn
