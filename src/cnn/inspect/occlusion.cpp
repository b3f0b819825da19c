#include "cnn/inspect/occlusion.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace cnn {

Tensor2 occlusion_map(Model& model, const Tensor4& image, std::size_t label,
                      const OcclusionOptions& options) {
    if (options.patch == 0 || options.patch % 2 == 0) {
        throw std::invalid_argument("occlusion_map: the patch must have an odd side, to be centred "
                                    "on a pixel; got " + std::to_string(options.patch));
    }
    if (image.shape(0) != 1) {
        throw std::invalid_argument("occlusion_map: expected one image (1, C, H, W), got " +
                                    shape_to_string(image.shape()));
    }
    if (options.batch_size == 0) {
        throw std::invalid_argument("occlusion_map: batch_size must be at least 1");
    }
    const Tensor2 clean = model.predict(image);
    if (label >= clean.shape(1)) {
        throw std::invalid_argument("occlusion_map: class " + std::to_string(label) +
                                    " requested, but the model has " + std::to_string(clean.shape(1)));
    }
    const std::size_t channels = image.shape(1), height = image.shape(2), width = image.shape(3);
    const auto half = static_cast<std::ptrdiff_t>(options.patch / 2);
    Tensor2 map = xt::zeros<float>({height, width});
    // Positions are taken in row-major order, batch_size occluded copies at a time.
    const std::size_t positions = height * width;
    for (std::size_t begin = 0; begin < positions; begin += options.batch_size) {
        const std::size_t count = std::min(options.batch_size, positions - begin);
        Tensor4 copies = xt::zeros<float>({count, channels, height, width});
        for (std::size_t k = 0; k < count; ++k) {
            const auto i = static_cast<std::ptrdiff_t>((begin + k) / width);
            const auto j = static_cast<std::ptrdiff_t>((begin + k) % width);
            for (std::size_t c = 0; c < channels; ++c) {
                for (std::size_t r = 0; r < height; ++r) {
                    for (std::size_t s = 0; s < width; ++s) {
                        const auto dr = static_cast<std::ptrdiff_t>(r) - i;
                        const auto ds = static_cast<std::ptrdiff_t>(s) - j;
                        const bool covered = dr >= -half && dr <= half && ds >= -half && ds <= half;
                        copies(k, c, r, s) = covered ? options.fill : image(0, c, r, s);
                    }
                }
            }
        }
        const Tensor2 p = model.predict(copies);
        for (std::size_t k = 0; k < count; ++k) {
            map((begin + k) / width, (begin + k) % width) = clean(0, label) - p(k, label);
        }
    }
    return map;
}

}  // namespace cnn
