/// \file
/// \ingroup ch11
/// \brief The loss of a segmentation network: chapter 01's softmax cross-entropy at every pixel.
///
/// A segmentation network ends in a convolution with one channel per pixel class, so its
/// output (N, K, H, W) holds K logits for every pixel. Each pixel is a classification of its
/// own: the loss is the mean over all N * H * W pixels of \f$-\log p_{t}\f$, the probability
/// the softmax of that pixel's logits gives its true class t, and its gradient at each pixel's
/// logits is \f$(p - \mathrm{onehot}(t)) / (N H W)\f$.
#pragma once

#include <vector>

#include "cnn/segment/masks.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The loss of a batch and its gradient.
struct PixelLoss {
    double loss = 0.0;  ///< mean cross-entropy per pixel, in nats
    Tensor4 gradient;   ///< d loss / d logits, (N, K, H, W)
};

// [pixel_cross_entropy]
/// Softmax cross-entropy of every pixel's logits against its class in `masks`, averaged over
/// the pixels.
/// \param logits the network's output (N, K, H, W)
/// \param masks the true pixel classes (N, H, W), each below K
/// \return the mean loss and its gradient
/// \throws std::invalid_argument when the shapes differ or a class is >= K
PixelLoss pixel_cross_entropy(const Tensor4& logits, const Masks& masks);
// [pixel_cross_entropy]

/// The most probable class of every pixel.
/// \param logits (N, K, H, W)
/// \return (N, H, W), the index of each pixel's largest logit (the first on a tie)
Masks predicted_masks(const Tensor4& logits);

}  // namespace cnn
