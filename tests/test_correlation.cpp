// Tests of ops/correlation.hpp on hand-computed cases: perfect, opposite and no linear relation,
// neighbours at a distance in a pattern whose answer is known, and the channels of a colour
// image built from one grey channel.
#include <cmath>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/ops/correlation.hpp"
#include "test_support.hpp"

using cnn::Tensor2;
using cnn::Tensor3;

TEST_CASE("correlation: 1, -1 and 0 by hand, errors for what has none") {
    const std::vector<float> a = {1, 2, 3, 4}, twice = {2, 4, 6, 8}, reversed = {4, 3, 2, 1};
    CHECK(cnn::correlation(a.data(), twice.data(), 4) == doctest::Approx(1.0));
    CHECK(cnn::correlation(a.data(), reversed.data(), 4) == doctest::Approx(-1.0));
    // b = (1, -1, -1, 1): deviations of a are (-1.5, -0.5, 0.5, 1.5), and their products with
    // b sum to -1.5 + 0.5 - 0.5 + 1.5 = 0.
    const std::vector<float> none = {1, -1, -1, 1};
    CHECK(cnn::correlation(a.data(), none.data(), 4) == doctest::Approx(0.0));
    // (1, 2, 3) against (1, 3, 2): deviations (-1, 0, 1) and (-1, 1, 0): 1 / (sqrt 2 sqrt 2).
    const std::vector<float> p = {1, 2, 3}, q = {1, 3, 2};
    CHECK(cnn::correlation(p.data(), q.data(), 3) == doctest::Approx(0.5));
    const std::vector<float> flat = {2, 2, 2, 2};
    CHECK_THROWS_WITH_AS(cnn::correlation(a.data(), flat.data(), 4),
                         "correlation: one of the two lists of 4 values is constant, so it has "
                         "no correlation with anything",
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::correlation(a.data(), twice.data(), 1), std::invalid_argument);
}

TEST_CASE("neighbour_correlation: stripes one pixel wide, at distances 1 and 2, both ways") {
    // Columns alternate 0, 1, 0, 1, ...: a pixel and its right neighbour always differ (r = -1),
    // a pixel and the one two to the right are always equal (r = 1). Downwards, rows are equal.
    Tensor2 stripes = Tensor2::from_shape({3, 6});
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 6; ++j) {
            stripes(i, j) = static_cast<float>(j % 2);
        }
    }
    CHECK(cnn::neighbour_correlation(stripes, 1, cnn::Direction::right) == doctest::Approx(-1.0));
    CHECK(cnn::neighbour_correlation(stripes, 2, cnn::Direction::right) == doctest::Approx(1.0));
    CHECK(cnn::neighbour_correlation(stripes, 1, cnn::Direction::down) == doctest::Approx(1.0));
    // A smooth ramp 0, 1, ..., 5 along each row: pairs at distance d are (j, j + d), r = 1.
    Tensor2 ramp = Tensor2::from_shape({2, 6});
    for (std::size_t j = 0; j < 6; ++j) {
        ramp(0, j) = ramp(1, j) = static_cast<float>(j);
    }
    CHECK(cnn::neighbour_correlation(ramp, 3, cnn::Direction::right) == doctest::Approx(1.0));
    CHECK_THROWS_WITH_AS(cnn::neighbour_correlation(stripes, 6, cnn::Direction::right),
                         "neighbour_correlation: expected a distance from 1 to 5 columns in an "
                         "image of 3x6 pixels (at least 2 pairs), got 6",
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::neighbour_correlation(stripes, 0, cnn::Direction::down),
                    std::invalid_argument);
}

TEST_CASE("channel_correlations: channels built from one another, by hand") {
    // Red is a grey image g, green is 2 g + 1 (r = 1 with red), blue is 1 - g (r = -1).
    cnn::Rng rng(7);
    const Tensor2 g = cnn::testing::random_tensor<2>({4, 5}, rng);
    Tensor3 image = Tensor3::from_shape({3, 4, 5});
    for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t j = 0; j < 5; ++j) {
            image(0, i, j) = g(i, j);
            image(1, i, j) = 2.0f * g(i, j) + 1.0f;
            image(2, i, j) = 1.0f - g(i, j);
        }
    }
    const Tensor2 r = cnn::channel_correlations(image);
    const double expected[3][3] = {{1, 1, -1}, {1, 1, -1}, {-1, -1, 1}};
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
            CHECK(r(i, j) == doctest::Approx(expected[i][j]).epsilon(1e-5));
        }
    }
}
