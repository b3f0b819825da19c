#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/layers/pooling2d.hpp"
#include "test_support.hpp"

namespace {

// Options for either pooling layer (a MaxPooling2DOptions is a Pooling2DOptions).
cnn::MaxPooling2DOptions pooling(std::size_t size, std::size_t stride, cnn::PaddingMode padding) {
    cnn::MaxPooling2DOptions o;
    o.pool_rows = o.pool_cols = size;
    o.stride_rows = o.stride_cols = stride;
    o.padding = padding;
    return o;
}

}  // namespace

TEST_CASE("pooling layers: no parameters, Keras's default stride, 'same' sizes") {
    cnn::MaxPooling2D max2;
    CHECK(max2.parameter_count() == 0);
    CHECK(cnn::AveragePooling2D{}.parameter_count() == 0);
    cnn::Rng rng(1);
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 28, 28}, rng);
    CHECK(max2.forward(x).shape() == std::array<std::size_t, 4>{2, 3, 14, 14});
    // Géron's model: 28 -> 14 -> 7 -> 3 (the last by rounding down).
    const cnn::Tensor4 seven = cnn::testing::random_tensor<4>({1, 1, 7, 7}, rng);
    CHECK(max2.forward(seven).shape(2) == 3);
    CHECK(max2.build({64, 7, 7}, rng) == cnn::Shape{64, 3, 3});
    cnn::MaxPooling2D same(pooling(3, 1, cnn::PaddingMode::same));
    CHECK(same.forward(x).shape() == x.shape());
    cnn::AveragePooling2D avg = cnn::AveragePooling2D(2).padding("same");
    CHECK(avg.forward(seven).shape(2) == 4);  // ceil(7 / 2)
    CHECK(avg.backward(xt::ones<float>({1, 1, 4, 4})).shape() == seven.shape());
    CHECK_THROWS_AS(cnn::MaxPooling2D{}.backward(xt::ones<float>({1, 1, 1, 1})), std::logic_error);
    CHECK_THROWS_WITH_AS(cnn::MaxPooling2D(2).padding("full"), doctest::Contains("expected 'valid' or 'same'"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(max2.build({7, 7}, rng), doctest::Contains("expected input (None, C, H, W)"),
                         std::invalid_argument);
}

TEST_CASE("pooling layers: the worked example of Deep Learning from Scratch (fig. 7-14), by hand") {
    const cnn::Tensor4 x = {{{{1, 2, 1, 0}, {0, 1, 2, 3}, {3, 0, 1, 2}, {2, 4, 0, 1}}}};
    cnn::MaxPooling2D max2;
    cnn::AveragePooling2D avg2;
    CHECK(cnn::testing::max_abs_diff(max2.forward(x), cnn::Tensor4{{{{2, 3}, {4, 2}}}}) == 0);
    // Means: (1+2+0+1)/4, (1+0+2+3)/4, (3+0+2+4)/4, (1+2+0+1)/4.
    CHECK(cnn::testing::max_abs_diff(avg2.forward(x), cnn::Tensor4{{{{1, 1.5f}, {2.25f, 1}}}}) == 0);
    // Backward: each gradient to its window's winner (max), or shared by four (average).
    const cnn::Tensor4 dy = {{{{1, 2}, {3, 4}}}};
    CHECK(cnn::testing::max_abs_diff(
              max2.backward(dy), cnn::Tensor4{{{{0, 1, 0, 0}, {0, 0, 0, 2}, {0, 0, 0, 4}, {0, 3, 0, 0}}}}) == 0);
    CHECK(avg2.backward(dy)(0, 0, 3, 3) == 1.0f);
}

TEST_CASE("pooling layers: numerical gradient checks where bugs hide") {
    // Overlapping windows (3, stride 2), stride > 1, 'same' padding with an odd size (asymmetric
    // pads), even windows, batch > 1 and channels > 1.
    const cnn::PaddingMode valid = cnn::PaddingMode::valid, same = cnn::PaddingMode::same;
    for (const auto& o : {pooling(2, 2, valid), pooling(3, 2, valid), pooling(3, 2, same),
                          pooling(2, 1, same), pooling(4, 3, same)}) {
        CAPTURE(o.pool_rows);
        CAPTURE(o.stride_rows);
        CAPTURE(static_cast<int>(o.padding));
        cnn::Rng rng(17 + o.pool_rows * 10 + o.stride_rows);
        const cnn::Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 7, 6}, rng);
        cnn::MaxPooling2D max_pool(o);
        max_pool.build({3, 7, 6}, rng);
        CHECK(cnn::testing::check_layer_gradients(max_pool, x, rng, {1e-3, 2e-3}) == 0);
        cnn::AveragePooling2D avg_pool(o);
        CHECK(cnn::testing::check_layer_gradients(avg_pool, x, rng) == 0);
    }
}

TEST_CASE("GlobalAveragePooling2D: the mean of each map, as (N, C), and its gradient") {
    cnn::Rng rng(5);
    cnn::GlobalAveragePooling2D global;
    CHECK(global.build({3, 4, 5}, rng) == cnn::Shape{3});
    const cnn::Tensor4 x = {{{{1, 2}, {3, 6}}}};
    const cnn::Tensor4 y = global.forward(x);
    REQUIRE(y.shape() == std::array<std::size_t, 4>{1, 1, 1, 1});
    CHECK(y(0, 0, 0, 0) == 3.0f);  // (1 + 2 + 3 + 6) / 4
    CHECK(cnn::testing::check_layer_gradients(
              global, cnn::testing::random_tensor<4>({2, 3, 4, 5}, rng), rng) == 0);
}

TEST_CASE("pooling layers: non-square windows and strides, and ties at the layer") {
    cnn::Rng rng(12);
    cnn::MaxPooling2DOptions o;
    o.pool_rows = 2;
    o.pool_cols = 3;
    o.stride_rows = 1;
    o.stride_cols = 2;
    o.padding = cnn::PaddingMode::same;
    cnn::MaxPooling2D max_pool(o);
    CHECK(max_pool.build({2, 5, 7}, rng) == cnn::Shape{2, 5, 4});
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({2, 2, 5, 7}, rng);
    CHECK(cnn::testing::check_layer_gradients(max_pool, x, rng, {1e-3, 2e-3}) == 0);
    cnn::AveragePooling2D avg_pool(o);
    CHECK(cnn::testing::check_layer_gradients(avg_pool, x, rng) == 0);
    // Ties: the first value in reading order wins and gets the whole gradient.
    cnn::MaxPooling2D tie;
    const cnn::Tensor4 flat = {{{{5, 5}, {5, 1}}}};
    CHECK(tie.forward(flat)(0, 0, 0, 0) == 5);
    CHECK(cnn::testing::max_abs_diff(tie.backward(cnn::Tensor4{{{{1}}}}), cnn::Tensor4{{{{1, 0}, {0, 0}}}}) == 0);
}
