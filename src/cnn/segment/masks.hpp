/// \file
/// \ingroup ch11
/// \brief Masks: a class for every pixel of a scene, derived from where its items were pasted.
///
/// Chapter 10's scenes (cnn/detect/scenes.hpp) know where each item went. A mask labels each
/// pixel with a pixel class: 0 for the background, 1 + c for an item of class c (so 11 pixel
/// classes for Fashion-MNIST's 10). Pixel (r, s) belongs to an item when the item's scaled image is brighter than
/// `ink` there; where several items cover it, the brightest one wins, which is the one the
/// canvas shows (a scene is the pixelwise maximum of its items), and the first placed on a tie.
#pragma once

#include <cstddef>
#include <cstdint>

#include <xtensor/xtensor.hpp>

#include "cnn/detect/scenes.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// One pixel class per pixel, (N, H, W): 0 is the background, 1 + c an item of class c.
using Masks = xt::xtensor<std::uint8_t, 3>;

// [scene_masks]
/// The masks of `scenes`, which make_scenes() drew from `items`.
/// \param scenes the scenes
/// \param items the images make_scenes() was given (M, 1, 28, 28)
/// \param ink the brightness above which a pixel belongs to an item (SceneOptions::ink)
/// \return (N, H, W) pixel classes
/// \throws std::invalid_argument when an item's source is not among `items`, an item
///         reaches past the canvas, or its class c has no pixel class 1 + c below 256
Masks scene_masks(const Scenes& scenes, const Tensor4& items, float ink);
// [scene_masks]

}  // namespace cnn
