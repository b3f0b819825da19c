#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "cnn/ops/upsample.hpp"
#include "test_support.hpp"

using cnn::Tensor4;
using cnn::UpsampleFactors;
using cnn::testing::image_of;
using cnn::testing::max_abs_diff;

namespace {

// One map of a batch, as a matrix.
xt::xtensor<float, 2> map_of(const Tensor4& t, std::size_t n, std::size_t c) {
    return xt::view(t, n, c);
}

// A third, as a float: the blends of a factor 3 land on thirds.
constexpr float third = 1.0f / 3.0f;

// The PyTorch cases of tests/fixtures/upsample_torch.txt (made by make_upsample_fixtures.py).
struct UpsampleCase {
    std::string name, mode;
    UpsampleFactors factors;
    Tensor4 x, y, dy, dx;
};

std::vector<UpsampleCase> read_upsample_fixtures() {
    std::ifstream in(std::string(CNN_SOURCE_DIR) + "/tests/fixtures/upsample_torch.txt");
    REQUIRE_MESSAGE(in.good(), "cannot open tests/fixtures/upsample_torch.txt");
    std::vector<UpsampleCase> cases;
    std::array<std::size_t, 4> x_shape{}, y_shape{};
    std::string line;
    const auto fill4 = [](std::istringstream& fields, const std::array<std::size_t, 4>& shape) {
        Tensor4 t = Tensor4::from_shape(shape);
        std::vector<float> v;
        float value = 0;
        while (fields >> value) {
            v.push_back(value);
        }
        REQUIRE(v.size() == t.size());
        std::copy(v.begin(), v.end(), t.begin());
        return t;
    };
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream fields(line);
        std::string label;
        fields >> label;
        if (label == "case") {
            UpsampleCase k;
            fields >> k.name >> k.mode >> x_shape[0] >> x_shape[1] >> x_shape[2] >> x_shape[3] >>
                k.factors.rows >> k.factors.cols;
            REQUIRE(!fields.fail());
            y_shape = {x_shape[0], x_shape[1], x_shape[2] * k.factors.rows,
                       x_shape[3] * k.factors.cols};
            cases.push_back(k);
            continue;
        }
        REQUIRE(!cases.empty());
        UpsampleCase& k = cases.back();
        if (label == "x") k.x = fill4(fields, x_shape);
        if (label == "y") k.y = fill4(fields, y_shape);
        if (label == "dy") k.dy = fill4(fields, y_shape);
        if (label == "dx") k.dx = fill4(fields, x_shape);
    }
    REQUIRE(cases.size() >= 5);
    return cases;
}

// The script's formula: ((a k) mod m - shift) / scale for k = 0, 1, ... in row-major order.
Tensor4 formula(const std::array<std::size_t, 4>& shape, std::size_t a, std::size_t m,
                float shift, float scale) {
    Tensor4 t = Tensor4::from_shape(shape);
    for (std::size_t k = 0; k < t.size(); ++k) {
        t.data()[k] = (static_cast<float>((k * a) % m) - shift) / scale;
    }
    return t;
}

}  // namespace

TEST_CASE("nearest upsampling 2x copies each value of a 2x2 map into a 2x2 block, by hand") {
    const Tensor4 y = cnn::upsample_nearest_forward(image_of({{1, 2}, {3, 4}}), {2, 2});
    CHECK(max_abs_diff(y, image_of({{1, 1, 2, 2}, {1, 1, 2, 2}, {3, 3, 4, 4}, {3, 3, 4, 4}})) == 0);
}

TEST_CASE("nearest upsampling by (2, 3) repeats rows twice and columns three times, by hand") {
    const Tensor4 y = cnn::upsample_nearest_forward(image_of({{1, 2}, {3, 4}}), {2, 3});
    CHECK(max_abs_diff(y, image_of({{1, 1, 1, 2, 2, 2},
                                    {1, 1, 1, 2, 2, 2},
                                    {3, 3, 3, 4, 4, 4},
                                    {3, 3, 3, 4, 4, 4}})) == 0);
}

TEST_CASE("nearest upsampling backward sums each block of dy, by hand") {
    // dy = 1..16 row by row; the top-left block holds 1, 2, 5, 6 (sum 14), the top-right
    // 3, 4, 7, 8 (22), the bottom-left 9, 10, 13, 14 (46), the bottom-right 11, 12, 15, 16 (54).
    const Tensor4 dy = image_of({{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}, {13, 14, 15, 16}});
    CHECK(max_abs_diff(cnn::upsample_nearest_backward(dy, {2, 2}),
                       image_of({{14, 22}, {46, 54}})) == 0);
    // By (2, 1): pairs of rows; by (1, 4): whole rows.
    CHECK(max_abs_diff(cnn::upsample_nearest_backward(dy, {2, 1}),
                       image_of({{6, 8, 10, 12}, {22, 24, 26, 28}})) == 0);
    CHECK(max_abs_diff(cnn::upsample_nearest_backward(dy, {1, 4}),
                       image_of({{10}, {26}, {42}, {58}})) == 0);
}

TEST_CASE("bilinear upsampling's taps along a 2-value axis by 2 sit at the half-pixel positions worked out by hand") {
    // Output i samples (i + 0.5) / 2 - 0.5: -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped
    // to 1). Between rows 0 and 1 the weight of row 1 is the distance from row 0.
    const std::vector<cnn::BilinearTap> taps = cnn::bilinear_taps(2, 2);
    REQUIRE(taps.size() == 4);
    const float high[] = {0.0f, 0.25f, 0.75f, 0.0f};
    const std::size_t low[] = {0, 0, 0, 1};
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(taps[i].low == low[i]);
        CHECK(taps[i].high == 1);  // the row after `low`, or the last row itself
        CHECK(taps[i].weight_high == doctest::Approx(high[i]));
        CHECK(taps[i].weight_low == doctest::Approx(1.0f - high[i]));
    }
    // Factor 1 is the identity: output i at position i exactly.
    for (const cnn::BilinearTap& t : cnn::bilinear_taps(3, 1)) {
        CHECK(t.weight_high == 0.0f);
        CHECK(t.weight_low == 1.0f);
    }
    CHECK(cnn::bilinear_taps(0, 2).empty());
}

TEST_CASE("bilinear upsampling 2x of the 2x2 map 0, 1 over 2, 3 blends at 0, 0.25, 0.75 and 1, by hand") {
    // Rows and columns both sample the input at p = 0, 0.25, 0.75, 1 (previous test). The input
    // is x[r, s] = 2 r + s, linear in both, so the blend is exact: y[i, j] = 2 p_i + p_j.
    const Tensor4 y = cnn::upsample_bilinear_forward(image_of({{0, 1}, {2, 3}}), {2, 2});
    CHECK(max_abs_diff(y, image_of({{0.0f, 0.25f, 0.75f, 1.0f},
                                    {0.5f, 0.75f, 1.25f, 1.5f},
                                    {1.5f, 1.75f, 2.25f, 2.5f},
                                    {2.0f, 2.25f, 2.75f, 3.0f}})) < 1e-6);
}

TEST_CASE("bilinear upsampling by 3 samples at thirds, clamped at both edges, by hand") {
    // A 2-value axis, factor 3: p = (i + 0.5) / 3 - 0.5 = -1/3 (-> 0), 0, 1/3, 2/3, 1, 4/3 (-> 1).
    // On x[r, s] = 2 r + s again y[i, j] = 2 p_i + p_j.
    const float p[] = {0, 0, third, 2 * third, 1, 1};
    xt::xtensor<float, 2> expected = xt::zeros<float>({6, 6});
    for (std::size_t i = 0; i < 6; ++i) {
        for (std::size_t j = 0; j < 6; ++j) {
            expected(i, j) = 2 * p[i] + p[j];
        }
    }
    CHECK(max_abs_diff(cnn::upsample_bilinear_forward(image_of({{0, 1}, {2, 3}}), {3, 3}),
                       image_of(expected)) < 1e-6);
    // A 3-value row [0, 3, 9], columns by 3, rows by 1: p = -1/3 (-> 0), 0, 1/3, 2/3, 1, 4/3,
    // 5/3, 2, 7/3 (-> 2), so y = 0, 0, 1, 2, 3, then 3 + 6/3 = 5, 3 + 12/3 = 7, 9, 9.
    CHECK(max_abs_diff(cnn::upsample_bilinear_forward(image_of({{0, 3, 9}}), {1, 3}),
                       image_of({{0, 0, 1, 2, 3, 5, 7, 9, 9}})) < 1e-5);
}

TEST_CASE("bilinear upsampling by (2, 3) uses quarters along rows and thirds along columns, by hand") {
    // Rows sample p = 0, 0.25, 0.75, 1 (factor 2), columns q = 0, 0, 1/3, 2/3, 1, 1 (factor 3);
    // on x[r, s] = 2 r + s, y[i, j] = 2 p_i + q_j.
    const Tensor4 y = cnn::upsample_bilinear_forward(image_of({{0, 1}, {2, 3}}), {2, 3});
    CHECK(max_abs_diff(y, image_of({{0.0f, 0.0f, third, 2 * third, 1.0f, 1.0f},
                                    {0.5f, 0.5f, 0.5f + third, 0.5f + 2 * third, 1.5f, 1.5f},
                                    {1.5f, 1.5f, 1.5f + third, 1.5f + 2 * third, 2.5f, 2.5f},
                                    {2.0f, 2.0f, 2.0f + third, 2.0f + 2 * third, 3.0f, 3.0f}})) <
          1e-6);
}

TEST_CASE("bilinear upsampling backward of ones gives each input its share, by hand") {
    // Along a 2-value axis by 2, input 0 gets the weights 1, 0.75, 0.25, 0 (sum 2) and input 1
    // gets 0, 0.25, 0.75, 1 (sum 2): each of the four inputs collects 2 x 2 = 4 from 16 ones.
    CHECK(max_abs_diff(cnn::upsample_bilinear_backward(xt::ones<float>({1, 1, 4, 4}), {2, 2}),
                       image_of({{4, 4}, {4, 4}})) < 1e-6);
    // By 3 along both axes: input 0 gets 1 + 1 + 2/3 + 1/3 = 3 along each axis, so 9 each.
    CHECK(max_abs_diff(cnn::upsample_bilinear_backward(xt::ones<float>({1, 1, 6, 6}), {3, 3}),
                       image_of({{9, 9}, {9, 9}})) < 1e-5);
}

TEST_CASE("upsampling keeps the maps of a batch and its channels apart") {
    // Map (n, c) is [[0, 1], [2, 3]] plus 10 (3 n + c). Nearest copies values, and the bilinear
    // weights sum to 1, so each output map is the single-map result plus the same offset.
    Tensor4 x = Tensor4::from_shape({2, 3, 2, 2});
    for (std::size_t n = 0; n < 2; ++n) {
        for (std::size_t c = 0; c < 3; ++c) {
            xt::view(x, n, c) = xt::xtensor<float, 2>{{0, 1}, {2, 3}} +
                                10.0f * static_cast<float>(3 * n + c);
        }
    }
    const Tensor4 one = image_of({{0, 1}, {2, 3}});
    for (const UpsampleFactors f : {UpsampleFactors{2, 2}, UpsampleFactors{3, 2}}) {
        CAPTURE(f.rows);
        const Tensor4 nearest = cnn::upsample_nearest_forward(x, f);
        const Tensor4 bilinear = cnn::upsample_bilinear_forward(x, f);
        REQUIRE(nearest.shape() == std::array<std::size_t, 4>{2, 3, 2 * f.rows, 2 * f.cols});
        REQUIRE(bilinear.shape() == nearest.shape());
        for (std::size_t n = 0; n < 2; ++n) {
            for (std::size_t c = 0; c < 3; ++c) {
                CAPTURE(n);
                CAPTURE(c);
                const float offset = 10.0f * static_cast<float>(3 * n + c);
                const xt::xtensor<float, 2> near_one =
                    map_of(cnn::upsample_nearest_forward(one, f), 0, 0) + offset;
                const xt::xtensor<float, 2> bilinear_one =
                    map_of(cnn::upsample_bilinear_forward(one, f), 0, 0) + offset;
                CHECK(max_abs_diff(map_of(nearest, n, c), near_one) == 0);
                CHECK(max_abs_diff(map_of(bilinear, n, c), bilinear_one) < 1e-5);
            }
        }
    }
}

TEST_CASE("both upsampling backward passes are the adjoints of their forward passes on random tensors") {
    // <up(x), dy> = <x, up_backward(dy)> for every x and dy: the backward pass is the transpose
    // of the (linear) forward pass, which is what the gradient of a linear map is.
    cnn::Rng rng(11);
    for (const UpsampleFactors f : {UpsampleFactors{2, 2}, UpsampleFactors{3, 2},
                                    UpsampleFactors{1, 4}, UpsampleFactors{2, 3}}) {
        CAPTURE(f.rows);
        CAPTURE(f.cols);
        const Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 4, 5}, rng);
        const Tensor4 dy =
            cnn::testing::random_tensor<4>({2, 3, 4 * f.rows, 5 * f.cols}, rng);
        using cnn::testing::dot;
        const double nearest_left = dot(cnn::upsample_nearest_forward(x, f), dy);
        const double nearest_right = dot(x, cnn::upsample_nearest_backward(dy, f));
        CHECK(nearest_left == doctest::Approx(nearest_right).epsilon(1e-5));
        const double bilinear_left = dot(cnn::upsample_bilinear_forward(x, f), dy);
        const double bilinear_right = dot(x, cnn::upsample_bilinear_backward(dy, f));
        CHECK(bilinear_left == doctest::Approx(bilinear_right).epsilon(1e-5));
        // The two modes are different maps: one called in place of the other would show here.
        CHECK(nearest_left != doctest::Approx(bilinear_left).epsilon(1e-3));
    }
}

TEST_CASE("nearest and bilinear upsampling agree with PyTorch's interpolate, forward and backward") {
    for (const UpsampleCase& c : read_upsample_fixtures()) {
        CAPTURE(c.name);
        // The fixture holds the script's formulas (its comment), so it tests what it says.
        CHECK(max_abs_diff(c.x, formula({c.x.shape(0), c.x.shape(1), c.x.shape(2), c.x.shape(3)},
                                        7, 11, 5.0f, 4.0f)) == 0);
        CHECK(max_abs_diff(c.dy, formula({c.dy.shape(0), c.dy.shape(1), c.dy.shape(2),
                                          c.dy.shape(3)},
                                         5, 13, 6.0f, 8.0f)) == 0);
        REQUIRE((c.mode == "nearest" || c.mode == "bilinear"));
        const bool nearest = c.mode == "nearest";
        const Tensor4 y = nearest ? cnn::upsample_nearest_forward(c.x, c.factors)
                                  : cnn::upsample_bilinear_forward(c.x, c.factors);
        const Tensor4 dx = nearest ? cnn::upsample_nearest_backward(c.dy, c.factors)
                                   : cnn::upsample_bilinear_backward(c.dy, c.factors);
        CHECK(max_abs_diff(y, c.y) < 1e-5);
        CHECK(max_abs_diff(dx, c.dx) < 1e-5);
    }
}

TEST_CASE("upsampling operations reject a factor of 0 and a dy that no factor explains") {
    const Tensor4 x = xt::ones<float>({1, 1, 2, 2});
    CHECK_THROWS_WITH_AS(cnn::upsample_nearest_forward(x, {0, 2}),
                         doctest::Contains("upsample_nearest_forward: expected factors of at least 1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::upsample_bilinear_forward(x, {2, 0}),
                         doctest::Contains("got 2 x 0"), std::invalid_argument);
    CHECK_THROWS_AS(cnn::upsample_nearest_backward(x, {0, 1}), std::invalid_argument);
    CHECK_THROWS_AS(cnn::upsample_bilinear_backward(x, {1, 0}), std::invalid_argument);
    CHECK_THROWS_AS(cnn::upsampled_shape({1, 1, 2, 2}, {0, 0}), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::bilinear_taps(4, 0), doctest::Contains("expected a factor of at least 1"),
                         std::invalid_argument);
    // A 5 x 6 dy cannot come from upsampling by (2, 3): 5 is no multiple of 2.
    const Tensor4 dy = xt::ones<float>({1, 1, 5, 6});
    CHECK_THROWS_WITH_AS(cnn::upsample_nearest_backward(dy, {2, 3}),
                         doctest::Contains("multiples of the factors 2 x 3, got dy (1, 1, 5, 6)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::upsample_bilinear_backward(dy, {2, 3}),
                         doctest::Contains("upsample_bilinear_backward"), std::invalid_argument);
    CHECK(cnn::upsampled_shape({2, 3, 4, 5}, {3, 2}) == std::array<std::size_t, 4>{2, 3, 12, 10});
}
