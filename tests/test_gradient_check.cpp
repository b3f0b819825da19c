#include <cmath>

#include <doctest/doctest.h>

#include "cnn/check/gradient_check.hpp"

TEST_CASE("check_gradient: passes a right gradient, fails a wrong one, restores the values") {
    std::vector<float> x = {0.3f, -1.2f, 2.5f, 0.0f};
    const auto loss = [&] {  // L = sum x^3 / 3 + sum x: dL/dx = x^2 + 1
        double sum = 0.0;
        for (float v : x) {
            sum += std::pow(double(v), 3) / 3.0 + v;
        }
        return sum;
    };
    std::vector<float> right, wrong;
    for (float v : x) {
        right.push_back(v * v + 1.0f);
        wrong.push_back(v * v);  // forgot the + 1
    }
    const std::vector<float> before = x;
    const auto ok = cnn::check_gradient("right", loss, x.data(), right.data(), x.size());
    CHECK_MESSAGE(ok.passed(), ok.summary());
    CHECK(ok.checked == 4);
    CHECK(x == before);  // every nudge was undone exactly
    const auto bad = cnn::check_gradient("wrong", loss, x.data(), wrong.data(), x.size());
    CHECK_FALSE(bad.passed());
    // Off by 1 everywhere; relative to max(|a|, |n|, 1) that is worst at x = 0, where n = 1.
    CHECK(bad.max_error == doctest::Approx(1.0).epsilon(1e-3));
    CHECK(bad.worst_index == 3);
    CHECK(bad.summary().find("FAILED") != std::string::npos);
}

TEST_CASE("check_gradient: a NaN gradient fails") {
    std::vector<float> x = {1.0f};
    std::vector<float> grad = {NAN};
    const auto result = cnn::check_gradient("nan", [&] { return double(x[0]); }, x.data(),
                                            grad.data(), 1);
    CHECK_FALSE(result.passed());
}
