#include "cnn/ops/subsample.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

namespace {

// How many of the positions offset, offset + stride, ... lie in 0 .. size - 1.
std::size_t kept(std::size_t size, std::size_t stride, std::size_t offset) {
    return (size - offset + stride - 1) / stride;
}

}  // namespace

Tensor4 subsample(const Tensor4& x, std::size_t stride_rows, std::size_t stride_cols,
                  std::size_t offset_rows, std::size_t offset_cols) {
    const std::size_t n = x.shape(0), c = x.shape(1), h = x.shape(2), w = x.shape(3);
    if (stride_rows == 0 || stride_cols == 0 || offset_rows >= h || offset_cols >= w) {
        throw std::invalid_argument(
            "subsample: expected strides >= 1 and offsets inside the " + std::to_string(h) + "x" +
            std::to_string(w) + " maps of " + shape_to_string(x.shape()) + ", got strides " +
            std::to_string(stride_rows) + "x" + std::to_string(stride_cols) + " and offsets " +
            std::to_string(offset_rows) + "x" + std::to_string(offset_cols));
    }
    const std::size_t oh = kept(h, stride_rows, offset_rows),
                      ow = kept(w, stride_cols, offset_cols);
    Tensor4 y = Tensor4::from_shape({n, c, oh, ow});
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t ch = 0; ch < c; ++ch) {
            for (std::size_t r = 0; r < oh; ++r) {
                for (std::size_t q = 0; q < ow; ++q) {
                    y(i, ch, r, q) = x(i, ch, offset_rows + r * stride_rows,
                                       offset_cols + q * stride_cols);
                }
            }
        }
    }
    return y;
}

}  // namespace cnn
