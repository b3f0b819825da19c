#include "cnn/layers/dense.hpp"

#include <stdexcept>

#include "cnn/ops/dense.hpp"
#include "cnn/tensor/init.hpp"

namespace cnn {

Dense::Dense(const DenseOptions& options) : options_(options) {
    if (options.units == 0) {
        throw std::invalid_argument("Dense: expected units > 0, got 0");
    }
}

Dense& Dense::activation(const std::string& name) {
    options_.activation = parse_activation(name);
    return *this;
}

Dense& Dense::init(Init init) {
    options_.init = init;
    return *this;
}

Shape Dense::build(const Shape& input, Rng& rng) {
    if (input.size() != 1 || input[0] == 0) {
        throw std::invalid_argument(
            layer_shape_error(*this, "(None, D)", input, ": add Flatten() before a Dense layer"));
    }
    const std::size_t d = input[0], m = options_.units;
    w_ = Tensor2::from_shape({d, m});
    dw_ = xt::zeros<float>({d, m});
    b_ = xt::zeros<float>({m});
    db_ = xt::zeros<float>({m});
    // He initialisation before a ReLU, Glorot otherwise (Keras uses Glorot everywhere).
    const bool he = options_.init == Init::he_normal ||
                    (options_.init == Init::automatic && options_.activation == Activation::relu);
    if (he) {
        he_normal(w_, d, rng);
    } else {
        glorot_uniform(w_, d, m, rng);
    }
    return {m};
}

std::vector<Parameter> Dense::parameters() {
    expect_built(*this, w_.size() > 0);
    return {make_parameter(name() + "/kernel", w_, dw_), make_parameter(name() + "/bias", b_, db_)};
}

void Dense::expect_rows(const Tensor4& t, std::size_t width, const char* what) const {
    expect_built(*this, w_.size() > 0);
    if (t.size() != t.shape(0) * width) {
        throw std::invalid_argument("Dense " + name() + ": expected " + what + " (None, " +
                                    std::to_string(width) + "), got " +
                                    batch_shape_to_string(Shape(t.shape().begin() + 1, t.shape().end())));
    }
}

//! [dense_layer]
Tensor4 Dense::forward_operation(Tensor4 x, bool) {
    expect_rows(x, inputs(), "input");
    const std::size_t n = x.shape(0);
    x_ = reshaped<2>(std::move(x), {n, inputs()});                      // (N, D, 1, 1) seen as (N, D)
    return reshaped<4>(dense_forward(x_, w_, b_), {n, units(), 1, 1});  // (N, M) as (N, M, 1, 1)
}

Tensor4 Dense::backward_operation(Tensor4 dy) {
    expect_rows(dy, units(), "dy");
    expect_forward_first(*this, x_.size() > 0 || dy.size() == 0);
    if (x_.shape(0) != dy.shape(0)) {
        throw std::invalid_argument("Dense " + name() + ": dy holds " + std::to_string(dy.shape(0)) +
                                    " examples, the last forward() " + std::to_string(x_.shape(0)));
    }
    const std::size_t n = dy.shape(0);
    Tensor2 dx = dense_backward(reshaped<2>(std::move(dy), {n, units()}), x_, w_, dw_, db_);
    return reshaped<4>(std::move(dx), {n, inputs(), 1, 1});
}
//! [dense_layer]

}  // namespace cnn
