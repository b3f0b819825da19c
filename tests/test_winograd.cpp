#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "cnn/fast/engines.hpp"
#include "cnn/fast/winograd.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "cnn/ops/relu.hpp"
#include "conv2d_fixtures.hpp"
#include "test_support.hpp"

using cnn::Conv2DGeometry;
using cnn::ConvAlgorithm;
using cnn::Epilogue;
using cnn::FastConv2DEngine;
using cnn::FastConvOptions;
using cnn::Tensor1;
using cnn::Tensor4;
using cnn::testing::max_abs_diff;
using cnn::testing::relative_diff;

namespace {

using cnn::WinogradTile;

constexpr WinogradTile both_tiles[] = {WinogradTile::f2x2, WinogradTile::f4x4};

// The three tile transforms in sequence: the m x m outputs of one (m + 2) x (m + 2) tile d and
// filter g.
std::vector<float> winograd_tile(WinogradTile tile, const std::vector<float>& d,
                                 const std::vector<float>& g) {
    const std::vector<float> v = cnn::winograd_input_tile(tile, d);
    const std::vector<float> u = cnn::winograd_filter_tile(tile, g);
    std::vector<float> m(v.size());
    for (std::size_t xi = 0; xi < m.size(); ++xi) {
        m[xi] = u[xi] * v[xi];
    }
    return cnn::winograd_output_tile(tile, m);
}

// The same outputs by the definition: y(i, j) = sum over u, v of d(i + u, j + v) g(u, v), for a
// tile of `size` x `size` inputs.
std::vector<float> correlation(std::size_t size, const std::vector<float>& d,
                               const std::vector<float>& g) {
    const std::size_t m = size - 2;
    std::vector<float> y(m * m, 0.0f);
    for (std::size_t i = 0; i < m; ++i) {
        for (std::size_t j = 0; j < m; ++j) {
            for (std::size_t u = 0; u < 3; ++u) {
                for (std::size_t v = 0; v < 3; ++v) {
                    y[i * m + j] += d[(i + u) * size + j + v] * g[u * 3 + v];
                }
            }
        }
    }
    return y;
}

struct Problem {
    Tensor4 x, w;
    Tensor1 b;
    Conv2DGeometry g;
};

// A random 3x3 stride-1 problem: sizes 1..9 (odd, even, non-square), batch 1..5, channels
// 1..5 in and out, padding 0..2 on each side independently (top 0 and bottom 1, and so on),
// Keras 'same' every fourth time.
Problem random_problem(cnn::Rng& rng, int trial) {
    const std::size_t n = 1 + rng.below(5), c = 1 + rng.below(5), fn = 1 + rng.below(5);
    const std::size_t h = 1 + rng.below(9), w = 1 + rng.below(9);
    Problem p;
    p.g.pad_rows = {rng.below(3), rng.below(3)};
    p.g.pad_cols = {rng.below(3), rng.below(3)};
    if (trial % 4 == 0) {
        p.g = Conv2DGeometry::keras(cnn::PaddingMode::same, h, w, 3, 3, 1, 1);
    }
    p.g.policy = cnn::SizePolicy::floor;
    p.x = cnn::testing::random_tensor<4>({n, c, h, w}, rng);
    p.w = cnn::testing::random_tensor<4>({fn, c, 3, 3}, rng);
    p.b = cnn::testing::random_tensor<1>({fn}, rng);
    return p;
}

struct Result {
    Tensor4 y, dx, dw;
    Tensor1 db;
};

// Forward then backward by the Winograd engine with `tile` and `o`, dw and db starting at zero.
Result run(const Problem& p, const Tensor4& dy, WinogradTile tile, const FastConvOptions& o,
           cnn::WinogradWorkspace& workspace) {
    Result r{cnn::conv2d_winograd_forward(p.x, p.w, p.b, p.g, tile, o, workspace),
             {},
             xt::zeros<float>(p.w.shape()),
             xt::zeros<float>(p.b.shape())};
    r.dx = cnn::conv2d_winograd_backward(dy, p.x, r.y, p.w, p.g, tile, o, workspace, r.dw, r.db);
    return r;
}

// The same by the layers' engine, which chooses the algorithm, with the ReLU when `relu`.
Result run(const Problem& p, const Tensor4& dy, bool relu, FastConv2DEngine& engine) {
    Result r{engine.forward(p.x, p.w, p.b, p.g, relu),
             {},
             xt::zeros<float>(p.w.shape()),
             xt::zeros<float>(p.b.shape())};
    r.dx = engine.backward(dy, p.x, r.y, p.w, p.g, relu, r.dw, r.db);
    return r;
}

// The reference: chapter 04's naive loops, with chapter 01's ReLU forward and backward.
Result naive(const Problem& p, const Tensor4& dy, bool relu) {
    Result r{cnn::conv2d_naive_forward(p.x, p.w, p.b, p.g),
             {},
             xt::zeros<float>(p.w.shape()),
             xt::zeros<float>(p.b.shape())};
    if (relu) {
        r.y = cnn::relu_forward(r.y);
    }
    const Tensor4 dz = relu ? cnn::relu_backward(dy, r.y) : dy;
    r.dx = cnn::conv2d_naive_backward(dz, p.x, p.w, p.g, r.dw, r.db);
    return r;
}

// The largest relative difference of the four results, checked one by one.
double check_equal(const Result& got, const Result& expected, double tolerance) {
    const double diffs[] = {relative_diff(got.y, expected.y), relative_diff(got.dx, expected.dx),
                            relative_diff(got.dw, expected.dw), relative_diff(got.db, expected.db)};
    CHECK(diffs[0] < tolerance);
    CHECK(diffs[1] < tolerance);
    CHECK(diffs[2] < tolerance);
    CHECK(diffs[3] < tolerance);
    return *std::max_element(std::begin(diffs), std::end(diffs));
}

}  // namespace

TEST_CASE("winograd F(2x2, 3x3) on one tile equals the correlation by hand") {
    SUBCASE("1-D F(2, 3): d = (1, 2, 3, 4), g = (1, 2, 3), on the first row of a 4x4 tile") {
        // By hand: y0 = 1·1 + 2·2 + 3·3 = 14 and y1 = 2·1 + 3·2 + 4·3 = 20.
        // Winograd: B^T d = (1 - 3, 2 + 3, 3 - 2, 2 - 4) = (-2, 5, 1, -2);
        // G g = (1, (1 + 2 + 3) / 2, (1 - 2 + 3) / 2, 3) = (1, 3, 1, 3); their product
        // m = (-2, 15, 1, -6); A^T m = (-2 + 15 + 1, 15 - 1 + 6) = (14, 20).
        // The other rows of d and g are zero, so the second output row is 0.
        const std::vector<float> d = {1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        const std::vector<float> g = {1, 2, 3, 0, 0, 0, 0, 0, 0};
        const std::vector<float> v = cnn::winograd_input_tile(WinogradTile::f2x2, d);
        CHECK(std::vector<float>(v.begin(), v.begin() + 4) == std::vector<float>{-2, 5, 1, -2});
        const std::vector<float> u = cnn::winograd_filter_tile(WinogradTile::f2x2, g);
        CHECK(std::vector<float>(u.begin(), u.begin() + 4) == std::vector<float>{1, 3, 1, 3});
        CHECK(winograd_tile(WinogradTile::f2x2, d, g) == std::vector<float>{14, 20, 0, 0});
    }
    SUBCASE("2-D F(2x2, 3x3)") {
        // d = 1 2 0 1    g = 1 0 -1
        //     3 1 2 0        0 2  0
        //     0 1 1 2        1 1  0
        //     2 0 3 1
        // y(i, j) = d(i, j) - d(i, j+2) + 2 d(i+1, j+1) + d(i+2, j) + d(i+2, j+1):
        // y(0, 0) = 1 - 0 + 2·1 + 0 + 1 = 4     y(0, 1) = 2 - 1 + 2·2 + 1 + 1 = 7
        // y(1, 0) = 3 - 2 + 2·1 + 2 + 0 = 5     y(1, 1) = 1 - 0 + 2·1 + 0 + 3 = 6
        // Every intermediate value is a small multiple of 1/4, exact in float.
        const std::vector<float> d = {1, 2, 0, 1, 3, 1, 2, 0, 0, 1, 1, 2, 2, 0, 3, 1};
        const std::vector<float> g = {1, 0, -1, 0, 2, 0, 1, 1, 0};
        CHECK(winograd_tile(WinogradTile::f2x2, d, g) == std::vector<float>{4, 7, 5, 6});
        CHECK(correlation(4, d, g) == std::vector<float>{4, 7, 5, 6});  // the helper, checked
    }
}

TEST_CASE("winograd F(4x4, 3x3) on one tile equals the correlation by hand") {
    SUBCASE("1-D F(4, 3): d = (1, 2, 3, 4, 5, 6), g = (1, 2, 3), on the first row of a 6x6 tile") {
        // By hand: y = (1 + 4 + 9, 2 + 6 + 12, 3 + 8 + 15, 4 + 10 + 18) = (14, 20, 26, 32).
        // B^T d, row by row of B^T (Lavin and Gray's F(4, 3) for the points 0, ±1, ±2):
        // 4·1 - 5·3 + 5 = -6;  -4·2 - 4·3 + 4 + 5 = -11;  4·2 - 4·3 - 4 + 5 = -3;
        // -2·2 - 3 + 2·4 + 5 = 6;  2·2 - 3 - 2·4 + 5 = -2;  4·2 - 5·4 + 6 = -6.
        // The tile's other rows are zero, and B^T's first column is (4, 0, 0, 0, 0, 0): V's
        // first row is 4 times these, and its other rows are zero.
        std::vector<float> d(36, 0.0f), g(9, 0.0f);
        for (std::size_t i = 0; i < 6; ++i) {
            d[i] = static_cast<float>(i + 1);
        }
        g[0] = 1;
        g[1] = 2;
        g[2] = 3;
        const std::vector<float> v = cnn::winograd_input_tile(WinogradTile::f4x4, d);
        CHECK(std::vector<float>(v.begin(), v.begin() + 6) ==
              std::vector<float>{-24, -44, -12, 24, -8, -24});
        CHECK(std::all_of(v.begin() + 6, v.end(), [](float x) { return x == 0.0f; }));
        // G g = (1/4, -(1 + 2 + 3)/6, -(1 - 2 + 3)/6, 1/24 + 2/12 + 3/6, 1/24 - 2/12 + 3/6, 3)
        //     = (1/4, -1, -1/3, 17/24, 3/8, 3); U's first row is G's (1/4) times these. The
        // products are (-1.5, 11, 1, 4.25, -0.75, -18), and A^T gives
        // y0 = -1.5 + 11 + 1 + 4.25 - 0.75 = 14, y1 = 11 - 1 + 2·(4.25 + 0.75) = 20,
        // y2 = 11 + 1 + 4·(4.25 - 0.75) = 26, y3 = 11 - 1 + 8·(4.25 + 0.75) - 18 = 32.
        const std::vector<float> u = cnn::winograd_filter_tile(WinogradTile::f4x4, g);
        const std::vector<float> u_row = {1.0f / 16,  -0.25f,    -1.0f / 12,
                                          17.0f / 96, 3.0f / 32, 0.75f};
        for (std::size_t i = 0; i < 6; ++i) {
            CHECK(u[i] == doctest::Approx(u_row[i]).epsilon(1e-6));
        }
        const std::vector<float> y = winograd_tile(WinogradTile::f4x4, d, g);
        const std::vector<float> expected = {14, 20, 26, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        for (std::size_t i = 0; i < 16; ++i) {
            CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-5));
        }
    }
    SUBCASE("2-D F(4x4, 3x3) against the definition, on small integers and at random") {
        cnn::Rng rng(44);
        std::vector<float> d(36), g = {1, 0, -1, 0, 2, 0, 1, 1, 0};
        for (std::size_t i = 0; i < 36; ++i) {
            d[i] = static_cast<float>((i * 7) % 5) - 2.0f;  // -2 .. 2
        }
        for (int trial = 0; trial < 10; ++trial) {
            CAPTURE(trial);
            const std::vector<float> y = winograd_tile(WinogradTile::f4x4, d, g);
            const std::vector<float> expected = correlation(6, d, g);
            for (std::size_t i = 0; i < 16; ++i) {
                CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-5).scale(1.0));
            }
            for (float& x : d) {
                x = rng.uniform(-1.0f, 1.0f);
            }
            for (float& x : g) {
                x = rng.uniform(-1.0f, 1.0f);
            }
        }
    }
    SUBCASE("a tile of the wrong size is refused, with what was expected") {
        CHECK_THROWS_WITH_AS(cnn::winograd_input_tile(WinogradTile::f4x4, std::vector<float>(16)),
                             "winograd input tile: expected 36 values, got 16",
                             std::invalid_argument);
    }
}

TEST_CASE("winograd: each backward tile transform is the transpose of its forward one") {
    // <A^T m A, dY> = <m, A dY A^T> and <G g G^T, m> = <g, G^T m G> for any values: what
    // makes dW and the gradient of the output transform right.
    cnn::Rng rng(4);
    const auto random = [&](auto a) {
        for (float& v : a) {
            v = rng.uniform(-1.0f, 1.0f);
        }
        return a;
    };
    const auto dot = [](const auto& a, const auto& b) {
        double sum = 0.0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            sum += static_cast<double>(a[i]) * b[i];
        }
        return sum;
    };
    for (const WinogradTile tile : both_tiles) {
        const std::size_t m_side = tile == WinogradTile::f2x2 ? 2 : 4, a = m_side + 2;
        CAPTURE(a);
        for (int trial = 0; trial < 20; ++trial) {
            const auto m = random(std::vector<float>(a * a));
            const auto dy = random(std::vector<float>(m_side * m_side));
            const auto g = random(std::vector<float>(9));
            CHECK(dot(cnn::winograd_output_tile(tile, m), dy) ==
                  doctest::Approx(dot(m, cnn::winograd_output_tile_transpose(tile, dy)))
                      .epsilon(1e-5));
            CHECK(dot(cnn::winograd_filter_tile(tile, g), m) ==
                  doctest::Approx(dot(g, cnn::winograd_filter_tile_transpose(tile, m)))
                      .epsilon(1e-5));
        }
    }
}

TEST_CASE("winograd equals the naive loops: random 3x3 stride-1 geometries, threads, groups") {
    // Both tiles on every problem, in one workspace: its buffers must grow, and be reused by
    // the other tile's sizes.
    cnn::Rng rng(3303);
    cnn::WinogradWorkspace workspace;  // shared by every trial: buffers must grow and be reused
    int tried = 0;
    double worst[2] = {0.0, 0.0};
    for (int trial = 0; trial < 200; ++trial) {
        const Problem p = random_problem(rng, trial);
        try {
            cnn::conv2d_output_shape(p.x, p.w, p.g);
        } catch (const cnn::GeometryError&) {
            continue;  // 3x3 does not fit even padded
        }
        ++tried;
        FastConvOptions o;
        o.threads = 1 + rng.below(3);       // 1, 2 or 3 shares, also more than images
        o.min_columns = 1 + rng.below(60);  // groups of one image up to all of a share
        const bool relu = trial % 2 == 1;
        o.epilogue = relu ? Epilogue::bias_relu : Epilogue::bias;
        CAPTURE(trial);
        const std::string x_shape = cnn::shape_to_string(p.x.shape());
        const std::string w_shape = cnn::shape_to_string(p.w.shape());
        CAPTURE(x_shape);
        CAPTURE(w_shape);
        CAPTURE(p.g.pad_rows.before);
        CAPTURE(p.g.pad_rows.after);
        CAPTURE(p.g.pad_cols.before);
        CAPTURE(p.g.pad_cols.after);
        CAPTURE(o.threads);
        CAPTURE(o.min_columns);
        const Tensor4 dy =
            cnn::testing::random_tensor<4>(cnn::conv2d_output_shape(p.x, p.w, p.g), rng);
        const Result expected = naive(p, dy, relu);
        for (std::size_t t = 0; t < 2; ++t) {
            CAPTURE(t);
            worst[t] = std::max(
                worst[t], check_equal(run(p, dy, both_tiles[t], o, workspace), expected, 1e-4));
        }
    }
    CHECK(tried >= 150);
    // In practice a few float roundings; F(4x4)'s transforms multiply by up to 8 and divide by
    // 24, and lose more.
    CHECK(worst[0] < 1e-5);
    CHECK(worst[1] < 5e-5);
}

TEST_CASE("winograd: padding of 3 or more, where dx's correlation crops dy") {
    // dx reads dy padded by 2 - P: negative for P >= 3, i.e. dy's first rows are skipped.
    cnn::Rng rng(8);
    cnn::WinogradWorkspace workspace;
    for (const std::array<std::size_t, 4>& pads :
         std::vector<std::array<std::size_t, 4>>{{3, 0, 0, 4}, {4, 3, 3, 1}, {0, 5, 2, 3}}) {
        const std::size_t top = pads[0], bottom = pads[1], left = pads[2], right = pads[3];
        Problem p;
        p.x = cnn::testing::random_tensor<4>({2, 3, 5, 4}, rng);
        p.w = cnn::testing::random_tensor<4>({2, 3, 3, 3}, rng);
        p.b = cnn::testing::random_tensor<1>({2}, rng);
        p.g.pad_rows = {top, bottom};
        p.g.pad_cols = {left, right};
        CAPTURE(top);
        CAPTURE(left);
        FastConvOptions o;
        o.threads = 2;
        const Tensor4 dy =
            cnn::testing::random_tensor<4>(cnn::conv2d_output_shape(p.x, p.w, p.g), rng);
        for (const WinogradTile tile : both_tiles) {
            check_equal(run(p, dy, tile, o, workspace), naive(p, dy, false), 2e-5);
        }
    }
}

TEST_CASE("winograd: images wider than one block of 16 columns, partial channel blocks") {
    // The channels-last copies work in 16x16 blocks of columns and channels: 33 columns take
    // three blocks, 17 channels and 19 filters leave partial ones.
    cnn::Rng rng(21);
    FastConvOptions o;
    o.threads = 2;
    FastConv2DEngine automatic(o), f2x2(o, ConvAlgorithm::winograd),
        f4x4(o, ConvAlgorithm::winograd_4x4);
    Problem p;
    p.x = cnn::testing::random_tensor<4>({2, 17, 20, 33}, rng);
    p.w = cnn::testing::random_tensor<4>({19, 17, 3, 3}, rng);
    p.b = cnn::testing::random_tensor<1>({19}, rng);
    p.g.pad_rows = {0, 1};
    p.g.pad_cols = {2, 1};
    REQUIRE(cnn::winograd_preferred(p.w, p.g));
    // Output 19x34: F(4x4) needs 5·9 tiles of 36 products, F(2x2) 10·17 of 16: 1620, 0.60 of
    // 2720, below either share.
    REQUIRE(automatic.algorithm_for(p.x.shape(), p.w, p.g) == ConvAlgorithm::winograd_4x4);
    for (const bool relu : {false, true}) {
        CAPTURE(relu);
        const Tensor4 dy =
            cnn::testing::random_tensor<4>(cnn::conv2d_output_shape(p.x, p.w, p.g), rng);
        const Result expected = naive(p, dy, relu);
        const Result two = run(p, dy, relu, f2x2), four = run(p, dy, relu, f4x4);
        check_equal(two, expected, 1e-4);
        check_equal(four, expected, 1e-4);
        // The automatic engine runs the tile it names: F(4x4)'s very bits, not F(2x2)'s.
        const Result picked = run(p, dy, relu, automatic);
        CHECK(picked.y == four.y);
        CHECK(picked.dx == four.dx);
        CHECK(picked.dw == four.dw);
        CHECK_FALSE(picked.y == two.y);
    }
}

TEST_CASE("winograd: channel and filter counts that fill several panels of 32, and part of one") {
    // The products' right sides (U, the rotated U, E) are stored in panels of 32 columns
    // (panel_product.hpp). 40 and 48, 33 and 70: a second panel filled less than halfway,
    // halfway, and more than halfway, in both U (C, FN) and the rotated U (FN, C); dW's E has
    // FN columns. Two threads, and groups of a few images, so that dW adds several groups.
    cnn::Rng rng(77);
    FastConvOptions o;
    o.threads = 2;
    o.min_columns = 20;
    cnn::WinogradWorkspace workspace;
    const std::vector<std::pair<std::size_t, std::size_t>> sizes = {{40, 48}, {33, 70}};
    for (const auto& size : sizes) {
        const std::size_t c = size.first, fn = size.second;
        CAPTURE(c);
        CAPTURE(fn);
        Problem p;
        p.x = cnn::testing::random_tensor<4>({5, c, 7, 9}, rng);
        p.w = cnn::testing::random_tensor<4>({fn, c, 3, 3}, rng);
        p.b = cnn::testing::random_tensor<1>({fn}, rng);
        p.g.pad_rows = {1, 1};
        p.g.pad_cols = {1, 1};
        const Tensor4 dy =
            cnn::testing::random_tensor<4>(cnn::conv2d_output_shape(p.x, p.w, p.g), rng);
        for (const bool relu : {false, true}) {
            CAPTURE(relu);
            o.epilogue = relu ? Epilogue::bias_relu : Epilogue::bias;
            const Result expected = naive(p, dy, relu);
            for (const WinogradTile tile : both_tiles) {
                CAPTURE(tile == WinogradTile::f4x4);
                check_equal(run(p, dy, tile, o, workspace), expected, 1e-4);
            }
        }
    }
}

TEST_CASE("winograd accumulates into dw and db, and an empty batch adds nothing to them") {
    // Every backward pass here adds to dw and db. And a share with no images writes no product
    // into its part of dW, which must then be zeros, not what the last call left there.
    cnn::Rng rng(6);
    const Problem p = random_problem(rng, 0);
    cnn::WinogradWorkspace workspace;
    FastConvOptions o;
    o.threads = 2;
    for (const WinogradTile tile : both_tiles) {
        const Tensor4 y = cnn::conv2d_winograd_forward(p.x, p.w, p.b, p.g, tile, o, workspace);
        const Tensor4 dy = cnn::testing::random_tensor<4>(y.shape(), rng);
        Tensor4 dw = cnn::testing::random_tensor<4>(p.w.shape(), rng);  // anything already there
        Tensor1 db = cnn::testing::random_tensor<1>(p.b.shape(), rng);
        const Tensor4 dw_before = dw;
        const Tensor1 db_before = db;
        cnn::conv2d_winograd_backward(dy, p.x, y, p.w, p.g, tile, o, workspace, dw, db);
        const Tensor4 once = dw - dw_before;
        const Tensor1 db_once = db - db_before;
        cnn::conv2d_winograd_backward(dy, p.x, y, p.w, p.g, tile, o, workspace, dw, db);
        CHECK(max_abs_diff(dw, Tensor4(dw_before + 2.0f * once)) < 1e-5);
        CHECK(max_abs_diff(db, Tensor1(db_before + 2.0f * db_once)) < 1e-5);

        // The workspace's shares now hold this batch's sums; an empty batch must not add them.
        const std::array<std::size_t, 4> none = {0, p.x.shape(1), p.x.shape(2), p.x.shape(3)};
        const Tensor4 x0 = Tensor4::from_shape(none);
        const Tensor4 y0 = cnn::conv2d_winograd_forward(x0, p.w, p.b, p.g, tile, o, workspace);
        CHECK(y0.size() == 0);
        const Tensor4 dw_full = dw;
        const Tensor1 db_full = db;
        const Tensor4 dx0 =
            cnn::conv2d_winograd_backward(y0, x0, y0, p.w, p.g, tile, o, workspace, dw, db);
        CHECK(dx0.shape() == x0.shape());
        CHECK(dw == dw_full);
        CHECK(db == db_full);
    }
}

TEST_CASE("winograd: a fixed thread count gives the same bits on every run") {
    // As for the gemm engine: forward and dx are each image's own, the same bits for any
    // thread count when every product holds one image; dW and db add the threads' shares in
    // thread order, the same bits for the same thread count.
    cnn::Rng rng(77);
    Problem p;
    p.x = cnn::testing::random_tensor<4>({32, 3, 11, 12}, rng);
    p.w = cnn::testing::random_tensor<4>({8, 3, 3, 3}, rng);
    p.b = cnn::testing::random_tensor<1>({8}, rng);
    p.g = Conv2DGeometry::keras(cnn::PaddingMode::same, 11, 12, 3, 3, 1, 1);
    const Tensor4 dy = cnn::testing::random_tensor<4>({32, 8, 11, 12}, rng);
    for (const WinogradTile tile : both_tiles) {
        const auto with = [&](std::size_t threads) {
            FastConvOptions o;
            o.epilogue = Epilogue::bias_relu;
            o.threads = threads;
            o.min_columns = 1;
            cnn::WinogradWorkspace workspace;
            return run(p, dy, tile, o, workspace);
        };
        const Result one = with(1), two = with(2), again = with(2), three = with(3);
        CHECK(one.y == two.y);
        CHECK(one.dx == two.dx);
        CHECK(one.y == three.y);
        CHECK(relative_diff(two.dw, one.dw) < 1e-5);
        CHECK(two.dw == again.dw);
        CHECK(two.db == again.db);
        CHECK(two.dx == again.dx);
    }
}

TEST_CASE("winograd: the seed model's 3x3 layers at batch 2 agree with the naive loops") {
    struct Shape {
        std::size_t c, fn, size;
    };
    cnn::Rng rng(11);
    FastConvOptions o;
    o.threads = 2;
    FastConv2DEngine engine(o);  // ConvAlgorithm::automatic: winograd_tile_for()'s tile
    std::vector<Shape> shapes = {{64, 128, 14}, {128, 128, 14}, {128, 256, 7}, {256, 256, 7}};
#ifdef __SANITIZE_ADDRESS__
    // Under the sanitizers (make sanitize, built at -O0) the naive loops take a minute or more
    // on the four layers. Memory errors show as well on one layer of each map size: the two
    // smaller ones; the optimised build (CTest) checks all four.
    shapes = {shapes[0], shapes[2]};
#endif
    for (const Shape& s : shapes) {
        CAPTURE(s.c);
        CAPTURE(s.fn);
        Problem p;
        p.x = cnn::testing::random_tensor<4>({2, s.c, s.size, s.size}, rng);
        p.w = cnn::testing::random_tensor<4>({s.fn, s.c, 3, 3}, rng);
        p.b = cnn::testing::random_tensor<1>({s.fn}, rng);
        p.g = Conv2DGeometry::keras(cnn::PaddingMode::same, s.size, s.size, 3, 3, 1, 1);
        const Tensor4 dy = cnn::testing::random_tensor<4>({2, s.fn, s.size, s.size}, rng);
        const ConvAlgorithm picked = engine.algorithm_for(p.x.shape(), p.w, p.g);
        CHECK(picked == (cnn::winograd_tile_for(s.size, s.size) == WinogradTile::f4x4
                             ? ConvAlgorithm::winograd_4x4
                             : ConvAlgorithm::winograd));
        // Both tiles on every shape, whichever this machine's build picks.
        const Result expected = naive(p, dy, true);
        for (const ConvAlgorithm tile : {ConvAlgorithm::winograd, ConvAlgorithm::winograd_4x4}) {
            CAPTURE(static_cast<int>(tile));
            FastConv2DEngine fixed(o, tile);
            const double worst = check_equal(run(p, dy, true, fixed), expected, 1e-4);
            CHECK(worst < (tile == ConvAlgorithm::winograd ? 1e-5 : 5e-5));
        }
    }
}

TEST_CASE("winograd_grid: tiles that cover the output, counted by hand") {
    using cnn::WinogradTile;
    // 7x7: ceil(7/2) = 4 tiles a side of F(2x2), ceil(7/4) = 2 of F(4x4).
    CHECK(cnn::winograd_grid(WinogradTile::f2x2, 7, 7).tiles == 16);
    CHECK(cnn::winograd_grid(WinogradTile::f2x2, 7, 7).positions == 16);
    CHECK(cnn::winograd_grid(WinogradTile::f4x4, 7, 7).tiles == 4);
    CHECK(cnn::winograd_grid(WinogradTile::f4x4, 7, 7).positions == 36);
    CHECK(cnn::winograd_grid(WinogradTile::f4x4, 7, 7).products() == 144);
    // 14x14: 49 tiles that fit exactly, or 16 that stick out by two rows and columns.
    CHECK(cnn::winograd_grid(WinogradTile::f2x2, 14, 14).products() == 784);
    CHECK(cnn::winograd_grid(WinogradTile::f4x4, 14, 14).products() == 576);
    // Rows and columns apart: 9x6 is 3 x 2 tiles of F(4x4), 5 x 3 of F(2x2).
    CHECK(cnn::winograd_grid(WinogradTile::f4x4, 9, 6).tiles == 6);
    CHECK(cnn::winograd_grid(WinogradTile::f2x2, 9, 6).tiles == 15);
    CHECK(cnn::winograd_grid(WinogradTile::f2x2, 1, 1).tiles == 1);
}

TEST_CASE("winograd_tile_for: F(4x4) where it needs at most a share of F(2x2)'s products") {
    // Products: ceil(OH / m)·ceil(OW / m) tiles of (m + 2)² each.
    const cnn::ProductShare two_thirds{2, 3}, three_quarters{3, 4};
    const auto tile = [](std::size_t oh, std::size_t ow, cnn::ProductShare share) {
        return cnn::winograd_tile_for(oh, ow, share);
    };
    // 4·36 = 144 against 16·16 = 256: 0.56
    CHECK(tile(7, 7, two_thirds) == WinogradTile::f4x4);
    CHECK(tile(7, 7, three_quarters) == WinogradTile::f4x4);
    // 16·36 = 576 against 49·16 = 784: 0.73
    CHECK(tile(14, 14, two_thirds) == WinogradTile::f2x2);
    CHECK(tile(14, 14, three_quarters) == WinogradTile::f4x4);
    // 49·36 against 196·16: 0.56
    CHECK(tile(28, 28, two_thirds) == WinogradTile::f4x4);
    // 36 against 16
    CHECK(tile(1, 1, three_quarters) == WinogradTile::f2x2);
    // 3·2·36 = 216 against 5·4·16 = 320: 0.675, above 2/3 and below 3/4
    CHECK(tile(9, 8, two_thirds) == WinogradTile::f2x2);
    CHECK(tile(9, 8, three_quarters) == WinogradTile::f4x4);
    // 2·1·36 = 72 against 3·2·16 = 96: exactly 3/4, which counts
    CHECK(tile(5, 4, three_quarters) == WinogradTile::f4x4);
    // 3·2·36 = 216 against 5·3·16 = 240: 0.9
    CHECK(tile(9, 6, three_quarters) == WinogradTile::f2x2);
    // The build's own share, as documented: 2/3 with AVX-512, 3/4 without.
    const cnn::ProductShare share = cnn::winograd_f4x4_share();
#if defined(__AVX512F__)
    CHECK((share.numerator == 2 && share.denominator == 3));
#else
    CHECK((share.numerator == 3 && share.denominator == 4));
#endif
    CHECK(cnn::winograd_tile_for(14, 14) == tile(14, 14, share));
}

TEST_CASE("automatic dispatch: Winograd for 3x3 stride 1 with 16+ channels, gemm otherwise") {
    // Every engine agrees with the naive loops; automatic gives the very bits of the engine it
    // picked, which (rounding differently) tells which one ran.
    cnn::Rng rng(21);
    FastConvOptions o;
    o.threads = 2;
    // The 9x6 input keeps its size ('same'), where winograd_tile_for() picks F(2x2) with either
    // share (216 products against 240).
    FastConv2DEngine automatic_engine(o), gemm_engine(o, ConvAlgorithm::gemm),
        winograd_engine(o, ConvAlgorithm::winograd),
        winograd_4x4_engine(o, ConvAlgorithm::winograd_4x4);
    struct Case {
        std::size_t c, fn, fh, fw, sr, sc;
        bool winograd;
    };
    for (const Case& k : {Case{16, 16, 3, 3, 1, 1, true}, Case{20, 17, 3, 3, 1, 1, true},
                          Case{16, 16, 5, 5, 1, 1, false}, Case{16, 16, 3, 3, 2, 2, false},
                          Case{16, 16, 3, 3, 1, 2, false}, Case{16, 16, 1, 1, 1, 1, false},
                          Case{16, 16, 3, 2, 1, 1, false}, Case{16, 16, 2, 3, 1, 1, false},
                          Case{3, 16, 3, 3, 1, 1, false}, Case{16, 8, 3, 3, 1, 1, false}}) {
        CAPTURE(k.c);
        CAPTURE(k.fn);
        CAPTURE(k.fh);
        CAPTURE(k.fw);
        CAPTURE(k.sr);
        CAPTURE(k.sc);
        Problem p;
        p.x = cnn::testing::random_tensor<4>({3, k.c, 9, 6}, rng);
        p.w = cnn::testing::random_tensor<4>({k.fn, k.c, k.fh, k.fw}, rng);
        p.b = cnn::testing::random_tensor<1>({k.fn}, rng);
        p.g = Conv2DGeometry::keras(cnn::PaddingMode::same, 9, 6, k.fh, k.fw, k.sr, k.sc);
        const bool possible = k.fh == 3 && k.fw == 3 && k.sr == 1 && k.sc == 1;
        CHECK(cnn::winograd_applies(p.w, p.g) == possible);
        CHECK(cnn::winograd_preferred(p.w, p.g) == k.winograd);
        const Tensor4 dy =
            cnn::testing::random_tensor<4>(cnn::conv2d_output_shape(p.x, p.w, p.g), rng);
        const Result expected = naive(p, dy, true);
        const Result automatic = run(p, dy, true, automatic_engine);
        check_equal(automatic, expected, 1e-5);
        CHECK((automatic_engine.algorithm_for(p.x.shape(), p.w, p.g) == ConvAlgorithm::winograd) ==
              k.winograd);
        const Result gemm = run(p, dy, true, gemm_engine);  // always possible
        check_equal(gemm, expected, 1e-5);
        if (possible) {
            const Result winograd = run(p, dy, true, winograd_engine);
            check_equal(winograd, expected, 1e-5);
            CHECK_FALSE(winograd.y == gemm.y);  // they round differently: the bits tell
            const Result winograd_4x4 = run(p, dy, true, winograd_4x4_engine);
            check_equal(winograd_4x4, expected, 5e-5);
            CHECK_FALSE(winograd_4x4.y == winograd.y);
            const Result& picked = k.winograd ? winograd : gemm;
            CHECK(automatic.y == picked.y);
            CHECK(automatic.dx == picked.dx);
            CHECK(automatic.dw == picked.dw);
        } else {
            CHECK(automatic.y == gemm.y);
            for (FastConv2DEngine* engine : {&winograd_engine, &winograd_4x4_engine}) {
                CHECK_THROWS_WITH_AS(run(p, dy, true, *engine),
                                     doctest::Contains("expected 3x3 filters and stride 1"),
                                     std::invalid_argument);
            }
        }
    }
}

TEST_CASE("winograd: agrees with PyTorch, and passes the numerical gradient check") {
    // Winograd for the fixtures' 3x3 stride-1 cases ("plain", "batch_channels"), which have
    // too few channels for ConvAlgorithm::automatic to pick it; gemm for the others.
    FastConvOptions o;
    o.threads = 2;
    for (const ConvAlgorithm algorithm : {ConvAlgorithm::winograd, ConvAlgorithm::winograd_4x4}) {
        CAPTURE(cnn::conv_algorithm_name(algorithm));
        FastConv2DEngine winograd(o, algorithm), gemm(o, ConvAlgorithm::gemm);
        const auto engine = [&](const Tensor4& w, const Conv2DGeometry& g) -> FastConv2DEngine& {
            return cnn::winograd_applies(w, g) ? winograd : gemm;
        };
        // The loss is linear in each of x, w and b, so central differences are exact for any
        // nudge, and a larger one shrinks the forward's rounding against the change it
        // measures: F(4x4)'s rounding, divided by the default nudge (0.01), comes to 4e-3.
        cnn::GradientCheckOptions probe;
        probe.epsilon = 0.1;
        cnn::testing::check_against_conv2d_fixtures(
            [&](const Tensor4& x, const Tensor4& w, const Tensor1& b, const Conv2DGeometry& g) {
                return engine(w, g).forward(x, w, b, g, /*relu=*/false);
            },
            [&](const Tensor4& dy, const Tensor4& x, const Tensor4& w, const Conv2DGeometry& g,
                Tensor4& dw, Tensor1& db) {
                return engine(w, g).backward(dy, x, Tensor4(), w, g, /*relu=*/false, dw, db);
            },
            /*numerical=*/true, probe);
    }
}
