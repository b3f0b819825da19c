#include "cnn/model/keras_layers.hpp"

#include <stdexcept>

#include "cnn/layers/dropout.hpp"

namespace cnn::keras {

namespace {

PaddingMode parse_padding(const std::string& mode) {
    if (mode == "valid") {
        return PaddingMode::valid;
    }
    if (mode == "same") {
        return PaddingMode::same;
    }
    throw std::invalid_argument("unknown padding '" + mode + "': expected 'valid' or 'same'");
}

std::string shape_error(const Layer& layer, const std::string& expected, const Shape& got,
                        const std::string& hint = "") {
    return layer.type() + " " + layer.name() + ": expected input " + expected + ", got " +
           batch_shape_to_string(got) + hint;
}

void expect_image(const Layer& layer, const Shape& input) {
    if (input.size() != 3) {
        throw std::invalid_argument(shape_error(layer, "(None, C, H, W)", input));
    }
}


}  // namespace

// ---- Conv2D ----------------------------------------------------------------------------------

Conv2D::Conv2D(std::size_t filters, std::size_t kernel_size) {
    options_.filters = filters;
    options_.kernel_rows = options_.kernel_cols = kernel_size;
}

Conv2D& Conv2D::kernel_size(std::size_t rows, std::size_t cols) {
    options_.kernel_rows = rows;
    options_.kernel_cols = cols;
    return *this;
}

Conv2D& Conv2D::strides(std::size_t stride) { return strides(stride, stride); }

Conv2D& Conv2D::strides(std::size_t rows, std::size_t cols) {
    options_.stride_rows = rows;
    options_.stride_cols = cols;
    return *this;
}

Conv2D& Conv2D::padding(const std::string& mode) {
    options_.padding = parse_padding(mode);
    return *this;
}

Conv2D& Conv2D::activation(const std::string& name) {
    activation_ = parse_activation(name);
    return *this;
}

Shape Conv2D::build(const Shape& input, Rng& rng) {
    expect_image(*this, input);
    options_.input_channels = input[0];
    options_.name = name();
    options_.relu = applies_own_activation();
    conv_.emplace(options_, rng);
    const Conv2dGeometry g = conv_->geometry(input[1], input[2]);
    try {
        return {options_.filters,
                conv_output_size({input[1], options_.kernel_rows, g.stride_rows, g.pad_rows}, g.policy),
                conv_output_size({input[2], options_.kernel_cols, g.stride_cols, g.pad_cols}, g.policy)};
    } catch (const GeometryError& e) {
        throw GeometryError("Conv2D " + name() + " on input " + batch_shape_to_string(input) +
                            ": " + e.what());
    }
}

std::vector<Parameter> Conv2D::parameters() { return layer().parameters(); }

cnn::Conv2D& Conv2D::layer() {
    if (!conv_) {
        throw std::logic_error("Conv2D " + name() + ": the model has not been built yet");
    }
    return *conv_;
}

Tensor4 Conv2D::forward_operation(const Tensor4& x, bool) { return layer().forward(x); }
Tensor4 Conv2D::backward_operation(const Tensor4& dy) { return layer().backward(dy); }

// ---- Pooling ---------------------------------------------------------------------------------

namespace {

PoolingOptions pooling_options(std::size_t size) {
    PoolingOptions o;
    o.pool_rows = o.pool_cols = size;
    return o;
}

template <class Pool>
Shape pooled_shape(const Layer& layer, const Pool& pool, const Shape& input) {
    expect_image(layer, input);
    const Pool2dOptions o = pool2d_options(pool.options(), input[1], input[2]);
    const Tensor4 probe = Tensor4::from_shape({1, input[0], input[1], input[2]});
    try {
        const auto out = pool2d_output_shape(probe, o);
        return {out[1], out[2], out[3]};
    } catch (const GeometryError& e) {
        throw GeometryError(layer.type() + " " + layer.name() + " on input " +
                            batch_shape_to_string(input) + ": " + e.what());
    }
}

// A pooling layer of chapter 05 like `pool` but with other strides, or another padding.
template <class Pool>
Pool with_strides(const Pool& pool, std::size_t stride) {
    PoolingOptions o = pool.options();
    o.stride_rows = o.stride_cols = stride;
    return Pool(o);
}

template <class Pool>
Pool with_padding(const Pool& pool, PaddingMode mode) {
    PoolingOptions o = pool.options();
    o.padding = mode;
    return Pool(o);
}

}  // namespace

MaxPooling2D::MaxPooling2D(std::size_t pool_size) : pool_(pooling_options(pool_size)) {}

MaxPooling2D& MaxPooling2D::strides(std::size_t stride) {
    pool_ = with_strides(pool_, stride);
    return *this;
}

MaxPooling2D& MaxPooling2D::padding(const std::string& mode) {
    pool_ = with_padding(pool_, parse_padding(mode));
    return *this;
}

Shape MaxPooling2D::build(const Shape& input, Rng&) { return pooled_shape(*this, pool_, input); }
Tensor4 MaxPooling2D::forward_operation(const Tensor4& x, bool) { return pool_.forward(x); }
Tensor4 MaxPooling2D::backward_operation(const Tensor4& dy) { return pool_.backward(dy); }

AveragePooling2D::AveragePooling2D(std::size_t pool_size) : pool_(pooling_options(pool_size)) {}

AveragePooling2D& AveragePooling2D::strides(std::size_t stride) {
    pool_ = with_strides(pool_, stride);
    return *this;
}

AveragePooling2D& AveragePooling2D::padding(const std::string& mode) {
    pool_ = with_padding(pool_, parse_padding(mode));
    return *this;
}

Shape AveragePooling2D::build(const Shape& input, Rng&) { return pooled_shape(*this, pool_, input); }
Tensor4 AveragePooling2D::forward_operation(const Tensor4& x, bool) { return pool_.forward(x); }
Tensor4 AveragePooling2D::backward_operation(const Tensor4& dy) { return pool_.backward(dy); }

// ---- Flatten ---------------------------------------------------------------------------------

Shape Flatten::build(const Shape& input, Rng&) {
    std::size_t size = 1;
    for (std::size_t extent : input) {
        size *= extent;
    }
    return {size};
}

Tensor4 Flatten::forward_operation(const Tensor4& x, bool) {
    input_shape_4d_ = {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
    Tensor4 flat = Tensor4::from_shape({x.shape(0), x.size() / std::max<std::size_t>(1, x.shape(0)), 1, 1});
    std::copy(x.begin(), x.end(), flat.begin());  // row-major: nothing moves
    return flat;
}

Tensor4 Flatten::backward_operation(const Tensor4& dy) {
    Tensor4 dx = Tensor4::from_shape(input_shape_4d_);
    if (dy.size() != dx.size() || dy.shape(0) != dx.shape(0)) {
        throw std::invalid_argument("Flatten " + name() + ": backward got dy " +
                                    shape_to_string(dy.shape()) + " for the forward input " +
                                    shape_to_string(input_shape_4d_));
    }
    std::copy(dy.begin(), dy.end(), dx.begin());
    return dx;
}

// ---- Dense -----------------------------------------------------------------------------------

Dense::Dense(std::size_t units) : units_(units) {}

Dense& Dense::activation(const std::string& name) {
    activation_ = parse_activation(name);
    return *this;
}

Shape Dense::build(const Shape& input, Rng& rng) {
    if (input.size() != 1) {
        throw std::invalid_argument(
            shape_error(*this, "(None, D)", input, ": add Flatten() before a Dense layer"));
    }
    // He initialisation before a ReLU, Glorot otherwise (Keras uses Glorot everywhere).
    const Init init = activation_ == Activation::relu ? Init::he_normal : Init::glorot_uniform;
    dense_.emplace(DenseOptions{input[0], units_, init, name()}, rng);
    return {units_};
}

std::vector<Parameter> Dense::parameters() { return layer().parameters(); }

cnn::Dense& Dense::layer() {
    if (!dense_) {
        throw std::logic_error("Dense " + name() + ": the model has not been built yet");
    }
    return *dense_;
}

Tensor4 Dense::forward_operation(const Tensor4& x, bool) {
    return matrix_to_batch(layer().forward(batch_to_matrix(x)));
}

Tensor4 Dense::backward_operation(const Tensor4& dy) {
    return matrix_to_batch(layer().backward(batch_to_matrix(dy)));
}

// ---- Dropout ---------------------------------------------------------------------------------

Dropout::Dropout(float rate) : rate_(rate) {
    if (!(rate >= 0.0f && rate < 1.0f)) {
        throw std::invalid_argument("Dropout: expected a rate in [0, 1), got " + std::to_string(rate));
    }
}

Shape Dropout::build(const Shape& input, Rng& rng) {
    rng_ = &rng;
    return input;
}

Tensor4 Dropout::forward_operation(const Tensor4& x, bool training) {
    if (training && rng_ == nullptr) {
        throw std::logic_error("Dropout " + name() + ": the model has not been built yet");
    }
    dropped_ = training;
    return training ? dropout_forward(x, rate_, *rng_, mask_) : x;
}

Tensor4 Dropout::backward_operation(const Tensor4& dy) {
    return dropped_ ? dropout_backward(dy, mask_) : dy;
}

// ---- Softmax ---------------------------------------------------------------------------------

Shape Softmax::build(const Shape& input, Rng&) {
    if (input.size() != 1) {
        throw std::invalid_argument(shape_error(*this, "(None, K)", input));
    }
    return input;
}

}  // namespace cnn::keras
