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
void max_pool2d_fast_forward(const Tensor4& x, const Pool2DWindow& options, MaxPoolResult& result,
                             std::size_t threads = 0);

/// Max pooling, backward: every winner must lie inside its own image of x_shape, as forward
/// passes leave them; anything else is rejected before any thread starts.
Tensor4 max_pool2d_fast_backward(const Tensor4& dy, const std::vector<std::size_t>& winner,
                                 const std::array<std::size_t, 4>& x_shape,
                                 std::size_t threads = 0);

}  // namespace cnn
