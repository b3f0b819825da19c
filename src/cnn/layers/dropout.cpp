#include "cnn/layers/dropout.hpp"

#include <stdexcept>

#include "cnn/ops/dropout.hpp"

namespace cnn {

Dropout::Dropout(const DropoutOptions& options) : options_(options) {
    if (!(options.rate >= 0.0f && options.rate < 1.0f)) {
        throw std::invalid_argument("Dropout: expected a rate in [0, 1), got " +
                                    std::to_string(options.rate));
    }
}

Shape Dropout::build(const Shape& input, Rng& rng) {
    rng_ = &rng;
    return input;
}

Tensor4 Dropout::forward_operation(Tensor4 x, bool training) {
    expect_built(*this, !training || rng_ != nullptr);
    dropped_ = training;
    return training ? dropout_forward(x, options_.rate, *rng_, mask_) : x;
}

Tensor4 Dropout::backward_operation(Tensor4 dy) {
    return dropped_ ? dropout_backward(dy, mask_) : dy;
}

}  // namespace cnn
