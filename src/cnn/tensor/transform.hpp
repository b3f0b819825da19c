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
/// \param images the images (N, C, H, W)
/// \param down rows down; negative for up
/// \param right columns right; negative for left
/// \return the shifted images (N, C, H, W)
Tensor4 shift_images(const Tensor4& images, std::ptrdiff_t down, std::ptrdiff_t right);

/// Applies one fixed permutation to the pixels of every image of images (N, C, H, W):
/// pixel p of the result is pixel `permutation[p]` of the input, with p counting over the
/// C*H*W pixels of one image in row-major order. `permutation` must be a permutation of
/// 0 .. C*H*W-1.
/// \param images the images (N, C, H, W)
/// \param permutation C·H·W indices, each once
/// \return the permuted images (N, C, H, W)
/// \throws std::invalid_argument when `permutation` has another length or is not a
///         permutation
Tensor4 permute_pixels(const Tensor4& images, const std::vector<std::size_t>& permutation);

}  // namespace cnn
