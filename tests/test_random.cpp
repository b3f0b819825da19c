#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "cnn/tensor/random.hpp"

TEST_CASE("Rng: the engine is the standard mt19937_64") {
    // The C++ standard ([rand.predef]) fixes the 10000th output of a default-seeded
    // mt19937_64 (seed 5489) at 9981545732273789042.
    cnn::Rng rng(5489);
    for (int i = 0; i < 9999; ++i) {
        rng.engine()();
    }
    CHECK(rng.engine()() == 9981545732273789042ULL);
}

TEST_CASE("Rng: same seed, same numbers, and uniform and normal have the right moments") {
    cnn::Rng a(42), b(42), c(43);
    CHECK(a.uniform() == b.uniform());
    CHECK(a.normal() == b.normal());
    CHECK(a.uniform() != c.uniform());

    cnn::Rng rng(1);
    const int n = 200000;
    double sum_u = 0, sum_z = 0, sum_z2 = 0;
    float min_u = 1, max_u = 0;
    for (int i = 0; i < n; ++i) {
        const float u = rng.uniform();
        min_u = std::min(min_u, u);
        max_u = std::max(max_u, u);
        sum_u += u;
        const double z = rng.normal();
        sum_z += z;
        sum_z2 += z * z;
    }
    CHECK(min_u >= 0.0f);
    CHECK(max_u < 1.0f);
    // Standard errors: uniform mean 1/sqrt(12 n) = 0.00065; normal mean 1/sqrt(n) = 0.0022,
    // normal variance sqrt(2/n) = 0.0032. Bounds at about 5 standard errors.
    CHECK(std::abs(sum_u / n - 0.5) < 0.0035);
    CHECK(std::abs(sum_z / n) < 0.011);
    CHECK(std::abs(sum_z2 / n - 1.0) < 0.016);
}

TEST_CASE("Rng: below() and permutation()") {
    cnn::Rng rng(9);
    std::vector<int> counts(3, 0);
    for (int i = 0; i < 30000; ++i) {
        counts.at(rng.below(3))++;
    }
    for (int count : counts) {
        CHECK(std::abs(count - 10000) < 500);  // sd = sqrt(30000 * 1/3 * 2/3) = 82
    }
    CHECK_THROWS_AS(rng.below(0), std::invalid_argument);

    std::vector<std::size_t> p = rng.permutation(1000);
    std::vector<std::size_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        REQUIRE(sorted[i] == i);
    }
    std::size_t fixed_points = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        fixed_points += p[i] == i ? 1 : 0;
    }
    CHECK(fixed_points < 10);  // a random permutation has about 1 fixed point
    CHECK(rng.permutation(0).empty());
}

TEST_CASE("Rng: state() and set_state() continue the sequence exactly, spare normal included") {
    cnn::Rng a(7);
    a.normal();  // leaves a spare normal for the next call
    const std::string saved = a.state();
    const float next_normal = a.normal(), next_uniform = a.uniform();
    const std::size_t next_below = a.below(1000);

    cnn::Rng b(123);
    b.set_state(saved);
    CHECK(b.normal() == next_normal);  // the spare, not a fresh draw
    CHECK(b.uniform() == next_uniform);
    CHECK(b.below(1000) == next_below);
    CHECK(b.state() == a.state());

    cnn::Rng c(5);
    const std::string before = c.state();
    CHECK_THROWS_WITH_AS(c.set_state("12 34"), doctest::Contains("Rng::set_state: expected"),
                         std::invalid_argument);
    CHECK_THROWS_AS(c.set_state(saved + " extra"), std::invalid_argument);
    CHECK_THROWS_AS(c.set_state(saved.substr(0, saved.size() - 12)), std::invalid_argument);
    CHECK(c.state() == before);  // unchanged by a failed set_state
}
