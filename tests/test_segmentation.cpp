#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include <xtensor/xadapt.hpp>
#include <xtensor/xview.hpp>

#include "cnn/segment/masks.hpp"
#include "cnn/segment/models.hpp"
#include "cnn/segment/pixel_loss.hpp"
#include "cnn/segment/scores.hpp"
#include "test_support.hpp"

using cnn::Masks;
using cnn::Tensor4;

namespace {

// Two flat items: item 0 bright (1.0) everywhere, item 1 half as bright.
Tensor4 flat_items(float first, float second) {
    Tensor4 items = xt::zeros<float>({std::size_t{2}, std::size_t{1}, std::size_t{28}, std::size_t{28}});
    xt::view(items, 0) = first;
    xt::view(items, 1) = second;
    return items;
}

// An 8x8 scene holding item 0 (class 3) at rows and columns 0-3 and item 1 (class 7) at
// rows and columns 2-5: they overlap on rows and columns 2-3.
cnn::Scenes two_squares() {
    cnn::Scenes scenes{xt::zeros<float>({std::size_t{1}, std::size_t{1}, std::size_t{8}, std::size_t{8}}), {{}}};
    scenes.items[0].push_back({{{0, 0, 4, 4}, 3}, 0, 0, 0, 4});
    scenes.items[0].push_back({{{2, 2, 6, 6}, 7}, 1, 2, 2, 4});
    return scenes;
}

}  // namespace

TEST_CASE("scene_masks: item pixels get 1 + their class, the brighter item wins an overlap, the first on a tie") {
    const cnn::Scenes scenes = two_squares();
    const Masks masks = cnn::scene_masks(scenes, flat_items(1.0f, 0.5f), 0.2f);
    for (std::size_t r = 0; r < 8; ++r) {
        for (std::size_t s = 0; s < 8; ++s) {
            CAPTURE(r);
            CAPTURE(s);
            const bool in_first = r < 4 && s < 4, in_second = r >= 2 && r < 6 && s >= 2 && s < 6;
            const int expected = in_first ? 4 : in_second ? 8 : 0;  // the first is brighter
            CHECK(masks(0, r, s) == expected);
        }
    }
    // The second item brighter: it takes the overlap.
    const Masks second = cnn::scene_masks(scenes, flat_items(0.5f, 1.0f), 0.2f);
    CHECK(second(0, 3, 3) == 8);
    CHECK(second(0, 1, 1) == 4);
    // Equally bright: the first placed keeps it.
    CHECK(cnn::scene_masks(scenes, flat_items(1.0f, 1.0f), 0.2f)(0, 3, 3) == 4);
    // Darker than the ink threshold: background.
    CHECK(cnn::scene_masks(scenes, flat_items(0.1f, 1.0f), 0.2f)(0, 1, 1) == 0);
    CHECK_THROWS_WITH_AS(cnn::scene_masks(scenes, xt::zeros<float>({1, 1, 28, 28}), 0.2f),
                         doctest::Contains("holds item 1, but only 1 items were given"), std::invalid_argument);
}

TEST_CASE("scene_masks: an item past the canvas's edge or a class with no pixel class below 256 is refused") {
    // two_squares() is 8x8 with items of side 4 at (0, 0) and (2, 2).
    cnn::Scenes low = two_squares();
    low.items[0][1].top = 5;  // rows 5 to 8: one row past the 8 rows
    CHECK_THROWS_WITH_AS(cnn::scene_masks(low, flat_items(1.0f, 0.5f), 0.2f),
                         doctest::Contains("scene 0, item 1 (source 1, class 7) covers rows 5 to 8 and "
                                           "columns 2 to 5, but the canvas is 8x8"),
                         std::invalid_argument);
    cnn::Scenes right = two_squares();
    right.items[0][0].left = 6;  // columns 6 to 9
    CHECK_THROWS_WITH_AS(cnn::scene_masks(right, flat_items(1.0f, 0.5f), 0.2f),
                         doctest::Contains("scene 0, item 0 (source 0, class 3) covers rows 0 to 3 and "
                                           "columns 6 to 9, but the canvas is 8x8"),
                         std::invalid_argument);
    // Flush with the edge is fine: rows and columns 4 to 7.
    cnn::Scenes flush = two_squares();
    flush.items[0][1].top = 4;
    flush.items[0][1].left = 4;
    CHECK(cnn::scene_masks(flush, flat_items(1.0f, 0.5f), 0.2f)(0, 7, 7) == 8);
    // Class 254 is pixel class 255, the largest a byte holds; class 255 would be 256.
    cnn::Scenes labels = two_squares();
    labels.items[0][1].truth.label = 254;
    CHECK(cnn::scene_masks(labels, flat_items(1.0f, 0.5f), 0.2f)(0, 5, 5) == 255);
    labels.items[0][1].truth.label = 255;
    CHECK_THROWS_WITH_AS(cnn::scene_masks(labels, flat_items(1.0f, 0.5f), 0.2f),
                         doctest::Contains("scene 0, item 1 (source 1, class 255): its pixel class 1 + 255 "
                                           "does not fit"),
                         std::invalid_argument);
}

TEST_CASE("scene_masks: on real scenes, a pixel is an item's exactly where the canvas is brighter than the ink") {
    // The canvas is the maximum of the items, so "some item is brighter than the ink here" and
    // "the canvas is brighter than the ink here" are the same statement.
    cnn::Rng rng(4);
    Tensor4 items = cnn::testing::random_tensor<4>({5, 1, 28, 28}, rng);
    items = xt::maximum(items, 0.0f);
    const cnn::Scenes scenes = cnn::make_scenes(items, {0, 1, 2, 3, 4}, 6, {}, 9);
    const Masks masks = cnn::scene_masks(scenes, items, 0.2f);
    std::size_t item_pixels = 0;
    for (std::size_t i = 0; i < masks.size(); ++i) {
        CHECK((masks.flat(i) != 0) == (scenes.images.flat(i) > 0.2f));
        item_pixels += masks.flat(i) != 0 ? 1 : 0;
    }
    CHECK(item_pixels > 0);
}

TEST_CASE("pixel_cross_entropy: the loss and gradient of two pixels, computed by hand") {
    // One image of 1x2 pixels, 3 classes. Pixel 0: logits (0, 0, 0), class 1: p = 1/3 each,
    // loss log 3. Pixel 1: logits (1, 2, 3), class 2: loss log(e + e^2 + e^3) - 3
    // = log(1 + e^-1 + e^-2) = 0.4076059644. The loss is their mean.
    Tensor4 logits = xt::zeros<float>({1, 3, 1, 2});
    logits(0, 0, 0, 1) = 1;
    logits(0, 1, 0, 1) = 2;
    logits(0, 2, 0, 1) = 3;
    Masks masks = xt::zeros<std::uint8_t>({1, 1, 2});
    masks(0, 0, 0) = 1;
    masks(0, 0, 1) = 2;
    const cnn::PixelLoss result = cnn::pixel_cross_entropy(logits, masks);
    CHECK(result.loss == doctest::Approx((std::log(3.0) + 0.4076059644) / 2).epsilon(1e-6));
    // Gradient at pixel 0: (p - onehot) / 2 pixels = (1/3, -2/3, 1/3) / 2.
    CHECK(result.gradient(0, 0, 0, 0) == doctest::Approx(1.0 / 6));
    CHECK(result.gradient(0, 1, 0, 0) == doctest::Approx(-1.0 / 3));
    CHECK(result.gradient(0, 2, 0, 0) == doctest::Approx(1.0 / 6));
    const double denominator = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK(result.gradient(0, 2, 0, 1) == doctest::Approx((std::exp(3.0) / denominator - 1) / 2));
    // Large logits neither overflow nor lose the answer.
    Tensor4 large = xt::zeros<float>({1, 2, 1, 1});
    large(0, 1, 0, 0) = 1000;
    Masks zero = xt::zeros<std::uint8_t>({1, 1, 1});
    CHECK(cnn::pixel_cross_entropy(large, zero).loss == doctest::Approx(1000));
}

TEST_CASE("pixel_cross_entropy: the gradient passes the numerical check (batch 2, 4 classes)") {
    cnn::Rng rng(5);
    Tensor4 logits = cnn::testing::random_tensor<4>({2, 4, 3, 2}, rng);
    Masks masks = xt::zeros<std::uint8_t>({2, 3, 2});
    for (std::size_t i = 0; i < masks.size(); ++i) {
        masks.flat(i) = static_cast<std::uint8_t>(rng.below(4));
    }
    const cnn::PixelLoss result = cnn::pixel_cross_entropy(logits, masks);
    const cnn::GradientCheckResult check = cnn::check_gradient(
        "pixel_cross_entropy", [&] { return cnn::pixel_cross_entropy(logits, masks).loss; }, logits.data(),
        result.gradient.data(), logits.size());
    INFO(check.summary());
    CHECK(check.passed());
}

TEST_CASE("pixel_cross_entropy and predicted_masks: shapes and classes out of range are errors, and ties go to the first class") {
    const Tensor4 logits = xt::zeros<float>({1, 3, 2, 2});
    CHECK_THROWS_WITH_AS(cnn::pixel_cross_entropy(logits, xt::zeros<std::uint8_t>({1, 2, 3})),
                         doctest::Contains("need masks (N, H, W) = (1, 2, 2)"), std::invalid_argument);
    Masks bad = xt::zeros<std::uint8_t>({1, 2, 2});
    bad(0, 1, 0) = 3;
    CHECK_THROWS_WITH_AS(cnn::pixel_cross_entropy(logits, bad), doctest::Contains("has class 3, expected one below 3"),
                         std::invalid_argument);
    Tensor4 two = xt::zeros<float>({1, 3, 1, 2});
    two(0, 2, 0, 1) = 1.0f;
    const Masks predicted = cnn::predicted_masks(two);
    CHECK(predicted(0, 0, 0) == 0);  // all equal: the first
    CHECK(predicted(0, 0, 1) == 2);
}

TEST_CASE("segmentation_scores: confusion, pixel accuracy and IoU of a 2x3 case computed by hand") {
    // truth      predicted
    // 0 0 1      0 1 1
    // 1 2 2      1 2 0
    // confusion[t][p]: t0 -> (0: 1, 1: 1); t1 -> (1: 2); t2 -> (2: 1, 0: 1).
    // accuracy 4/6; IoU_0 = 1 / (1 + 1 FP + 1 FN) = 1/3; IoU_1 = 2 / (2 + 1 FP) = 2/3;
    // IoU_2 = 1 / (1 + 1 FN) = 1/2; mean 1/2. Class 3 is in neither mask: left out of the mean.
    Masks truth = xt::zeros<std::uint8_t>({1, 2, 3}), predicted = xt::zeros<std::uint8_t>({1, 2, 3});
    const int t[6] = {0, 0, 1, 1, 2, 2}, p[6] = {0, 1, 1, 1, 2, 0};
    for (std::size_t i = 0; i < 6; ++i) {
        truth.flat(i) = static_cast<std::uint8_t>(t[i]);
        predicted.flat(i) = static_cast<std::uint8_t>(p[i]);
    }
    const cnn::SegmentationScores s = cnn::segmentation_scores(truth, predicted, 4);
    CHECK(s.confusion[0][0] == 1);
    CHECK(s.confusion[0][1] == 1);
    CHECK(s.confusion[1][1] == 2);
    CHECK(s.confusion[2][0] == 1);
    CHECK(s.confusion[2][2] == 1);
    CHECK(s.pixel_accuracy == doctest::Approx(4.0 / 6));
    CHECK(s.iou[0] == doctest::Approx(1.0 / 3));
    CHECK(s.iou[1] == doctest::Approx(2.0 / 3));
    CHECK(s.iou[2] == doctest::Approx(0.5));
    CHECK_FALSE(s.present[3]);
    CHECK(s.mean_iou == doctest::Approx(0.5));
    // A perfect prediction scores 1 everywhere.
    const cnn::SegmentationScores same = cnn::segmentation_scores(truth, truth, 3);
    CHECK(same.pixel_accuracy == 1.0);
    CHECK(same.mean_iou == 1.0);
    CHECK_THROWS_AS(cnn::segmentation_scores(truth, predicted, 2), std::invalid_argument);
    CHECK_THROWS_AS(cnn::segmentation_scores(truth, xt::zeros<std::uint8_t>({1, 3, 2}), 3), std::invalid_argument);
}

TEST_CASE("segmentation_model: (1, H, W) in, (K, H, W) out, with and without skips, by transposed convolution or upsampling") {
    cnn::SegmentationModelOptions options;
    options.height = options.width = 16;
    options.filters = {4, 8};
    options.bottleneck = 8;
    options.classes = 5;
    cnn::Rng rng(6);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 1, 16, 16}, rng);
    std::size_t with_skips = 0, without = 0;
    for (const bool skips : {true, false}) {
        for (const cnn::Upsampling up : {cnn::Upsampling::transposed, cnn::Upsampling::nearest}) {
            options.skips = skips;
            options.upsampling = up;
            cnn::Graph model = cnn::segmentation_model(options, 1);
            model.build();
            CHECK(model.output_shape(model.size() - 1) == cnn::Shape{5, 16, 16});
            const Tensor4 y = model.forward(x, false, false);
            CHECK(y.shape(1) == 5);
            CHECK(y.shape(3) == 16);
            if (up == cnn::Upsampling::transposed) {
                (skips ? with_skips : without) = model.parameter_count();
            }
        }
    }
    // The skips widen each decoder convolution's input by the encoder's channels: level 1
    // reads 8 + 8 instead of 8 channels (3 * 3 * 8 * 8 = 576 more weights), level 0 reads
    // 4 + 4 instead of 4 (3 * 3 * 4 * 4 = 144 more).
    CHECK(with_skips - without == 576 + 144);
    options.height = 18;  // not a multiple of 2^2
    CHECK_THROWS_WITH_AS(cnn::segmentation_model(options, 1), doctest::Contains("multiples of 2^levels = 4"),
                         std::invalid_argument);
}

TEST_CASE("segmentation_model with pixel_cross_entropy: backpropagation through a whole small U-Net passes the numerical check") {
    // Two levels (8x8 -> 4x4 -> 2x2 and back), so every kind of layer is on the path: 3x3
    // convolutions, batch normalization (training mode, batch statistics), ReLU, max pooling,
    // the 2x2 transposed convolutions, the skips' concatenation, the last 1x1 convolution, and
    // the loss at all 2 * 8 * 8 pixels.
    cnn::SegmentationModelOptions options;
    options.height = options.width = 8;
    options.filters = {2, 4};
    options.bottleneck = 4;
    options.classes = 3;
    cnn::Graph model = cnn::segmentation_model(options, 11);
    cnn::Rng rng(12);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 1, 8, 8}, rng);
    Masks masks = xt::zeros<std::uint8_t>({2, 8, 8});
    for (std::size_t i = 0; i < masks.size(); ++i) {
        masks.flat(i) = static_cast<std::uint8_t>(rng.below(3));
    }
    const std::vector<cnn::Parameter> parameters = model.parameters();
    const auto loss = [&] { return cnn::pixel_cross_entropy(model.forward(x, true, false), masks).loss; };
    // The analytic gradient of every parameter, by one forward and one backward pass; `scale`
    // multiplies the loss's gradient before the backward pass.
    const auto backpropagate = [&](float scale) {
        cnn::zero_gradients(parameters);
        cnn::PixelLoss result = cnn::pixel_cross_entropy(model.forward(x, true, false), masks);
        model.backward(result.gradient * scale);
    };
    // A small nudge, as for the other whole models (test_support.hpp): a larger one could push
    // a ReLU's input across 0 or change a pooling window's winner.
    const cnn::GradientCheckOptions nudge{1e-3, 1e-2};
    backpropagate(1.0f);
    std::size_t checked = 0;
    std::vector<float> largest;  // each parameter's largest |derivative|
    for (const cnn::Parameter& p : parameters) {
        const cnn::GradientCheckResult result = cnn::check_gradient(p, loss, nudge);
        CHECK_MESSAGE(result.passed(), result.summary());
        checked += result.checked;
        largest.push_back(static_cast<float>(xt::amax(xt::abs(xt::adapt(p.grad, p.size, xt::no_ownership(),
                                                                         std::vector<std::size_t>{p.size})))()));
    }
    // 5 convolution blocks (a kernel, a bias, a gamma and a beta each), 2 transposed
    // convolutions and the 1x1 convolution (a kernel and a bias each): 26 parameters.
    CHECK(parameters.size() == 26);
    CHECK(checked == model.parameter_count());
    // The check catches a wrong backward pass here: the loss's gradient without its 1 / (N H W),
    // a bug that still trains, only with steps 128 times too large. Every parameter whose
    // derivatives are not all about 0 must fail. (A convolution's bias right before batch
    // normalization has derivative 0: the normalization subtracts it again.)
    backpropagate(static_cast<float>(2 * 8 * 8));
    std::size_t should_fail = 0, failed = 0;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const bool passed = cnn::check_gradient(parameters[i], loss, nudge).passed();
        if (largest[i] > 1e-3f) {
            CAPTURE(parameters[i].name);
            CHECK_FALSE(passed);
            ++should_fail;
        }
        failed += passed ? 0 : 1;
    }
    CHECK(should_fail == 26 - 5);  // all but the biases of the 5 convolution blocks
    CHECK(failed >= should_fail);
}
