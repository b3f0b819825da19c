#include "cnn/segment/masks.hpp"

#include <stdexcept>
#include <string>

#include <xtensor/xview.hpp>

namespace cnn {

Masks scene_masks(const Scenes& scenes, const Tensor4& items, float ink) {
    const std::size_t count = scenes.images.shape(0), height = scenes.images.shape(2),
                      width = scenes.images.shape(3);
    Masks masks = xt::zeros<std::uint8_t>({count, height, width});
    Tensor2 brightest = xt::zeros<float>({height, width});
    for (std::size_t n = 0; n < count; ++n) {
        brightest.fill(0.0f);
        for (const SceneItem& item : scenes.items.at(n)) {
            if (item.source >= items.shape(0)) {
                throw std::invalid_argument("scene_masks: scene " + std::to_string(n) + " holds item " +
                                            std::to_string(item.source) + ", but only " +
                                            std::to_string(items.shape(0)) + " items were given");
            }
            // The item as it was pasted: the same scaling make_scenes() used.
            const Tensor2 scaled = resize_bilinear(xt::view(items, item.source, 0, xt::all(), xt::all()),
                                                   item.side, item.side);
            for (std::size_t r = 0; r < item.side; ++r) {
                for (std::size_t s = 0; s < item.side; ++s) {
                    const float value = scaled(r, s);
                    float& best = brightest(item.top + r, item.left + s);
                    if (value > ink && value > best) {
                        best = value;
                        masks(n, item.top + r, item.left + s) = static_cast<std::uint8_t>(1 + item.truth.label);
                    }
                }
            }
        }
    }
    return masks;
}

}  // namespace cnn
