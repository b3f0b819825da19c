#include "cnn/segment/pixel_loss.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace cnn {

PixelLoss pixel_cross_entropy(const Tensor4& logits, const Masks& masks) {
    // logits (N, K, H, W), masks (N, H, W) -> loss, gradient (N, K, H, W)
    const std::size_t n_images = logits.shape(0), classes = logits.shape(1), height = logits.shape(2),
                      width = logits.shape(3);
    if (masks.shape(0) != n_images || masks.shape(1) != height || masks.shape(2) != width) {
        throw std::invalid_argument("pixel_cross_entropy: logits " + shape_to_string(logits.shape()) +
                                    " need masks (N, H, W) = (" + std::to_string(n_images) + ", " +
                                    std::to_string(height) + ", " + std::to_string(width) + "), got " +
                                    shape_to_string(masks.shape()));
    }
    PixelLoss result{0.0, Tensor4::from_shape(logits.shape())};
    const double pixels = static_cast<double>(n_images * height * width);
    const auto scale = static_cast<float>(1.0 / std::max(pixels, 1.0));
    std::vector<float> p(classes);
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t r = 0; r < height; ++r) {
            for (std::size_t s = 0; s < width; ++s) {
                const std::size_t label = masks(n, r, s);
                if (label >= classes) {
                    throw std::invalid_argument("pixel_cross_entropy: pixel (" + std::to_string(r) + ", " +
                                                std::to_string(s) + ") of image " + std::to_string(n) +
                                                " has class " + std::to_string(label) + ", expected one below " +
                                                std::to_string(classes));
                }
                // The softmax with the largest logit subtracted: every exponent <= 0.
                float largest = logits(n, 0, r, s);
                for (std::size_t k = 1; k < classes; ++k) {
                    largest = std::max(largest, logits(n, k, r, s));
                }
                double sum = 0.0;
                for (std::size_t k = 0; k < classes; ++k) {
                    p[k] = std::exp(logits(n, k, r, s) - largest);
                    sum += p[k];
                }
                result.loss += std::log(sum) - static_cast<double>(logits(n, label, r, s) - largest);
                for (std::size_t k = 0; k < classes; ++k) {
                    const float probability = static_cast<float>(p[k] / sum);
                    result.gradient(n, k, r, s) = (probability - (k == label ? 1.0f : 0.0f)) * scale;
                }
            }
        }
    }
    result.loss /= std::max(pixels, 1.0);
    return result;
}

Masks predicted_masks(const Tensor4& logits) {
    const std::size_t n_images = logits.shape(0), classes = logits.shape(1), height = logits.shape(2),
                      width = logits.shape(3);
    if (classes == 0 || classes > 256) {
        throw std::invalid_argument("predicted_masks: a mask holds classes 0 to 255, so the logits need 1 to "
                                    "256 channels, got " + std::to_string(classes));
    }
    Masks result = xt::zeros<std::uint8_t>({n_images, height, width});
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t r = 0; r < height; ++r) {
            for (std::size_t s = 0; s < width; ++s) {
                std::size_t best = 0;
                for (std::size_t k = 1; k < classes; ++k) {
                    best = logits(n, k, r, s) > logits(n, best, r, s) ? k : best;
                }
                result(n, r, s) = static_cast<std::uint8_t>(best);
            }
        }
    }
    return result;
}

}  // namespace cnn
