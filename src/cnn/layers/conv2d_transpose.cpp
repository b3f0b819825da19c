#include "cnn/layers/conv2d_transpose.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "cnn/tensor/init.hpp"

namespace cnn {

Conv2DTranspose::Conv2DTranspose(std::size_t filters, std::size_t kernel_size) {
    options_.filters = filters;
    options_.kernel_rows = options_.kernel_cols = kernel_size;
}

Conv2DTranspose::Conv2DTranspose(const Conv2DTransposeOptions& options) : options_(options) {}

Conv2DTranspose& Conv2DTranspose::kernel_size(std::size_t rows, std::size_t cols) {
    options_.kernel_rows = rows;
    options_.kernel_cols = cols;
    return *this;
}

Conv2DTranspose& Conv2DTranspose::strides(std::size_t rows, std::size_t cols) {
    options_.stride_rows = rows;
    options_.stride_cols = cols;
    return *this;
}

Conv2DTranspose& Conv2DTranspose::padding(const std::string& mode) {
    options_.padding = parse_padding(mode);
    return *this;
}

Conv2DTranspose& Conv2DTranspose::activation(const std::string& name) {
    options_.activation = parse_activation(name);
    return *this;
}

Conv2DTranspose& Conv2DTranspose::engine(Conv2DEngineFactory factory) {
    options_.engine = std::move(factory);
    return *this;
}

std::size_t Conv2DTranspose::multiply_adds(const Shape&) const {
    return input_shape_built_.size() == 3
               ? input_shape_built_[1] * input_shape_built_[2] * w_.size()
               : 0;
}

Shape Conv2DTranspose::build(const Shape& input, Rng& rng) {
    const Conv2DTransposeOptions& o = options_;
    if (input.size() != 3) {
        throw std::invalid_argument(layer_shape_error(*this, "(None, C, H, W)", input));
    }
    if (input[0] == 0 || input[1] == 0 || input[2] == 0 || o.filters == 0 || o.kernel_rows == 0 ||
        o.kernel_cols == 0 || o.stride_rows == 0 || o.stride_cols == 0) {
        throw std::invalid_argument(
            "Conv2DTranspose " + name() + ": expected input channels, height and width, "
            "filters, kernel size and strides >= 1, got input " + batch_shape_to_string(input) +
            ", " + std::to_string(o.filters) + " filters, kernel " +
            std::to_string(o.kernel_rows) + "x" + std::to_string(o.kernel_cols) + ", stride " +
            std::to_string(o.stride_rows) + "x" + std::to_string(o.stride_cols));
    }
    const Conv2DTransposeGeometry g = geometry(input[1], input[2]);
    const std::size_t fan = o.kernel_rows * o.kernel_cols;
    w_ = Tensor4::from_shape({input[0], o.filters, o.kernel_rows, o.kernel_cols});
    dw_ = xt::zeros<float>(w_.shape());
    b_ = xt::zeros<float>({o.filters});
    db_ = xt::zeros<float>({o.filters});
    // Keras's fans for its (kh, kw, out, in) kernel: fan_in = out·kh·kw, fan_out = in·kh·kw.
    glorot_uniform(w_, o.filters * fan, input[0] * fan, rng);
    engine_.make(o.engine ? o.engine : default_conv2d_engine());
    input_shape_built_ = input;
    return {o.filters, g.out_rows, g.out_cols};
}

Conv2DTransposeGeometry Conv2DTranspose::geometry(std::size_t h, std::size_t w) const {
    return Conv2DTransposeGeometry::keras(options_.padding, h, w, options_.kernel_rows,
                                          options_.kernel_cols, options_.stride_rows,
                                          options_.stride_cols);
}

const Conv2DEngine& Conv2DTranspose::engine() const {
    expect_built(*this, static_cast<bool>(engine_));
    return *engine_;
}

std::vector<Parameter> Conv2DTranspose::parameters() {
    expect_built(*this, static_cast<bool>(engine_));
    return {make_parameter(name() + "/kernel", w_, dw_), make_parameter(name() + "/bias", b_, db_)};
}

Tensor4 Conv2DTranspose::forward_operation(Tensor4 x, bool) {
    expect_built(*this, static_cast<bool>(engine_));
    if (x.shape(1) != w_.shape(0)) {
        throw std::invalid_argument("Conv2DTranspose " + name() + ": expected input (N, " +
                                    std::to_string(w_.shape(0)) + ", H, W), got " +
                                    shape_to_string(x.shape()));
    }
    const Conv2DTransposeGeometry g = geometry(x.shape(2), x.shape(3));
    // The input gradient of the convolution from z (N, C_out, H_out, W_out), at x: it needs
    // only z's shape.
    Tensor4 y = engine_->backward_input(x, w_, conv2d_transpose_output_shape(x, w_, g), g.conv);
    add_channel_bias(y, b_);
    x_ = std::move(x);  // kept for the weight gradient (only once the forward pass succeeded)
    return y;
}

Tensor4 Conv2DTranspose::backward_operation(Tensor4 dy) {
    expect_forward_first(*this, x_.size() > 0);
    const Conv2DTransposeGeometry g = geometry(x_.shape(2), x_.shape(3));
    const std::array<std::size_t, 4> y_shape = conv2d_transpose_output_shape(x_, w_, g);
    if (!std::equal(y_shape.begin(), y_shape.end(), dy.shape().begin())) {
        throw std::invalid_argument("Conv2DTranspose " + name() + ": expected dy " +
                                    shape_to_string(y_shape) + ", the last output's shape, got " +
                                    shape_to_string(dy.shape()));
    }
    // dx: the convolution's forward pass on dy, without bias.
    const Tensor1 no_bias = xt::zeros<float>({w_.shape(0)});
    Tensor4 dx = engine_->forward(dy, w_, no_bias, g.conv, false);
    // dW: the convolution's weight gradient with input dy and output gradient x. (Its bias
    // gradient, the sum of x, belongs to no parameter of this layer: dropped.)
    Tensor1 unused_db = xt::zeros<float>({w_.shape(0)});
    engine_->backward_weights(x_, dy, Tensor4(), w_, g.conv, /*relu=*/false, dw_, unused_db);
    accumulate_channel_bias_gradient(dy, db_);
    return dx;
}

}  // namespace cnn
