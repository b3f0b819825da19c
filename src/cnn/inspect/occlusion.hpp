/// \file
/// \ingroup ch09
/// \brief Occlusion sensitivity: where hiding part of the image hurts the prediction.
///
/// A saliency map (cnn/inspect/probe.hpp) is a derivative: what an infinitely small change of
/// each pixel does. Occlusion asks a coarser, more robust question by experiment (Zeiler and
/// Fergus, 2014): cover a small square of the image with grey, ask the network again, and
/// write down how much the probability of the true class fell. Slide the square over every
/// position and the drops form a map: large where the network needed to see, near zero where
/// it did not look, negative where the covered pixels were evidence *against* the class.
#pragma once

#include <cstddef>

#include "cnn/model/model.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The grey square.
struct OcclusionOptions {
    std::size_t patch = 5;       ///< its side, odd, so that it is centred on a pixel
    float fill = 0.5f;           ///< the value it paints in every channel
    std::size_t batch_size = 256;  ///< occluded copies predicted at once
};

// [occlusion_map]
/// The occlusion map of `image` (1, C, H, W) for class `label`: an (H, W) map whose value at
/// (i, j) is p(label | image) - p(label | image with the patch centred on (i, j) painted
/// `fill`), the patch cut at the borders. Throws std::invalid_argument for an even or zero
/// patch, a batch of more than one image, or a label out of range.
Tensor2 occlusion_map(Model& model, const Tensor4& image, std::size_t label,
                      const OcclusionOptions& options = {});
// [occlusion_map]

// The parameters of the declarations a chapter page quotes, kept out of the quoted lines.
// clang-format off
/// \fn Tensor2 occlusion_map(Model& model, const Tensor4& image, std::size_t label, const OcclusionOptions& options)
/// \param model a classifier ending with a softmax
/// \param image one image (1, C, H, W)
/// \param label the class whose probability is watched, below the model's K
/// \param options the patch's side and grey, and the batch size
/// \return the map (H, W): positive where covering the image lowers p(label)
// clang-format on

}  // namespace cnn
