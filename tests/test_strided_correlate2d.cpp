#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "cnn/check/gradient_check.hpp"
#include "cnn/ops/correlate2d.hpp"
#include "cnn/ops/strided_correlate2d.hpp"
#include "cnn/tensor/padding.hpp"
#include "test_support.hpp"

using cnn::Conv2DGeometry;
using cnn::Tensor2;
using cnn::testing::max_abs_diff;

namespace {
Conv2DGeometry geometry(std::size_t sr, std::size_t sc, cnn::AxisPadding pr, cnn::AxisPadding pc) {
    Conv2DGeometry g;
    g.stride_rows = sr;
    g.stride_cols = sc;
    g.pad_rows = pr;
    g.pad_cols = pc;
    return g;
}
}  // namespace

TEST_CASE("strided correlation: hand-computed padding and stride") {
    // A 3x3 kernel of ones on a 3x3 image of ones with one ring of zeros counts, at each
    // position, how many of the 9 window cells lie on the image: 4 at corners, 6 on edges, 9 inside.
    const Tensor2 ones = xt::ones<float>({3, 3});
    CHECK(max_abs_diff(cnn::strided_correlate2d_forward(ones, ones, geometry(1, 1, {1, 1}, {1, 1})),
                       Tensor2{{4, 6, 4}, {6, 9, 6}, {4, 6, 4}}) == 0);
    // A 1x1 kernel [[1]] with stride 2 picks every other pixel: rows and columns 0, 2, 4.
    Tensor2 x = Tensor2::from_shape({5, 5});
    for (std::size_t i = 0; i < 25; ++i) {
        x.data()[i] = static_cast<float>(i);
    }
    CHECK(max_abs_diff(cnn::strided_correlate2d_forward(x, Tensor2{{1}}, geometry(2, 2, {}, {})),
                       Tensor2{{0, 2, 4}, {10, 12, 14}, {20, 22, 24}}) == 0);
    // Different strides per axis: rows 0, 3; columns 0, 1, 2, 3, 4.
    CHECK(cnn::strided_correlate2d_forward(x, Tensor2{{1}}, geometry(3, 1, {}, {})).shape(0) == 2);
}

TEST_CASE("strided correlation with stride 1 and no padding is chapter 02's correlation") {
    cnn::Rng rng(3);
    const Tensor2 x = cnn::testing::random_tensor<2>({9, 8}, rng);
    const Tensor2 k = cnn::testing::random_tensor<2>({4, 3}, rng);
    CHECK(max_abs_diff(cnn::strided_correlate2d_forward(x, k, Conv2DGeometry{}, 0.25f),
                       cnn::correlate2d_forward(x, k, 0.25f)) == 0);
}

TEST_CASE("'same' equals padding first, then a 'valid' correlation, on real tensors") {
    cnn::Rng rng(4);
    for (std::size_t stride : {1, 2, 3}) {
        for (std::size_t fh : {2, 3, 4}) {
            const Tensor2 x = cnn::testing::random_tensor<2>({11, 10}, rng);
            const Tensor2 k = cnn::testing::random_tensor<2>({fh, 3}, rng);
            const Conv2DGeometry same =
                Conv2DGeometry::keras(cnn::PaddingMode::same, 11, 10, fh, 3, stride, stride);
            const Tensor2 padded = cnn::pad2d(x, same.pad_rows, same.pad_cols);
            const Conv2DGeometry valid = geometry(stride, stride, {}, {});
            const Tensor2 y_same = cnn::strided_correlate2d_forward(x, k, same);
            CHECK(max_abs_diff(y_same, cnn::strided_correlate2d_forward(padded, k, valid)) == 0);
            CHECK(y_same.shape(0) == (11 + stride - 1) / stride);  // ceil(H / S)
            CHECK(y_same.shape(1) == (10 + stride - 1) / stride);
        }
    }
}

TEST_CASE("strided correlation: numerical gradient check with stride, padding and even kernels") {
    struct Case {
        std::size_t h, w, fh, fw;
        Conv2DGeometry g;
    };
    const Case cases[] = {
        {6, 7, 3, 3, geometry(2, 2, {1, 1}, {1, 1})},
        {7, 6, 2, 4, geometry(2, 3, {0, 1}, {1, 2})},  // asymmetric padding, even kernel
        {8, 8, 4, 4, Conv2DGeometry::keras(cnn::PaddingMode::same, 8, 8, 4, 4, 2, 2)},
        {5, 9, 3, 2, geometry(1, 2, {2, 2}, {0, 0})},
        {9, 9, 3, 3, geometry(3, 3, {0, 0}, {0, 0})},  // floor: (9 - 3) / 3 + 1 = 3, exact
        {10, 10, 3, 3, geometry(3, 3, {0, 0}, {0, 0})},  // floor drops the last row and column
    };
    for (const Case& c : cases) {
        CAPTURE(c.h);
        CAPTURE(c.fh);
        cnn::Rng rng(c.h * 7 + c.fw);
        Tensor2 x = cnn::testing::random_tensor<2>({c.h, c.w}, rng);
        Tensor2 k = cnn::testing::random_tensor<2>({c.fh, c.fw}, rng);
        float b = -0.2f;
        const auto shape = cnn::strided_output_shape(c.h, c.w, c.fh, c.fw, c.g);
        const Tensor2 r = cnn::testing::random_tensor<2>({shape[0], shape[1]}, rng);
        const auto loss = [&] {
            return cnn::testing::dot(cnn::strided_correlate2d_forward(x, k, c.g, b), r);
        };
        Tensor2 dk = xt::zeros<float>(k.shape());
        float db = 0;
        const Tensor2 dx = cnn::strided_correlate2d_backward(r, x, k, c.g, dk, db);
        for (const auto& result : {cnn::check_gradient("dx", loss, x.data(), dx.data(), x.size()),
                                   cnn::check_gradient("dk", loss, k.data(), dk.data(), k.size()),
                                   cnn::check_gradient("db", loss, &b, &db, 1)}) {
            CHECK_MESSAGE(result.passed(), result.summary());
        }
    }
}

TEST_CASE("strided correlation: a window larger than the padded input is an error") {
    CHECK_THROWS_WITH_AS(cnn::strided_correlate2d_forward(xt::zeros<float>({4, 4}),
                                                          xt::zeros<float>({7, 3}),
                                                          geometry(1, 1, {1, 1}, {1, 1})),
                         doctest::Contains("does not fit in the padded input 4 + 2 = 6"),
                         cnn::GeometryError);
}
