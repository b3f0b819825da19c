/// \file
/// \ingroup ch07
/// \brief \ref chapter05 "Chapter 05's" max pooling with the batch split between threads: the
/// layer's engine.
///
/// The same windows, the same tie rule (the first maximum wins) and the same winners as
/// max_pool2d_forward(), so the two agree bit for bit; only the work is organised differently.
/// Each thread takes a contiguous share of the images, reads them through plain pointers, and
/// writes into buffers the caller keeps between steps. Pooling does almost no arithmetic: its
/// time is memory traffic, which the threads share (ch07_fast_convolution's step table shows
/// what it costs in a training step).
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "cnn/ops/pooling.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Max pooling, forward, into `result` (its y and winner are resized as needed and reused).
/// `threads` 0 means thread_count().
/// \param x the input (N, C, H, W)
/// \param options the window, strides and padding
/// \param result receives y (N, C, OH, OW) and the winners, as max_pool2d_forward()'s
/// \param threads how many threads split the batch; 0 for thread_count()
/// \throws GeometryError as pool2d_output_shape()
/// \throws std::invalid_argument when x holds more than 2^32 - 1 values (expect_pool_indexable())
void max_pool2d_fast_forward(const Tensor4& x, const Pool2DWindow& options, MaxPoolResult& result,
                             std::size_t threads = 0);

/// Max pooling, backward: every winner must lie inside its own image of x_shape, as forward
/// passes leave them; anything else is an error (found by the thread that meets it, before
/// it writes there; dx is then discarded).
/// \param dy the gradient of y (N, C, OH, OW)
/// \param winner the forward's winners, one per element of dy
/// \param x_shape the forward's input shape (N, C, H, W)
/// \param threads how many threads split the batch; 0 for thread_count()
/// \return dx (N, C, H, W), the same values as max_pool2d_backward()'s
/// \throws std::invalid_argument for winners that do not fit dy and x_shape
Tensor4 max_pool2d_fast_backward(const Tensor4& dy, const std::vector<PoolIndex>& winner,
                                 const std::array<std::size_t, 4>& x_shape,
                                 std::size_t threads = 0);

}  // namespace cnn
