#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/layers/dropout.hpp"
#include "cnn/ops/dropout.hpp"
#include "test_support.hpp"

TEST_CASE("dropout: drops about the rate, scales the rest, backward uses the same mask") {
    cnn::Rng rng(4);
    const cnn::Tensor4 x = xt::ones<float>({10, 10, 10, 10});
    cnn::Tensor4 mask;
    const cnn::Tensor4 y = cnn::dropout_forward(x, 0.5f, rng, mask);
    const double kept = static_cast<double>(xt::sum(xt::not_equal(y, 0.0f))()) / 10000.0;
    CHECK(kept == doctest::Approx(0.5).epsilon(0.04));  // sd of the fraction: 0.005
    CHECK(xt::amax(y)() == 2.0f);                        // kept values scaled by 1 / (1 - 0.5)
    CHECK(xt::mean(y)() == doctest::Approx(1.0).epsilon(0.04));  // the expectation is kept
    const cnn::Tensor4 dx = cnn::dropout_backward(xt::ones<float>(x.shape()), mask);
    CHECK(cnn::testing::max_abs_diff(dx, y) == 0);  // same positions, same scale
    CHECK_THROWS_AS(cnn::dropout_forward(x, 1.0f, rng, mask), std::invalid_argument);
}

TEST_CASE("Dropout layer: masks in training, passes through at inference, backward uses the mask") {
    CHECK_THROWS_AS(cnn::Dropout(1.5f), std::invalid_argument);
    CHECK_THROWS_AS(cnn::Dropout(-0.1f), std::invalid_argument);
    cnn::Rng rng(9);
    cnn::Dropout layer(0.25f);
    CHECK(layer.build({4, 5, 5}, rng) == cnn::Shape{4, 5, 5});
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({3, 4, 5, 5}, rng);
    CHECK(cnn::testing::max_abs_diff(layer.forward(x, /*training=*/false), x) == 0);
    const cnn::Tensor4 y = layer.forward(x, /*training=*/true);
    const cnn::Tensor4 dx = layer.backward(xt::ones<float>(x.shape()));
    for (std::size_t i = 0; i < x.size(); ++i) {  // dx is the mask: 0 or 1 / (1 - 0.25)
        CHECK((dx.flat(i) == 0.0f || dx.flat(i) == doctest::Approx(1.0f / 0.75f)));
        CHECK(y.flat(i) == doctest::Approx(x.flat(i) * dx.flat(i)));
    }
    cnn::Dropout unbuilt(0.5f);
    CHECK_THROWS_WITH_AS(unbuilt.forward(x, true), doctest::Contains("has not been built"), std::logic_error);
}
