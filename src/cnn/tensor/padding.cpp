#include "cnn/tensor/padding.hpp"

#include <stdexcept>
#include <string>

#include <xtensor/xview.hpp>

namespace cnn {

Tensor2 pad2d(const Tensor2& x, AxisPadding rows, AxisPadding cols, float value) {
    // x is (H, W); the result is (H + rows.before + rows.after, W + cols.before + cols.after).
    const std::size_t h = x.shape(0), w = x.shape(1);
    Tensor2 padded = Tensor2::from_shape({h + rows.total(), w + cols.total()});
    padded.fill(value);
    xt::view(padded, xt::range(rows.before, rows.before + h), xt::range(cols.before, cols.before + w)) = x;
    return padded;
}

Tensor2 crop2d(const Tensor2& x, AxisPadding rows, AxisPadding cols) {
    const std::size_t h = x.shape(0), w = x.shape(1);
    if (rows.total() >= h || cols.total() >= w) {
        throw std::invalid_argument("crop2d: cannot remove " + std::to_string(rows.total()) +
                                    " rows and " + std::to_string(cols.total()) +
                                    " columns from " + shape_to_string(x.shape()));
    }
    return xt::view(x, xt::range(rows.before, h - rows.after), xt::range(cols.before, w - cols.after));
}

}  // namespace cnn
