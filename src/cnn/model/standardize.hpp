/// \file
/// \ingroup ch06
/// \brief Standardising inputs: every pixel shifted and scaled to mean 0 and variance 1 over
/// the training images.
///
/// Pixel values in [0, 1] are all positive, and pixels near the border are almost always 0
/// while those in the middle vary a lot. Standardising each pixel with the training set's
/// statistics,
/// \f[ x' = \frac{x - \mu_{\text{pixel}}}{\sigma_{\text{pixel}} + \epsilon}, \f]
/// gives every input the same scale, which the first layer's initialisation assumes. The
/// statistics come from the training images only and are reused, unchanged, for validation and
/// test images: the test set must not leak into training. This is what Géron's
/// notebook does before it trains its model.
///
/// A pixel that barely varies during training gets a tiny \f$\sigma\f$, so an unusual value there
/// becomes large; in Fashion-MNIST one corner pixel has \f$\sigma \approx 0.0004\f$ and some test
/// images reach a few hundred after standardisation.
#pragma once

#include <cstddef>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Per-pixel mean and standard deviation (the population one, dividing by N) of some images.
struct PixelStatistics {
    Tensor3 mean;       ///< (C, H, W)
    Tensor3 deviation;  ///< (C, H, W), epsilon already added
};

/// The statistics of the first `count` images of images (N, C, H, W), all of them if `count`
/// is 0, with `epsilon` added to every deviation (with 0, a constant pixel standardises to NaN).
/// Sums are taken in double precision. Throws std::invalid_argument if there is no image to use,
/// `count` exceeds N, or epsilon is negative or not finite.
/// \param images the images (N, C, H, W), usually the training set
/// \param count how many of the first images to use, at most N; 0 for all
/// \param epsilon added to every deviation, finite and >= 0
/// \return the mean and deviation of every pixel, (C, H, W) each
PixelStatistics pixel_statistics(const Tensor4& images, std::size_t count = 0,
                                 float epsilon = 1e-7f);

/// Replaces every pixel of images (N, C, H, W) by (x - mean) / deviation, in place. Throws
/// std::invalid_argument, changing nothing, if an image's shape differs from the statistics'.
/// \param images the images (N, C, H, W), changed in place
/// \param statistics from pixel_statistics(), usually of the training images
void standardize(Tensor4& images, const PixelStatistics& statistics);

}  // namespace cnn
