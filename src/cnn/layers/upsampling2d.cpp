#include "cnn/layers/upsampling2d.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace cnn {

namespace {

UpSampling2DOptions checked(const UpSampling2DOptions& options) {
    if (options.size.rows == 0 || options.size.cols == 0) {
        throw std::invalid_argument("UpSampling2D: expected a size of at least 1 along rows and "
                                    "columns, got (" + std::to_string(options.size.rows) + ", " +
                                    std::to_string(options.size.cols) + ")");
    }
    return options;
}

UpSampling2DOptions with_size(std::size_t rows, std::size_t columns) {
    UpSampling2DOptions options;
    options.size.rows = rows;
    options.size.cols = columns;
    return checked(options);
}

}  // namespace

Interpolation parse_interpolation(const std::string& name) {
    if (name == "nearest") {
        return Interpolation::nearest;
    }
    if (name == "bilinear") {
        return Interpolation::bilinear;
    }
    throw std::invalid_argument("UpSampling2D: expected interpolation 'nearest' or 'bilinear' "
                                "(Keras 3's 'bicubic', 'lanczos3' and 'lanczos5' are not in this "
                                "book), got '" + name + "'");
}

UpSampling2D::UpSampling2D(std::size_t size) : options_(with_size(size, size)) {}

UpSampling2D::UpSampling2D(std::size_t rows, std::size_t columns)
    : options_(with_size(rows, columns)) {}

UpSampling2D::UpSampling2D(const UpSampling2DOptions& options) : options_(checked(options)) {}

UpSampling2D& UpSampling2D::interpolation(const std::string& name) {
    options_.interpolation = parse_interpolation(name);
    return *this;
}

Shape UpSampling2D::build(const Shape& input, Rng&) {
    if (input.size() != 3) {
        throw std::invalid_argument(layer_shape_error(*this, "(None, C, H, W)", input));
    }
    return {input[0], input[1] * options_.size.rows, input[2] * options_.size.cols};
}

Tensor4 UpSampling2D::forward_operation(Tensor4 x, bool) {
    x_shape_ = {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
    ran_ = true;
    return options_.interpolation == Interpolation::nearest
               ? upsample_nearest_fast_forward(x, options_.size)
               : upsample_bilinear_fast_forward(x, options_.size);
}

Tensor4 UpSampling2D::backward_operation(Tensor4 dy) {
    expect_forward_first(*this, ran_);
    const std::array<std::size_t, 4> y_shape = upsampled_shape(x_shape_, options_.size);
    if (!std::equal(y_shape.begin(), y_shape.end(), dy.shape().begin())) {
        throw std::invalid_argument(type() + " " + name() + ": expected dy " +
                                    shape_to_string(y_shape) + ", as the last forward() output, "
                                    "got " + shape_to_string(dy.shape()));
    }
    return options_.interpolation == Interpolation::nearest
               ? upsample_nearest_fast_backward(dy, options_.size)
               : upsample_bilinear_fast_backward(dy, options_.size);
}

}  // namespace cnn
