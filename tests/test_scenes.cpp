#include <cmath>
#include <cstddef>
#include <stdexcept>

#include <doctest/doctest.h>

#include <xtensor/xview.hpp>

#include "cnn/detect/scenes.hpp"
#include "test_support.hpp"

using cnn::Box;
using cnn::Tensor2;
using cnn::Tensor4;

TEST_CASE("resize_bilinear: a 2x2 image scaled to 4x4, computed by hand") {
    // Output coordinate i samples the input at (i + 0.5) * 2 / 4 - 0.5 = -0.25, 0.25, 0.75, 1.25,
    // clamped to [0, 1]: 0, 0.25, 0.75, 1. Along a row of [0 1] that gives 0, 0.25, 0.75, 1;
    // down the columns the rows [0 1] and [2 3] blend with the same weights, adding 0, 0.5, 1.5
    // and 2.
    const Tensor2 image{{0, 1}, {2, 3}};
    const Tensor2 expected{{0.0f, 0.25f, 0.75f, 1.0f},
                           {0.5f, 0.75f, 1.25f, 1.5f},
                           {1.5f, 1.75f, 2.25f, 2.5f},
                           {2.0f, 2.25f, 2.75f, 3.0f}};
    const Tensor2 scaled = cnn::resize_bilinear(image, 4, 4);
    REQUIRE(scaled.shape(0) == 4);
    CHECK(cnn::testing::max_abs_diff(scaled, expected) < 1e-6);
    // The same size samples every pixel at its own centre: the image comes back unchanged.
    cnn::Rng rng(3);
    const Tensor2 noise = cnn::testing::random_tensor<2>({5, 7}, rng);
    CHECK(cnn::testing::max_abs_diff(cnn::resize_bilinear(noise, 5, 7), noise) == 0.0);
    // Halving a 4x4 image samples at 0.5, 2.5: the mean of each 2x2 block for a linear ramp.
    const Tensor2 ramp{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, 11}, {12, 13, 14, 15}};
    CHECK(cnn::testing::max_abs_diff(cnn::resize_bilinear(ramp, 2, 2), Tensor2{{2.5f, 4.5f}, {10.5f, 12.5f}}) < 1e-6);
    CHECK_THROWS_AS(cnn::resize_bilinear(image, 0, 3), std::invalid_argument);
}

TEST_CASE("ink_box: the smallest box around the pixels brighter than the threshold") {
    Tensor2 image = xt::zeros<float>({6, 8});
    image(1, 2) = 0.9f;  // row 1, column 2
    image(4, 5) = 0.5f;
    image(5, 7) = 0.1f;  // not above 0.2
    const Box box = cnn::ink_box(image, 0.2f);
    // Columns 2..5 and rows 1..4: pixel (r, c) covers [c, c + 1) x [r, r + 1).
    CHECK(box.x_min == 2.0f);
    CHECK(box.y_min == 1.0f);
    CHECK(box.x_max == 6.0f);
    CHECK(box.y_max == 5.0f);
    const Box none = cnn::ink_box(xt::zeros<float>({3, 3}), 0.2f);
    CHECK(cnn::box_area(none) == 0.0f);
}

namespace {

// Items whose ink is known: a bright square of side 14 in the middle of a 28x28 frame, one
// per class label.
Tensor4 square_items(std::size_t count) {
    Tensor4 items = xt::zeros<float>({count, std::size_t{1}, std::size_t{28}, std::size_t{28}});
    xt::view(items, xt::all(), 0, xt::range(7, 21), xt::range(7, 21)) = 1.0f;
    return items;
}

}  // namespace

TEST_CASE("make_scenes: deterministic, items inside the canvas, boxes around their ink") {
    const Tensor4 items = square_items(3);
    const cnn::Labels labels{0, 1, 2};
    cnn::SceneOptions options;
    options.size = 64;
    options.min_side = 20;
    options.max_side = 40;
    const cnn::Scenes a = cnn::make_scenes(items, labels, 40, options, 7);
    const cnn::Scenes b = cnn::make_scenes(items, labels, 40, options, 7);
    CHECK(cnn::testing::max_abs_diff(a.images, b.images) == 0.0);
    const cnn::Scenes other = cnn::make_scenes(items, labels, 40, options, 8);
    CHECK(cnn::testing::max_abs_diff(a.images, other.images) > 0.0);
    REQUIRE(a.images.shape(0) == 40);
    REQUIRE(a.images.shape(2) == 64);
    std::size_t total = 0;
    for (std::size_t n = 0; n < 40; ++n) {
        const auto& scene = a.items[n];
        REQUIRE(b.items[n].size() == scene.size());
        CHECK(scene.size() >= 1);
        CHECK(scene.size() <= 4);
        total += scene.size();
        for (std::size_t k = 0; k < scene.size(); ++k) {
            const cnn::SceneItem& item = scene[k];
            CHECK(item.side >= 20);
            CHECK(item.side <= 40);
            CHECK(item.top + item.side <= 64);
            CHECK(item.left + item.side <= 64);
            CHECK(item.truth.label == labels[item.source]);
            // The square fills the middle half of the frame, so the box is the frame's middle
            // half, give or take the pixel the bilinear edge blends into.
            const float quarter = static_cast<float>(item.side) / 4.0f;
            CHECK(std::abs(item.truth.box.x_min - (static_cast<float>(item.left) + quarter)) <= 1.01f);
            CHECK(std::abs(item.truth.box.y_min - (static_cast<float>(item.top) + quarter)) <= 1.01f);
            CHECK(std::abs(item.truth.box.x_max - item.truth.box.x_min - 2 * quarter) <= 2.01f);
            for (std::size_t m = 0; m < k; ++m) {
                CHECK(cnn::intersection_over_union(item.truth.box, scene[m].truth.box) <= 0.2f);
            }
        }
        // Every pixel outside all frames is black.
        Tensor2 covered = xt::zeros<float>({std::size_t{64}, std::size_t{64}});
        for (const cnn::SceneItem& item : scene) {
            xt::view(covered, xt::range(item.top, item.top + item.side),
                     xt::range(item.left, item.left + item.side)) = 1.0f;
        }
        const Tensor2 canvas = xt::view(a.images, n, 0, xt::all(), xt::all());
        CHECK(xt::sum(canvas * (1.0f - covered))() == 0.0f);
    }
    CHECK(total > 60);  // about 2.5 items a scene
}

TEST_CASE("make_scenes: a scene of one item has that item's ink box as the canvas's") {
    // Independent of the placement code: the box is recomputed from the finished canvas.
    const Tensor4 items = square_items(1);
    cnn::SceneOptions options;
    options.max_items = 1;
    const cnn::Scenes scenes = cnn::make_scenes(items, {4}, 10, options, 1);
    for (std::size_t n = 0; n < 10; ++n) {
        REQUIRE(scenes.items[n].size() == 1);
        const Box truth = scenes.items[n][0].truth.box;
        const Box seen = cnn::ink_box(xt::view(scenes.images, n, 0, xt::all(), xt::all()), options.ink);
        CHECK(seen.x_min == truth.x_min);
        CHECK(seen.y_min == truth.y_min);
        CHECK(seen.x_max == truth.x_max);
        CHECK(seen.y_max == truth.y_max);
        CHECK(scenes.truths(n).at(0).label == 4);
    }
}

TEST_CASE("make_scenes: options out of range and mismatched labels are errors") {
    const Tensor4 items = square_items(2);
    cnn::SceneOptions bad;
    bad.min_items = 0;
    CHECK_THROWS_AS(cnn::make_scenes(items, {0, 1}, 1, bad, 1), std::invalid_argument);
    bad = {};
    bad.max_side = 200;  // larger than the canvas
    CHECK_THROWS_WITH_AS(cnn::make_scenes(items, {0, 1}, 1, bad, 1),
                         doctest::Contains("max_side <= size"), std::invalid_argument);
    bad = {};
    bad.max_overlap = 1.5f;
    CHECK_THROWS_AS(cnn::make_scenes(items, {0, 1}, 1, bad, 1), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::make_scenes(items, {0}, 1, {}, 1), doctest::Contains("2 images but 1 labels"),
                         std::invalid_argument);
}
