#include <doctest/doctest.h>

#include "cnn/check/gradient_check.hpp"
#include "cnn/model/mlp.hpp"
#include "test_support.hpp"

TEST_CASE("Mlp: parameter count of chapter 01's network, by hand") {
    cnn::Rng rng(1);
    cnn::Mlp mlp({784, {256, 128}, 10}, rng);
    // (784 + 1) * 256 + (256 + 1) * 128 + (128 + 1) * 10 = 200,960 + 32,896 + 1,290
    CHECK(mlp.parameter_count() == 235146);
    CHECK(cnn::count_values(mlp.parameters()) == 235146);
    CHECK(mlp.parameters().size() == 6);
    CHECK(mlp.parameters()[4].name == "dense_3/kernel");
}

TEST_CASE("Mlp: every parameter passes the numerical gradient check") {
    cnn::Rng rng(21);
    cnn::Mlp mlp({6, {5, 4}, 3}, rng);
    const cnn::Tensor2 x = cnn::testing::random_tensor<2>({4, 6}, rng);
    const cnn::Tensor2 r = cnn::testing::random_tensor<2>({4, 3}, rng);
    const auto loss = [&] { return cnn::testing::dot(mlp.forward(x), r); };
    const std::vector<cnn::Parameter> params = mlp.parameters();
    cnn::zero_gradients(params);
    mlp.forward(x);
    mlp.backward(r);
    for (const cnn::Parameter& p : params) {
        // A smaller nudge: a hidden pre-activation within epsilon of 0 would cross ReLU's kink.
        const auto result = cnn::check_gradient(p, loss, {1e-3, 1e-2});
        CHECK_MESSAGE(result.passed(), result.summary());
    }
}
