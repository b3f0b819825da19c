#include "cnn/layers/batch_normalization.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace cnn {

namespace {

std::string number(float value) {
    std::ostringstream text;
    text << value;  // 0.99 rather than std::to_string's 0.990000
    return text.str();
}

void check_options(const BatchNormalizationOptions& options) {
    if (!(options.momentum >= 0.0f && options.momentum < 1.0f)) {
        throw std::invalid_argument("BatchNormalization: expected a momentum in [0, 1), got " +
                                    number(options.momentum));
    }
    if (!(options.epsilon > 0.0f && std::isfinite(options.epsilon))) {
        throw std::invalid_argument("BatchNormalization: expected a finite epsilon > 0, got " +
                                    number(options.epsilon));
    }
}

}  // namespace

BatchNormalization::BatchNormalization(const BatchNormalizationOptions& options)
    : options_(options) {
    check_options(options_);
}

BatchNormalization& BatchNormalization::momentum(float momentum) {
    check_options({momentum, options_.epsilon});
    options_.momentum = momentum;
    return *this;
}

BatchNormalization& BatchNormalization::epsilon(float epsilon) {
    check_options({options_.momentum, epsilon});
    options_.epsilon = epsilon;
    return *this;
}

Shape BatchNormalization::build(const Shape& input, Rng&) {
    const bool image = input.size() == 3, flat = input.size() == 1;
    if ((!image && !flat) || std::count(input.begin(), input.end(), 0) > 0) {
        throw std::invalid_argument(
            layer_shape_error(*this, "(None, C, H, W) or (None, D)", input));
    }
    input_ = input;
    shape_ = {input[0], image ? input[1] : 1, image ? input[2] : 1};
    const std::size_t c = input[0];
    gamma_ = xt::ones<float>({c});
    beta_ = xt::zeros<float>({c});
    dgamma_ = xt::zeros<float>({c});
    dbeta_ = xt::zeros<float>({c});
    moving_ = {xt::zeros<float>({c}), xt::ones<float>({c})};
    return input;
}

std::vector<Parameter> BatchNormalization::parameters() {
    expect_built(*this, gamma_.size() > 0);
    return {make_parameter(name() + "/gamma", gamma_, dgamma_),
            make_parameter(name() + "/beta", beta_, dbeta_)};
}

std::vector<Parameter> BatchNormalization::state() {
    expect_built(*this, gamma_.size() > 0);
    return {make_state(name() + "/moving_mean", moving_.mean),
            make_state(name() + "/moving_variance", moving_.variance)};
}

void BatchNormalization::expect_input(const Tensor4& t, const char* what) const {
    expect_built(*this, gamma_.size() > 0);
    if (!std::equal(shape_.begin(), shape_.end(), t.shape().begin() + 1)) {
        throw std::invalid_argument(type() + " " + name() + ": expected " + what + " " +
                                    batch_shape_to_string(input_) + ", got " +
                                    shape_to_string(t.shape()));
    }
}

Tensor4 BatchNormalization::forward_operation(Tensor4 x, bool training) {
    expect_input(x, "input");
    if (!training) {
        last_ = Pass::inference;
        xhat_ = Tensor4();
        Tensor4 memory = std::move(x_);  // the last batch's input: storage for this output
        x_ = std::move(x);               // kept for the backward pass, without a copy
        return batch_norm_fast_inference_forward(x_, gamma_, beta_, moving_, options_.epsilon,
                                                 std::move(memory));
    }
    BatchNormResult r = batch_norm_fast_forward(std::move(x), gamma_, beta_, options_.epsilon);
    batch_norm_update_moving(moving_, r.batch, options_.momentum);
    last_ = Pass::training;
    x_ = Tensor4();
    xhat_ = std::move(r.xhat);
    inv_std_ = std::move(r.inv_std);
    return std::move(r.y);
}

Tensor4 BatchNormalization::backward_operation(Tensor4 dy) {
    expect_backward(dy);
    if (last_ == Pass::training) {
        return batch_norm_fast_backward(std::move(dy), xhat_, inv_std_, gamma_, dgamma_, dbeta_);
    }
    return batch_norm_fast_inference_backward(std::move(dy), x_, gamma_, moving_,
                                              options_.epsilon, dgamma_, dbeta_);
}

std::optional<Tensor4> BatchNormalization::backward_operation_reading(const Tensor4& dy) {
    expect_backward(dy);
    if (last_ == Pass::training) {
        return batch_norm_fast_backward(dy, xhat_, inv_std_, gamma_, dgamma_, dbeta_, Tensor4());
    }
    return batch_norm_fast_inference_backward(dy, x_, gamma_, moving_, options_.epsilon, dgamma_,
                                              dbeta_, Tensor4());
}

void BatchNormalization::expect_backward(const Tensor4& dy) const {
    expect_input(dy, "dy");
    expect_forward_first(*this, last_ != Pass::none);
}

}  // namespace cnn
