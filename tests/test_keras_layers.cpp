#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/model/keras_layers.hpp"
#include "test_support.hpp"

using namespace cnn::keras;

TEST_CASE("Flatten keeps the numbers in order and restores the shape on the way back") {
    Flatten flatten;
    cnn::Rng rng(1);
    CHECK(flatten.build({3, 4, 5}, rng) == cnn::Shape{60});
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 4, 5}, rng);
    const cnn::Tensor4 y = flatten.forward(x, false);
    CHECK(y.shape() == std::array<std::size_t, 4>{2, 60, 1, 1});
    CHECK(std::equal(x.begin(), x.end(), y.begin()));
    CHECK(cnn::testing::max_abs_diff(flatten.backward(y), x) == 0);
}

TEST_CASE("layers with an activation apply it, and a softmax layer gives probabilities") {
    cnn::Rng rng(2);
    Dense dense(3);
    dense.activation("relu");
    dense.set_name("dense");
    dense.build({4}, rng);
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({5, 4, 1, 1}, rng);
    CHECK(xt::amin(dense.forward(x, false))() >= 0.0f);
    Softmax softmax;
    softmax.build({3}, rng);
    const cnn::Tensor4 p = softmax.forward(cnn::Tensor4{{{{1}}, {{2}}, {{3}}}}, false);
    CHECK(p(0, 2, 0, 0) == doctest::Approx(0.66524096));  // e^3 / (e + e^2 + e^3)
    CHECK(softmax.forward(cnn::Tensor4{{{{1}}, {{2}}, {{3}}}}, false, false)(0, 2, 0, 0) == 3.0f);
    CHECK_THROWS_AS(softmax.backward(p), std::logic_error);
    CHECK_THROWS_AS(Dropout(1.5f), std::invalid_argument);
    CHECK_THROWS_WITH_AS(MaxPooling2D(2).padding("full"), doctest::Contains("expected 'valid' or 'same'"),
                         std::invalid_argument);
}
