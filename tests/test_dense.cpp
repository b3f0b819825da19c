#include <array>

#include <doctest/doctest.h>
#include <xtensor/xsort.hpp>

#include "cnn/check/gradient_check.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/ops/dense.hpp"
#include "test_support.hpp"

using cnn::Tensor1;
using cnn::Tensor2;
using cnn::Tensor4;

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
    for (const auto& size : {std::array<std::size_t, 3>{1, 1, 1}, {3, 5, 4}, {8, 13, 7}}) {
        const std::size_t n = size[0], d = size[1], m = size[2];
        CAPTURE(n);
        CAPTURE(d);
        CAPTURE(m);
        cnn::Rng rng(7 + n);
        cnn::Dense layer(m);
        layer.build({d}, rng);  // a batch of vectors (N, D) travels as (N, D, 1, 1)
        const Tensor4 x = cnn::testing::random_tensor<4>({n, d, 1, 1}, rng);
        CHECK(cnn::testing::check_layer_gradients(layer, x, rng) == 0);
    }
}
//! [dense_gradient_check]

TEST_CASE("Dense: its ReLU activation passes the gradient check too") {
    cnn::Rng rng(11);
    cnn::Dense layer = cnn::Dense(6).activation("relu");
    layer.build({5}, rng);
    // A small nudge: a pre-activation within epsilon of 0 would cross ReLU's kink.
    CHECK(cnn::testing::check_layer_gradients(layer, cnn::testing::random_tensor<4>({4, 5, 1, 1}, rng),
                                              rng, {1e-3, 1e-2}) == 0);
}

TEST_CASE("Dense: the layer computes dense_forward on a batch of vectors (N, D, 1, 1)") {
    cnn::Rng rng(2);
    cnn::Dense layer(3);
    layer.build({2}, rng);
    layer.weights() = Tensor2{{1, 0, -1}, {2, 1, 0}};
    layer.bias() = Tensor1{0.5f, -1, 2};
    const Tensor4 y = layer.forward(Tensor4{{{{1}}, {{2}}}, {{{3}}, {{4}}}});  // (2, 2, 1, 1)
    // The hand-computed case above: rows [5.5, 1, 1] and [11.5, 3, -1], as (2, 3, 1, 1).
    REQUIRE(y.shape() == std::array<std::size_t, 4>{2, 3, 1, 1});
    CHECK(cnn::testing::max_abs_diff(y, Tensor4{{{{5.5f}}, {{1}}, {{1}}}, {{{11.5f}}, {{3}}, {{-1}}}}) == 0.0);
}

TEST_CASE("Dense: a wrong gradient fails the check") {
    cnn::Rng rng(3);
    cnn::Dense layer(3);
    layer.build({4}, rng);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 4, 1, 1}, rng);
    const Tensor4 r = cnn::testing::random_tensor<4>({2, 3, 1, 1}, rng);
    const auto loss = [&] { return cnn::testing::dot(layer.forward(x), r); };
    std::vector<cnn::Parameter> params = layer.parameters();
    cnn::zero_gradients(params);
    layer.forward(x);
    layer.backward(r);
    params[0].grad[5] += 0.05f;  // a 5% slip in one weight's derivative of size ~1
    CHECK_FALSE(cnn::check_gradient(params[0], loss).passed());
}

TEST_CASE("Dense: parameter count, initialisation and shape errors") {
    CHECK(cnn::dense_parameter_count(784, 256) == 200960);  // 784 * 256 + 256
    cnn::Rng rng(1);
    cnn::Dense layer = cnn::Dense(256).activation("relu");
    layer.set_name("dense_1");
    CHECK(layer.build({784}, rng) == cnn::Shape{256});
    CHECK(layer.parameter_count() == 200960);
    CHECK(layer.parameters()[0].name == "dense_1/kernel");
    // Before a ReLU the kernel starts He-normal: variance 2 / fan-in.
    CHECK(xt::variance(layer.weights())() == doctest::Approx(2.0 / 784).epsilon(0.05));
    const Tensor4 wrong = xt::zeros<float>({2, 100, 1, 1});
    CHECK_THROWS_WITH_AS(layer.forward(wrong), doctest::Contains("Dense dense_1: expected input (None, 784), got (None, 100, 1, 1)"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::Dense(0), std::invalid_argument);
    cnn::Dense unbuilt(3);
    CHECK_THROWS_WITH_AS(unbuilt.parameters(), doctest::Contains("has not been built"), std::logic_error);
    CHECK_THROWS_WITH_AS(unbuilt.build({4, 4, 1}, rng), doctest::Contains("add Flatten() before a Dense layer"),
                         std::invalid_argument);
}
