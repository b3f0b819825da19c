/// \file
/// \ingroup ch09
/// \brief How alike neighbouring pixels are: Pearson correlation, across a distance and across
/// colour channels.
///
/// Convolution assumes that what matters about a pixel is found near it. Photographs bear that
/// out: a pixel's value is a good guess of its neighbour's, and a worse one of a pixel farther
/// away, and the red, green and blue values of one pixel move together. The correlation
/// coefficient measures "moves together" on a scale from -1 to 1:
/// \f[ r(a, b) = \frac{\sum_k (a_k - \bar a)(b_k - \bar b)}
///                    {\sqrt{\sum_k (a_k - \bar a)^2}\,\sqrt{\sum_k (b_k - \bar b)^2}}. \f]
/// 1: b is a increasing linear function of a; 0: no linear relation; -1: a decreasing one.
#pragma once

#include <cstddef>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The correlation coefficient r(a, b) of two equally long lists of values, computed in double.
/// Throws std::invalid_argument when their lengths differ, when there are fewer than two
/// values, or when either list is constant (its spread is 0: r is undefined).
/// \param a the first list, `count` values
/// \param b the second list, `count` values
/// \param count the length of each list, at least 2
/// \return r, in [-1, 1]
double correlation(const float* a, const float* b, std::size_t count);

/// Which neighbour: the pixel `distance` columns to the right, or `distance` rows below.
enum class Direction { right, down };

// [neighbour_correlation]
/// The correlation between each pixel of `image` (H, W) and the pixel `distance` steps away in
/// `direction`, over every pair that fits in the image: H (W - d) pairs to the right, (H - d) W
/// downwards. Throws std::invalid_argument for distance 0, for a distance that leaves fewer
/// than two pairs, or for an image whose pairs are constant.
/// \param image one channel (H, W)
/// \param distance d, in pixels, at least 1
/// \param direction right or down
/// \return r, in [-1, 1]
double neighbour_correlation(const Tensor2& image, std::size_t distance, Direction direction);
// [neighbour_correlation]

/// The C x C correlations between the channels of `image` (C, H, W), each channel's H W
/// values one list: entry (i, j) is r(channel i, channel j), 1 on the diagonal. Throws
/// std::invalid_argument when a channel is constant.
/// \param image (C, H, W)
/// \return (C, C), symmetric
Tensor2 channel_correlations(const Tensor3& image);

}  // namespace cnn
