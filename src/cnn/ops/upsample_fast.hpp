/// \file
/// \ingroup ch11
/// \brief Upsampling as the UpSampling2D layer runs it: ops/upsample.hpp's arithmetic, map by
/// map, split between threads.
///
/// The functions of ops/upsample.hpp are loops over (n, c, i, j) that read and write through
/// the tensors' four indices, on one thread. These compute the same values
/// (tests/test_upsample_fast.cpp holds them to those) another way:
///
/// - **map by map, between threads.** Every map (n, c) is upsampled on its own, so the N·C maps
///   are split between threads with \ref chapter07 "chapter 07's" run_shares().
/// - **row by row, through pointers.** A map is a block of H·W floats; the loops walk its rows
///   with pointers instead of computing four-index offsets for every value, in loops the
///   compiler can vectorise. Nearest upsampling fills one output row, then copies it fh - 1
///   times: the rows of a block are equal; its backward pass adds a block's rows in the order
///   ops/upsample.hpp does, so both passes give the same bits.
/// - **bilinear, one axis at a time.** Bilinear upsampling blends each input row along the
///   columns once, into a scratch map (H, W·fw) per thread, and then blends pairs of those
///   rows: the blend along the columns is computed H times instead of H·fh times (the same
///   products as ops/upsample.hpp's, so up to a fused multiply-add the same bits). Its backward
///   pass runs the same two steps in reverse: each dy row into the two scratch rows it came
///   from, then each scratch row into the columns of dx; the same terms as ops/upsample.hpp's,
///   added in another order.
///
/// Each function checks its arguments as its counterpart in ops/upsample.hpp does.
#pragma once

#include "cnn/ops/upsample.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// upsample_nearest_forward(), the maps split between threads.
/// \param x the input (N, C, H, W)
/// \param factors fh and fw, at least 1 each
/// \return y (N, C, H·fh, W·fw)
/// \throws std::invalid_argument for a factor of 0
Tensor4 upsample_nearest_fast_forward(const Tensor4& x, const UpsampleFactors& factors);

/// upsample_nearest_backward(), the maps split between threads.
/// \param dy the gradient of y (N, C, H·fh, W·fw)
/// \param factors the forward pass's fh and fw
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument for a factor of 0, or when dy's height and width are not
///         multiples of fh and fw
Tensor4 upsample_nearest_fast_backward(const Tensor4& dy, const UpsampleFactors& factors);

/// upsample_bilinear_forward(), the maps split between threads.
/// \param x the input (N, C, H, W)
/// \param factors fh and fw, at least 1 each
/// \return y (N, C, H·fh, W·fw)
/// \throws std::invalid_argument for a factor of 0
Tensor4 upsample_bilinear_fast_forward(const Tensor4& x, const UpsampleFactors& factors);

/// upsample_bilinear_backward(), the maps split between threads.
/// \param dy the gradient of y (N, C, H·fh, W·fw)
/// \param factors the forward pass's fh and fw
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument for a factor of 0, or when dy's height and width are not
///         multiples of fh and fw
Tensor4 upsample_bilinear_fast_backward(const Tensor4& dy, const UpsampleFactors& factors);

}  // namespace cnn
