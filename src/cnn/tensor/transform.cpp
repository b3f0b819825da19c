#include "cnn/tensor/transform.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

Tensor4 shift_images(const Tensor4& images, std::ptrdiff_t down, std::ptrdiff_t right) {
    // images and the result are (N, C, H, W); out(n, c, i, j) = in(n, c, i - down, j - right).
    Tensor4 shifted = xt::zeros<float>(images.shape());
    const auto h = static_cast<std::ptrdiff_t>(images.shape(2));
    const auto w = static_cast<std::ptrdiff_t>(images.shape(3));
    for (std::size_t n = 0; n < images.shape(0); ++n) {
        for (std::size_t c = 0; c < images.shape(1); ++c) {
            for (std::ptrdiff_t i = 0; i < h; ++i) {
                const std::ptrdiff_t src_i = i - down;
                if (src_i < 0 || src_i >= h) {
                    continue;
                }
                for (std::ptrdiff_t j = 0; j < w; ++j) {
                    const std::ptrdiff_t src_j = j - right;
                    if (src_j >= 0 && src_j < w) {
                        shifted(n, c, i, j) = images(n, c, src_i, src_j);
                    }
                }
            }
        }
    }
    return shifted;
}

Tensor4 permute_pixels(const Tensor4& images, const std::vector<std::size_t>& permutation) {
    const std::size_t pixels = images.shape(1) * images.shape(2) * images.shape(3);
    if (permutation.size() != pixels) {
        throw std::invalid_argument("permute_pixels: images " + shape_to_string(images.shape()) +
                                    " have " + std::to_string(pixels) +
                                    " pixels each, but the permutation has " +
                                    std::to_string(permutation.size()) + " entries");
    }
    std::vector<bool> seen(pixels, false);
    for (std::size_t p : permutation) {
        if (p >= pixels || seen[p]) {
            throw std::invalid_argument("permute_pixels: not a permutation of 0.." +
                                        std::to_string(pixels - 1) + " (entry " +
                                        std::to_string(p) + (p >= pixels ? " is out of range)"
                                                                         : " repeats)"));
        }
        seen[p] = true;
    }
    Tensor4 permuted = Tensor4::from_shape(images.shape());
    const float* in = images.data();
    float* out = permuted.data();
    for (std::size_t n = 0; n < images.shape(0); ++n) {
        for (std::size_t p = 0; p < pixels; ++p) {
            out[n * pixels + p] = in[n * pixels + permutation[p]];
        }
    }
    return permuted;
}

}  // namespace cnn
