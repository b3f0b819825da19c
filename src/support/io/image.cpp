#include "support/io/image.hpp"

#include <memory>

#include <stb_image.h>

#include "support/io/data_error.hpp"  // DataError

namespace cnn {

Tensor2 load_grayscale_image(const std::filesystem::path& file, std::size_t max_side) {
    int width = 0, height = 0, channels_in_file = 0;
    // One channel requested: stb_image converts colour to grey itself.
    const std::unique_ptr<unsigned char, void (*)(void*)> pixels(
        stbi_load(file.string().c_str(), &width, &height, &channels_in_file, 1), stbi_image_free);
    if (!pixels) {
        const char* reason = stbi_failure_reason();
        throw DataError(file.string() + ": cannot read the image (" +
                        (reason != nullptr ? reason : "unknown reason") + ")");
    }
    const auto h = static_cast<std::size_t>(height);
    const auto w = static_cast<std::size_t>(width);
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
    Tensor2 image = xt::zeros<float>({oh, ow});
    const float scale = 1.0f / (255.0f * static_cast<float>(factor * factor));
    for (std::size_t i = 0; i < oh * factor; ++i) {
        for (std::size_t j = 0; j < ow * factor; ++j) {
            image(i / factor, j / factor) += static_cast<float>(pixels.get()[i * w + j]) * scale;
        }
    }
    return image;
}

}  // namespace cnn
