// Tests of ops/subsample.hpp: subsample() on numbers by hand, and the claim of chapter 09's
// section on stride: a stride-S convolution is the stride-1 convolution with the same padding,
// sampled every S rows and columns; with Keras's 'same' padding, sampled from an offset.
#include <array>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/ops/conv2d_naive.hpp"
#include "cnn/ops/subsample.hpp"
#include "test_support.hpp"

using cnn::Tensor1;
using cnn::Tensor4;

TEST_CASE("subsample: every s-th value from an offset, by hand") {
    // One 4x5 map holding 10 r + c at row r, column c.
    Tensor4 x = Tensor4::from_shape({1, 1, 4, 5});
    for (std::size_t r = 0; r < 4; ++r) {
        for (std::size_t c = 0; c < 5; ++c) {
            x(0, 0, r, c) = static_cast<float>(10 * r + c);
        }
    }
    // Rows 0, 2; columns 0, 2, 4 (ceil(5 / 2) = 3 of them).
    const Tensor4 even = cnn::subsample(x, 2, 2);
    REQUIRE(even.shape() == std::array<std::size_t, 4>{1, 1, 2, 3});
    CHECK(even == Tensor4{{{{0, 2, 4}, {20, 22, 24}}}});
    // From row 1 and column 1, every 3rd row and 2nd column: rows 1; columns 1, 3.
    const Tensor4 offset = cnn::subsample(x, 3, 2, 1, 1);
    REQUIRE(offset.shape() == std::array<std::size_t, 4>{1, 1, 1, 2});
    CHECK(offset == Tensor4{{{{11, 13}}}});
    CHECK(cnn::subsample(x, 1, 1) == x);
    CHECK_THROWS_WITH_AS(cnn::subsample(x, 0, 2),
                         "subsample: expected strides >= 1 and offsets inside the 4x5 maps of "
                         "(1, 1, 4, 5), got strides 0x2 and offsets 0x0",
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::subsample(x, 2, 2, 4, 0), std::invalid_argument);
}

TEST_CASE("a stride-S convolution is the stride-1 convolution, subsampled (same padding)") {
    struct Case {
        std::array<std::size_t, 4> x, w;  // (N, C, H, W) and (FN, C, FH, FW)
        std::size_t sr, sc;               // strides
        cnn::AxisPadding pr, pc;          // padding (before, after) on rows and columns
    };
    const std::vector<Case> cases = {
        {{2, 3, 9, 9}, {4, 3, 3, 3}, 2, 2, {0, 0}, {0, 0}},   // 'valid', batch and channels
        {{1, 2, 10, 11}, {3, 2, 3, 3}, 3, 2, {1, 1}, {1, 1}},  // padding, unequal strides
        {{2, 1, 8, 8}, {2, 1, 2, 2}, 2, 2, {0, 0}, {0, 0}},   // even kernel, tiling windows
        {{1, 2, 7, 7}, {2, 2, 4, 4}, 2, 3, {1, 2}, {2, 1}},   // asymmetric padding
    };
    cnn::Rng rng(3);
    for (const Case& k : cases) {
        const Tensor4 x = cnn::testing::random_tensor<4>(k.x, rng);
        const Tensor4 w = cnn::testing::random_tensor<4>(k.w, rng);
        const Tensor1 b = cnn::testing::random_tensor<1>({k.w[0]}, rng);
        cnn::Conv2DGeometry strided, dense;
        strided.stride_rows = k.sr;
        strided.stride_cols = k.sc;
        strided.pad_rows = dense.pad_rows = k.pr;
        strided.pad_cols = dense.pad_cols = k.pc;
        const Tensor4 direct = cnn::conv2d_naive_forward(x, w, b, strided);
        const Tensor4 sampled =
            cnn::subsample(cnn::conv2d_naive_forward(x, w, b, dense), k.sr, k.sc);
        REQUIRE(sampled.shape() == direct.shape());
        CHECK(sampled == direct);  // the same sums in the same order: equal to the last bit
    }
}

TEST_CASE("Keras 'same' with stride 2 samples the stride-1 'same' output from row and column 1") {
    // On 8x8 with a 3x3 kernel, 'same' pads 1 and 1 for stride 1 but 0 and 1 for stride 2, so
    // output row i of the strided convolution is row 2i + 1 of the stride-1 one.
    cnn::Rng rng(5);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 2, 8, 8}, rng);
    const Tensor4 w = cnn::testing::random_tensor<4>({3, 2, 3, 3}, rng);
    const Tensor1 b = cnn::testing::random_tensor<1>({3}, rng);
    const auto same = [](std::size_t stride) {
        return cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 8, 8, 3, 3, stride, stride);
    };
    const Tensor4 direct = cnn::conv2d_naive_forward(x, w, b, same(2));
    const Tensor4 stride1 = cnn::conv2d_naive_forward(x, w, b, same(1));
    CHECK(cnn::subsample(stride1, 2, 2, 1, 1) == direct);
    CHECK_FALSE(cnn::subsample(stride1, 2, 2) == direct);  // from row 0 it is another map
}
