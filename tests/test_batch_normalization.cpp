// Tests of ops/batch_norm.hpp and layers/batch_normalization.hpp: forward passes computed by
// hand in both modes, the moving averages after one and two steps, per channel and per
// feature, numerical gradient checks in both modes, and the errors.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/layers/batch_normalization.hpp"
#include "cnn/ops/batch_norm.hpp"
#include "test_support.hpp"

using cnn::BatchNormalization;
using cnn::Tensor1;
using cnn::Tensor4;

namespace {

// Two channels, two examples, each a 1x2 plane:
//   channel 0 holds 1, 2 (example 0) and 3, 4 (example 1): mean 2.5, deviations -1.5, -0.5,
//     0.5, 1.5, biased variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25;
//   channel 1 holds 0.1, 1.9 twice: mean 1, deviations -+0.9, variance 0.81.
// With epsilon 0.19 both square roots are exact: sqrt(1.25 + 0.19) = 1.2, sqrt(0.81 + 0.19) = 1.
Tensor4 hand_input() {
    Tensor4 x = Tensor4::from_shape({2, 2, 1, 2});
    x(0, 0, 0, 0) = 1.0f, x(0, 0, 0, 1) = 2.0f, x(1, 0, 0, 0) = 3.0f, x(1, 0, 0, 1) = 4.0f;
    x(0, 1, 0, 0) = 0.1f, x(0, 1, 0, 1) = 1.9f, x(1, 1, 0, 0) = 0.1f, x(1, 1, 0, 1) = 1.9f;
    return x;
}

constexpr float hand_epsilon = 0.19f;

// gamma (2, -1) and beta (0.5, 0), the hand case's weights.
void set_hand_weights(BatchNormalization& layer) {
    layer.gamma() = Tensor1{2.0f, -1.0f};
    layer.beta() = Tensor1{0.5f, 0.0f};
}

// Gamma and beta away from their initial 1 and 0, and moving statistics away from 0 and 1, so
// that a wrong term in a gradient that involves any of them shows.
void randomise(BatchNormalization& layer, cnn::Rng& rng) {
    for (float& g : layer.gamma()) {
        g = rng.uniform(0.5f, 2.0f) * (rng.uniform() < 0.5f ? -1.0f : 1.0f);
    }
    for (float& b : layer.beta()) {
        b = rng.uniform(-1.0f, 1.0f);
    }
    for (float& m : layer.moving().mean) {
        m = rng.uniform(-0.5f, 0.5f);
    }
    for (float& v : layer.moving().variance) {
        v = rng.uniform(0.5f, 2.0f);
    }
}

// The layer's input shape without the batch axis: (C, H, W), or (D) for x (N, D, 1, 1).
cnn::Shape input_shape(const Tensor4& x, bool flat) {
    return flat ? cnn::Shape{x.shape(1)} : cnn::Shape{x.shape(1), x.shape(2), x.shape(3)};
}

}  // namespace

TEST_CASE("batch_norm_forward: the batch's mean and biased variance per channel, by hand") {
    const Tensor4 x = hand_input();
    const cnn::BatchNormResult r =
        cnn::batch_norm_forward(x, Tensor1{2.0f, -1.0f}, Tensor1{0.5f, 0.0f}, hand_epsilon);
    CHECK(r.batch.mean(0) == doctest::Approx(2.5));
    CHECK(r.batch.variance(0) == doctest::Approx(1.25));
    CHECK(r.batch.mean(1) == doctest::Approx(1.0));
    CHECK(r.batch.variance(1) == doctest::Approx(0.81));
    CHECK(r.inv_std(0) == doctest::Approx(1.0 / 1.2));
    CHECK(r.inv_std(1) == doctest::Approx(1.0));
    // Channel 0: xhat = (-1.5, -0.5, 0.5, 1.5) / 1.2 = (-1.25, -5/12, 5/12, 1.25);
    // y = 2 xhat + 0.5 = (-2, -1/3, 4/3, 3).
    CHECK(r.y(0, 0, 0, 0) == doctest::Approx(-2.0));
    CHECK(r.y(0, 0, 0, 1) == doctest::Approx(-1.0 / 3.0));
    CHECK(r.y(1, 0, 0, 0) == doctest::Approx(4.0 / 3.0));
    CHECK(r.y(1, 0, 0, 1) == doctest::Approx(3.0));
    CHECK(r.xhat(0, 0, 0, 1) == doctest::Approx(-5.0 / 12.0));
    // Channel 1: xhat = (-0.9, 0.9) in both examples; y = -xhat = (0.9, -0.9).
    for (std::size_t n = 0; n < 2; ++n) {
        CHECK(r.y(n, 1, 0, 0) == doctest::Approx(0.9));
        CHECK(r.y(n, 1, 0, 1) == doctest::Approx(-0.9));
    }
    // With Keras's epsilon, 0.001: channel 0's xhat is (-1.5, ...) / sqrt(1.251) = -1.341105...
    const cnn::BatchNormResult keras =
        cnn::batch_norm_forward(x, Tensor1{1.0f, 1.0f}, Tensor1{0.0f, 0.0f}, 1e-3f);
    CHECK(keras.y(0, 0, 0, 0) == doctest::Approx(-1.5 / std::sqrt(1.251)));
}

TEST_CASE("batch_norm_backward: what the normalisation undoes gets no gradient, by hand") {
    // Adding the same amount to every output of a channel is what the normalisation undoes:
    // no change of x can achieve it, so dy = 1 gives dx = 0. Stretching the outputs along xhat
    // it would undo too, but for epsilon: dy = xhat gives
    // dx = gamma / s · xhat · epsilon / (var + epsilon), 0 only for epsilon = 0.
    // dbeta and dgamma are the sums of dy and dy xhat.
    const Tensor4 x = hand_input();
    const Tensor1 gamma{2.0f, -1.0f};
    const cnn::BatchNormResult r =
        cnn::batch_norm_forward(x, gamma, Tensor1{0.5f, 0.0f}, hand_epsilon);
    Tensor1 dgamma = xt::zeros<float>({2}), dbeta = xt::zeros<float>({2});
    const Tensor4 shift = xt::ones<float>(x.shape());
    const Tensor4 dx = cnn::batch_norm_backward(shift, r.xhat, r.inv_std, gamma, dgamma, dbeta);
    CHECK(xt::amax(xt::abs(dx))() < 1e-6);
    CHECK(dbeta(0) == doctest::Approx(4.0));   // four ones per channel
    CHECK(dgamma(0) == doctest::Approx(0.0));  // sum(xhat) = 0
    const Tensor4 dx_scale =
        cnn::batch_norm_backward(r.xhat, r.xhat, r.inv_std, gamma, dgamma, dbeta);
    // Channel 0, first value: 2 / 1.2 · (-1.25) · 0.19 / 1.44 = -0.2748843.
    CHECK(dx_scale(0, 0, 0, 0) == doctest::Approx(-0.2748843));
    // Accumulated: channel 0's sum(xhat²) = 2 (1.5625 + 0.1736) = 3.4722 = M var / (var + eps).
    CHECK(dgamma(0) == doctest::Approx(4.0 * 1.25 / 1.44));
    CHECK(dbeta(0) == doctest::Approx(4.0));
}

TEST_CASE("batch_norm inference: fixed statistics, y and its gradient by hand") {
    // Moving mean (1, 0) and variance (3.81, 0.81): with epsilon 0.19 the square roots are
    // 2 and 1. Channel 0: (x - 1) / 2 = (0, 0.5, 1, 1.5), y = 2 that + 0.5 = (0.5, 1.5, 2.5,
    // 3.5). Channel 1: x / 1, y = -x.
    const Tensor4 x = hand_input();
    const Tensor1 gamma{2.0f, -1.0f};
    const cnn::BatchNormStatistics moving{Tensor1{1.0f, 0.0f}, Tensor1{3.81f, 0.81f}};
    const Tensor4 y =
        cnn::batch_norm_inference_forward(x, gamma, Tensor1{0.5f, 0.0f}, moving, hand_epsilon);
    CHECK(y(0, 0, 0, 0) == doctest::Approx(0.5));
    CHECK(y(0, 0, 0, 1) == doctest::Approx(1.5));
    CHECK(y(1, 0, 0, 0) == doctest::Approx(2.5));
    CHECK(y(1, 0, 0, 1) == doctest::Approx(3.5));
    CHECK(y(1, 1, 0, 1) == doctest::Approx(-1.9));
    // dy = 1 everywhere: dx = gamma / sqrt(variance + eps) = (1, -1); dgamma = sum of the
    // normalised x = (3, 4); dbeta = (4, 4).
    Tensor1 dgamma = xt::zeros<float>({2}), dbeta = xt::zeros<float>({2});
    const Tensor4 dx = cnn::batch_norm_inference_backward(xt::ones<float>(x.shape()), x, gamma,
                                                          moving, hand_epsilon, dgamma, dbeta);
    CHECK(dx(1, 0, 0, 1) == doctest::Approx(1.0));
    CHECK(dx(0, 1, 0, 0) == doctest::Approx(-1.0));
    CHECK(dgamma(0) == doctest::Approx(3.0));
    CHECK(dgamma(1) == doctest::Approx(4.0));
    CHECK(dbeta(1) == doctest::Approx(4.0));
}

TEST_CASE("moving statistics after one and two training steps, by hand") {
    // From Keras's initial mean 0 and variance 1, momentum 0.9, the hand batch twice (batch
    // means 2.5 and 1, biased variances 1.25 and 0.81):
    //   step 1: mean 0.9·0 + 0.1·2.5 = 0.25, 0.1;  variance 0.9·1 + 0.1·1.25 = 1.025, 0.981
    //   step 2: mean 0.9·0.25 + 0.25 = 0.475, 0.19;  variance 0.9·1.025 + 0.125 = 1.0475,
    //           0.9·0.981 + 0.081 = 0.9639.
    // (PyTorch's BatchNorm2d(2, momentum=0.1, eps=0.19) would give the same means but
    // running_var 1.0417 after step 1: it averages the unbiased variance, 1.25·4/3.)
    cnn::Rng rng(1);
    BatchNormalization layer(cnn::BatchNormalizationOptions{0.9f, hand_epsilon});
    CHECK(layer.build({2, 1, 2}, rng) == cnn::Shape{2, 1, 2});
    CHECK(layer.moving().mean == Tensor1{0.0f, 0.0f});
    CHECK(layer.moving().variance == Tensor1{1.0f, 1.0f});
    const Tensor4 x = hand_input();
    layer.forward(x, /*training=*/true);
    CHECK(layer.moving().mean(0) == doctest::Approx(0.25));
    CHECK(layer.moving().mean(1) == doctest::Approx(0.1));
    CHECK(layer.moving().variance(0) == doctest::Approx(1.025));
    CHECK(layer.moving().variance(1) == doctest::Approx(0.981));
    layer.forward(x, true);
    CHECK(layer.moving().mean(0) == doctest::Approx(0.475));
    CHECK(layer.moving().mean(1) == doctest::Approx(0.19));
    CHECK(layer.moving().variance(0) == doctest::Approx(1.0475));
    CHECK(layer.moving().variance(1) == doctest::Approx(0.9639));
    // Inference neither uses the batch's statistics nor changes the moving ones.
    const cnn::BatchNormStatistics before = layer.moving();
    const Tensor4 y = layer.forward(x, /*training=*/false);
    CHECK(layer.moving().mean == before.mean);
    CHECK(layer.moving().variance == before.variance);
    CHECK(y(0, 0, 0, 0) == doctest::Approx((1.0 - 0.475) / std::sqrt(1.0475 + 0.19)));
    // Inference passes in a row: each writes into the last batch's input, never into a y it
    // returned before, so every y stays as it was returned.
    const Tensor4 again = layer.forward(x, false);
    const Tensor4 third = layer.forward(x, false);
    CHECK(again == y);
    CHECK(third == y);

    // Keras's default momentum, 0.99: one step moves the mean 1% of the way, to 0.025.
    BatchNormalization keras;
    keras.build({2, 1, 2}, rng);
    keras.forward(x, true);
    CHECK(keras.moving().mean(0) == doctest::Approx(0.025));
    CHECK(keras.options().epsilon == 1e-3f);
}

TEST_CASE("BatchNormalization layer: the hand case in both modes, per channel and per feature") {
    cnn::Rng rng(2);
    BatchNormalization layer(cnn::BatchNormalizationOptions{0.99f, hand_epsilon});
    layer.build({2, 1, 2}, rng);
    set_hand_weights(layer);
    const Tensor4 y = layer.forward(hand_input(), /*training=*/true);
    CHECK(y(0, 0, 0, 1) == doctest::Approx(-1.0 / 3.0));
    CHECK(y(1, 1, 0, 0) == doctest::Approx(0.9));
    layer.moving() = {Tensor1{1.0f, 0.0f}, Tensor1{3.81f, 0.81f}};
    CHECK(layer.forward(hand_input(), /*training=*/false)(1, 0, 0, 1) == doctest::Approx(3.5));

    // Flat inputs (D) after a Dense layer: each of the D features normalised over the N
    // examples. Feature 0 holds 1, 2, 3, 4 down the batch: y = (-1.25, -5/12, 5/12, 1.25).
    BatchNormalization dense_bn(cnn::BatchNormalizationOptions{0.99f, hand_epsilon});
    CHECK(dense_bn.build({3}, rng) == cnn::Shape{3});
    Tensor4 features = cnn::testing::random_tensor<4>({4, 3, 1, 1}, rng);
    for (std::size_t n = 0; n < 4; ++n) {
        features(n, 0, 0, 0) = static_cast<float>(n + 1);
    }
    const Tensor4 z = dense_bn.forward(features, true);
    CHECK(z(0, 0, 0, 0) == doctest::Approx(-1.25));
    CHECK(z(2, 0, 0, 0) == doctest::Approx(5.0 / 12.0));
    for (std::size_t d = 1; d < 3; ++d) {  // the other features: mean 0, variance var/(var+eps)
        double sum = 0.0, squares = 0.0, var = 0.0, mean = 0.0;
        for (std::size_t n = 0; n < 4; ++n) {
            mean += features(n, d, 0, 0) / 4.0;
        }
        for (std::size_t n = 0; n < 4; ++n) {
            var += std::pow(features(n, d, 0, 0) - mean, 2) / 4.0;
            sum += z(n, d, 0, 0);
            squares += std::pow(z(n, d, 0, 0), 2);
        }
        CHECK(sum == doctest::Approx(0.0).epsilon(1e-6));
        CHECK(squares / 4.0 == doctest::Approx(var / (var + hand_epsilon)));
    }
}

TEST_CASE("per channel over N·H·W is per feature over the pixels taken as examples") {
    // Images (N, C, H, W) rearranged to (N·H·W, C): every pixel an example with C features.
    // Normalising the images per channel and the rows per feature must agree, in both modes.
    cnn::Rng rng(3);
    const std::size_t n = 2, c = 3, h = 2, w = 3;
    const Tensor4 images = cnn::testing::random_tensor<4>({n, c, h, w}, rng);
    Tensor4 rows = Tensor4::from_shape({n * h * w, c, 1, 1});
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t ch = 0; ch < c; ++ch) {
            for (std::size_t k = 0; k < h * w; ++k) {
                rows(i * h * w + k, ch, 0, 0) = images(i, ch, k / w, k % w);
            }
        }
    }
    BatchNormalization per_channel, per_feature;
    per_channel.build({c, h, w}, rng);
    per_feature.build({c}, rng);
    randomise(per_channel, rng);
    per_feature.gamma() = per_channel.gamma();
    per_feature.beta() = per_channel.beta();
    per_feature.moving() = per_channel.moving();
    for (const bool training : {true, false}) {
        CAPTURE(training);
        const Tensor4 a = per_channel.forward(images, training);
        const Tensor4 b = per_feature.forward(rows, training);
        double worst = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t ch = 0; ch < c; ++ch) {
                for (std::size_t k = 0; k < h * w; ++k) {
                    const float d = a(i, ch, k / w, k % w) - b(i * h * w + k, ch, 0, 0);
                    worst = std::max(worst, static_cast<double>(std::abs(d)));
                }
            }
        }
        CHECK(worst < 1e-5);
    }
    CHECK(cnn::testing::max_abs_diff(per_channel.moving().mean, per_feature.moving().mean) < 1e-6);
}

TEST_CASE("BatchNormalization gradients, numerically, in training and inference mode") {
    // A nudge of 1e-3: a training pass is curved where a channel's values lie close together
    // (few values, small variance), and the default 1e-2 came within 20% of the tolerance on
    // one of these cases. At 1e-3 the worst error over 40 seeds was 6e-4; a backward pass
    // without its xhat·mean(dy·xhat) or mean(dy) term fails by 0.1 or more, a dgamma off by
    // 1% by 3e-3 or more.
    struct Case {
        std::array<std::size_t, 4> shape;
        bool flat;  // x is (N, D, 1, 1), the layer built with (D)
    };
    const std::vector<Case> cases = {
        {{1, 3, 4, 5}, false},  // batch 1: the statistics come from one image's planes
        {{2, 2, 3, 3}, false},  // batch 2, channels > 1, H, W > 1
        {{2, 3, 1, 4}, false},  // a single row
        {{3, 4, 1, 1}, true},   // (N, D) after a Dense layer
        {{2, 5, 1, 1}, true},   // two examples per feature
        {{1, 3, 1, 1}, true},   // one example: training normalises to 0 (dx = 0), inference not
    };
    cnn::Rng rng(4);
    for (const Case& c : cases) {
        for (const bool training : {true, false}) {
            CAPTURE(cnn::shape_to_string(c.shape));
            CAPTURE(training);
            const Tensor4 x = cnn::testing::random_tensor<4>(c.shape, rng);
            BatchNormalization layer;
            layer.build(input_shape(x, c.flat), rng);
            randomise(layer, rng);
            CHECK(cnn::testing::check_layer_gradients(layer, x, rng, {1e-3, 2e-3}, training) == 0);
        }
    }
}

TEST_CASE("BatchNormalization: parameters, state, and what it refuses") {
    cnn::Rng rng(5);
    BatchNormalization layer;
    layer.set_name("bn");
    CHECK_THROWS_WITH_AS(layer.parameters(), doctest::Contains("has not been built"),
                         std::logic_error);
    layer.build({4, 3, 3}, rng);
    const std::vector<cnn::Parameter> params = layer.parameters(), state = layer.state();
    REQUIRE(params.size() == 2);
    CHECK(params[0].name == "bn/gamma");
    CHECK(params[1].name == "bn/beta");
    CHECK(params[0].grad != nullptr);
    REQUIRE(state.size() == 2);
    CHECK(state[0].name == "bn/moving_mean");
    CHECK(state[1].name == "bn/moving_variance");
    CHECK(state[1].shape == std::vector<std::size_t>{4});
    CHECK(state[0].grad == nullptr);
    CHECK(state[1].grad == nullptr);
    CHECK(layer.parameter_count() == 8);  // the state is not trainable

    const Tensor4 x = cnn::testing::random_tensor<4>({2, 4, 3, 3}, rng);
    CHECK_THROWS_WITH_AS(
        layer.backward(x),
        doctest::Contains("BatchNormalization bn: backward() called before forward()"),
        std::logic_error);
    CHECK_THROWS_WITH_AS(layer.forward(cnn::testing::random_tensor<4>({2, 3, 3, 3}, rng)),
                         doctest::Contains("BatchNormalization bn: expected input (None, 4, 3, 3), "
                                           "got (2, 3, 3, 3)"),
                         std::invalid_argument);
    layer.forward(x, true);
    CHECK_THROWS_WITH_AS(layer.backward(cnn::testing::random_tensor<4>({1, 4, 3, 3}, rng)),
                         doctest::Contains("dy (1, 4, 3, 3) does not match"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(layer.build({4, 3}, rng),
                         doctest::Contains("expected input (None, C, H, W) or (None, D), got "
                                           "(None, 4, 3)"),
                         std::invalid_argument);

    const auto refused = [](float momentum, float epsilon, const char* message) {
        CHECK_THROWS_WITH_AS(BatchNormalization(cnn::BatchNormalizationOptions{momentum, epsilon}),
                             doctest::Contains(message), std::invalid_argument);
    };
    refused(1.0f, 1e-3f, "BatchNormalization: expected a momentum in [0, 1), got 1");
    refused(-0.1f, 1e-3f, "BatchNormalization: expected a momentum in [0, 1), got -0.1");
    refused(NAN, 1e-3f, "expected a momentum in [0, 1), got nan");
    refused(0.99f, 0.0f, "BatchNormalization: expected a finite epsilon > 0, got 0");
    refused(0.99f, -1e-3f, "expected a finite epsilon > 0, got -0.001");
    refused(0.99f, INFINITY, "expected a finite epsilon > 0, got inf");
    CHECK_THROWS_WITH_AS(BatchNormalization().momentum(2.0f),
                         doctest::Contains("expected a momentum in [0, 1), got 2"),
                         std::invalid_argument);
    CHECK(BatchNormalization().momentum(0.0f).epsilon(1e-5f).options().epsilon == 1e-5f);
    CHECK_THROWS_AS(cnn::batch_norm_forward(Tensor4::from_shape({0, 2, 1, 1}), Tensor1{1.0f, 1.0f},
                                            Tensor1{0.0f, 0.0f}, 1e-3f),
                    std::invalid_argument);
}

namespace {

// The layer with its reading path in reach of a test.
class ReadingBatchNormalization : public BatchNormalization {
public:
    using BatchNormalization::backward_operation_reading;
};

}  // namespace

TEST_CASE("BatchNormalization of a shared gradient: dy kept, dx as backward() gives it") {
    // What a graph model hands the layer when an Add's other input still holds the gradient:
    // dx goes to new memory. Two layers with the same weights, one given dy to write over.
    for (const bool training : {true, false}) {
        CAPTURE(training);
        cnn::Rng data_rng(20), rng(21), twin_rng(21);
        const Tensor4 x = cnn::testing::random_tensor<4>({3, 2, 4, 5}, data_rng);
        const Tensor4 dy = cnn::testing::random_tensor<4>({3, 2, 4, 5}, data_rng);
        BatchNormalization layer, twin;
        layer.build({2, 4, 5}, rng);
        twin.build({2, 4, 5}, twin_rng);
        randomise(layer, rng);
        randomise(twin, twin_rng);
        REQUIRE(cnn::testing::max_abs_diff(layer.gamma(), twin.gamma()) == 0);

        layer.forward(x, training);
        twin.forward(x, training);
        const auto shared = std::make_shared<Tensor4>(dy);
        const cnn::SharedTensor4 held = shared;  // the Add's other input
        const std::vector<cnn::SharedTensor4> dx =
            layer.backward_inputs_shared(shared, false, cnn::InputGradient::compute);
        const Tensor4 expected = twin.backward(dy);
        REQUIRE(dx.size() == 1);
        CHECK(dx[0]->data() != held->data());
        CHECK(cnn::testing::same_values(*held, dy));
        CHECK(cnn::testing::same_values(*dx[0], expected));
        // The layer has a reading path of its own: the copy a layer without one gets is not
        // what was tested above.
        ReadingBatchNormalization reader;
        reader.build({2, 4, 5}, rng);
        reader.forward(x, training);
        CHECK(reader.backward_operation_reading(dy).has_value());
        const std::vector<cnn::Parameter> p = layer.parameters(), q = twin.parameters();
        REQUIRE(p.size() == q.size());
        for (std::size_t i = 0; i < p.size(); ++i) {
            CHECK(std::equal(p[i].grad, p[i].grad + p[i].size, q[i].grad));
        }
    }
}
