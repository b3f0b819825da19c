/// \file
/// \ingroup ch09
/// \brief Looking inside a trained network: any layer's output, and its gradient with respect
/// to the input image.
///
/// Training sends the gradient of the loss back to the weights. The same backward pass, sent
/// from any other number the network computes, says how that number depends on each input
/// pixel. Chapter 09 sends it from two places:
///
/// - a class score (the last layer's logit for one class): the gradient is a *saliency map*
///   (Simonyan, Vedaldi and Zisserman, 2014), large where changing a pixel would change the
///   score most;
/// - one unit of a hidden layer: following the gradient *uphill*, from a grey image, builds
///   the input that excites the unit most, *activation maximisation* (Erhan, Bengio, Courville
///   and Vincent, 2009).
///
/// Both run the layers in inference mode (no dropout, batch normalization's moving averages)
/// and leave the weights as they found them; the weights' gradients, a by-product of the
/// backward pass, are set to zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cnn/model/sequential.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Runs layers 0 to `layer` of `model` (built first if needed) on x, in inference mode.
/// \param model the model
/// \param x the examples (N, the model's input shape)
/// \param layer the last layer run, an index below the model's size()
/// \return layer `layer`'s output (N, its output shape...); its logits when it ends with a
///         softmax
/// \throws std::invalid_argument naming what was expected, for another input shape or a
///         layer index past the last layer
Tensor4 forward_to(Sequential& model, Tensor4 x, std::size_t layer);

/// The backward pass of the forward_to() that just ran up to `layer`. The weights' gradients
/// it accumulates on the way are set back to zero.
/// \param model the model forward_to() ran
/// \param layer the layer forward_to() stopped at
/// \param output_gradient the gradient of some number with respect to that layer's output
///        (its shape)
/// \return the gradient of the same number with respect to forward_to()'s x, x's shape
/// \throws std::invalid_argument for a layer index past the last layer
Tensor4 backward_from(Sequential& model, std::size_t layer, Tensor4 output_gradient);

/// The saliency map of each image: the gradient of the logit of `classes[n]` (the last
/// layer's output before its softmax) with respect to image n of x.
/// \param model a classifier
/// \param x the images (N, the model's input shape)
/// \param classes one class index per image
/// \return the saliency maps, x's shape
/// \throws std::invalid_argument when there is not one class per image or a class is out of
///         range
Tensor4 saliency(Sequential& model, const Tensor4& x, const Labels& classes);

/// How activation maximisation climbs.
struct AscentOptions {
    std::size_t steps = 200;  ///< gradient steps
    /// Each step adds step_size * g / rms(g): steps of a fixed length whatever the scale of the
    /// unit's gradient, which differs by orders of magnitude between layers.
    float step_size = 0.05f;
    /// After each step the image is pulled towards grey: x <- start + (1 - decay)(x - start),
    /// an L2 penalty on the distance from the grey start that keeps pixels the unit does not
    /// care about grey.
    float decay = 0.01f;
    /// Every `blur_every` steps the image is smoothed with a 3x3 Gaussian of this sigma
    /// (pixels), which removes the high-frequency patterns that excite a unit without looking
    /// like anything; 0 turns blurring off.
    float blur_sigma = 0.5f;
    std::size_t blur_every = 4;  ///< steps between blurs (at least 1)
    float low = 0.0f;            ///< pixels are clipped to [low, high] after every step
    float high = 1.0f;           ///< the upper end of that range, above low
    float start = 0.5f;          ///< the grey the image starts from ...
    float noise = 0.01f;         ///< ... plus normal noise of this deviation
    std::uint64_t seed = 42;     ///< draws the noise
    /// What climbs: false, the unit at the centre of the channel's map; true, the mean of
    /// the whole map, which a ReLU channel rarely has at 0 everywhere (a single unit often
    /// is, and then has no gradient), and which builds a pattern over the whole image.
    bool whole_channel = false;
    /// Climb the value before the layer's ReLU rather than after it: the same direction where
    /// the unit is positive, and a way up where the ReLU holds it at 0 (there the value after
    /// it has no gradient). The activations reported are then those before the ReLU. Applies
    /// to Conv2D and Dense layers that end with a ReLU.
    bool before_relu = false;
};

/// What activation maximisation built, one image per unit.
struct Ascent {
    Tensor4 images;                          ///< (units, the model's input shape)
    std::vector<double> initial_activation;  ///< each unit's value on its starting image
    std::vector<double> final_activation;    ///< and on its image in `images`
};

/// Gradient ascent on the input towards the largest value of each unit: channel
/// `channels[k]` of layer `layer`'s output at the centre of its map (row H / 2, column W / 2),
/// or its mean over the map with AscentOptions::whole_channel (for a Dense layer, unit
/// `channels[k]`; for the last layer, the logit of that class). The units climb together, one
/// image each, as one batch (inference mode keeps the images independent). A unit that its
/// starting image leaves at 0 behind a ReLU has no gradient and stays there (its final
/// activation is its initial one, 0), unless AscentOptions::before_relu lets it climb the
/// value before its ReLU.
/// \param model the model
/// \param layer the layer's index in the model
/// \param channels the channel (or Dense unit, or class) of each unit to raise
/// \param options the steps, the penalty, the blur, the range, the start and the objective
/// \return one image per unit, and each unit's value before and after
/// \throws std::invalid_argument for no channels, a channel out of range, or options that
///         cannot work (blur_every 0, low >= high)
Ascent maximise_units(Sequential& model, std::size_t layer, const std::vector<std::size_t>& channels,
                      const AscentOptions& options = {});

}  // namespace cnn
