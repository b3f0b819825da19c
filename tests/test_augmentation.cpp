// Tests of layers/augmentation.hpp: RandomFlip, RandomTranslation and RandomCrop draw per image
// from the generator they were built with, pass inference through (RandomCrop: the centre),
// send gradients back through the same draw, reject bad options, and ride in a model that
// trains, predicts the same twice and resumes from a checkpoint bit for bit.
#include "cnn/layers/augmentation.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/optim/adam.hpp"
#include "support/io/checkpoint.hpp"
#include "test_support.hpp"

using cnn::RandomCrop;
using cnn::RandomFlip;
using cnn::RandomTranslation;
using cnn::Tensor4;

namespace {

using cnn::testing::numbers_4x4;

// A layer built on images (C, H, W) with `rng`.
template <class L>
L built(L layer, const cnn::Shape& input, cnn::Rng& rng) {
    layer.build(input, rng);
    return layer;
}

using cnn::testing::image;

// How many images of the batch differ from image 0.
std::size_t differing_from_first(const Tensor4& batch) {
    std::size_t differing = 0;
    for (std::size_t n = 1; n < batch.shape(0); ++n) {
        differing += image(batch, n) == image(batch, 0) ? 0 : 1;
    }
    return differing;
}

// One forward pass (a training pass draws) and the backward pass after it: for a random dy,
// sum(y * dy) == sum(x * dx) holds when backward is the transpose of what forward did.
void check_transpose(cnn::Layer& layer, const Tensor4& x, cnn::Rng& rng, bool training = true) {
    const Tensor4 y = layer.forward(x, training);
    const Tensor4 dy =
        cnn::testing::random_tensor<4>({y.shape(0), y.shape(1), y.shape(2), y.shape(3)}, rng);
    const Tensor4 dx = layer.backward(dy);
    REQUIRE(dx.shape() == x.shape());
    CHECK(cnn::testing::dot(y, dy) == doctest::Approx(cnn::testing::dot(x, dx)).epsilon(1e-5));
}

}  // namespace

TEST_CASE("RandomFlip: Keras's modes, and a clear error for any other") {
    // Keras's default mode, then each mode by its name.
    CHECK(RandomFlip().options().mode == cnn::FlipMode::horizontal_and_vertical);
    CHECK(RandomFlip("horizontal").options().mode == cnn::FlipMode::horizontal);
    CHECK(RandomFlip("vertical").options().mode == cnn::FlipMode::vertical);
    CHECK_THROWS_WITH_AS(RandomFlip("sideways"),
                         "RandomFlip: expected mode 'horizontal', 'vertical' or "
                         "'horizontal_and_vertical', got 'sideways'",
                         std::invalid_argument);
    cnn::Rng rng(1);
    RandomFlip flat("horizontal");
    CHECK_THROWS_WITH_AS(flat.build({64}, rng),
                         "RandomFlip random_flip: expected input (None, C, H, W), got (None, 64)",
                         std::invalid_argument);
    CHECK(RandomFlip("horizontal").build({3, 5, 6}, rng) == cnn::Shape{3, 5, 6});
    CHECK(RandomFlip().parameter_count() == 0);
}

TEST_CASE("RandomFlip: each image its own draw, about half flipped, the output what was drawn") {
    cnn::Rng rng(2);
    RandomFlip layer = built(RandomFlip("horizontal"), {1, 4, 4}, rng);
    const Tensor4 one = numbers_4x4();
    const Tensor4 x = xt::broadcast(one, {2000, 1, 4, 4});
    const Tensor4 y = layer.forward(x, /*training=*/true);
    REQUIRE(layer.last_flips().size() == 2000);
    CHECK(y == cnn::flip_forward(x, layer.last_flips()));
    std::size_t flipped = 0;
    for (std::size_t n = 0; n < 2000; ++n) {
        const cnn::Flip f = layer.last_flips()[n];
        CHECK_FALSE(f.up_down);  // "horizontal" never turns an image upside down
        flipped += f.left_right ? 1 : 0;
        CHECK(image(y, n) == (f.left_right ? cnn::flip_forward(one, {{true, false}}) : one));
    }
    const double fraction = static_cast<double>(flipped) / 2000.0;  // sd 0.011
    CHECK(fraction > 0.45);
    CHECK(fraction < 0.55);
}

TEST_CASE("RandomFlip: 'vertical' flips rows only, 'horizontal_and_vertical' draws both apart") {
    cnn::Rng rng(3);
    RandomFlip vertical = built(RandomFlip("vertical"), {1, 4, 4}, rng);
    const Tensor4 x = xt::broadcast(numbers_4x4(), {2000, 1, 4, 4});
    vertical.forward(x, true);
    std::size_t up_down = 0;
    for (const cnn::Flip& f : vertical.last_flips()) {
        CHECK_FALSE(f.left_right);
        up_down += f.up_down ? 1 : 0;
    }
    CHECK(std::abs(static_cast<double>(up_down) / 2000.0 - 0.5) < 0.05);

    RandomFlip both = built(RandomFlip("horizontal_and_vertical"), {1, 4, 4}, rng);
    const Tensor4 y = both.forward(x, true);
    CHECK(y == cnn::flip_forward(x, both.last_flips()));
    std::map<std::pair<bool, bool>, std::size_t> outcomes;  // each of the four: 1/4, sd 0.0097
    for (const cnn::Flip& f : both.last_flips()) {
        ++outcomes[{f.left_right, f.up_down}];
    }
    REQUIRE(outcomes.size() == 4);
    for (const auto& [flip, count] : outcomes) {
        CHECK(std::abs(static_cast<double>(count) / 2000.0 - 0.25) < 0.05);
    }
}

TEST_CASE("RandomFlip: the same seed flips the same images, another seed others") {
    cnn::Rng rng(4);
    const Tensor4 x = cnn::testing::random_tensor<4>({16, 2, 5, 5}, rng);
    cnn::Rng a(7), b(7), c(8);
    RandomFlip la = built(RandomFlip("horizontal"), {2, 5, 5}, a);
    RandomFlip lb = built(RandomFlip("horizontal"), {2, 5, 5}, b);
    RandomFlip lc = built(RandomFlip("horizontal"), {2, 5, 5}, c);
    const Tensor4 ya = la.forward(x, true);
    CHECK(ya == lb.forward(x, true));
    CHECK_FALSE(ya == lc.forward(x, true));
    CHECK(la.forward(x, true) != ya);  // the next batch draws anew
    CHECK(differing_from_first(la.forward(xt::broadcast(image(x, 0), {16, 2, 5, 5}), true)) > 0);
}

TEST_CASE(
    "RandomFlip: inference passes through without drawing, and backward follows the last pass") {
    cnn::Rng rng(5);
    RandomFlip layer = built(RandomFlip("horizontal"), {2, 3, 3}, rng);
    const Tensor4 x = cnn::testing::random_tensor<4>({4, 2, 3, 3}, rng);
    CHECK_THROWS_WITH_AS(layer.backward(x), doctest::Contains("backward() called before forward()"),
                         std::logic_error);
    const std::string state = rng.state();
    CHECK(layer.forward(x, /*training=*/false) == x);
    CHECK(rng.state() == state);  // inference leaves the generator alone
    CHECK(layer.last_flips().empty());
    CHECK(layer.backward(x) == x);
    layer.forward(x, true);
    CHECK_FALSE(rng.state() == state);
    CHECK(layer.backward(x) == cnn::flip_forward(x, layer.last_flips()));
    CHECK_THROWS_WITH_AS(
        layer.backward(Tensor4::from_shape({3, 2, 3, 3})),
        doctest::Contains("expected dy (4, 2, 3, 3), as the last forward() output"),
        std::invalid_argument);
    RandomFlip unbuilt("horizontal");
    CHECK(unbuilt.forward(x, false) == x);
    CHECK_THROWS_WITH_AS(unbuilt.forward(x, true), doctest::Contains("has not been built"),
                         std::logic_error);
}

TEST_CASE("RandomTranslation: factors at least 0 and below 1, each worth a whole pixel if not 0") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    for (const float bad : {-0.1f, 1.0f, 1.5f, nan, inf}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH_AS(
            RandomTranslation(bad, 0.1f),
            doctest::Contains("RandomTranslation: expected height_factor in [0, 1)"),
            std::invalid_argument);
        CHECK_THROWS_WITH_AS(
            RandomTranslation(0.1f, bad),
            doctest::Contains("RandomTranslation: expected width_factor in [0, 1)"),
            std::invalid_argument);
    }
    CHECK_THROWS_WITH_AS(RandomTranslation(-0.5f, 0.0f), doctest::Contains("got -0.5"),
                         std::invalid_argument);
    cnn::Rng rng(1);
    RandomTranslation tiny(0.01f, 0.0f);
    CHECK_THROWS_WITH_AS(
        tiny.build({1, 28, 28}, rng),
        "RandomTranslation random_translation: expected height_factor 0 or at least "
        "1/28 = 0.03571 (one whole row of 28), got 0.01",
        std::invalid_argument);
    RandomTranslation flat(0.1f, 0.1f);
    CHECK_THROWS_AS(flat.build({784}, rng), std::invalid_argument);
    CHECK(RandomTranslation(0.0f, 0.2f).build({2, 28, 10}, rng) == cnn::Shape{2, 28, 10});
}

TEST_CASE("max_translation: the factor's share of the size, rounded down to whole pixels") {
    CHECK(cnn::max_translation(0.1f, 28) == 2);  // 2.8
    CHECK(cnn::max_translation(0.25f, 28) == 7);
    CHECK(cnn::max_translation(0.7f, 10) == 7);  // 0.7f * 10 is 6.9999999 in float arithmetic
    CHECK(cnn::max_translation(0.3f, 10) == 3);
    CHECK(cnn::max_translation(0.99f, 10) == 9);
    CHECK(cnn::max_translation(0.0f, 28) == 0);
    CHECK(cnn::max_translation(0.5f, 1) == 0);
    CHECK_THROWS_AS(cnn::max_translation(1.0f, 28), std::invalid_argument);
}

TEST_CASE("RandomTranslation: shifts cover -k..k uniformly and nothing beyond, per image") {
    cnn::Rng rng(6);
    // k = 0.3 * 10 = 3 rows and floor(0.3 * 7) = 2 columns.
    RandomTranslation layer = built(RandomTranslation(0.3f, 0.3f), {1, 10, 7}, rng);
    const Tensor4 x = cnn::testing::random_tensor<4>({2000, 1, 10, 7}, rng);
    const Tensor4 y = layer.forward(x, /*training=*/true);
    REQUIRE(layer.last_shifts().size() == 2000);
    CHECK(y == cnn::translate_forward(x, layer.last_shifts()));
    std::map<std::ptrdiff_t, std::size_t> downs, rights;
    for (const cnn::Shift& s : layer.last_shifts()) {
        ++downs[s.down];
        ++rights[s.right];
    }
    REQUIRE(downs.size() == 7);
    CHECK(downs.begin()->first == -3);
    CHECK(downs.rbegin()->first == 3);
    for (const auto& [down, count] : downs) {
        CHECK(std::abs(static_cast<double>(count) / 2000.0 - 1.0 / 7.0) < 0.04);  // sd 0.008
    }
    REQUIRE(rights.size() == 5);
    CHECK(rights.begin()->first == -2);
    CHECK(rights.rbegin()->first == 2);
    for (const auto& [right, count] : rights) {
        CHECK(std::abs(static_cast<double>(count) / 2000.0 - 1.0 / 5.0) < 0.04);  // sd 0.009
    }

    RandomTranslation sideways = built(RandomTranslation(0.0f, 0.5f), {1, 4, 4}, rng);
    const Tensor4 same = xt::broadcast(numbers_4x4(), {12, 1, 4, 4});
    CHECK(differing_from_first(sideways.forward(same, true)) > 0);
    for (const cnn::Shift& s : sideways.last_shifts()) {
        CHECK(s.down == 0);
    }
}

TEST_CASE("RandomTranslation: seeds decide the shifts, and inference passes through") {
    cnn::Rng rng(9);
    const Tensor4 x = cnn::testing::random_tensor<4>({8, 3, 6, 6}, rng);
    cnn::Rng a(1), b(1), c(2);
    RandomTranslation la = built(RandomTranslation(0.34f, 0.34f), {3, 6, 6}, a);
    RandomTranslation lb = built(RandomTranslation(0.34f, 0.34f), {3, 6, 6}, b);
    RandomTranslation lc = built(RandomTranslation(0.34f, 0.34f), {3, 6, 6}, c);
    const Tensor4 ya = la.forward(x, true);
    CHECK(ya == lb.forward(x, true));
    CHECK_FALSE(ya == lc.forward(x, true));

    const std::string state = a.state();
    CHECK(la.forward(x, false) == x);
    CHECK(a.state() == state);
    CHECK(la.last_shifts().empty());
    CHECK(la.backward(x) == x);
    RandomTranslation fresh(0.2f, 0.2f);
    CHECK_THROWS_WITH_AS(fresh.backward(x), doctest::Contains("backward() called before forward()"),
                         std::logic_error);
}

TEST_CASE("RandomCrop: the window must be at least 1x1 and fit in the images") {
    CHECK_THROWS_WITH_AS(RandomCrop(0, 5),
                         "RandomCrop: expected a window of at least 1x1 (height x width), got 0x5",
                         std::invalid_argument);
    cnn::Rng rng(1);
    RandomCrop large(30, 20);
    CHECK_THROWS_WITH_AS(large.build({1, 28, 28}, rng),
                         "RandomCrop random_crop: expected input (None, C, H, W) with H >= 30 and "
                         "W >= 20, the window's size, got (None, 1, 28, 28)",
                         std::invalid_argument);
    RandomCrop wide(20, 29);
    CHECK_THROWS_AS(wide.build({1, 28, 28}, rng), std::invalid_argument);
    RandomCrop flat(2, 2);
    CHECK_THROWS_AS(flat.build({10}, rng), std::invalid_argument);
    CHECK(RandomCrop(24, 20).build({3, 28, 28}, rng) == cnn::Shape{3, 24, 20});
    CHECK(RandomCrop(28, 28).build({3, 28, 28}, rng) == cnn::Shape{3, 28, 28});
}

TEST_CASE("RandomCrop: at inference the centred window, exactly, for even and odd margins") {
    cnn::Rng rng(2);
    RandomCrop even = built(RandomCrop(2, 2), {1, 4, 4}, rng);
    const std::string state = rng.state();
    CHECK(even.forward(numbers_4x4(), /*training=*/false) == Tensor4{{{{6, 7}, {10, 11}}}});
    CHECK(rng.state() == state);
    // 5x5 holding 1..25 cropped to 2x3: 3 rows left over (1 above, 2 below), 2 columns (1, 1).
    Tensor4 x = Tensor4::from_shape({1, 1, 5, 5});
    for (std::size_t i = 0; i < 25; ++i) {
        x.flat(i) = static_cast<float>(i + 1);
    }
    RandomCrop odd = built(RandomCrop(2, 3), {1, 5, 5}, rng);
    CHECK(odd.forward(x, false) == Tensor4{{{{7, 8, 9}, {12, 13, 14}}}});
    CHECK(odd.last_corners().size() == 1);
    CHECK(odd.backward(Tensor4{{{{1, 2, 3}, {4, 5, 6}}}}) == Tensor4{{{{0, 0, 0, 0, 0},
                                                                       {0, 1, 2, 3, 0},
                                                                       {0, 4, 5, 6, 0},
                                                                       {0, 0, 0, 0, 0},
                                                                       {0, 0, 0, 0, 0}}}});
}

TEST_CASE("RandomCrop: in training every window position is drawn, per image, and no other") {
    cnn::Rng rng(3);
    RandomCrop layer = built(RandomCrop(5, 3), {2, 8, 6}, rng);  // tops 0..3, lefts 0..3
    const Tensor4 x = cnn::testing::random_tensor<4>({2000, 2, 8, 6}, rng);
    const Tensor4 y = layer.forward(x, /*training=*/true);
    CHECK(y.shape() == std::array<std::size_t, 4>{2000, 2, 5, 3});
    CHECK(y == cnn::crop_forward(x, 5, 3, layer.last_corners()));
    std::map<std::size_t, std::size_t> tops, lefts;
    for (const cnn::Corner& c : layer.last_corners()) {
        ++tops[c.top];
        ++lefts[c.left];
    }
    REQUIRE(tops.size() == 4);
    REQUIRE(lefts.size() == 4);
    CHECK(tops.rbegin()->first == 3);
    CHECK(lefts.rbegin()->first == 3);
    for (const auto& [top, count] : tops) {
        CHECK(std::abs(static_cast<double>(count) / 2000.0 - 0.25) < 0.05);
    }
    const Tensor4 same = xt::broadcast(numbers_4x4(), {12, 1, 4, 4});
    RandomCrop small = built(RandomCrop(2, 2), {1, 4, 4}, rng);
    CHECK(differing_from_first(small.forward(same, true)) > 0);

    cnn::Rng a(5), b(5), c(6);
    RandomCrop la = built(RandomCrop(4, 4), {1, 6, 6}, a);
    RandomCrop lb = built(RandomCrop(4, 4), {1, 6, 6}, b);
    RandomCrop lc = built(RandomCrop(4, 4), {1, 6, 6}, c);
    const Tensor4 x6 = cnn::testing::random_tensor<4>({8, 1, 6, 6}, rng);
    const Tensor4 ya = la.forward(x6, true);
    CHECK(ya == lb.forward(x6, true));
    CHECK_FALSE(ya == lc.forward(x6, true));
}

TEST_CASE("every augmentation layer's backward is the transpose of its last forward pass") {
    cnn::Rng rng(31);
    // Batches of several images, several channels, odd and even sides.
    const std::vector<std::array<std::size_t, 4>> shapes = {
        {3, 2, 5, 5}, {2, 3, 6, 4}, {5, 1, 7, 8}};
    for (const auto& shape : shapes) {
        CAPTURE(cnn::shape_to_string(shape));
        const cnn::Shape image_shape = {shape[1], shape[2], shape[3]};
        const Tensor4 x = cnn::testing::random_tensor<4>(shape, rng);
        RandomFlip flip = built(RandomFlip("horizontal_and_vertical"), image_shape, rng);
        RandomTranslation translation = built(RandomTranslation(0.4f, 0.5f), image_shape, rng);
        RandomCrop crop = built(RandomCrop(shape[2] - 1, shape[3] - 2), image_shape, rng);
        for (const bool training : {true, false}) {
            CAPTURE(training);
            check_transpose(flip, x, rng, training);
            check_transpose(translation, x, rng, training);
            check_transpose(crop, x, rng, training);
        }
    }
}

namespace {

// A small CNN with augmentation in front: (1, 8, 8) images, 3 classes.
cnn::Sequential augmented_model(std::uint64_t seed, bool augment) {
    cnn::Sequential model(seed);
    if (augment) {
        model.add(RandomFlip("horizontal").input_shape({1, 8, 8}));
        model.add(RandomTranslation(0.25f, 0.25f));
        model.add(RandomCrop(6, 6));
        model.add(cnn::Conv2D(4, 3).activation("relu").padding("same"));
    } else {  // the same weights, and at inference the same function
        model.add(RandomCrop(6, 6).input_shape({1, 8, 8}));
        model.add(cnn::Conv2D(4, 3).activation("relu").padding("same"));
    }
    model.add(cnn::Flatten());
    model.add(cnn::Dense(3).activation("softmax"));
    model.compile(cnn::Adam({0.01f}), "sparse_categorical_crossentropy", {"accuracy"});
    return model;
}

using cnn::testing::same_weights;

// 24 random 8x8 images of 3 classes.
cnn::testing::LabelledImages tiny_data() {
    return cnn::testing::labelled_noise({24, 1, 8, 8}, 3, 12);
}

cnn::FitOptions quiet(std::size_t epochs) {
    cnn::FitOptions o;
    o.epochs = epochs;
    o.batch_size = 8;
    o.verbose = cnn::Verbosity::silent;
    return o;
}

}  // namespace

TEST_CASE("a model with augmentation in front trains, and evaluate and predict do not augment") {
    const auto d = tiny_data();
    cnn::Sequential model = augmented_model(5, true);
    cnn::Sequential plain = augmented_model(5, false);
    REQUIRE(model.parameter_count() == plain.parameter_count());
    CHECK(same_weights(model, plain));  // the augmentation layers drew nothing when built
    CHECK(model.evaluate(d.x, d.y).loss == plain.evaluate(d.x, d.y).loss);

    const cnn::History history = model.fit(d.x, d.y, quiet(1));
    REQUIRE(history.loss.size() == 1);
    CHECK(std::isfinite(history.loss[0]));
    CHECK_FALSE(same_weights(model, plain));
    // The trained weights in the model without augmentation: evaluate() agrees exactly.
    const std::vector<cnn::Parameter> from = model.parameters(), to = plain.parameters();
    for (std::size_t i = 0; i < from.size(); ++i) {
        std::copy_n(from[i].value, from[i].size, to[i].value);
    }
    const cnn::Evaluation augmented = model.evaluate(d.x, d.y), without = plain.evaluate(d.x, d.y);
    CHECK(augmented.loss == without.loss);
    CHECK(augmented.accuracy == without.accuracy);
    const cnn::Tensor2 first = model.predict(d.x);
    CHECK(first == model.predict(d.x));
    CHECK(first == plain.predict(d.x));
}

TEST_CASE(
    "augmented training is reproducible, and a resumed run ends bit for bit like a straight one") {
    const auto d = tiny_data();
    cnn::Sequential a = augmented_model(7, true), b = augmented_model(7, true);
    a.fit(d.x, d.y, quiet(2));
    b.fit(d.x, d.y, quiet(2));
    CHECK(same_weights(a, b));
    cnn::Sequential plain = augmented_model(7, false);
    plain.fit(d.x, d.y, quiet(2));
    CHECK_FALSE(same_weights(a, plain));  // augmentation changed what training saw

    cnn::testing::TempDir dir;
    cnn::FitOptions first = quiet(1), rest = quiet(2);
    first.callbacks.push_back(std::make_shared<cnn::ModelCheckpoint>(dir / "checkpoint", false));
    rest.callbacks.push_back(std::make_shared<cnn::ModelCheckpoint>(dir / "checkpoint", true));
    cnn::Sequential interrupted = augmented_model(7, true);
    interrupted.fit(d.x, d.y, first);
    cnn::Sequential resumed =
        augmented_model(99, true);  // everything must come from the checkpoint
    resumed.fit(d.x, d.y, rest);
    CHECK(same_weights(resumed, a));
}
