#include "cnn/layers/conv2d.hpp"

#include <stdexcept>
#include <utility>

#include "cnn/ops/conv2d_im2col.hpp"
#include "cnn/tensor/init.hpp"

namespace cnn {

namespace {

//! [im2col_engine]
// Chapter 04's engine: the im2col computation, as written to be read.
class Im2colEngine : public Conv2DEngine {
public:
    std::string name() const override { return "im2col"; }
    Tensor4 forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                    const Conv2DGeometry& geometry, bool) override {
        return conv2d_im2col_forward(x, w, b, geometry);
    }
    Tensor4 backward(const Tensor4& dy, const Tensor4& x, const Tensor4&, const Tensor4& w,
                     const Conv2DGeometry& geometry, bool, Tensor4& dw, Tensor1& db) override {
        return conv2d_im2col_backward(dy, x, w, geometry, dw, db);
    }
    // Each half of backward() alone, for chapter 11's Conv2DTranspose.
    Tensor4 backward_input(const Tensor4& dy, const Tensor4& w,
                           const std::array<std::size_t, 4>& x_shape,
                           const Conv2DGeometry& geometry) override {
        return conv2d_im2col_backward_input(dy, w, x_shape, geometry);
    }
    void backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4&, const Tensor4& w,
                          const Conv2DGeometry& geometry, bool, Tensor4& dw,
                          Tensor1& db) override {
        conv2d_im2col_backward_weights(dy, x, w, geometry, dw, db);
    }
};
//! [im2col_engine]

Conv2DEngineFactory& default_engine() {
    static Conv2DEngineFactory factory = make_im2col_engine;
    return factory;
}

}  // namespace

Tensor4 Conv2DEngine::forward_keeping(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                      const Conv2DGeometry& geometry, bool relu, Tensor4& kept) {
    Tensor4 y = forward(x, w, b, geometry, relu);
    kept = y;  // into kept's memory when the shapes agree
    return y;
}

Tensor4 Conv2DEngine::backward_input(const Tensor4& dy, const Tensor4& w,
                                     const std::array<std::size_t, 4>& x_shape,
                                     const Conv2DGeometry& geometry) {
    // The input gradient does not read x: zeros of its shape will do.
    const Tensor4 x = xt::zeros<float>(x_shape);
    Tensor4 unused_dw = xt::zeros<float>(w.shape());
    Tensor1 unused_db = xt::zeros<float>({w.shape(0)});
    return backward(dy, x, Tensor4(), w, geometry, false, unused_dw, unused_db);
}

void Conv2DEngine::backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                    const Tensor4& w, const Conv2DGeometry& geometry, bool relu,
                                    Tensor4& dw, Tensor1& db) {
    backward(dy, x, y, w, geometry, relu, dw, db);  // dx dropped
}

std::unique_ptr<Conv2DEngine> make_im2col_engine() { return std::make_unique<Im2colEngine>(); }

void set_default_conv2d_engine(Conv2DEngineFactory factory) {
    default_engine() = factory ? std::move(factory) : Conv2DEngineFactory(make_im2col_engine);
}

Conv2DEngineFactory default_conv2d_engine() { return default_engine(); }

Conv2D::Conv2D(std::size_t filters, std::size_t kernel_size) {
    options_.filters = filters;
    options_.kernel_rows = options_.kernel_cols = kernel_size;
}

Conv2D::Conv2D(const Conv2DOptions& options) : options_(options) {}

Conv2D& Conv2D::kernel_size(std::size_t rows, std::size_t cols) {
    options_.kernel_rows = rows;
    options_.kernel_cols = cols;
    return *this;
}

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
    options_.activation = parse_activation(name);
    return *this;
}

Conv2D& Conv2D::engine(Conv2DEngineFactory factory) {
    options_.engine = std::move(factory);
    return *this;
}

std::size_t Conv2D::multiply_adds(const Shape& output_shape) const {
    return output_shape.size() == 3 ? output_shape[1] * output_shape[2] * w_.size() : 0;
}

Shape Conv2D::build(const Shape& input, Rng& rng) {
    const Conv2DOptions& o = options_;
    if (input.size() != 3) {
        throw std::invalid_argument(layer_shape_error(*this, "(None, C, H, W)", input));
    }
    if (input[0] == 0 || o.filters == 0 || o.kernel_rows == 0 || o.kernel_cols == 0 ||
        o.stride_rows == 0 || o.stride_cols == 0) {
        throw std::invalid_argument(
            "Conv2D " + name() + ": expected input channels, filters, kernel size and strides "
            ">= 1, got " + std::to_string(input[0]) + " channels, " + std::to_string(o.filters) +
            " filters, kernel " + std::to_string(o.kernel_rows) + "x" +
            std::to_string(o.kernel_cols) + ", stride " + std::to_string(o.stride_rows) + "x" +
            std::to_string(o.stride_cols));
    }
    const Conv2DGeometry g = geometry(input[1], input[2]);
    Shape output;
    try {
        output = {o.filters,
                  conv_output_size({input[1], o.kernel_rows, g.stride_rows, g.pad_rows}, g.policy),
                  conv_output_size({input[2], o.kernel_cols, g.stride_cols, g.pad_cols}, g.policy)};
    } catch (const GeometryError& e) {
        throw GeometryError("Conv2D " + name() + " on input " + batch_shape_to_string(input) +
                            ": " + e.what());
    }
    w_ = Tensor4::from_shape({o.filters, input[0], o.kernel_rows, o.kernel_cols});
    dw_ = xt::zeros<float>(w_.shape());
    b_ = xt::zeros<float>({o.filters});
    db_ = xt::zeros<float>({o.filters});
    he_normal(w_, input[0] * o.kernel_rows * o.kernel_cols, rng);
    engine_.make(o.engine ? o.engine : default_engine());
    return output;
}

Conv2DGeometry Conv2D::geometry(std::size_t h, std::size_t w) const {
    return Conv2DGeometry::keras(options_.padding, h, w, options_.kernel_rows,
                                 options_.kernel_cols, options_.stride_rows, options_.stride_cols);
}

const Conv2DEngine& Conv2D::engine() const {
    expect_built(*this, static_cast<bool>(engine_));
    return *engine_;
}

std::vector<Parameter> Conv2D::parameters() {
    expect_built(*this, static_cast<bool>(engine_));
    return {make_parameter(name() + "/kernel", w_, dw_), make_parameter(name() + "/bias", b_, db_)};
}

//! [conv2d_forward_operation]
Tensor4 Conv2D::forward_operation(Tensor4 x, bool training) {
    expect_built(*this, static_cast<bool>(engine_));
    if (x.shape(1) != w_.shape(1)) {
        throw std::invalid_argument("Conv2D " + name() + ": expected input (N, " +
                                    std::to_string(w_.shape(1)) + ", H, W), got " +
                                    shape_to_string(x.shape()));
    }
    const Conv2DGeometry g = geometry(x.shape(2), x.shape(3));
    Tensor4 y;
    if (fused_relu() && training) {
        // A fused ReLU's mask is y > 0: the engine writes a copy of y into y_'s memory of the
        // last batch. Should it throw, y_ is left empty (shape and all: a moved-from tensor
        // would keep its shape without its memory), and a backward pass recomputes the mask
        // from the input kept with it.
        Tensor4 kept = std::exchange(y_, Tensor4());
        y = engine_->forward_keeping(x, w_, b_, g, true, kept);
        y_ = std::move(kept);
    } else {
        y = engine_->forward(x, w_, b_, g, fused_relu());
        y_ = Tensor4();  // inference keeps no mask; a backward pass after it recomputes it
    }
    x_ = std::move(x);  // kept for the backward pass (only once the forward pass succeeded)
    return y;
}
//! [conv2d_forward_operation]

//! [conv2d_backward_operation]
Tensor4 Conv2D::backward_operation(Tensor4 dy) {
    const Conv2DGeometry g = prepare_backward();
    return engine_->backward(dy, x_, y_, w_, g, fused_relu(), dw_, db_);
}

void Conv2D::backward_parameters_operation(Tensor4 dy) {
    const Conv2DGeometry g = prepare_backward();
    engine_->backward_weights(dy, x_, y_, w_, g, fused_relu(), dw_, db_);
}

Conv2DGeometry Conv2D::prepare_backward() {
    expect_forward_first(*this, x_.size() > 0);
    const Conv2DGeometry g = geometry(x_.shape(2), x_.shape(3));
    if (fused_relu() && y_.size() == 0) {
        // The forward pass ran for inference, which keeps no mask (chapter 09 sends gradients
        // back through a network run for inference, to see what it looks at). The mask is
        // recomputed from the kept input: time traded for memory, as training with gradient
        // checkpointing does on a large scale.
        y_ = engine_->forward(x_, w_, b_, g, true);
    }
    return g;
}
//! [conv2d_backward_operation]

}  // namespace cnn
