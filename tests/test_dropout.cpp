#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/layers/dropout.hpp"
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
