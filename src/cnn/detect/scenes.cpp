#include "cnn/detect/scenes.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <xtensor/xview.hpp>

#include "cnn/tensor/random.hpp"

namespace cnn {

namespace {

void check_options(const SceneOptions& o) {
    const auto fail = [](const std::string& what) {
        throw std::invalid_argument("make_scenes: " + what);
    };
    if (o.min_items == 0 || o.max_items < o.min_items) {
        fail("expected 1 <= min_items <= max_items, got " + std::to_string(o.min_items) + " and " +
             std::to_string(o.max_items));
    }
    if (o.min_side < 8 || o.max_side < o.min_side || o.max_side > o.size) {
        fail("expected 8 <= min_side <= max_side <= size, got " + std::to_string(o.min_side) +
             ", " + std::to_string(o.max_side) + " and " + std::to_string(o.size));
    }
    if (!(o.max_overlap >= 0.0f && o.max_overlap <= 1.0f)) {
        fail("expected max_overlap in [0, 1], got " + std::to_string(o.max_overlap));
    }
    if (!std::isfinite(o.ink)) {
        fail("ink must be a finite number");
    }
}

// A whole number in [lo, hi].
std::size_t between(Rng& rng, std::size_t lo, std::size_t hi) { return lo + rng.below(hi - lo + 1); }

}  // namespace

std::vector<LabelledBox> Scenes::truths(std::size_t n) const {
    std::vector<LabelledBox> result;
    for (const SceneItem& item : items.at(n)) {
        result.push_back(item.truth);
    }
    return result;
}

Tensor2 resize_bilinear(const Tensor2& image, std::size_t height, std::size_t width) {
    const std::size_t h = image.shape(0), w = image.shape(1);
    if (h == 0 || w == 0 || height == 0 || width == 0) {
        throw std::invalid_argument("resize_bilinear: cannot scale " + shape_to_string(image.shape()) +
                                    " to (" + std::to_string(height) + ", " + std::to_string(width) +
                                    "): every size must be at least 1");
    }
    // Where output coordinate i samples the input, and the two neighbours it blends.
    struct Tap {
        std::size_t lo, hi;
        float t;  // the weight of hi
    };
    const auto taps = [](std::size_t in, std::size_t out) {
        std::vector<Tap> result(out);
        const double scale = static_cast<double>(in) / static_cast<double>(out);
        for (std::size_t i = 0; i < out; ++i) {
            const double at = std::clamp((static_cast<double>(i) + 0.5) * scale - 0.5, 0.0,
                                         static_cast<double>(in - 1));
            const auto lo = static_cast<std::size_t>(std::floor(at));
            result[i] = {lo, std::min(lo + 1, in - 1), static_cast<float>(at - static_cast<double>(lo))};
        }
        return result;
    };
    const std::vector<Tap> rows = taps(h, height), columns = taps(w, width);
    Tensor2 out = xt::zeros<float>({height, width});
    for (std::size_t i = 0; i < height; ++i) {
        const Tap& r = rows[i];
        for (std::size_t j = 0; j < width; ++j) {
            const Tap& c = columns[j];
            const float top = image(r.lo, c.lo) + c.t * (image(r.lo, c.hi) - image(r.lo, c.lo));
            const float bottom = image(r.hi, c.lo) + c.t * (image(r.hi, c.hi) - image(r.hi, c.lo));
            out(i, j) = top + r.t * (bottom - top);
        }
    }
    return out;
}

Box ink_box(const Tensor2& image, float ink) {
    std::size_t top = image.shape(0), bottom = 0, left = image.shape(1), right = 0;
    for (std::size_t r = 0; r < image.shape(0); ++r) {
        for (std::size_t c = 0; c < image.shape(1); ++c) {
            if (image(r, c) > ink) {
                top = std::min(top, r);
                bottom = std::max(bottom, r + 1);
                left = std::min(left, c);
                right = std::max(right, c + 1);
            }
        }
    }
    if (bottom == 0) {
        return {};
    }
    return {static_cast<float>(left), static_cast<float>(top), static_cast<float>(right),
            static_cast<float>(bottom)};
}

Scenes make_scenes(const Tensor4& items, const Labels& labels, std::size_t count,
                   const SceneOptions& options, std::uint64_t seed) {
    check_options(options);
    if (items.shape(0) == 0 || items.shape(1) != 1) {
        throw std::invalid_argument("make_scenes: expected at least one grey image (M, 1, H, W), got " +
                                    shape_to_string(items.shape()));
    }
    if (labels.size() != items.shape(0)) {
        throw std::invalid_argument("make_scenes: " + std::to_string(items.shape(0)) + " images but " +
                                    std::to_string(labels.size()) + " labels");
    }
    Rng rng(seed);
    const std::size_t size = options.size;
    Scenes scenes{xt::zeros<float>({count, std::size_t{1}, size, size}), {}};
    scenes.items.resize(count);
    for (std::size_t n = 0; n < count; ++n) {
        const std::size_t wanted = between(rng, options.min_items, options.max_items);
        for (std::size_t k = 0; k < wanted; ++k) {
            const std::size_t source = rng.below(items.shape(0));
            const std::size_t side = between(rng, options.min_side, options.max_side);
            const Tensor2 scaled =
                resize_bilinear(xt::view(items, source, 0, xt::all(), xt::all()), side, side);
            const Box ink = ink_box(scaled, options.ink);
            if (box_area(ink) == 0.0f) {
                continue;  // nothing brighter than `ink`: nothing to find
            }
            // Draw positions until the item's box overlaps no earlier box too much.
            for (int attempt = 0; attempt < 100; ++attempt) {
                const std::size_t top = rng.below(size - side + 1), left = rng.below(size - side + 1);
                const Box box{ink.x_min + left, ink.y_min + top, ink.x_max + left, ink.y_max + top};
                const bool clear = std::none_of(
                    scenes.items[n].begin(), scenes.items[n].end(), [&](const SceneItem& other) {
                        return intersection_over_union(box, other.truth.box) > options.max_overlap;
                    });
                if (clear) {
                    auto canvas = xt::view(scenes.images, n, 0, xt::range(top, top + side),
                                           xt::range(left, left + side));
                    canvas = xt::maximum(canvas, scaled);
                    scenes.items[n].push_back({{box, labels[source]}, source, top, left, side});
                    break;
                }
            }
        }
    }
    return scenes;
}

}  // namespace cnn
