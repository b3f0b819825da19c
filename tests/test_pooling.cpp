#include <stdexcept>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "cnn/check/gradient_check.hpp"
#include "cnn/ops/pooling.hpp"
#include "cnn/tensor/transform.hpp"
#include "test_support.hpp"

using cnn::Pool2DWindow;
using cnn::Tensor4;
using cnn::testing::image_of;
using cnn::testing::max_abs_diff;

namespace {
Pool2DWindow pool(std::size_t window, std::size_t stride, cnn::AxisPadding pad = {}) {
    Pool2DWindow o;
    o.window_rows = o.window_cols = window;
    o.geometry.stride_rows = o.geometry.stride_cols = stride;
    o.geometry.pad_rows = o.geometry.pad_cols = pad;
    return o;
}
// Distinct values 0.1 apart, in a random order: no ties, and no nudge of 1e-2 changes a winner.
Tensor4 distinct_values(std::array<std::size_t, 4> shape, cnn::Rng& rng) {
    Tensor4 x = Tensor4::from_shape(shape);
    const std::vector<std::size_t> order = rng.permutation(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
        x.data()[i] = 0.1f * static_cast<float>(order[i]) - 3.0f;
    }
    return x;
}
}  // namespace

TEST_CASE("max and average pooling: the worked example of Deep Learning from Scratch, by hand") {
    // Saito, "Deep Learning from Scratch", figure 7-14: 2x2 max pooling with stride 2 of this
    // input is [[2, 3], [4, 2]]. The means of the same windows are 1, 1.5, 2.25 and 1.
    const Tensor4 x = image_of({{1, 2, 1, 0}, {0, 1, 2, 3}, {3, 0, 1, 2}, {2, 4, 0, 1}});
    const cnn::MaxPoolResult m = cnn::max_pool2d_forward(x, pool(2, 2));
    CHECK(max_abs_diff(xt::view(m.y, 0, 0), xt::xtensor<float, 2>{{2, 3}, {4, 2}}) == 0);
    CHECK(m.winner == std::vector<cnn::PoolIndex>{1, 7, 13, 11});  // flat positions of 2, 3, 4, 2
    CHECK(max_abs_diff(xt::view(cnn::average_pool2d_forward(x, pool(2, 2)), 0, 0),
                       xt::xtensor<float, 2>{{1, 1.5f}, {2.25f, 1}}) == 0);
}

TEST_CASE("max pooling: ties go to the first maximum in reading order") {
    const Tensor4 x = image_of({{5, 5}, {5, 5}});
    const cnn::MaxPoolResult m = cnn::max_pool2d_forward(x, pool(2, 2));
    CHECK(m.winner == std::vector<cnn::PoolIndex>{0});
    const Tensor4 dx = cnn::max_pool2d_backward(Tensor4{{{{1}}}}, m.winner, {1, 1, 2, 2});
    CHECK(max_abs_diff(xt::view(dx, 0, 0), xt::xtensor<float, 2>{{1, 0}, {0, 0}}) == 0);
}

TEST_CASE("Géron's A, B, C: a one-pixel shift inside the windows is invisible after pooling") {
    // A's bright pixels sit in the left column of 2x2 blocks; B moves them right, within their
    // blocks; C moves them left, into the neighbouring blocks.
    xt::xtensor<float, 2> a = xt::zeros<float>({4, 8});
    a(0, 2) = 1;
    a(2, 4) = 0.5f;
    a(3, 6) = 0.7f;
    const Tensor4 pa = cnn::max_pool2d_forward(image_of(a), pool(2, 2)).y;
    const Tensor4 pb = cnn::max_pool2d_forward(cnn::shift_images(image_of(a), 0, 1), pool(2, 2)).y;
    const Tensor4 pc = cnn::max_pool2d_forward(cnn::shift_images(image_of(a), 0, -1), pool(2, 2)).y;
    CHECK(max_abs_diff(pa, pb) == 0);
    CHECK(max_abs_diff(pa, pc) > 0);
    // By hand: A pools to [[0, 1, 0, 0], [0, 0, 0.5, 0.7]]; C to [[1, 0, 0, 0], [0, 0.5, 0.7, 0]].
    CHECK(max_abs_diff(xt::view(pc, 0, 0), xt::xtensor<float, 2>{{1, 0, 0, 0}, {0, 0.5f, 0.7f, 0}}) == 0);
}

TEST_CASE("pooling: padding is never a candidate, and the average counts real values only") {
    // 'same'-style padding of one row and column at the end, windows 2x2, stride 2 on 3x3:
    // the last windows hold 2 and 1 real values.
    const Tensor4 x = image_of({{-1, -2, -3}, {-4, -5, -6}, {-7, -8, -9}});
    Pool2DWindow o = pool(2, 2, {0, 1});
    const Tensor4 y = cnn::max_pool2d_forward(x, o).y;
    CHECK(max_abs_diff(xt::view(y, 0, 0), xt::xtensor<float, 2>{{-1, -3}, {-7, -9}}) == 0);  // not 0
    const Tensor4 avg = cnn::average_pool2d_forward(x, o);
    CHECK(max_abs_diff(xt::view(avg, 0, 0), xt::xtensor<float, 2>{{-3, -4.5f}, {-7.5f, -9}}) == 0);
    CHECK_THROWS_AS(cnn::max_pool2d_forward(x, pool(2, 2, {2, 2})), cnn::GeometryError);
}

TEST_CASE("max and average pooling: numerical gradient checks, overlapping windows included") {
    struct Case {
        std::array<std::size_t, 4> shape;
        Pool2DWindow options;
    };
    const Case cases[] = {
        {{2, 3, 6, 6}, pool(2, 2)},             // batch, channels, the usual 2x2 / 2
        {{1, 2, 7, 7}, pool(3, 1, {1, 1})},     // overlapping 3x3 / 1 with 'same' padding
        {{2, 1, 7, 8}, pool(3, 2)},             // stride not equal to the window: overlap
        {{1, 2, 5, 6}, pool(2, 3)},             // stride larger than the window: gaps
        {{2, 2, 6, 5}, pool(3, 2, {1, 1})},     // padding and overlap
        {{1, 2, 7, 7}, pool(2, 2, {0, 1})},     // Keras 'same' on an odd size: padding at the end
    };
    for (const Case& c : cases) {
        CAPTURE(c.shape[2]);
        CAPTURE(c.options.window_rows);
        cnn::Rng rng(c.shape[2] * 3 + c.options.window_rows);
        Tensor4 x = distinct_values(c.shape, rng);
        const auto out = cnn::pool2d_output_shape(x, c.options);
        const Tensor4 r = cnn::testing::random_tensor<4>(out, rng);

        const cnn::MaxPoolResult m = cnn::max_pool2d_forward(x, c.options);
        const Tensor4 dx_max = cnn::max_pool2d_backward(r, m.winner, c.shape);
        const auto max_loss = [&] { return cnn::testing::dot(cnn::max_pool2d_forward(x, c.options).y, r); };
        const auto max_check = cnn::check_gradient("max dx", max_loss, x.data(), dx_max.data(), x.size());
        CHECK_MESSAGE(max_check.passed(), max_check.summary());

        const Tensor4 dx_avg = cnn::average_pool2d_backward(r, c.shape, c.options);
        const auto avg_loss = [&] { return cnn::testing::dot(cnn::average_pool2d_forward(x, c.options), r); };
        const auto avg_check = cnn::check_gradient("avg dx", avg_loss, x.data(), dx_avg.data(), x.size());
        CHECK_MESSAGE(avg_check.passed(), avg_check.summary());
    }
}

TEST_CASE("max pooling backward: a value that wins overlapping windows collects every gradient") {
    // 3x3 windows with stride 1 on a 4x4 map whose maximum (9) lies in all four windows.
    const Tensor4 x = image_of({{0, 0, 0, 0}, {0, 9, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 0}});
    const cnn::MaxPoolResult m = cnn::max_pool2d_forward(x, pool(3, 1));
    const Tensor4 dx = cnn::max_pool2d_backward(Tensor4{{{{1, 2}, {3, 4}}}}, m.winner, {1, 1, 4, 4});
    CHECK(dx(0, 0, 1, 1) == 10);  // 1 + 2 + 3 + 4
    CHECK(xt::sum(dx)() == 10);
}

TEST_CASE("global average pooling: the mean of each map, and its gradient") {
    cnn::Rng rng(8);
    Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 4, 5}, rng);
    const cnn::Tensor2 y = cnn::global_average_pool_forward(x);
    CHECK(y(1, 2) == doctest::Approx(xt::mean(xt::view(x, 1, 2))()));
    const cnn::Tensor2 r = cnn::testing::random_tensor<2>({2, 3}, rng);
    const Tensor4 dx = cnn::global_average_pool_backward(r, {2, 3, 4, 5});
    const auto loss = [&] { return cnn::testing::dot(cnn::global_average_pool_forward(x), r); };
    const auto result = cnn::check_gradient("gap dx", loss, x.data(), dx.data(), x.size());
    CHECK_MESSAGE(result.passed(), result.summary());
}

TEST_CASE("max pooling: winners are 4-byte indices, so an x of 2^32 values or more is refused") {
    // The check needs only the shape: no 16 GB tensor is made.
    CHECK_NOTHROW(cnn::expect_pool_indexable({1, 1, 65535, 65537}, "max_pool2d_forward"));
    CHECK_THROWS_WITH_AS(cnn::expect_pool_indexable({1, 1, 65536, 65536}, "max_pool2d_forward"),
                         doctest::Contains("max_pool2d_forward: expected at most 4294967295 values "
                                           "in x, which 4-byte winner indices can tell apart, got "
                                           "(1, 1, 65536, 65536)"),
                         std::invalid_argument);
    // A product that would wrap around a 64-bit size is refused too, and no values at all pass.
    CHECK_THROWS_AS(cnn::expect_pool_indexable({1u << 20, 1u << 20, 1u << 20, 1u << 20}, "f"),
                    std::invalid_argument);
    CHECK_NOTHROW(cnn::expect_pool_indexable({0, 1u << 20, 1u << 20, 1u << 20}, "f"));
    CHECK(sizeof(cnn::PoolIndex) == 4);
}
