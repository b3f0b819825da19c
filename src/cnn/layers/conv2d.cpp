#include "cnn/layers/conv2d.hpp"

#include <stdexcept>

#include "cnn/tensor/init.hpp"

namespace cnn {

Conv2D::Conv2D(const Conv2DOptions& options, Rng& rng)
    : options_(options),
      w_(Tensor4::from_shape({options.filters, options.input_channels, options.kernel_rows,
                              options.kernel_cols})),
      dw_(xt::zeros<float>(w_.shape())),
      b_(xt::zeros<float>({options.filters})),
      db_(xt::zeros<float>({options.filters})) {
    if (options.input_channels == 0 || options.filters == 0 || options.kernel_rows == 0 ||
        options.kernel_cols == 0 || options.stride_rows == 0 || options.stride_cols == 0) {
        throw std::invalid_argument(
            "Conv2D " + options.name + ": expected input channels, filters, kernel size and "
            "strides >= 1, got " + std::to_string(options.input_channels) + " channels, " +
            std::to_string(options.filters) + " filters, kernel " +
            std::to_string(options.kernel_rows) + "x" + std::to_string(options.kernel_cols) +
            ", stride " + std::to_string(options.stride_rows) + "x" +
            std::to_string(options.stride_cols));
    }
    he_normal(w_, options.input_channels * options.kernel_rows * options.kernel_cols, rng);
}

Conv2dGeometry Conv2D::geometry(std::size_t h, std::size_t w) const {
    return Conv2dGeometry::keras(options_.padding, h, w, options_.kernel_rows,
                                 options_.kernel_cols, options_.stride_rows, options_.stride_cols);
}

FastConvOptions Conv2D::fast_options() const {
    FastConvOptions o;
    o.epilogue = options_.relu ? Epilogue::bias_relu : Epilogue::bias;
    return o;
}

Tensor4 Conv2D::forward(const Tensor4& x) {
    if (x.shape(1) != options_.input_channels) {
        throw std::invalid_argument("Conv2D " + options_.name + ": expected input (N, " +
                                    std::to_string(options_.input_channels) + ", H, W), got " +
                                    shape_to_string(x.shape()));
    }
    x_ = x;
    Tensor4 y = conv2d_fast_forward(x_, w_, b_, geometry(x.shape(2), x.shape(3)), fast_options(),
                                    workspace_);
    if (options_.relu) {
        y_ = y;
    }
    return y;
}

Tensor4 Conv2D::backward(const Tensor4& dy) {
    if (x_.size() == 0) {
        throw std::logic_error("Conv2D " + options_.name + ": backward() called before forward()");
    }
    return conv2d_fast_backward(dy, x_, y_, w_, geometry(x_.shape(2), x_.shape(3)),
                                fast_options(), workspace_, dw_, db_);
}

std::vector<Parameter> Conv2D::parameters() {
    return {make_parameter(options_.name + "/kernel", w_, dw_),
            make_parameter(options_.name + "/bias", b_, db_)};
}

}  // namespace cnn
