#include <doctest/doctest.h>

#include "cnn/ops/conv2d_im2col.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "conv2d_fixtures.hpp"
#include "test_support.hpp"

using cnn::Conv2DGeometry;
using cnn::Tensor1;
using cnn::Tensor4;
using cnn::testing::max_abs_diff;
using cnn::testing::relative_diff;

TEST_CASE("im2col convolution equals the naive loops on random geometries, forward, backward and each half of backward") {
    cnn::Rng rng(12);
    for (int trial = 0; trial < 40; ++trial) {
        // Random sizes, kernels (odd, even, non-square), strides, paddings (also asymmetric),
        // batch and channels; 'same' on every fourth trial.
        const std::size_t n = 1 + rng.below(3), c = 1 + rng.below(4), fn = 1 + rng.below(4);
        const std::size_t fh = 1 + rng.below(4), fw = 1 + rng.below(4);
        const std::size_t h = fh + rng.below(6), w = fw + rng.below(6);
        Conv2DGeometry g;
        g.stride_rows = 1 + rng.below(3);
        g.stride_cols = 1 + rng.below(3);
        g.pad_rows = {rng.below(3), rng.below(3)};
        g.pad_cols = {rng.below(3), rng.below(3)};
        if (trial % 4 == 0) {
            g = Conv2DGeometry::keras(cnn::PaddingMode::same, h, w, fh, fw, g.stride_rows, g.stride_cols);
        }
        CAPTURE(trial);
        const Tensor4 x = cnn::testing::random_tensor<4>({n, c, h, w}, rng);
        const Tensor4 k = cnn::testing::random_tensor<4>({fn, c, fh, fw}, rng);
        const Tensor1 b = cnn::testing::random_tensor<1>({fn}, rng);
        const Tensor4 y_naive = cnn::conv2d_naive_forward(x, k, b, g);
        const Tensor4 y_fast = cnn::conv2d_im2col_forward(x, k, b, g);
        CHECK(relative_diff(y_fast, y_naive) < 1e-5);

        const Tensor4 dy = cnn::testing::random_tensor<4>(cnn::conv2d_output_shape(x, k, g), rng);
        Tensor4 dw1 = xt::zeros<float>(k.shape()), dw2 = dw1;
        Tensor1 db1 = xt::zeros<float>({fn}), db2 = db1;
        const Tensor4 dx1 = cnn::conv2d_naive_backward(dy, x, k, g, dw1, db1);
        const Tensor4 dx2 = cnn::conv2d_im2col_backward(dy, x, k, g, dw2, db2);
        CHECK(relative_diff(dx2, dx1) < 1e-5);
        CHECK(relative_diff(dw2, dw1) < 1e-5);
        CHECK(max_abs_diff(db2, db1) < 1e-4);
        // Each half alone, as chapter 11's Conv2DTranspose asks for them: the same values.
        CHECK(relative_diff(cnn::conv2d_im2col_backward_input(dy, k, {n, c, h, w}, g), dx1) < 1e-5);
        Tensor4 dw3 = xt::zeros<float>(k.shape());
        Tensor1 db3 = xt::zeros<float>({fn});
        cnn::conv2d_im2col_backward_weights(dy, x, k, g, dw3, db3);
        CHECK(relative_diff(dw3, dw1) < 1e-5);
        CHECK(max_abs_diff(db3, db1) < 1e-4);
    }
}

TEST_CASE("im2col convolution: agrees with PyTorch, and passes the numerical gradient check") {
    cnn::testing::check_against_conv2d_fixtures(cnn::conv2d_im2col_forward,
                                                cnn::conv2d_im2col_backward, /*numerical=*/true);
}

TEST_CASE("im2col convolution: each half of backward rejects shapes that do not fit") {
    cnn::Rng rng(13);
    const Conv2DGeometry g;  // stride 1, no padding: (2, 1, 5, 5) * (3, 1, 3, 3) is (2, 3, 3, 3)
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 1, 5, 5}, rng);
    const Tensor4 k = cnn::testing::random_tensor<4>({3, 1, 3, 3}, rng);
    const Tensor4 wrong_dy = cnn::testing::random_tensor<4>({2, 3, 4, 4}, rng);
    Tensor4 dw = xt::zeros<float>(k.shape());
    Tensor1 db = xt::zeros<float>({3});
    CHECK_THROWS_WITH_AS(cnn::conv2d_im2col_backward_input(wrong_dy, k, {2, 1, 5, 5}, g),
                         doctest::Contains("expected dy (2, 3, 3, 3)"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::conv2d_im2col_backward_input(wrong_dy, k, {2, 2, 5, 5}, g),
                         doctest::Contains("channels"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::conv2d_im2col_backward_weights(wrong_dy, x, k, g, dw, db),
                         doctest::Contains("expected dy (2, 3, 3, 3)"), std::invalid_argument);
}
