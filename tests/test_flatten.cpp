#include <algorithm>
#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/layers/dense.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/softmax.hpp"
#include "test_support.hpp"

TEST_CASE("Flatten keeps the numbers in order, moves no data, and restores the shape") {
    cnn::Flatten flatten;
    cnn::Rng rng(1);
    CHECK(flatten.build({3, 4, 5}, rng) == cnn::Shape{60});
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 4, 5}, rng);
    cnn::Tensor4 moved = x;
    const float* storage = moved.data();
    const cnn::Tensor4 y = flatten.forward(std::move(moved));
    CHECK(y.shape() == std::array<std::size_t, 4>{2, 60, 1, 1});
    CHECK(y.data() == storage);  // the same buffer, relabelled
    CHECK(std::equal(x.begin(), x.end(), y.begin()));
    CHECK(cnn::testing::max_abs_diff(flatten.backward(y), x) == 0);
    CHECK_THROWS_AS(flatten.backward(xt::ones<float>({2, 59, 1, 1})), std::invalid_argument);
    CHECK(cnn::testing::check_layer_gradients(flatten, x, rng) == 0);
}

TEST_CASE("layers with an activation apply it, and a softmax layer gives probabilities") {
    cnn::Rng rng(2);
    cnn::Dense dense = cnn::Dense(3).activation("relu");
    dense.build({4}, rng);
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({5, 4, 1, 1}, rng);
    CHECK(xt::amin(dense.forward(x))() >= 0.0f);
    cnn::Softmax softmax;
    softmax.build({3}, rng);
    const cnn::Tensor4 p = softmax.forward(cnn::Tensor4{{{{1}}, {{2}}, {{3}}}});
    CHECK(p(0, 2, 0, 0) == doctest::Approx(0.66524096));  // e^3 / (e + e^2 + e^3)
    CHECK(softmax.forward(cnn::Tensor4{{{{1}}, {{2}}, {{3}}}}, false, false)(0, 2, 0, 0) == 3.0f);
    CHECK_THROWS_AS(softmax.backward(p), std::logic_error);
    // The logits' gradient passes through a softmax layer unchanged (the fused loss owns it).
    const cnn::Tensor4 g = {{{{0.1f}}, {{-0.2f}}, {{0.1f}}}};
    CHECK(cnn::testing::max_abs_diff(softmax.backward_from_logits(g), g) == 0);
    CHECK_THROWS_WITH_AS(softmax.build({3, 2, 2}, rng), doctest::Contains("expected input (None, K)"),
                         std::invalid_argument);
}
