#include "cnn/layers/pooling.hpp"

#include <stdexcept>

#include "cnn/conv/pooling_fast.hpp"

namespace cnn {

namespace {

std::array<std::size_t, 4> shape_of(const Tensor4& x) {
    return {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
}

void expect_forward_first(bool ran, const std::string& name) {
    if (!ran) {
        throw std::logic_error(name + ": backward() called before forward()");
    }
}

}  // namespace

Pool2dOptions pool2d_options(const PoolingOptions& options, std::size_t h, std::size_t w) {
    const std::size_t sr = options.stride_rows == 0 ? options.pool_rows : options.stride_rows;
    const std::size_t sc = options.stride_cols == 0 ? options.pool_cols : options.stride_cols;
    return {options.pool_rows, options.pool_cols,
            Conv2dGeometry::keras(options.padding, h, w, options.pool_rows, options.pool_cols, sr,
                                  sc)};
}

Tensor4 MaxPooling2D::forward(const Tensor4& x) {
    // Chapter 07's engine: chapter 05's loops split between threads, the same winners.
    MaxPool2d result{Tensor4(), std::move(winner_)};  // reuses the winners' memory
    max_pool2d_fast_forward(x, pool2d_options(options_, x.shape(2), x.shape(3)), result);
    winner_ = std::move(result.winner);
    x_shape_ = shape_of(x);
    return std::move(result.y);
}

Tensor4 MaxPooling2D::backward(const Tensor4& dy) const {
    expect_forward_first(x_shape_[0] + x_shape_[1] > 0, "MaxPooling2D " + options_.name);
    return max_pool2d_fast_backward(dy, winner_, x_shape_);
}

Tensor4 AveragePooling2D::forward(const Tensor4& x) {
    x_shape_ = shape_of(x);
    return average_pool2d_forward(x, pool2d_options(options_, x.shape(2), x.shape(3)));
}

Tensor4 AveragePooling2D::backward(const Tensor4& dy) const {
    expect_forward_first(x_shape_[0] + x_shape_[1] > 0, "AveragePooling2D " + options_.name);
    return average_pool2d_backward(dy, x_shape_,
                                   pool2d_options(options_, x_shape_[2], x_shape_[3]));
}

Tensor2 GlobalAveragePooling2D::forward(const Tensor4& x) {
    x_shape_ = shape_of(x);
    return global_average_pool_forward(x);
}

Tensor4 GlobalAveragePooling2D::backward(const Tensor2& dy) const {
    expect_forward_first(x_shape_[0] + x_shape_[1] > 0, "GlobalAveragePooling2D");
    return global_average_pool_backward(dy, x_shape_);
}

}  // namespace cnn
