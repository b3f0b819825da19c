#include "support/io/image.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include <stb_image.h>

#include "support/io/data_error.hpp"  // DataError

namespace cnn {

namespace {

// Reads `file` as `channels` channels (1: grey, by stb_image's luma weights; 3: red, green,
// blue), shrunk as load_grayscale_image() describes: a tensor (channels, H, W) in [0, 1].
Tensor3 load_image(const std::filesystem::path& file, int channels, std::size_t max_side) {
    int width = 0, height = 0, channels_in_file = 0;
    // stb_image converts whatever the file holds to the channels asked for.
    const std::unique_ptr<unsigned char, void (*)(void*)> pixels(
        stbi_load(file.string().c_str(), &width, &height, &channels_in_file, channels),
        stbi_image_free);
    if (!pixels) {
        const char* reason = stbi_failure_reason();
        throw DataError(file.string() + ": cannot read the image (" +
                        (reason != nullptr ? reason : "unknown reason") + ")");
    }
    const auto h = static_cast<std::size_t>(height);
    const auto w = static_cast<std::size_t>(width);
    const auto c = static_cast<std::size_t>(channels);
    std::size_t factor = 1;
    if (max_side > 0) {
        while ((std::max(h, w) + factor - 1) / factor > max_side) {
            ++factor;
        }
    }
    const std::size_t oh = h / factor, ow = w / factor;
    if (oh == 0 || ow == 0) {
        throw DataError(file.string() + ": an image of " + std::to_string(h) + "x" +
                        std::to_string(w) + " pixels cannot be shrunk to at most " +
                        std::to_string(max_side) + " per side");
    }
    // stb_image stores the channels of a pixel together (H, W, C); the tensor keeps each
    // channel's plane together (C, H, W), as the convolutions read it.
    Tensor3 image = xt::zeros<float>({c, oh, ow});
    const float scale = 1.0f / (255.0f * static_cast<float>(factor * factor));
    for (std::size_t i = 0; i < oh * factor; ++i) {
        for (std::size_t j = 0; j < ow * factor; ++j) {
            for (std::size_t k = 0; k < c; ++k) {
                image(k, i / factor, j / factor) +=
                    static_cast<float>(pixels.get()[(i * w + j) * c + k]) * scale;
            }
        }
    }
    return image;
}

}  // namespace

Tensor2 load_grayscale_image(const std::filesystem::path& file, std::size_t max_side) {
    Tensor3 grey = load_image(file, 1, max_side);
    const std::array<std::size_t, 2> shape = {grey.shape(1), grey.shape(2)};
    return reshaped<2>(std::move(grey), shape);  // the one channel's plane, without a copy
}

Tensor3 load_rgb_image(const std::filesystem::path& file, std::size_t max_side) {
    return load_image(file, 3, max_side);
}

}  // namespace cnn
