#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "cnn/ops/pooling.hpp"
#include "cnn/fast/pooling_fast.hpp"
#include "test_support.hpp"

using cnn::MaxPoolResult;
using cnn::Pool2DWindow;
using cnn::Tensor4;

TEST_CASE("fast max pooling equals chapter 05's loops bit for bit, winners and ties included") {
    cnn::Rng rng(31);
    MaxPoolResult fast;  // reused across trials, as the layer reuses it
    for (int trial = 0; trial < 50; ++trial) {
        // Windows 1-3, strides 1-3 (overlapping when smaller than the window), padding below
        // the window, batches up to 6 split over 1-3 threads.
        Pool2DWindow o;
        o.window_rows = 1 + rng.below(3);
        o.window_cols = 1 + rng.below(3);
        o.geometry.stride_rows = 1 + rng.below(3);
        o.geometry.stride_cols = 1 + rng.below(3);
        o.geometry.pad_rows = {rng.below(o.window_rows), rng.below(o.window_rows)};
        o.geometry.pad_cols = {rng.below(o.window_cols), rng.below(o.window_cols)};
        o.geometry.policy = cnn::SizePolicy::floor;
        const std::size_t n = 1 + rng.below(6), c = 1 + rng.below(3);
        const std::size_t h = o.window_rows + rng.below(6), w = o.window_cols + rng.below(6);
        Tensor4 x = cnn::testing::random_tensor<4>({n, c, h, w}, rng);
        if (trial % 3 == 0) {
            for (float& v : x) {
                v = std::round(v);  // many ties: the first maximum must win in both
            }
        }
        const std::size_t threads = 1 + rng.below(3);
        CAPTURE(trial);
        CAPTURE(threads);

        const MaxPoolResult slow = cnn::max_pool2d_forward(x, o);
        cnn::max_pool2d_fast_forward(x, o, fast, threads);
        CHECK(fast.y == slow.y);
        CHECK(fast.winner == slow.winner);

        const Tensor4 dy = cnn::testing::random_tensor<4>(cnn::pool2d_output_shape(x, o), rng);
        const std::array<std::size_t, 4> shape = {n, c, h, w};
        CHECK(cnn::max_pool2d_fast_backward(dy, fast.winner, shape, threads) ==
              cnn::max_pool2d_backward(dy, slow.winner, shape));
    }
}

TEST_CASE("fast max pooling: the unrolled 2x2 windows equal chapter 05's loops, ties and NaN included") {
    // The seed model's pooling (2x2, stride 2, 'valid', also on an odd size whose last row is
    // dropped), overlapping 2x2 windows with stride 1, and a 'same' case whose last windows are
    // cut by the edge, which takes the general loops. Size 35 gives rows of 17 or more windows:
    // more than the vector loop compares at once (16 with AVX-512, 8 without), with ties and NaN
    // past the first 16.
    cnn::Rng rng(32);
    MaxPoolResult fast;
    for (const std::size_t stride : {2, 1}) {
        for (const std::size_t size : {6, 7, 35}) {
            for (const bool same : {false, true}) {
                Pool2DWindow o;
                o.geometry.stride_rows = o.geometry.stride_cols = stride;
                o.geometry.policy = cnn::SizePolicy::floor;
                if (same && size % 2 == 1 && stride == 2) {
                    o.geometry.pad_rows = o.geometry.pad_cols = {0, 1};
                }
                CAPTURE(stride);
                CAPTURE(size);
                CAPTURE(same);
                Tensor4 x = cnn::testing::random_tensor<4>({3, 2, size, size + 1}, rng);
                for (float& v : x) {
                    v = std::round(v);  // ties
                }
                x(1, 0, 0, 1) = std::nanf("");  // a NaN never wins: '>' is false for it
                x(2, 1, 0, 0) = x(2, 1, 0, 1) = x(2, 1, 1, 0) = x(2, 1, 1, 1) = std::nanf("");
                if (size > 33) {  // window 17 of its row (columns 32, 33), and a lone NaN
                    x(0, 0, 4, 32) = x(0, 0, 4, 33) = x(0, 0, 5, 32) = x(0, 0, 5, 33) = std::nanf("");
                    x(1, 1, 2, 34) = std::nanf("");
                }
                const MaxPoolResult slow = cnn::max_pool2d_forward(x, o);
                cnn::max_pool2d_fast_forward(x, o, fast, 2);
                CHECK(std::equal(fast.y.begin(), fast.y.end(), slow.y.begin(),
                                 [](float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }));
                CHECK(fast.winner == slow.winner);
                const Tensor4 dy = cnn::testing::random_tensor<4>(cnn::pool2d_output_shape(x, o), rng);
                const std::array<std::size_t, 4> shape = {3, 2, size, size + 1};
                CHECK(cnn::max_pool2d_fast_backward(dy, fast.winner, shape, 2) ==
                      cnn::max_pool2d_backward(dy, slow.winner, shape));
            }
        }
    }
}

TEST_CASE("fast max pooling backward refuses winners outside their own image") {
    // Two images of 1x2x2 pooled to 1x1 each: the second output's winner must lie in image 1.
    const Tensor4 dy = xt::ones<float>({2, 1, 1, 1});
    const std::array<std::size_t, 4> shape = {2, 1, 2, 2};
    CHECK_NOTHROW(cnn::max_pool2d_fast_backward(dy, {3, 4}, shape, 2));
    CHECK_THROWS_WITH_AS(cnn::max_pool2d_fast_backward(dy, {3, 2}, shape, 2),
                         doctest::Contains("winner 2 of output 1 lies outside its image 1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::max_pool2d_fast_backward(dy, {0}, shape, 2),
                         doctest::Contains("does not match the forward pass"),
                         std::invalid_argument);
}

TEST_CASE("fast max pooling: the 2x2 pair loads near the end of x and on clipped windows") {
    // Shapes where the stride-2 loop's loads (2 vectors: 32 floats with AVX-512, 16 without)
    // meet the end of x: a plane of 2 x 31 (15 windows to a row, its bottom row ending 31
    // floats before x's end), one of 2 x 2 (fewer than 16 floats in all), and 3x3 windows with
    // stride 3 and padding 1 on 4 x 4, whose clipped windows cover 2x2 real values and take the
    // same loop. Compared with chapter 05's loops.
    struct Case {
        std::array<std::size_t, 4> shape;
        std::size_t window, stride, pad;
    };
    const std::vector<Case> cases = {{{1, 1, 2, 31}, 2, 2, 0},
                                     {{2, 3, 2, 31}, 2, 2, 0},
                                     {{1, 1, 2, 2}, 2, 2, 0},
                                     {{2, 2, 4, 4}, 3, 3, 1}};
    cnn::Rng rng(33);
    MaxPoolResult fast;
    for (const Case& c : cases) {
        CAPTURE(c.shape[3]);
        CAPTURE(c.window);
        Pool2DWindow o;
        o.window_rows = o.window_cols = c.window;
        o.geometry.stride_rows = o.geometry.stride_cols = c.stride;
        o.geometry.pad_rows = o.geometry.pad_cols = {c.pad, c.pad};
        o.geometry.policy = cnn::SizePolicy::floor;
        const Tensor4 x = cnn::testing::random_tensor<4>(c.shape, rng);
        const MaxPoolResult slow = cnn::max_pool2d_forward(x, o);
        cnn::max_pool2d_fast_forward(x, o, fast, 2);
        CHECK(fast.y == slow.y);
        CHECK(fast.winner == slow.winner);
    }
}
