#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/check/gradient_check.hpp"
#include "cnn/losses/mean_squared_error.hpp"
#include "test_support.hpp"

TEST_CASE("mean_squared_error: by hand, and checked numerically") {
    const cnn::Tensor1 y = {1, 2, 3};
    const cnn::Tensor1 t = {1, 1, 1};
    CHECK(cnn::mean_squared_error_forward(y, t) == doctest::Approx(5.0 / 3.0));  // (0 + 1 + 4) / 3
    const cnn::Tensor1 g = cnn::mean_squared_error_backward(y, t);                // 2/3 * (0, 1, 2)
    CHECK(cnn::testing::max_abs_diff(g, cnn::Tensor1{0, 2.0f / 3, 4.0f / 3}) < 1e-6);

    cnn::Rng rng(2);
    cnn::Tensor2 p = cnn::testing::random_tensor<2>({3, 4}, rng);
    const cnn::Tensor2 target = cnn::testing::random_tensor<2>({3, 4}, rng);
    const cnn::Tensor2 grad = cnn::mean_squared_error_backward(p, target);
    const auto result = cnn::check_gradient(
        "dy", [&] { return cnn::mean_squared_error_forward(p, target); }, p.data(), grad.data(),
        p.size());
    CHECK_MESSAGE(result.passed(), result.summary());
    CHECK_THROWS_AS(cnn::mean_squared_error_forward(y, cnn::Tensor1{1, 2}), std::invalid_argument);
}
