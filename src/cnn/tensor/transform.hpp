/// \file
/// \ingroup ch01
/// \brief Moving pixels around: shifting images and permuting their pixels.
///
/// \ref chapter01 "Chapter 01" uses both to ask what a network can see: a shift moves the same
/// picture a few pixels; a fixed permutation scrambles where every pixel sits while keeping all of
/// them.
#pragma once

#include <cstddef>
#include <vector>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Shifts every image of images (N, C, H, W) `down` rows and `right` columns (negative values
/// shift up or left). Pixels moved out of the frame are lost; uncovered pixels become 0.
Tensor4 shift_images(const Tensor4& images, std::ptrdiff_t down, std::ptrdiff_t right);

/// Applies one fixed permutation to the pixels of every image of images (N, C, H, W):
/// pixel p of the result is pixel `permutation[p]` of the input, with p counting over the
/// C*H*W pixels of one image in row-major order. `permutation` must be a permutation of
/// 0 .. C*H*W-1.
Tensor4 permute_pixels(const Tensor4& images, const std::vector<std::size_t>& permutation);

}  // namespace cnn
