/// \file
/// \ingroup ch08
/// \brief Batch normalisation as the BatchNormalization layer runs it: ops/batch_norm.hpp's
/// arithmetic, channel by channel, split between threads.
///
/// The functions of ops/batch_norm.hpp compute each pass as the formulas read: the statistics
/// of every channel, then xhat, then y, each a pass over the whole tensor. These compute the
/// same values (tests/test_batch_norm_fast.cpp holds them to those, within float rounding), in
/// another order:
///
/// - **one channel at a time.** A channel's values depend on its own statistics alone. A
///   thread takes a channel, reads its N planes of H·W values (200 KB for 64 images of
///   28x28: they stay in its core's cache), adds them up, and writes its outputs while the
/// values are still there. The channels are split between threads with
/// \ref chapter07 "chapter 07's" run_ranges(). (The inference forward pass, with its statistics
/// given, makes one pass over the planes in memory order instead.)
/// - **SIMD-friendly sums.** The sums are in double, as in ops/batch_norm.hpp, but the
///   compiler may keep several partial sums in the lanes of a SIMD register (`omp simd`):
///   one long chain of additions would make every addition wait for the one before.
/// - **no needless memory.** A pass that takes its tensor by value writes its output over it:
///   the training forward pass writes y over x, the backward passes dx over dy. A layer that
///   hands its tensor over with std::move allocates nothing for it. A dy that other layers
///   still read (an Add's gradient, shared in a graph model) goes to the backward passes'
///   overloads that write dx into memory of their own.
///
/// Each function checks its arguments as its counterpart in ops/batch_norm.hpp does, with the
/// same messages.
#pragma once

#include "cnn/ops/batch_norm.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// batch_norm_forward(), with y written over x.
/// \param x the input (N, C, H, W), its storage reused for y
/// \param gamma the scale (C)
/// \param beta the shift (C)
/// \param epsilon added to the variance, a finite number > 0
/// \return y, xhat, inv_std and the batch's statistics
/// \throws std::invalid_argument as check_batch_norm_forward()
BatchNormResult batch_norm_fast_forward(Tensor4 x, const Tensor1& gamma, const Tensor1& beta,
                                        float epsilon);

/// batch_norm_backward(), with dx written over dy.
/// \param dy the gradient of y (N, C, H, W), its storage reused for dx
/// \param xhat the forward pass's normalised input (N, C, H, W)
/// \param inv_std the forward pass's 1 / s (C)
/// \param gamma the scale (C)
/// \param dgamma the scale's gradient (C), added to
/// \param dbeta the shift's gradient (C), added to
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument as check_batch_norm_backward()
Tensor4 batch_norm_fast_backward(Tensor4 dy, const Tensor4& xhat, const Tensor1& inv_std,
                                 const Tensor1& gamma, Tensor1& dgamma, Tensor1& dbeta);

/// The same, with dy left as it is and dx written into `memory` (for a gradient that other
/// layers still read: a graph model's Add hands one gradient to two layers). `memory` must be
/// another tensor than dy.
/// \param dy the gradient of y (N, C, H, W), unchanged
/// \param xhat the forward pass's normalised input (N, C, H, W)
/// \param inv_std the forward pass's 1 / s (C)
/// \param gamma the scale (C)
/// \param dgamma the scale's gradient (C), added to
/// \param dbeta the shift's gradient (C), added to
/// \param memory storage for dx (its storage kept when it holds as many values), left empty
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument as check_batch_norm_backward(), or if `memory` is dy
Tensor4 batch_norm_fast_backward(const Tensor4& dy, const Tensor4& xhat, const Tensor1& inv_std,
                                 const Tensor1& gamma, Tensor1& dgamma, Tensor1& dbeta,
                                 Tensor4&& memory);

/// batch_norm_inference_forward().
/// \param x the input (N, C, H, W)
/// \param gamma the scale (C)
/// \param beta the shift (C)
/// \param moving the moving mean and variance (C each)
/// \param epsilon added to the variance, a finite number > 0
/// \return y (N, C, H, W), in new storage
/// \throws std::invalid_argument as check_batch_norm_inference_forward()
Tensor4 batch_norm_fast_inference_forward(const Tensor4& x, const Tensor1& gamma,
                                          const Tensor1& beta, const BatchNormStatistics& moving,
                                          float epsilon);

/// The same, y written into `memory`'s storage when it holds as many values as x (a layer hands
/// in the last batch's tensor, so that inference allocates nothing), into new storage
/// otherwise. `memory` must be another tensor than x: throws std::invalid_argument if it is x.
/// \param x the input (N, C, H, W)
/// \param gamma the scale (C)
/// \param beta the shift (C)
/// \param moving the moving mean and variance (C each)
/// \param epsilon added to the variance, a finite number > 0
/// \param memory storage for y, left empty
/// \return y (N, C, H, W)
Tensor4 batch_norm_fast_inference_forward(const Tensor4& x, const Tensor1& gamma,
                                          const Tensor1& beta, const BatchNormStatistics& moving,
                                          float epsilon, Tensor4&& memory);

/// batch_norm_inference_backward(), with dx written over dy.
/// \param dy the gradient of y (N, C, H, W), its storage reused for dx
/// \param x the forward pass's input (N, C, H, W)
/// \param gamma the scale (C)
/// \param moving the forward pass's statistics (C each)
/// \param epsilon the forward pass's epsilon
/// \param dgamma the scale's gradient (C), added to
/// \param dbeta the shift's gradient (C), added to
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument as check_batch_norm_inference_backward()
Tensor4 batch_norm_fast_inference_backward(Tensor4 dy, const Tensor4& x, const Tensor1& gamma,
                                           const BatchNormStatistics& moving, float epsilon,
                                           Tensor1& dgamma, Tensor1& dbeta);

/// The same, with dy left as it is and dx written into `memory`, which must be another tensor
/// than dy.
/// \param dy the gradient of y (N, C, H, W), unchanged
/// \param x the forward pass's input (N, C, H, W)
/// \param gamma the scale (C)
/// \param moving the forward pass's statistics (C each)
/// \param epsilon the forward pass's epsilon
/// \param dgamma the scale's gradient (C), added to
/// \param dbeta the shift's gradient (C), added to
/// \param memory storage for dx (its storage kept when it holds as many values), left empty
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument as check_batch_norm_inference_backward(), or if `memory` is dy
Tensor4 batch_norm_fast_inference_backward(const Tensor4& dy, const Tensor4& x,
                                           const Tensor1& gamma, const BatchNormStatistics& moving,
                                           float epsilon, Tensor1& dgamma, Tensor1& dbeta,
                                           Tensor4&& memory);

}  // namespace cnn
