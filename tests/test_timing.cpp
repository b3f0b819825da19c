// Tests of support/app/timing.hpp: the warm-up call is not counted, and the median is taken.
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "support/app/timing.hpp"

TEST_CASE("median_of: one warm-up call, then the median of the repeats") {
    std::vector<double> given = {100.0, 5.0, 1.0, 3.0};  // the warm-up's 100 must not count
    std::size_t calls = 0;
    const double median = cnn::median_of(3, [&] { return given[calls++]; });
    CHECK(calls == 4);
    CHECK(median == 3.0);
    CHECK_THROWS_AS(cnn::median_of(0, [] { return 0.0; }), std::invalid_argument);
}

TEST_CASE("median: the middle value, of an even count the lower middle one") {
    CHECK(cnn::median({3.0, 1.0, 2.0}) == 2.0);
    CHECK(cnn::median({4.0, 1.0, 3.0, 2.0}) == 2.0);  // a measured figure, not 2.5
    CHECK(cnn::median({7.0}) == 7.0);
    CHECK_THROWS_AS(cnn::median({}), std::invalid_argument);
}

TEST_CASE("seconds_of and median_seconds: non-negative times, every run made") {
    std::size_t runs = 0;
    CHECK(cnn::seconds_of([&] { ++runs; }) >= 0.0);
    CHECK(cnn::median_seconds(2, [&] { ++runs; }) >= 0.0);
    CHECK(runs == 4);  // one, then a warm-up and two timed runs
}
