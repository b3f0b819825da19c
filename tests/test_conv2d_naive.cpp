#include <stdexcept>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "cnn/check/gradient_check.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "conv2d_fixtures.hpp"
#include "test_support.hpp"

using cnn::Conv2DGeometry;
using cnn::Tensor1;
using cnn::Tensor4;
using cnn::testing::max_abs_diff;

namespace {
// The two-channel input and filter of "Dive into Deep Learning", section 7.4.1.
Tensor4 d2l_x() {
    Tensor4 x = Tensor4::from_shape({1, 2, 3, 3});
    for (std::size_t i = 0; i < 9; ++i) {
        x.data()[i] = static_cast<float>(i);
        x.data()[9 + i] = static_cast<float>(i + 1);
    }
    return x;
}
const Tensor4 d2l_k = {{{{0, 1}, {2, 3}}, {{1, 2}, {3, 4}}}};
}  // namespace

TEST_CASE("conv2d_naive_forward: the multi-channel examples of Dive into Deep Learning") {
    // Section 7.4.1 (multiple input channels): corr2d_multi_in(X, K) = [[56, 72], [104, 120]].
    const Tensor4 y = cnn::conv2d_naive_forward(d2l_x(), d2l_k, Tensor1{0}, {});
    CHECK(max_abs_diff(xt::view(y, 0, 0), xt::xtensor<float, 2>{{56, 72}, {104, 120}}) == 0);
    // Section 7.4.2 (multiple output channels): K, K + 1, K + 2 stacked give three maps,
    // [[56, 72], [104, 120]], [[76, 100], [148, 172]], [[96, 128], [192, 224]].
    Tensor4 k3 = Tensor4::from_shape({3, 2, 2, 2});
    for (std::size_t f = 0; f < 3; ++f) {
        xt::view(k3, f) = xt::view(d2l_k, 0) + static_cast<float>(f);
    }
    const Tensor4 y3 = cnn::conv2d_naive_forward(d2l_x(), k3, Tensor1{0, 0, 0}, {});
    const Tensor4 expected = {{{{56, 72}, {104, 120}}, {{76, 100}, {148, 172}}, {{96, 128}, {192, 224}}}};
    CHECK(max_abs_diff(y3, expected) == 0);
    // The bias is one number per filter, added to every output of its map: (FN, 1, 1).
    const Tensor4 yb = cnn::conv2d_naive_forward(d2l_x(), k3, Tensor1{1, -2, 0.5f}, {});
    CHECK(max_abs_diff(xt::view(yb, 0, 1), xt::view(y3, 0, 1) - 2.0f) == 0);
    CHECK(max_abs_diff(xt::view(yb, 0, 2), xt::view(y3, 0, 2) + 0.5f) == 0);
}

TEST_CASE("conv2d_naive: agrees with PyTorch (tests/fixtures/conv2d_torch.txt)") {
    cnn::testing::check_against_conv2d_fixtures(cnn::conv2d_naive_forward,
                                                cnn::conv2d_naive_backward, /*numerical=*/false);
}

TEST_CASE("conv2d_naive_backward: numerical gradient checks across geometries") {
    struct Case {
        std::size_t n, c, h, w, fn, fh, fw;
        Conv2DGeometry g;
    };
    const auto geometry = [](std::size_t sr, std::size_t sc, cnn::AxisPadding pr, cnn::AxisPadding pc) {
        Conv2DGeometry g;
        g.stride_rows = sr;
        g.stride_cols = sc;
        g.pad_rows = pr;
        g.pad_cols = pc;
        return g;
    };
    const Case cases[] = {
        {2, 3, 5, 5, 2, 3, 3, geometry(1, 1, {1, 1}, {1, 1})},  // batch, channels, padding
        {1, 2, 6, 7, 3, 2, 4, geometry(2, 2, {0, 0}, {1, 1})},  // even, non-square, stride 2
        {2, 2, 6, 6, 2, 3, 3, Conv2DGeometry::keras(cnn::PaddingMode::same, 6, 6, 3, 3, 2, 2)},
        {2, 1, 7, 5, 2, 4, 2, geometry(3, 1, {2, 1}, {0, 1})},  // asymmetric padding
    };
    for (const Case& k : cases) {
        CAPTURE(k.h);
        CAPTURE(k.fh);
        cnn::Rng rng(k.h + 10 * k.fw);
        Tensor4 x = cnn::testing::random_tensor<4>({k.n, k.c, k.h, k.w}, rng);
        Tensor4 w = cnn::testing::random_tensor<4>({k.fn, k.c, k.fh, k.fw}, rng);
        Tensor1 b = cnn::testing::random_tensor<1>({k.fn}, rng);
        const auto shape = cnn::conv2d_output_shape(x, w, k.g);
        const Tensor4 r = cnn::testing::random_tensor<4>(shape, rng);
        const auto loss = [&] { return cnn::testing::dot(cnn::conv2d_naive_forward(x, w, b, k.g), r); };
        Tensor4 dw = xt::zeros<float>(w.shape());
        Tensor1 db = xt::zeros<float>(b.shape());
        const Tensor4 dx = cnn::conv2d_naive_backward(r, x, w, k.g, dw, db);
        for (const auto& result : {cnn::check_gradient("dx", loss, x.data(), dx.data(), x.size()),
                                   cnn::check_gradient("dw", loss, w.data(), dw.data(), w.size()),
                                   cnn::check_gradient("db", loss, b.data(), db.data(), b.size())}) {
            CHECK_MESSAGE(result.passed(), result.summary());
        }
    }
}

TEST_CASE("conv2d_naive: mismatched channels and biases are errors that name the shapes") {
    const Tensor4 x = xt::zeros<float>({1, 3, 5, 5});
    const Tensor4 w = xt::zeros<float>({2, 2, 3, 3});
    CHECK_THROWS_WITH_AS(cnn::conv2d_naive_forward(x, w, Tensor1{0, 0}, {}),
                         doctest::Contains("has 3 channels but the filters (2, 2, 3, 3) expect 2"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::conv2d_naive_forward(xt::zeros<float>({1, 2, 5, 5}), w, Tensor1{0}, {}),
                         doctest::Contains("one bias per filter, (2), got (1)"),
                         std::invalid_argument);
}
