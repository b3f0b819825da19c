/// \file
/// \ingroup ch05
/// \brief Max and average pooling, forward and backward: summarising each window by one number.
///
/// A pooling window slides over each channel of the input exactly like a convolution window
/// (same output-size formula, same stride and padding), but it has no weights: it replaces the
/// window by its largest value (max pooling) or by its mean (average pooling). Channels stay
/// separate: (N, C, H, W) becomes (N, C, OH, OW).
///
/// Rules that a learner should be able to rely on:
/// - **Padding is never a candidate.** A max ignores padded positions; an average divides by
///   the number of real input values in the window (Keras and TensorFlow do the same; PyTorch's
///   AvgPool2d counts the zeros unless count_include_pad=false). Padding must be smaller than the
///   window on each side, so every window holds at least one real value.
/// - **Ties in max pooling**: the first maximum in reading order (row by row within the window)
///   wins, as in PyTorch and Caffe, and its position alone receives the gradient.
/// - **Overlapping windows** (stride smaller than the window): a value that wins, or lies in,
///   several windows collects gradient from each of them: backward accumulates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The window of a pooling layer and where it goes.
struct Pool2DWindow {
    std::size_t window_rows = 2;  ///< FH
    std::size_t window_cols = 2;  ///< FW
    Conv2DGeometry geometry;      ///< stride, padding and size policy (strides default to 1 here;
                                  ///< the layers default them to the window, as Keras does)
};

/// The rows (or columns) of the real input that window position i covers: [first, last).
struct WindowSpan {
    std::size_t first, last;
};
/// \var WindowSpan::first
/// The first row (or column) of the input inside the window.
/// \var WindowSpan::last
/// One past the last row (or column) inside the window; equal to `first` when the window
/// holds only padding.

/// Where window i lies along one axis of `size` values, with the padding cut off: it starts at
/// i·stride in padded coordinates and is `window` long.
/// \param i the window's position along the axis, from 0
/// \param stride S
/// \param pad_before the padding before the first real value
/// \param window the window's length (FH or FW)
/// \param size the input's length along the axis (H or W)
/// \return the real values the window covers
WindowSpan window_span(std::size_t i, std::size_t stride, std::size_t pad_before,
                       std::size_t window, std::size_t size);

/// The output shape (N, C, OH, OW) of pooling x (N, C, H, W).
/// \param x the input (N, C, H, W)
/// \param options the window, strides and padding
/// \return (N, C, OH, OW)
/// \throws GeometryError for an empty window, padding as large as the window, or a window
///         that does not fit
std::array<std::size_t, 4> pool2d_output_shape(const Tensor4& x, const Pool2DWindow& options);

/// Where a window's winner sits in x: its index among x's values in row-major order. Four
/// bytes, the size of the float it points to: an x of up to 2^32 - 1 values, which the forward
/// passes check (expect_pool_indexable()).
using PoolIndex = std::uint32_t;

/// Throws unless x's values can all be told apart by a PoolIndex.
/// \param x_shape x's shape (N, C, H, W)
/// \param where the function that asks, for the message
/// \throws std::invalid_argument when x holds more than 2^32 - 1 values
void expect_pool_indexable(const std::array<std::size_t, 4>& x_shape, const std::string& where);

/// What max pooling's forward pass returns: the output and, for its backward pass, where each
/// output's winner sits in x (an index into x's elements in row-major order).
struct MaxPoolResult {
    Tensor4 y;                      ///< (N, C, OH, OW)
    std::vector<PoolIndex> winner;  ///< one per element of y
};

// [max_pool]
/// Max pooling, forward. x is (N, C, H, W); returns y (N, C, OH, OW) and the winners.
MaxPoolResult max_pool2d_forward(const Tensor4& x, const Pool2DWindow& options);

/// Max pooling, backward. dy is (N, C, OH, OW); winner from the forward pass; returns dx with
/// x's shape, where each dy value has been added to its winner's position and nothing else.
Tensor4 max_pool2d_backward(const Tensor4& dy, const std::vector<PoolIndex>& winner,
                            const std::array<std::size_t, 4>& x_shape);
// [max_pool]

// [average_pool]
/// Average pooling, forward. x is (N, C, H, W); returns y (N, C, OH, OW), each output the mean
/// of the real (not padded) values of its window.
Tensor4 average_pool2d_forward(const Tensor4& x, const Pool2DWindow& options);

/// Average pooling, backward. dy is (N, C, OH, OW); returns dx (N, C, H, W): each output's
/// gradient shared equally among the real values of its window.
Tensor4 average_pool2d_backward(const Tensor4& dy, const std::array<std::size_t, 4>& x_shape,
                                const Pool2DWindow& options);
// [average_pool]

// The parameters of the declarations a chapter page quotes, kept out of the quoted lines.
// clang-format off
/// \fn MaxPoolResult max_pool2d_forward(const Tensor4& x, const Pool2DWindow& options)
/// \param x the input (N, C, H, W)
/// \param options the window, strides and padding
/// \return y (N, C, OH, OW) and, for each of its elements, the index of its window's maximum
///         in x (the first one, on a tie)
/// \throws GeometryError as pool2d_output_shape()
/// \throws std::invalid_argument when x holds more than 2^32 - 1 values (expect_pool_indexable())
///
/// \fn Tensor4 max_pool2d_backward(const Tensor4& dy, const std::vector<PoolIndex>& winner, const std::array<std::size_t, 4>& x_shape)
/// \param dy the gradient of y (N, C, OH, OW)
/// \param winner max_pool2d_forward()'s winners, one per element of dy
/// \param x_shape the shape of the forward pass's x, (N, C, H, W)
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument when dy, winner and x_shape do not belong together
///
/// \fn Tensor4 average_pool2d_forward(const Tensor4& x, const Pool2DWindow& options)
/// \param x the input (N, C, H, W)
/// \param options the window, strides and padding
/// \return y (N, C, OH, OW)
/// \throws GeometryError as pool2d_output_shape()
///
/// \fn Tensor4 average_pool2d_backward(const Tensor4& dy, const std::array<std::size_t, 4>& x_shape, const Pool2DWindow& options)
/// \param dy the gradient of y (N, C, OH, OW)
/// \param x_shape the shape of the forward pass's x, (N, C, H, W)
/// \param options the window, strides and padding of the forward pass
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument when dy does not have the forward pass's output shape
// clang-format on

/// Global average pooling: the mean of each whole map. x is (N, C, H, W); returns (N, C).
/// \param x the input (N, C, H, W)
/// \return the means (N, C)
Tensor2 global_average_pool_forward(const Tensor4& x);

/// Its backward pass: dy is (N, C); returns dx (N, C, H, W) with dy / (H W) everywhere.
/// \param dy the gradient of the means (N, C)
/// \param x_shape the shape of the forward pass's x, (N, C, H, W)
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument when dy is not (N, C)
Tensor4 global_average_pool_backward(const Tensor2& dy, const std::array<std::size_t, 4>& x_shape);

}  // namespace cnn
