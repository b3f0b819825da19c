#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/model/standardize.hpp"

TEST_CASE("pixel_statistics and standardize on values worked out by hand") {
    // Three images of 1x1x2 pixels. Pixel 0 takes 0, 2, 4 (mean 2, population variance
    // (4 + 0 + 4) / 3 = 8/3); pixel 1 is always 5 (mean 5, deviation 0).
    cnn::Tensor4 x = {{{{0.0f, 5.0f}}}, {{{2.0f, 5.0f}}}, {{{4.0f, 5.0f}}}};
    const cnn::PixelStatistics s = cnn::pixel_statistics(x, 0, 1e-7f);
    CHECK(s.mean(0, 0, 0) == doctest::Approx(2.0));
    CHECK(s.mean(0, 0, 1) == doctest::Approx(5.0));
    CHECK(s.deviation(0, 0, 0) == doctest::Approx(1.6329932));  // sqrt(8/3)
    CHECK(s.deviation(0, 0, 1) == 1e-7f);  // sqrt(0) + epsilon, exactly
    cnn::standardize(x, s);
    CHECK(x(0, 0, 0, 0) == doctest::Approx(-1.2247449));  // -2 / sqrt(8/3) = -sqrt(3/2)
    CHECK(x(1, 0, 0, 0) == doctest::Approx(0.0));
    CHECK(x(2, 0, 0, 0) == doctest::Approx(1.2247449));
    CHECK(x(1, 0, 0, 1) == 0.0f);  // a constant pixel becomes 0, not NaN

    // Only the first two images: pixel 0 has mean 1 and deviation 1.
    const cnn::Tensor4 y = {{{{0.0f, 5.0f}}}, {{{2.0f, 5.0f}}}, {{{40.0f, 5.0f}}}};
    const cnn::PixelStatistics first = cnn::pixel_statistics(y, 2, 0.0f);
    CHECK(first.mean(0, 0, 0) == doctest::Approx(1.0));
    CHECK(first.deviation(0, 0, 0) == doctest::Approx(1.0));
}

TEST_CASE("pixel_statistics and standardize reject what they cannot use") {
    cnn::Tensor4 x = {{{{1.0f, 2.0f}}}};
    CHECK_THROWS_WITH_AS(cnn::pixel_statistics(x, 2), doctest::Contains("between 1 and 1 images"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::pixel_statistics(cnn::Tensor4::from_shape({0, 1, 1, 2})),
                    std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::pixel_statistics(x, 0, -1.0f), doctest::Contains("epsilon >= 0"),
                         std::invalid_argument);
    const cnn::PixelStatistics s = cnn::pixel_statistics(x);
    cnn::Tensor4 other = {{{{1.0f, 2.0f, 3.0f}}}};
    CHECK_THROWS_WITH_AS(cnn::standardize(other, s),
                         doctest::Contains("expected images of shape (N, 1, 1, 2), got (N, 1, 1, 3)"),
                         std::invalid_argument);
    CHECK(other(0, 0, 0, 2) == 3.0f);
}
