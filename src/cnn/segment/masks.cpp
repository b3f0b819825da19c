#include "cnn/segment/masks.hpp"

#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xview.hpp>

namespace cnn {

namespace {

// An item that does not fit on the canvas, or whose class has no pixel class below 256, is a
// caller's mistake: say which scene, which item, and what did not fit.
void expect_fits(const SceneItem& item, std::size_t scene, std::size_t index, std::size_t height,
                 std::size_t width) {
    const std::string where = "scene_masks: scene " + std::to_string(scene) + ", item " +
                              std::to_string(index) + " (source " + std::to_string(item.source) +
                              ", class " + std::to_string(item.truth.label) + ")";
    if (item.top + item.side > height || item.left + item.side > width) {
        throw std::invalid_argument(where + " covers rows " + std::to_string(item.top) + " to " +
                                    std::to_string(item.top + item.side - 1) + " and columns " +
                                    std::to_string(item.left) + " to " +
                                    std::to_string(item.left + item.side - 1) +
                                    ", but the canvas is " + std::to_string(height) + "x" +
                                    std::to_string(width));
    }
    if (item.truth.label >= std::numeric_limits<std::uint8_t>::max()) {
        throw std::invalid_argument(where + ": its pixel class 1 + " + std::to_string(item.truth.label) +
                                    " does not fit in a mask, whose classes go up to 255");
    }
}

}  // namespace

Masks scene_masks(const Scenes& scenes, const Tensor4& items, float ink) {
    const std::size_t count = scenes.images.shape(0), height = scenes.images.shape(2),
                      width = scenes.images.shape(3);
    Masks masks = xt::zeros<std::uint8_t>({count, height, width});
    Tensor2 brightest = xt::zeros<float>({height, width});
    for (std::size_t n = 0; n < count; ++n) {
        brightest.fill(0.0f);
        const std::vector<SceneItem>& placed = scenes.items.at(n);
        for (std::size_t k = 0; k < placed.size(); ++k) {
            const SceneItem& item = placed[k];
            if (item.source >= items.shape(0)) {
                throw std::invalid_argument("scene_masks: scene " + std::to_string(n) + " holds item " +
                                            std::to_string(item.source) + ", but only " +
                                            std::to_string(items.shape(0)) + " items were given");
            }
            expect_fits(item, n, k, height, width);
            //! [scene_masks_loop]
            // The item as it was pasted: the same scaling make_scenes() used.
            const Tensor2 scaled = resize_bilinear(xt::view(items, item.source, 0, xt::all(), xt::all()),
                                                   item.side, item.side);
            for (std::size_t r = 0; r < item.side; ++r) {
                for (std::size_t s = 0; s < item.side; ++s) {
                    const float value = scaled(r, s);
                    // brightest: the brightest item value at this pixel so far.
                    float& best = brightest(item.top + r, item.left + s);
                    if (value > ink && value > best) {
                        best = value;
                        masks(n, item.top + r, item.left + s) = static_cast<std::uint8_t>(1 + item.truth.label);
                    }
                }
            }
            //! [scene_masks_loop]
        }
    }
    return masks;
}

}  // namespace cnn
