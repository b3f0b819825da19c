#include <stdexcept>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "cnn/check/gradient_check.hpp"
#include "cnn/ops/correlate2d.hpp"
#include "test_support.hpp"

using cnn::Tensor2;
using cnn::testing::max_abs_diff;

TEST_CASE("correlate2d_forward: the worked example of Deep Learning from Scratch, with bias") {
    // Saito, "Deep Learning from Scratch" (2016), figures 7-4 and 7-5.
    const Tensor2 x = {{1, 2, 3, 0}, {0, 1, 2, 3}, {3, 0, 1, 2}, {2, 3, 0, 1}};
    const Tensor2 k = {{2, 0, 1}, {0, 1, 2}, {1, 0, 2}};
    CHECK(max_abs_diff(cnn::correlate2d_forward(x, k), Tensor2{{15, 16}, {6, 15}}) == 0);
    CHECK(max_abs_diff(cnn::correlate2d_forward(x, k, 3), Tensor2{{18, 19}, {9, 18}}) == 0);
}

TEST_CASE("correlate2d_forward: an even kernel and an edge detector, from Dive into Deep Learning") {
    // Zhang et al., "Dive into Deep Learning", section 7.2 (Convolutions for Images):
    // corr2d(X, K) with X = 0..8 as 3x3 and K = [[0, 1], [2, 3]] is [[19, 25], [37, 43]].
    const Tensor2 x = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}};
    CHECK(max_abs_diff(cnn::correlate2d_forward(x, Tensor2{{0, 1}, {2, 3}}),
                       Tensor2{{19, 25}, {37, 43}}) == 0);
    // The same section's edge example: a 6x8 image of ones with columns 2..5 set to 0, and
    // K = [[1, -1]], gives 1 in column 1 and -1 in column 5 of every row.
    Tensor2 img = xt::ones<float>({6, 8});
    xt::view(img, xt::all(), xt::range(2, 6)) = 0.0f;
    const Tensor2 y = cnn::correlate2d_forward(img, Tensor2{{1, -1}});
    REQUIRE(y.shape(1) == 7);
    for (std::size_t i = 0; i < 6; ++i) {
        for (std::size_t j = 0; j < 7; ++j) {
            CHECK(y(i, j) == (j == 1 ? 1.0f : j == 5 ? -1.0f : 0.0f));
        }
    }
}

TEST_CASE("convolve2d flips the kernel: by hand, and against correlation with flip2d") {
    const Tensor2 x = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};
    const Tensor2 k = {{1, 2}, {3, 4}};
    // y(0, 0) = 1*4 + 2*3 + 4*2 + 5*1 = 23, and so on (the 'valid' convolution of x and k).
    CHECK(max_abs_diff(cnn::convolve2d(x, k), Tensor2{{23, 33}, {53, 63}}) == 0);
    // Cross-correlation: 1*1 + 2*2 + 4*3 + 5*4 = 37.
    CHECK(cnn::correlate2d_forward(x, k)(0, 0) == 37);
    CHECK(max_abs_diff(cnn::flip2d(k), Tensor2{{4, 3}, {2, 1}}) == 0);

    cnn::Rng rng(4);
    const Tensor2 big = cnn::testing::random_tensor<2>({9, 7}, rng);
    const Tensor2 kernel = cnn::testing::random_tensor<2>({3, 2}, rng);
    CHECK(max_abs_diff(cnn::convolve2d(big, kernel, 0.5f),
                       cnn::correlate2d_forward(big, cnn::flip2d(kernel), 0.5f)) < 1e-6);
    CHECK(max_abs_diff(cnn::flip2d(cnn::flip2d(kernel)), kernel) == 0);
}

TEST_CASE("correlate2d: the bias is added once to every output, and db is the sum of dy") {
    cnn::Rng rng(5);
    const Tensor2 x = cnn::testing::random_tensor<2>({5, 6}, rng);
    const Tensor2 k = cnn::testing::random_tensor<2>({2, 3}, rng);
    const Tensor2 shifted = cnn::correlate2d_forward(x, k, 2.5f) - cnn::correlate2d_forward(x, k);
    CHECK(xt::amax(xt::abs(shifted - 2.5f))() < 1e-6);
    const Tensor2 dy = cnn::testing::random_tensor<2>({4, 4}, rng);
    Tensor2 dk = xt::zeros<float>({2, 3});
    float db = 0.0f;
    cnn::correlate2d_backward(dy, x, k, dk, db);
    CHECK(db == doctest::Approx(xt::sum(dy)()));
}

TEST_CASE("correlate2d_backward: numerical gradient check on odd, even and non-square kernels") {
    struct Shape {
        std::size_t h, w, fh, fw;
    };
    for (const Shape s : {Shape{5, 5, 3, 3}, Shape{6, 7, 2, 4}, Shape{4, 4, 1, 1},
                          Shape{3, 8, 3, 8}, Shape{7, 5, 4, 2}}) {
        CAPTURE(s.h);
        CAPTURE(s.w);
        CAPTURE(s.fh);
        CAPTURE(s.fw);
        cnn::Rng rng(s.h * 10 + s.fw);
        Tensor2 x = cnn::testing::random_tensor<2>({s.h, s.w}, rng);
        Tensor2 k = cnn::testing::random_tensor<2>({s.fh, s.fw}, rng);
        float b = 0.3f;
        const Tensor2 r = cnn::testing::random_tensor<2>({s.h - s.fh + 1, s.w - s.fw + 1}, rng);
        const auto loss = [&] { return cnn::testing::dot(cnn::correlate2d_forward(x, k, b), r); };

        Tensor2 dk = xt::zeros<float>(k.shape());
        float db = 0.0f;
        const Tensor2 dx = cnn::correlate2d_backward(r, x, k, dk, db);
        for (const auto& result :
             {cnn::check_gradient("dx", loss, x.data(), dx.data(), x.size()),
              cnn::check_gradient("dk", loss, k.data(), dk.data(), k.size()),
              cnn::check_gradient("db", loss, &b, &db, 1)}) {
            CHECK_MESSAGE(result.passed(), result.summary());
        }
        // And the check notices a wrong gradient.
        dk(0, 0) += 0.1f;
        CHECK_FALSE(cnn::check_gradient("dk", loss, k.data(), dk.data(), k.size()).passed());
    }
}

TEST_CASE("correlate2d_backward accumulates into dk and db") {
    const Tensor2 x = {{1, 2}, {3, 4}};
    const Tensor2 k = {{1}};
    Tensor2 dk = {{10}};
    float db = 1.0f;
    const Tensor2 dx = cnn::correlate2d_backward(Tensor2{{1, 1}, {1, 1}}, x, k, dk, db);
    CHECK(dk(0, 0) == 20);  // 10 + (1 + 2 + 3 + 4)
    CHECK(db == 5);         // 1 + 4
    CHECK(max_abs_diff(dx, Tensor2{{1, 1}, {1, 1}}) == 0);
}

TEST_CASE("correlate2d: a kernel larger than the input is an error that names both shapes") {
    const Tensor2 x = xt::zeros<float>({3, 4});
    CHECK_THROWS_WITH_AS(cnn::correlate2d_forward(x, xt::zeros<float>({4, 2})),
                         doctest::Contains("(H, W) = (3, 4), got kernel (4, 2)"),
                         std::invalid_argument);
    Tensor2 dk = xt::zeros<float>({2, 2});
    float db = 0;
    CHECK_THROWS_WITH_AS(cnn::correlate2d_backward(xt::zeros<float>({3, 3}), x,
                                                   xt::zeros<float>({2, 2}), dk, db),
                         doctest::Contains("expected dy (2, 3)"), std::invalid_argument);
}
