#include "cnn/layers/pooling2d.hpp"

#include <stdexcept>
#include <utility>

namespace cnn {

namespace {

std::array<std::size_t, 4> shape_of(const Tensor4& x) {
    return {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
}

// Chapter 05's loops.
class LoopEngine : public MaxPooling2DEngine {
public:
    void forward(const Tensor4& x, const Pool2DWindow& window, MaxPoolResult& result) override {
        result = max_pool2d_forward(x, window);
    }
    Tensor4 backward(const Tensor4& dy, const std::vector<PoolIndex>& winner,
                     const std::array<std::size_t, 4>& x_shape) override {
        return max_pool2d_backward(dy, winner, x_shape);
    }
};

MaxPooling2DEngineFactory& default_engine() {
    static MaxPooling2DEngineFactory factory = make_loop_max_pooling2d_engine;
    return factory;
}

}  // namespace

Pool2DWindow pool2d_window(const Pooling2DOptions& options, std::size_t h, std::size_t w) {
    const std::size_t sr = options.stride_rows == 0 ? options.pool_rows : options.stride_rows;
    const std::size_t sc = options.stride_cols == 0 ? options.pool_cols : options.stride_cols;
    return {options.pool_rows, options.pool_cols,
            Conv2DGeometry::keras(options.padding, h, w, options.pool_rows, options.pool_cols, sr,
                                  sc)};
}

Shape pooled_shape(const Layer& layer, const Pooling2DOptions& options, const Shape& input) {
    if (input.size() != 3) {
        throw std::invalid_argument(layer_shape_error(layer, "(None, C, H, W)", input));
    }
    const Tensor4 probe = Tensor4::from_shape({1, input[0], input[1], input[2]});
    try {
        const auto out = pool2d_output_shape(probe, pool2d_window(options, input[1], input[2]));
        return {out[1], out[2], out[3]};
    } catch (const GeometryError& e) {
        throw GeometryError(layer.type() + " " + layer.name() + " on input " +
                            batch_shape_to_string(input) + ": " + e.what());
    }
}

std::unique_ptr<MaxPooling2DEngine> make_loop_max_pooling2d_engine() {
    return std::make_unique<LoopEngine>();
}

void set_default_max_pooling2d_engine(MaxPooling2DEngineFactory factory) {
    default_engine() = factory ? std::move(factory)
                               : MaxPooling2DEngineFactory(make_loop_max_pooling2d_engine);
}

Shape MaxPooling2D::build(const Shape& input_shape, Rng& rng) {
    Shape output = Pooling2D::build(input_shape, rng);
    engine_.make(options_.engine ? options_.engine : default_engine());
    return output;
}

Tensor4 MaxPooling2D::forward_operation(Tensor4 x, bool) {
    if (!engine_) {
        engine_.make(options_.engine ? options_.engine : default_engine());  // without build()
    }
    engine_->forward(x, window(x.shape(2), x.shape(3)), result_);
    x_shape_ = shape_of(x);
    Tensor4 y = std::move(result_.y);  // the winners stay for backward()
    result_.y = Tensor4();             // not a moved-from shell with a shape and no storage
    return y;
}

Tensor4 MaxPooling2D::backward_operation(Tensor4 dy) {
    expect_forward_first(*this, x_shape_[0] + x_shape_[1] > 0);
    return engine_->backward(dy, result_.winner, x_shape_);
}

Tensor4 AveragePooling2D::forward_operation(Tensor4 x, bool) {
    Tensor4 y = average_pool2d_forward(x, window(x.shape(2), x.shape(3)));
    x_shape_ = shape_of(x);
    return y;
}

Tensor4 AveragePooling2D::backward_operation(Tensor4 dy) {
    expect_forward_first(*this, x_shape_[0] + x_shape_[1] > 0);
    return average_pool2d_backward(dy, x_shape_, window(x_shape_[2], x_shape_[3]));
}

Shape GlobalAveragePooling2D::build(const Shape& input, Rng&) {
    if (input.size() != 3) {
        throw std::invalid_argument(layer_shape_error(*this, "(None, C, H, W)", input));
    }
    return {input[0]};
}

Tensor4 GlobalAveragePooling2D::forward_operation(Tensor4 x, bool) {
    Tensor2 means = global_average_pool_forward(x);  // (N, C)
    x_shape_ = shape_of(x);
    return reshaped<4>(std::move(means), {x_shape_[0], x_shape_[1], 1, 1});
}

Tensor4 GlobalAveragePooling2D::backward_operation(Tensor4 dy) {
    expect_forward_first(*this, x_shape_[0] + x_shape_[1] > 0);
    return global_average_pool_backward(reshaped<2>(std::move(dy), {x_shape_[0], x_shape_[1]}),
                                        x_shape_);
}

}  // namespace cnn
