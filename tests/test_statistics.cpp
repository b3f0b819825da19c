// Tests of support/app/statistics.hpp on numbers computed by hand.
#include <cmath>

#include <doctest/doctest.h>

#include "support/app/statistics.hpp"

TEST_CASE("mean, sample standard deviation and standard error, by hand") {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, sample variance 32 / 7.
    const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
    CHECK(cnn::mean(v) == 5.0);
    CHECK(cnn::sample_stddev(v) == doctest::Approx(std::sqrt(32.0 / 7.0)));
    CHECK(cnn::standard_error(v) == doctest::Approx(std::sqrt(32.0 / 7.0) / std::sqrt(8.0)));
    CHECK(cnn::mean({}) == 0.0);
    CHECK(cnn::sample_stddev({3.0}) == 0.0);
    CHECK(cnn::standard_error({3.0}) == 0.0);
}
