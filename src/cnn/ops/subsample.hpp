/// \file
/// \ingroup ch09
/// \brief Stride is subsampling: keeping every s-th row and column of a map.
///
/// A convolution with stride S computes the windows at rows 0, S, 2S, ... of the padded input.
/// The same convolution with stride 1 computes every row, those included, so
///
///     conv(x, stride S)[i, j] = conv(x, stride 1)[i S, j S]      (same padding on both)
///
/// and subsample() of the stride-1 output gives the stride-S output exactly: the stride throws
/// away all but one output in S x S, and saves their arithmetic. \ref chapter03 "Chapter 03's"
/// formula agrees: subsampling the H + P_before + P_after - FH + 1 rows of the stride-1 output
/// every S rows keeps floor((H + P_before + P_after - FH) / S) + 1 of them, the stride-S output
/// size.
///
/// The padding must be the same on both sides of that equation. Keras's 'same' padding is not:
/// for stride 1 and a 3x3 kernel it pads 1 row above and 1 below, for stride 2 on an even size
/// 0 above and 1 below (geometry.hpp, keras_padding()), so the stride-2 'same' output is the
/// stride-1 'same' output sampled from row 1, not row 0: subsample() with an offset of 1.
#pragma once

#include <cstddef>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

// [subsample]
/// Every stride-th row and column of each map of x, starting at (offset_rows, offset_cols):
/// x is (N, C, H, W); returns (N, C, OH, OW) with OH = ceil((H - offset_rows) / stride_rows),
/// OW likewise, and y[n, c, i, j] = x[n, c, offset_rows + i stride_rows, offset_cols + j
/// stride_cols]. Throws std::invalid_argument for a zero stride or an offset outside the map.
/// \param x the maps (N, C, H, W)
/// \param stride_rows keep every stride_rows-th row, at least 1
/// \param stride_cols keep every stride_cols-th column, at least 1
/// \param offset_rows the first row kept, below H
/// \param offset_cols the first column kept, below W
/// \return (N, C, OH, OW)
Tensor4 subsample(const Tensor4& x, std::size_t stride_rows, std::size_t stride_cols,
                  std::size_t offset_rows = 0, std::size_t offset_cols = 0);
// [subsample]

}  // namespace cnn
