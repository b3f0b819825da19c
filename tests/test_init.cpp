#include <cmath>

#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/tensor/init.hpp"

namespace {
struct Moments {
    double mean, variance, max_abs;
};
template <class T>
Moments moments(const T& t) {
    double sum = 0, sum2 = 0, max_abs = 0;
    for (float v : t) {
        sum += v;
        sum2 += double(v) * v;
        max_abs = std::max(max_abs, std::abs(double(v)));
    }
    const double n = double(t.size());
    return {sum / n, sum2 / n - (sum / n) * (sum / n), max_abs};
}
}  // namespace

TEST_CASE("he_normal: mean 0, variance 2 / fan_in") {
    cnn::Rng rng(3);
    xt::xtensor<float, 2> w = xt::xtensor<float, 2>::from_shape({400, 250});
    cnn::he_normal(w, 400, rng);
    const Moments m = moments(w);
    CHECK(std::abs(m.mean) < 0.001);                           // sd of the mean 0.0002
    CHECK(m.variance == doctest::Approx(2.0 / 400).epsilon(0.02));  // sd ~0.6% of it
    xt::xtensor<float, 4> f = xt::xtensor<float, 4>::from_shape({64, 3, 3, 3});
    cnn::he_normal(f, 27, rng);
    CHECK(moments(f).variance == doctest::Approx(2.0 / 27).epsilon(0.1));
}

TEST_CASE("glorot_uniform: within +-sqrt(6 / (fan_in + fan_out)), variance limit^2 / 3") {
    cnn::Rng rng(4);
    xt::xtensor<float, 2> w = xt::xtensor<float, 2>::from_shape({300, 200});
    cnn::glorot_uniform(w, 300, 200, rng);
    const double limit = std::sqrt(6.0 / 500);
    const Moments m = moments(w);
    CHECK(m.max_abs <= limit);
    CHECK(m.max_abs > 0.99 * limit);
    CHECK(m.variance == doctest::Approx(limit * limit / 3).epsilon(0.02));
    CHECK_THROWS_AS(cnn::he_normal(w, 0, rng), std::invalid_argument);
}
