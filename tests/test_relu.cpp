#include <doctest/doctest.h>

#include "cnn/check/gradient_check.hpp"
#include "cnn/layers/relu.hpp"
#include "cnn/ops/relu.hpp"
#include "test_support.hpp"

using cnn::Tensor2;

TEST_CASE("relu: forward and backward by hand") {
    const Tensor2 x = {{-2, -0.5f, 0}, {0.5f, 2, -1}};
    CHECK(cnn::testing::max_abs_diff(cnn::relu_forward(x), Tensor2{{0, 0, 0}, {0.5f, 2, 0}}) == 0);
    const Tensor2 dy = {{1, 2, 3}, {4, 5, 6}};
    // Gradient passes where x > 0 only (and x = 0 counts as not positive).
    CHECK(cnn::testing::max_abs_diff(cnn::relu_backward(dy, x), Tensor2{{0, 0, 0}, {4, 5, 0}}) == 0);
}

TEST_CASE("relu: numerical gradient check away from the kink, ranks 2 and 4") {
    cnn::Rng rng(5);
    Tensor2 x = cnn::testing::random_tensor<2>({4, 6}, rng);
    for (float& v : x) {  // keep every input at least 0.1 from 0, where the derivative jumps
        v = v < 0 ? v - 0.1f : v + 0.1f;
    }
    const Tensor2 r = cnn::testing::random_tensor<2>({4, 6}, rng);
    const auto loss = [&] { return cnn::testing::dot(cnn::relu_forward(x), r); };
    const Tensor2 dx = cnn::relu_backward(r, x);
    const auto result = cnn::check_gradient("relu dx", loss, x.data(), dx.data(), x.size());
    CHECK_MESSAGE(result.passed(), result.summary());

    cnn::Tensor4 x4 = cnn::testing::random_tensor<4>({2, 3, 2, 2}, rng) + 2.0f;
    const cnn::Tensor4 dy4 = cnn::testing::random_tensor<4>({2, 3, 2, 2}, rng);
    CHECK(cnn::testing::max_abs_diff(cnn::relu_backward(dy4, x4), dy4) == 0);  // all positive
    CHECK_THROWS_AS(cnn::relu_backward(r, Tensor2{{1, 2}}), std::invalid_argument);
}

TEST_CASE("ReLU layer: max(x, 0) forward, the mask backward, and the gradient check") {
    cnn::Rng rng(6);
    cnn::ReLU layer;
    CHECK(layer.build({3, 2, 2}, rng) == cnn::Shape{3, 2, 2});
    CHECK(layer.parameter_count() == 0);
    const cnn::Tensor4 x = {{{{-1, 2}}, {{0.5f, -3}}}};
    CHECK(cnn::testing::max_abs_diff(layer.forward(x), cnn::Tensor4{{{{0, 2}}, {{0.5f, 0}}}}) == 0);
    CHECK(cnn::testing::max_abs_diff(layer.backward(cnn::Tensor4{{{{7, 8}}, {{9, 10}}}}),
                                     cnn::Tensor4{{{{0, 8}}, {{9, 0}}}}) == 0);
    cnn::Tensor4 away = cnn::testing::random_tensor<4>({2, 3, 2, 2}, rng);
    for (float& v : away) {  // at least 0.1 from the kink
        v = v < 0 ? v - 0.1f : v + 0.1f;
    }
    CHECK(cnn::testing::check_layer_gradients(layer, away, rng) == 0);
}
