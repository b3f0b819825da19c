// Tests of inspect/probe.hpp: saliency by hand on a linear model and against central
// differences on a convolutional one; activation maximisation by hand on a linear unit, and
// climbing on a convolutional one.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "cnn/inspect/probe.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/dropout.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "test_support.hpp"

using cnn::Tensor4;

namespace {

// Flatten, then Dense(2) with a softmax, on 1x2x2 images, with weights set by hand:
// logit 0 = x . (1, -2, 0.5, -0.1) + 0.25; logit 1 = x . (0, 3, 0, 0).
cnn::Sequential linear_model() {
    cnn::Sequential model(1);
    model.add(cnn::Flatten().input_shape({1, 2, 2}));
    model.add(cnn::Dense(2).activation("softmax"));
    model.build();
    auto& dense = dynamic_cast<cnn::Dense&>(model.layer(1));
    dense.weights() = cnn::Tensor2{{1.0f, 0.0f}, {-2.0f, 3.0f}, {0.5f, 0.0f}, {-0.1f, 0.0f}};
    dense.bias() = cnn::Tensor1{0.25f, 0.0f};
    return model;
}

// Two 'same' convolutions (an even kernel, a stride of 2), an overlapping max pooling, dropout
// (off at inference) and a softmax classifier, on 2x9x9 images.
cnn::Sequential conv_model() {
    cnn::Sequential model(7);
    model.add(cnn::Conv2D(3, 3).padding("same").activation("relu").input_shape({2, 9, 9}));
    model.add(cnn::MaxPooling2D(3).strides(2));
    model.add(cnn::Conv2D(4, 2).strides(2, 2).padding("same").activation("relu"));
    model.add(cnn::Dropout(0.5f));
    model.add(cnn::Flatten());
    model.add(cnn::Dense(5).activation("softmax"));
    model.build();
    return model;
}

double logit(cnn::Sequential& model, const Tensor4& x, std::size_t n, std::size_t k) {
    return cnn::forward_to(model, x, model.size() - 1)(n, k, 0, 0);
}

}  // namespace

TEST_CASE("saliency: the gradient of a linear logit is the class's weights, by hand") {
    cnn::Sequential model = linear_model();
    const Tensor4 x = Tensor4{{{{0.1f, 0.2f}, {0.3f, 0.4f}}}, {{{0.9f, 0.8f}, {0.7f, 0.6f}}}};
    // forward_to gives the logits, before the softmax: 0.1 - 0.4 + 0.15 - 0.04 + 0.25 = 0.06.
    const Tensor4 logits = cnn::forward_to(model, x, 1);
    CHECK(logits(0, 0, 0, 0) == doctest::Approx(0.06));
    CHECK(logits(0, 1, 0, 0) == doctest::Approx(0.6));
    const Tensor4 s = cnn::saliency(model, x, {0, 1});
    CHECK(s == Tensor4{{{{1.0f, -2.0f}, {0.5f, -0.1f}}}, {{{0.0f, 3.0f}, {0.0f, 0.0f}}}});
}

TEST_CASE("saliency: equal to central differences of the logit, image by image") {
    cnn::Sequential model = conv_model();
    cnn::Rng rng(11);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 2, 9, 9}, rng);
    const cnn::Labels classes = {3, 1};
    const Tensor4 s = cnn::saliency(model, x, classes);
    REQUIRE(s.shape() == x.shape());
    const double eps = 1e-3;
    double worst = 0.0, largest = 0.0;
    for (std::size_t n = 0; n < 2; ++n) {
        for (std::size_t i = 0; i < x.size() / 2; ++i) {
            Tensor4 up = x, down = x;
            up.flat(n * x.size() / 2 + i) += static_cast<float>(eps);
            down.flat(n * x.size() / 2 + i) -= static_cast<float>(eps);
            const double numeric =
                (logit(model, up, n, classes[n]) - logit(model, down, n, classes[n])) / (2 * eps);
            worst = std::max(worst, std::abs(numeric - s.flat(n * x.size() / 2 + i)));
            largest = std::max(largest, std::abs(numeric));
        }
    }
    CHECK(largest > 0.01);  // the check compares something
    CHECK(worst < 2e-3 * std::max(1.0, largest));
    // Image 1's map does not depend on image 0: the same alone.
    const Tensor4 alone = cnn::saliency(model, xt::view(x, xt::range(1, 2)), {1});
    CHECK(cnn::testing::max_abs_diff(alone, xt::view(s, xt::range(1, 2))) < 1e-6);
    // The weights' gradients, a by-product, are left at zero.
    for (const cnn::Parameter& p : model.parameters()) {
        for (std::size_t i = 0; i < p.size; ++i) {
            REQUIRE(p.grad[i] == 0.0f);
        }
    }
}

TEST_CASE("saliency and forward_to: clear errors") {
    cnn::Sequential model = linear_model();
    const Tensor4 x = xt::zeros<float>({2, 1, 2, 2});
    CHECK_THROWS_WITH_AS(cnn::saliency(model, x, {0}),
                         "saliency: one class per image expected, got 1 classes for 2 images",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::saliency(model, x, {0, 2}), doctest::Contains("class 2 of image 1 is out of range"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::forward_to(model, x, 2), doctest::Contains("layer 2 requested, but model sequential has 2 layers"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::forward_to(model, xt::zeros<float>({2, 1, 3, 2}), 1),
                         "forward_to: model sequential expects input (None, 1, 2, 2), got (2, 1, 3, 2)",
                         std::invalid_argument);
}

TEST_CASE("maximise_units: a linear unit's best image is its weights' signs, by hand") {
    cnn::Sequential model = linear_model();
    cnn::AscentOptions options;
    options.steps = 60;
    options.step_size = 0.2f;  // the smallest weight's pixel moves 0.2 * 0.1 / rms(w) per step
    options.decay = 0.0f;
    options.blur_sigma = 0.0f;
    // Both classes at once: image 0 climbs logit 0, image 1 logit 1.
    const cnn::Ascent a = cnn::maximise_units(model, 1, {0, 1}, options);
    REQUIRE(a.images.shape(0) == 2);
    // Positive weights drive a pixel to 1, negative ones to 0.
    CHECK(xt::view(a.images, 0) == cnn::Tensor3{{{1.0f, 0.0f}, {1.0f, 0.0f}}});
    CHECK(a.final_activation[0] == doctest::Approx(1.0 + 0.5 + 0.25));
    // The start is grey plus a little noise: about 0.5 * (1 - 2 + 0.5 - 0.1) + 0.25 = -0.05.
    CHECK(std::abs(a.initial_activation[0] - (-0.05)) < 0.1);
    // Class 1's only weight is on pixel (0, 1); the others keep their grey start.
    CHECK(a.images(1, 0, 0, 1) == 1.0f);
    CHECK(std::abs(a.images(1, 0, 1, 1) - 0.5f) < 0.05f);
    CHECK(a.final_activation[1] == doctest::Approx(3.0));
    CHECK_THROWS_WITH_AS(cnn::maximise_units(model, 1, {2}, options),
                         doctest::Contains("channel 2 of dense requested, which has 2"), std::invalid_argument);
    CHECK_THROWS_AS(cnn::maximise_units(model, 1, {}, options), std::invalid_argument);
    options.blur_every = 0;
    CHECK_THROWS_AS(cnn::maximise_units(model, 1, {0}, options), std::invalid_argument);
}

TEST_CASE("maximise_units: climbs on hidden convolution units, the same for the same seed") {
    cnn::Sequential model = conv_model();
    cnn::AscentOptions options;
    // A unit that the grey start leaves at 0 behind its ReLU has no gradient and cannot climb:
    // take the units the start excites.
    options.steps = 0;
    const cnn::Ascent start = cnn::maximise_units(model, 2, {0, 1, 2, 3}, options);
    std::vector<std::size_t> alive;
    for (std::size_t c = 0; c < 4; ++c) {
        if (start.initial_activation[c] > 0.0) {
            alive.push_back(c);
        }
    }
    REQUIRE(!alive.empty());
    options.steps = 30;
    const cnn::Ascent a = cnn::maximise_units(model, 2, alive, options);
    for (std::size_t k = 0; k < alive.size(); ++k) {
        CHECK(a.final_activation[k] > 2 * a.initial_activation[k]);
    }
    CHECK(xt::amin(a.images)() >= 0.0f);
    CHECK(xt::amax(a.images)() <= 1.0f);
    // One unit alone climbs as it does in company.
    const cnn::Ascent alone = cnn::maximise_units(model, 2, {alive[0]}, options);
    CHECK(cnn::testing::max_abs_diff(xt::view(alone.images, 0), xt::view(a.images, 0)) < 1e-5);
    CHECK(cnn::maximise_units(model, 2, alive, options).images == a.images);
    options.seed = 43;
    CHECK(cnn::maximise_units(model, 2, alive, options).images != a.images);
}

TEST_CASE("maximise_units: a whole channel's mean, and climbing before the ReLU") {
    cnn::Sequential model = conv_model();
    cnn::AscentOptions options;
    options.whole_channel = true;
    options.steps = 0;
    const cnn::Ascent start = cnn::maximise_units(model, 2, {0, 1, 2, 3}, options);
    // The value is the mean of the channel's map, computed here from forward_to().
    const Tensor4 out = cnn::forward_to(model, start.images, 2);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(start.initial_activation[k] ==
              doctest::Approx(xt::mean(xt::view(out, k, k))()).epsilon(1e-5));
    }
    // Before the ReLU every channel has a gradient, dead or not, and climbs.
    options.before_relu = true;
    const cnn::Ascent below = cnn::maximise_units(model, 2, {0, 1, 2, 3}, options);
    options.steps = 40;
    const cnn::Ascent a = cnn::maximise_units(model, 2, {0, 1, 2, 3}, options);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(below.initial_activation[k] <= start.initial_activation[k] + 1e-6);  // ReLU(z) >= z
        CHECK(a.final_activation[k] > below.initial_activation[k] + 0.05);
    }
    // The image climbed the pre-activation; after the ReLU, the channel is now alive.
    const Tensor4 after = cnn::forward_to(model, a.images, 2);
    for (std::size_t k = 0; k < 4; ++k) {
        CHECK(xt::mean(xt::view(after, k, k))() > 0.0f);
    }
}

TEST_CASE("maximise_units: before the ReLU of the first layer and of a Dense layer, by hand") {
    // A unit z = w . x + b with a ReLU after it, on pixels in [0, 1], is largest where every
    // pixel under a positive weight is 1 and every other is 0: b + the sum of the positive
    // weights. Without the pull to grey and the blur, the ascent must end there, whether z
    // starts above 0 or below it (where the value after the ReLU has no gradient).
    cnn::AscentOptions options;
    options.before_relu = true;
    options.decay = 0.0f;
    options.blur_sigma = 0.0f;
    options.step_size = 0.2f;
    options.steps = 150;
    const auto best = [](const float* w, std::size_t n, float b) {
        double sum = b;
        for (std::size_t i = 0; i < n; ++i) {
            sum += std::max(w[i], 0.0f);
        }
        return sum;
    };
    SUBCASE("a Conv2D as the model's first layer: the centre unit (2, 2) of its 4x4 map") {
        cnn::Sequential model(5);
        model.add(cnn::Conv2D(3, 3).activation("relu").input_shape({1, 6, 6}));
        model.add(cnn::Flatten());
        model.add(cnn::Dense(2).activation("softmax"));
        model.build();
        auto& conv = dynamic_cast<cnn::Conv2D&>(model.layer(0));
        conv.bias() = cnn::Tensor1{-0.3f, 0.2f, -2.0f};  // the last can never reach 0
        const cnn::Ascent a = cnn::maximise_units(model, 0, {0, 1, 2}, options);
        for (std::size_t k = 0; k < 3; ++k) {
            CAPTURE(k);
            const float* w = conv.weights().data() + k * 9;
            CHECK(a.final_activation[k] == doctest::Approx(best(w, 9, conv.bias()(k))).epsilon(1e-4));
            // Outside the unit's 3x3 window the pixels have no gradient: still grey.
            CHECK(std::abs(a.images(k, 0, 0, 0) - 0.5f) < 0.05f);
        }
    }
    SUBCASE("a hidden Dense layer") {
        cnn::Sequential model(6);
        model.add(cnn::Flatten().input_shape({1, 3, 3}));
        model.add(cnn::Dense(4).activation("relu"));
        model.add(cnn::Dense(2).activation("softmax"));
        model.build();
        auto& dense = dynamic_cast<cnn::Dense&>(model.layer(1));
        dense.bias() = cnn::Tensor1{-0.5f, 0.0f, 0.5f, -3.0f};
        const cnn::Ascent a = cnn::maximise_units(model, 1, {0, 1, 2, 3}, options);
        for (std::size_t k = 0; k < 4; ++k) {
            CAPTURE(k);
            const cnn::Tensor1 column = xt::view(dense.weights(), xt::all(), k);
            CHECK(a.final_activation[k] == doctest::Approx(best(column.data(), 9, dense.bias()(k))).epsilon(1e-4));
        }
    }
}
