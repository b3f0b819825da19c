#include <stdexcept>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "cnn/ops/im2col.hpp"
#include "test_support.hpp"

using cnn::Tensor2;
using cnn::Tensor4;
using cnn::testing::max_abs_diff;

TEST_CASE("im2col: shape (C*FH*FW, OH*OW) and columns computed by hand") {
    // One image, 2 channels of 3x3 holding 0..8 and 1..9; 2x2 windows: 4 positions.
    Tensor4 x = Tensor4::from_shape({1, 2, 3, 3});
    for (std::size_t i = 0; i < 9; ++i) {
        x.data()[i] = static_cast<float>(i);
        x.data()[9 + i] = static_cast<float>(i + 1);
    }
    const auto shape = cnn::im2col_shape(x, 2, 2, {});
    CHECK(shape == std::array<std::size_t, 2>{8, 4});
    Tensor2 cols = Tensor2::from_shape({8, 4});
    cnn::im2col(x, 0, 2, 2, {}, cols);
    // Column p is window p read as (c, u, v): window (0, 0) of channel 0 is 0 1 / 3 4,
    // of channel 1 it is 1 2 / 4 5.
    const Tensor2 expected = {{0, 1, 3, 4}, {1, 2, 4, 5}, {3, 4, 6, 7}, {4, 5, 7, 8},
                              {1, 2, 4, 5}, {2, 3, 5, 6}, {4, 5, 7, 8}, {5, 6, 8, 9}};
    CHECK(max_abs_diff(cols, expected) == 0);
}

TEST_CASE("im2col: padding reads as zero, stride skips windows, shapes follow the formula") {
    Tensor4 x = xt::ones<float>({2, 1, 4, 5});
    cnn::Conv2DGeometry g;
    g.stride_rows = 2;
    g.pad_rows = {1, 0};
    g.pad_cols = {0, 1};
    // OH = (4 + 1 - 3) / 2 + 1 = 2, OW = (5 + 1 - 3) / 1 + 1 = 4.
    const auto shape = cnn::im2col_shape(x, 3, 3, g);
    CHECK(shape == std::array<std::size_t, 2>{9, 8});
    Tensor2 cols = Tensor2::from_shape({9, 8});
    cnn::im2col(x, 1, 3, 3, g, cols);
    // Row (u=0, v=0) at position (0, 0) lies in the top padding row: 0.
    CHECK(cols(0, 0) == 0);
    // The centre (u=1, v=1) of every window is inside the image: 1.
    CHECK(xt::all(xt::equal(xt::view(cols, 4), 1.0f)));
    // Column v=2 of the last position (0, 3) reads column 5: the right padding.
    CHECK(cols(5, 3) == 0);
    Tensor2 wrong = Tensor2::from_shape({9, 7});
    CHECK_THROWS_WITH_AS(cnn::im2col(x, 0, 3, 3, g, wrong),
                         doctest::Contains("expected a matrix (C*FH*FW, OH*OW) = (9, 8), got (9, 7)"),
                         std::invalid_argument);
}

TEST_CASE("col2im accumulates: a pixel collects one share from every window that holds it") {
    // A matrix of ones sent back through col2im counts the windows covering each pixel. For a
    // 4x4 input and 3x3 windows at stride 1 (four windows), by hand:
    Tensor4 counts = xt::zeros<float>({1, 1, 4, 4});
    cnn::col2im(xt::ones<float>({9, 4}), 0, 3, 3, {}, counts);
    const xt::xtensor<float, 2> expected = {{1, 2, 2, 1}, {2, 4, 4, 2}, {2, 4, 4, 2}, {1, 2, 2, 1}};
    CHECK(max_abs_diff(xt::view(counts, 0, 0), expected) == 0);
    // It adds to what is there: a second call doubles everything.
    cnn::col2im(xt::ones<float>({9, 4}), 0, 3, 3, {}, counts);
    CHECK(max_abs_diff(xt::view(counts, 0, 0), 2.0f * expected) == 0);
}

TEST_CASE("col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>") {
    // The defining property of the backward pass of a linear map, on a padded, strided case.
    cnn::Rng rng(6);
    const Tensor4 x = cnn::testing::random_tensor<4>({1, 3, 7, 6}, rng);
    cnn::Conv2DGeometry g;
    g.stride_rows = 2;
    g.stride_cols = 3;
    g.pad_rows = {1, 1};
    g.pad_cols = {2, 0};
    const auto shape = cnn::im2col_shape(x, 3, 2, g);
    Tensor2 cols = Tensor2::from_shape({shape[0], shape[1]});
    cnn::im2col(x, 0, 3, 2, g, cols);
    const Tensor2 c = cnn::testing::random_tensor<2>(shape, rng);
    Tensor4 back = xt::zeros<float>(x.shape());
    cnn::col2im(c, 0, 3, 2, g, back);
    CHECK(cnn::testing::dot(cols, c) == doctest::Approx(cnn::testing::dot(x, back)).epsilon(1e-5));
}
