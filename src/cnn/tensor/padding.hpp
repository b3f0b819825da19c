/// \file
/// \ingroup ch03
/// \brief Zero padding: a frame of zeros around a 2-D input, possibly thicker on one side.
///
/// Padding rows go above (before) and below (after) the input, padding columns to its left
/// and right. Keras's 'same' padding with an even total puts the same on both sides; with an
/// odd total it puts the extra row at the bottom and the extra column at the right.
#pragma once

#include <cstddef>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Padding of one axis: how many rows (or columns) are added before and after.
struct AxisPadding {
    std::size_t before = 0;  ///< top, or left
    std::size_t after = 0;   ///< bottom, or right
    /// Rows (or columns) added in all.
    /// \return before + after
    std::size_t total() const { return before + after; }
    /// Whether two paddings add the same on each side.
    /// \param other the padding compared
    /// \return true when both sides are equal
    bool operator==(const AxisPadding& other) const {
        return before == other.before && after == other.after;
    }
};

/// x (H, W) framed by `value`: returns (H + rows.total(), W + cols.total()) with x at
/// (rows.before, cols.before).
/// \param x the input (H, W)
/// \param rows the rows added at the top and bottom
/// \param cols the columns added on the left and right
/// \param value what the added pixels hold
/// \return (H + rows.total(), W + cols.total())
Tensor2 pad2d(const Tensor2& x, AxisPadding rows, AxisPadding cols, float value = 0.0f);

/// The inverse of pad2d: drops rows.before rows at the top, rows.after at the bottom, and the
/// same for columns. Throws std::invalid_argument when that leaves nothing.
/// \param x the input (H, W)
/// \param rows the rows removed at the top and bottom
/// \param cols the columns removed on the left and right
/// \return (H - rows.total(), W - cols.total())
Tensor2 crop2d(const Tensor2& x, AxisPadding rows, AxisPadding cols);

}  // namespace cnn
