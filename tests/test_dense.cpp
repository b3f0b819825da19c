#include <doctest/doctest.h>

#include "cnn/check/gradient_check.hpp"
#include "cnn/layers/dense.hpp"
#include "test_support.hpp"

using cnn::Tensor1;
using cnn::Tensor2;

TEST_CASE("dense_forward: y = x w + b on a case computed by hand") {
    const Tensor2 x = {{1, 2}, {3, 4}};
    const Tensor2 w = {{1, 0, -1}, {2, 1, 0}};
    const Tensor1 b = {0.5f, -1, 2};
    // Row 0: [1*1 + 2*2 + 0.5, 1*0 + 2*1 - 1, 1*(-1) + 2*0 + 2] = [5.5, 1, 1]
    // Row 1: [3*1 + 4*2 + 0.5, 3*0 + 4*1 - 1, 3*(-1) + 4*0 + 2] = [11.5, 3, -1]
    const Tensor2 expected = {{5.5f, 1, 1}, {11.5f, 3, -1}};
    CHECK(cnn::testing::max_abs_diff(cnn::dense_forward(x, w, b), expected) == 0.0);
}

TEST_CASE("dense_backward: gradients computed by hand, and they accumulate") {
    const Tensor2 x = {{1, 2}, {3, 4}};
    const Tensor2 w = {{1, 0, -1}, {2, 1, 0}};
    const Tensor2 dy = xt::ones<float>({2, 3});
    Tensor2 dw = xt::zeros<float>({2, 3});
    Tensor1 db = xt::zeros<float>({3});
    const Tensor2 dx = cnn::dense_backward(dy, x, w, dw, db);
    // dw = x^T dy: each column holds the column sums of x, [1 + 3, 2 + 4] = [4, 6].
    CHECK(cnn::testing::max_abs_diff(dw, Tensor2{{4, 4, 4}, {6, 6, 6}}) == 0.0);
    // db = column sums of dy = [2, 2, 2]; dx = dy w^T: row sums of w, [0, 3], in every row.
    CHECK(cnn::testing::max_abs_diff(db, Tensor1{2, 2, 2}) == 0.0);
    CHECK(cnn::testing::max_abs_diff(dx, Tensor2{{0, 3}, {0, 3}}) == 0.0);
    // A second backward pass adds the same again: gradients accumulate until zeroed.
    cnn::dense_backward(dy, x, w, dw, db);
    CHECK(cnn::testing::max_abs_diff(dw, Tensor2{{8, 8, 8}, {12, 12, 12}}) == 0.0);
}

//! [dense_gradient_check]
TEST_CASE("Dense: numerical gradient check of W, b and x") {
    for (const auto& [n, d, m] : {std::array<std::size_t, 3>{1, 1, 1}, {3, 5, 4}, {8, 13, 7}}) {
        CAPTURE(n);
        CAPTURE(d);
        CAPTURE(m);
        cnn::Rng rng(7 + n);
        cnn::Dense layer({d, m, cnn::Init::glorot_uniform, "dense"}, rng);
        Tensor2 x = cnn::testing::random_tensor<2>({n, d}, rng);
        const Tensor2 r = cnn::testing::random_tensor<2>({n, m}, rng);  // L = sum(y * r)
        const auto loss = [&] { return cnn::testing::dot(layer.forward(x), r); };

        std::vector<cnn::Parameter> params = layer.parameters();
        cnn::zero_gradients(params);
        layer.forward(x);
        const Tensor2 dx = layer.backward(r);
        for (const cnn::Parameter& p : params) {
            const cnn::GradientCheckResult result = cnn::check_gradient(p, loss);
            CHECK_MESSAGE(result.passed(), result.summary());
        }
        const cnn::GradientCheckResult result_x =
            cnn::check_gradient("dx", loss, x.data(), dx.data(), x.size());
        CHECK_MESSAGE(result_x.passed(), result_x.summary());
    }
}
//! [dense_gradient_check]

TEST_CASE("Dense: a wrong gradient fails the check") {
    cnn::Rng rng(3);
    cnn::Dense layer({4, 3, cnn::Init::he_normal, "dense"}, rng);
    const Tensor2 x = cnn::testing::random_tensor<2>({2, 4}, rng);
    const Tensor2 r = cnn::testing::random_tensor<2>({2, 3}, rng);
    const auto loss = [&] { return cnn::testing::dot(layer.forward(x), r); };
    std::vector<cnn::Parameter> params = layer.parameters();
    cnn::zero_gradients(params);
    layer.forward(x);
    layer.backward(r);
    params[0].grad[5] += 0.05f;  // a 5% slip in one weight's derivative of size ~1
    CHECK_FALSE(cnn::check_gradient(params[0], loss).passed());
}

TEST_CASE("Dense: parameter count and shape errors") {
    CHECK(cnn::dense_parameter_count(784, 256) == 200960);  // 784 * 256 + 256
    cnn::Rng rng(1);
    cnn::Dense layer({784, 256, cnn::Init::he_normal, "dense_1"}, rng);
    CHECK(layer.parameter_count() == 200960);
    const Tensor2 wrong = xt::zeros<float>({2, 100});
    CHECK_THROWS_WITH_AS(layer.forward(wrong),
                         doctest::Contains("expected input (N, 784), got (2, 100)"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::Dense({0, 3, cnn::Init::he_normal, "d"}, rng), std::invalid_argument);
}
