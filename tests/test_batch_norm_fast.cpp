// Tests of ops/batch_norm_fast.hpp: every pass against its counterpart in ops/batch_norm.hpp,
// the reference, on shapes where loop bugs hide (one image, flat features, 7x7 planes that fill
// no whole SIMD register, channels that do not divide evenly between threads) and on one, two
// and three threads; the same errors; and outputs written over the tensors handed in.
#include <array>
#include <stdexcept>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/fast/threads.hpp"
#include "cnn/ops/batch_norm.hpp"
#include "cnn/ops/batch_norm_fast.hpp"
#include "test_support.hpp"

using cnn::Tensor1;
using cnn::Tensor4;
using cnn::testing::relative_diff;

namespace {

// Gamma, beta and moving statistics away from 1 and 0, as a trained layer's.
struct Weights {
    Tensor1 gamma, beta;
    cnn::BatchNormStatistics moving;
};

Weights random_weights(std::size_t channels, cnn::Rng& rng) {
    Weights w{Tensor1::from_shape({channels}),
              Tensor1::from_shape({channels}),
              {Tensor1::from_shape({channels}), Tensor1::from_shape({channels})}};
    for (std::size_t c = 0; c < channels; ++c) {
        w.gamma(c) = rng.uniform(0.5f, 2.0f) * (rng.uniform() < 0.5f ? -1.0f : 1.0f);
        w.beta(c) = rng.uniform(-1.0f, 1.0f);
        w.moving.mean(c) = rng.uniform(-0.5f, 0.5f);
        w.moving.variance(c) = rng.uniform(0.5f, 2.0f);
    }
    return w;
}

// Values around 3 with a spread of 2 per channel, so that the mean matters.
Tensor4 random_input(const std::array<std::size_t, 4>& shape, cnn::Rng& rng) {
    Tensor4 x = cnn::testing::random_tensor<4>(shape, rng);
    x = 3.0f + 2.0f * x;
    return x;
}

constexpr double tolerance = 1e-5;  // float rounding, relative to the values' size

}  // namespace

TEST_CASE("batch_norm_fast: every pass computes what ops/batch_norm.hpp computes") {
    const std::vector<std::array<std::size_t, 4>> shapes = {
        {1, 3, 4, 5},     // one image
        {4, 6, 1, 1},     // flat features after a Dense layer
        {2, 5, 7, 7},     // 7x7 planes: 49 values, no whole SIMD register
        {32, 7, 28, 28},  // enough values for three threads; 7 channels split 2, 2, 3
        {16, 3, 14, 14},  // two threads' worth of values, three channels
    };
    const std::size_t saved = cnn::thread_count();
    cnn::Rng rng(8);
    for (const std::size_t threads : {1, 2, 3}) {
        cnn::set_thread_count(threads);
        for (const auto& shape : shapes) {
            CAPTURE(threads);
            CAPTURE(cnn::shape_to_string(shape));
            const Tensor4 x = random_input(shape, rng);
            const Tensor4 dy = cnn::testing::random_tensor<4>(shape, rng);
            const Weights w = random_weights(shape[1], rng);
            const float epsilon = 1e-3f;

            const cnn::BatchNormResult slow = cnn::batch_norm_forward(x, w.gamma, w.beta, epsilon);
            const cnn::BatchNormResult fast =
                cnn::batch_norm_fast_forward(x, w.gamma, w.beta, epsilon);
            CHECK(relative_diff(fast.y, slow.y) < tolerance);
            CHECK(relative_diff(fast.xhat, slow.xhat) < tolerance);
            CHECK(relative_diff(fast.inv_std, slow.inv_std) < tolerance);
            CHECK(relative_diff(fast.batch.mean, slow.batch.mean) < tolerance);
            CHECK(relative_diff(fast.batch.variance, slow.batch.variance) < tolerance);

            // The backward passes accumulate into gradients that already hold values.
            Tensor1 dgamma_slow = w.beta, dbeta_slow = w.gamma;
            Tensor1 dgamma_fast = w.beta, dbeta_fast = w.gamma;
            const Tensor4 dx_slow = cnn::batch_norm_backward(dy, slow.xhat, slow.inv_std, w.gamma,
                                                             dgamma_slow, dbeta_slow);
            const Tensor4 dx_fast = cnn::batch_norm_fast_backward(dy, slow.xhat, slow.inv_std,
                                                                  w.gamma, dgamma_fast, dbeta_fast);
            CHECK(relative_diff(dx_fast, dx_slow) < tolerance);
            CHECK(relative_diff(dgamma_fast, dgamma_slow) < tolerance);
            CHECK(relative_diff(dbeta_fast, dbeta_slow) < tolerance);

            const Tensor4 y_slow =
                cnn::batch_norm_inference_forward(x, w.gamma, w.beta, w.moving, epsilon);
            const Tensor4 y_fast =
                cnn::batch_norm_fast_inference_forward(x, w.gamma, w.beta, w.moving, epsilon);
            CHECK(relative_diff(y_fast, y_slow) < tolerance);
            const Tensor4 dxi_slow = cnn::batch_norm_inference_backward(
                dy, x, w.gamma, w.moving, epsilon, dgamma_slow, dbeta_slow);
            const Tensor4 dxi_fast = cnn::batch_norm_fast_inference_backward(
                dy, x, w.gamma, w.moving, epsilon, dgamma_fast, dbeta_fast);
            CHECK(relative_diff(dxi_fast, dxi_slow) < tolerance);
            CHECK(relative_diff(dgamma_fast, dgamma_slow) < tolerance);
            CHECK(relative_diff(dbeta_fast, dbeta_slow) < tolerance);
        }
    }
    cnn::set_thread_count(saved);
}

TEST_CASE("batch_norm_fast: y is written over x and dx over dy, when they are handed over") {
    cnn::Rng rng(9);
    const Weights w = random_weights(2, rng);
    Tensor4 x = random_input({3, 2, 4, 4}, rng);
    const float* storage = x.data();
    const Tensor4 expected = cnn::batch_norm_forward(x, w.gamma, w.beta, 1e-3f).y;
    const cnn::BatchNormResult r =
        cnn::batch_norm_fast_forward(std::move(x), w.gamma, w.beta, 1e-3f);
    CHECK(r.y.data() == storage);
    CHECK(relative_diff(r.y, expected) < tolerance);

    Tensor4 dy = cnn::testing::random_tensor<4>({3, 2, 4, 4}, rng);
    const float* dy_storage = dy.data();
    Tensor1 dgamma = xt::zeros<float>({2}), dbeta = xt::zeros<float>({2});
    const Tensor4 dx =
        cnn::batch_norm_fast_backward(std::move(dy), r.xhat, r.inv_std, w.gamma, dgamma, dbeta);
    CHECK(dx.data() == dy_storage);
}

TEST_CASE("batch_norm_fast: the backward passes into memory of their own leave dy as it was") {
    // Both passes, into an empty tensor and into one of as many values but another shape, give
    // the in-place passes' values bit for bit; the memory handed in keeps its storage.
    const std::size_t saved = cnn::thread_count();
    cnn::Rng rng(12);
    for (const std::size_t threads : {1, 2}) {
        CAPTURE(threads);
        cnn::set_thread_count(threads);
        const Weights w = random_weights(3, rng);
        const Tensor4 x = random_input({4, 3, 5, 6}, rng);
        const Tensor4 dy = cnn::testing::random_tensor<4>({4, 3, 5, 6}, rng);
        const Tensor4 dy_before = dy;
        const cnn::BatchNormResult r = cnn::batch_norm_forward(x, w.gamma, w.beta, 1e-3f);
        Tensor1 dgamma_in_place = w.beta, dbeta_in_place = w.gamma;
        Tensor1 dgamma = w.beta, dbeta = w.gamma;
        const Tensor4 in_place = cnn::batch_norm_fast_backward(
            Tensor4(dy), r.xhat, r.inv_std, w.gamma, dgamma_in_place, dbeta_in_place);
        const Tensor4 apart =
            cnn::batch_norm_fast_backward(dy, r.xhat, r.inv_std, w.gamma, dgamma, dbeta, Tensor4());
        CHECK(cnn::testing::same_values(apart, in_place));
        CHECK(dgamma == dgamma_in_place);
        CHECK(dbeta == dbeta_in_place);

        const Tensor4 inference_in_place = cnn::batch_norm_fast_inference_backward(
            Tensor4(dy), x, w.gamma, w.moving, 1e-3f, dgamma_in_place, dbeta_in_place);
        Tensor4 memory = Tensor4::from_shape({2, 3, 6, 10});  // as many values, another shape
        const float* storage = memory.data();
        const Tensor4 inference_apart = cnn::batch_norm_fast_inference_backward(
            dy, x, w.gamma, w.moving, 1e-3f, dgamma, dbeta, std::move(memory));
        CHECK(inference_apart.data() == storage);
        CHECK(cnn::testing::same_values(inference_apart, inference_in_place));
        CHECK(dgamma == dgamma_in_place);
        CHECK(dbeta == dbeta_in_place);
        CHECK(cnn::testing::same_values(dy, dy_before));
    }
    cnn::set_thread_count(saved);

    // Memory that was moved from keeps its shape but no storage: dx gets storage of its own.
    const Weights w = random_weights(2, rng);
    const Tensor4 x = random_input({2, 2, 3, 3}, rng);
    const Tensor4 dy = cnn::testing::random_tensor<4>({2, 2, 3, 3}, rng);
    const cnn::BatchNormResult r = cnn::batch_norm_forward(x, w.gamma, w.beta, 1e-3f);
    Tensor1 dg1 = xt::zeros<float>({2}), db1 = xt::zeros<float>({2});
    Tensor1 dg2 = xt::zeros<float>({2}), db2 = xt::zeros<float>({2});
    Tensor4 moved = Tensor4::from_shape({2, 2, 3, 3});
    const Tensor4 taken = std::move(moved);
    const Tensor4 into_moved =
        cnn::batch_norm_fast_backward(dy, r.xhat, r.inv_std, w.gamma, dg1, db1, std::move(moved));
    const Tensor4 into_new =
        cnn::batch_norm_fast_backward(dy, r.xhat, r.inv_std, w.gamma, dg2, db2, Tensor4());
    CHECK(cnn::testing::same_values(into_moved, into_new));

    Tensor4 t = Tensor4::from_shape({1, 1, 2, 2});
    const Tensor4 xhat = xt::zeros<float>({1, 1, 2, 2});
    Tensor1 g = xt::ones<float>({1}), dg = xt::zeros<float>({1}), db = xt::zeros<float>({1});
    CHECK_THROWS_WITH_AS(
        cnn::batch_norm_fast_backward(t, xhat, g, g, dg, db, std::move(t)),
        doctest::Contains("batch_norm_fast_backward: memory for dx must be another tensor than dy"),
        std::invalid_argument);
}

TEST_CASE("batch_norm_fast: the same errors as ops/batch_norm.hpp") {
    cnn::Rng rng(10);
    const Weights w = random_weights(3, rng);
    const Tensor4 x = random_input({2, 3, 2, 2}, rng);
    const Tensor1 two{1.0f, 1.0f};
    CHECK_THROWS_WITH_AS(cnn::batch_norm_fast_forward(x, two, w.beta, 1e-3f),
                         "batch_norm_forward: expected gamma of 3 values, one per channel of "
                         "(2, 3, 2, 2), got 2",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        cnn::batch_norm_fast_forward(Tensor4::from_shape({0, 3, 2, 2}), w.gamma, w.beta, 1e-3f),
        doctest::Contains("expected at least one value per channel"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::batch_norm_fast_inference_forward(x, w.gamma, w.beta, w.moving, 0.0f),
                         doctest::Contains("batch_norm_inference_forward: expected a finite "
                                           "epsilon > 0"),
                         std::invalid_argument);
    const cnn::BatchNormResult r = cnn::batch_norm_fast_forward(x, w.gamma, w.beta, 1e-3f);
    Tensor1 dgamma = xt::zeros<float>({3}), dbeta = xt::zeros<float>({3}), wrong = two;
    CHECK_THROWS_WITH_AS(cnn::batch_norm_fast_backward(random_input({1, 3, 2, 2}, rng), r.xhat,
                                                       r.inv_std, w.gamma, dgamma, dbeta),
                         doctest::Contains("batch_norm_backward: dy (1, 3, 2, 2) does not match"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        cnn::batch_norm_fast_inference_backward(x, x, w.gamma, w.moving, 1e-3f, wrong, dbeta),
        "batch_norm_inference_backward: expected dgamma and dbeta of 3 values, got 2 and 3",
        std::invalid_argument);
}

TEST_CASE("batch_norm_fast inference: y written into the memory handed in, any shape of it") {
    cnn::Rng rng(41);
    const Weights w = random_weights(3, rng);
    const Tensor4 x = random_input({2, 3, 4, 4}, rng);  // 96 values
    const Tensor4 expected =
        cnn::batch_norm_fast_inference_forward(x, w.gamma, w.beta, w.moving, 1e-3f);
    CHECK(relative_diff(expected,
                        cnn::batch_norm_inference_forward(x, w.gamma, w.beta, w.moving, 1e-3f)) <
          tolerance);
    // As many values in another shape: the storage is kept, the shape becomes x's.
    for (const std::array<std::size_t, 4>& shape :
         std::vector<std::array<std::size_t, 4>>{{2, 3, 4, 4}, {4, 2, 3, 4}}) {
        Tensor4 memory = Tensor4::from_shape(shape);
        const float* storage = memory.data();
        const Tensor4 y = cnn::batch_norm_fast_inference_forward(x, w.gamma, w.beta, w.moving,
                                                                 1e-3f, std::move(memory));
        CHECK(y.data() == storage);
        CHECK(y == expected);
    }
    // Another number of values: new storage, the same y.
    CHECK(cnn::batch_norm_fast_inference_forward(x, w.gamma, w.beta, w.moving, 1e-3f,
                                                 Tensor4::from_shape({1, 1, 2, 2})) == expected);
    Tensor4 same = x;
    CHECK_THROWS_WITH_AS(cnn::batch_norm_fast_inference_forward(same, w.gamma, w.beta, w.moving,
                                                                1e-3f, std::move(same)),
                         "batch_norm_fast_inference_forward: memory for y must be another tensor "
                         "than x, which y is computed from",
                         std::invalid_argument);
}

TEST_CASE("batch_norm_fast inference: no digits lost when the mean is large against the spread") {
    // A channel of values 100 +- 0.1 (moving mean 100, variance 0.01): y = (x - mean) scale +
    // beta subtracts first, exactly; y = scale x + (beta - scale mean) would cancel two numbers
    // near 1000 and keep about four digits of a y near 1. The reference subtracts first too.
    cnn::Rng rng(43);
    Tensor4 x = cnn::testing::random_tensor<4>({4, 1, 6, 6}, rng);
    x = 100.0f + 0.1f * x;
    const Tensor1 gamma{1.0f}, beta{0.25f};
    const cnn::BatchNormStatistics moving{Tensor1{100.0f}, Tensor1{0.01f}};
    const Tensor4 fast = cnn::batch_norm_fast_inference_forward(x, gamma, beta, moving, 1e-3f);
    const Tensor4 plain = cnn::batch_norm_inference_forward(x, gamma, beta, moving, 1e-3f);
    CHECK(cnn::testing::max_abs_diff(fast, plain) < 1e-5);  // folded: about 6e-5
}
