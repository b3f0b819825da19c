#include "cnn/ops/im2col.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

std::array<std::size_t, 2> im2col_shape(const Tensor4& x, std::size_t fh, std::size_t fw,
                                        const Conv2DGeometry& g) {
    const std::size_t oh = conv_output_size({x.shape(2), fh, g.stride_rows, g.pad_rows}, g.policy);
    const std::size_t ow = conv_output_size({x.shape(3), fw, g.stride_cols, g.pad_cols}, g.policy);
    return {x.shape(1) * fh * fw, oh * ow};
}

namespace {

void expect_image(const char* where, const Tensor4& x, std::size_t n) {
    if (n >= x.shape(0)) {
        throw std::out_of_range(std::string(where) + ": image " + std::to_string(n) +
                                " of a batch " + shape_to_string(x.shape()));
    }
}

void expect_cols(const char* where, const Tensor2& cols, const std::array<std::size_t, 2>& shape) {
    if (cols.shape(0) != shape[0] || cols.shape(1) != shape[1]) {
        throw std::invalid_argument(std::string(where) + ": expected a matrix (C*FH*FW, OH*OW) = " +
                                    shape_to_string(shape) + ", got " +
                                    shape_to_string(cols.shape()));
    }
}

}  // namespace

void im2col(const Tensor4& x, std::size_t n, std::size_t fh, std::size_t fw,
            const Conv2DGeometry& g, Tensor2& cols) {
    // x is (N, C, H, W); cols is (C*FH*FW, OH*OW).
    const std::array<std::size_t, 2> shape = im2col_shape(x, fh, fw, g);
    expect_image("im2col", x, n);
    expect_cols("im2col", cols, shape);
    const std::size_t channels = x.shape(1), h = x.shape(2), w = x.shape(3);
    const std::size_t ow = conv_output_size({w, fw, g.stride_cols, g.pad_cols}, g.policy);
    const std::size_t oh = shape[1] / ow;
    for (std::size_t c = 0; c < channels; ++c) {
        for (std::size_t u = 0; u < fh; ++u) {
            for (std::size_t v = 0; v < fw; ++v) {
                const std::size_t row = (c * fh + u) * fw + v;
                for (std::size_t i = 0; i < oh; ++i) {
                    // As in the naive loops: a row above the input wraps around and fails r < h.
                    const std::size_t r = i * g.stride_rows + u - g.pad_rows.before;
                    for (std::size_t j = 0; j < ow; ++j) {
                        const std::size_t s = j * g.stride_cols + v - g.pad_cols.before;
                        cols(row, i * ow + j) = (r < h && s < w) ? x(n, c, r, s) : 0.0f;
                    }
                }
            }
        }
    }
}

void col2im(const Tensor2& cols, std::size_t n, std::size_t fh, std::size_t fw,
            const Conv2DGeometry& g, Tensor4& dx) {
    // cols is (C*FH*FW, OH*OW); dx is (N, C, H, W) and image n receives the sums.
    const std::array<std::size_t, 2> shape = im2col_shape(dx, fh, fw, g);
    expect_image("col2im", dx, n);
    expect_cols("col2im", cols, shape);
    const std::size_t channels = dx.shape(1), h = dx.shape(2), w = dx.shape(3);
    const std::size_t ow = conv_output_size({w, fw, g.stride_cols, g.pad_cols}, g.policy);
    const std::size_t oh = shape[1] / ow;
    for (std::size_t c = 0; c < channels; ++c) {
        for (std::size_t u = 0; u < fh; ++u) {
            for (std::size_t v = 0; v < fw; ++v) {
                const std::size_t row = (c * fh + u) * fw + v;
                for (std::size_t i = 0; i < oh; ++i) {
                    const std::size_t r = i * g.stride_rows + u - g.pad_rows.before;
                    if (r >= h) {
                        continue;
                    }
                    for (std::size_t j = 0; j < ow; ++j) {
                        const std::size_t s = j * g.stride_cols + v - g.pad_cols.before;
                        if (s < w) {
                            dx(n, c, r, s) += cols(row, i * ow + j);  // += : windows overlap
                        }
                    }
                }
            }
        }
    }
}

}  // namespace cnn
