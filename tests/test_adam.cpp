#include <cmath>
#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/optim/adam.hpp"

namespace {
cnn::Parameter view(std::vector<float>& w, std::vector<float>& g) {
    return {"w", w.data(), g.data(), w.size(), {w.size()}};
}
}  // namespace

TEST_CASE("Adam: two steps computed by hand from the update rule") {
    std::vector<float> w = {1.0f, -2.0f}, g = {0.5f, -0.1f};
    cnn::Adam adam({0.1f, 0.9f, 0.999f, 1e-7f});
    adam.step({view(w, g)});
    // Step 1: m = 0.1 g, v = 0.001 g^2; m_hat = g, v_hat = g^2: w -= 0.1 * g / (|g| + 1e-7),
    // a step of 0.1 against the sign of the gradient, whatever its size.
    CHECK(w[0] == doctest::Approx(0.9).epsilon(1e-6));
    CHECK(w[1] == doctest::Approx(-1.9).epsilon(1e-6));
    // Step 2 with the gradient 0.25 for w[0]: m = 0.9 * 0.05 + 0.1 * 0.25 = 0.07,
    // v = 0.999 * 0.00025 + 0.001 * 0.0625 = 0.00031225; m_hat = 0.07 / 0.19,
    // v_hat = 0.00031225 / 0.001999.
    g = {0.25f, -0.1f};
    adam.step({view(w, g)});
    const double m_hat = 0.07 / 0.19, v_hat = 0.00031225 / 0.001999;
    CHECK(w[0] == doctest::Approx(0.9 - 0.1 * m_hat / (std::sqrt(v_hat) + 1e-7)).epsilon(1e-5));
    CHECK(adam.steps_taken() == 2);
}

TEST_CASE("Adam: minimises a quadratic, and rejects bad options") {
    std::vector<float> w = {3.0f}, g = {0.0f};
    cnn::Adam adam({0.05f});
    for (int i = 0; i < 500; ++i) {
        g[0] = 2.0f * (w[0] - 1.0f);  // d/dw (w - 1)^2
        adam.step({view(w, g)});
    }
    CHECK(w[0] == doctest::Approx(1.0).epsilon(1e-2));
    CHECK_THROWS_AS(cnn::Adam({0.0f}), std::invalid_argument);
    CHECK_THROWS_AS(cnn::Adam({0.1f, 1.0f}), std::invalid_argument);
}

TEST_CASE("Adam: first_moments, second_moments and restore carry the whole state") {
    std::vector<float> w = {1.0f, -2.0f}, g = {0.3f, 0.7f};
    const cnn::Parameter p{"w", w.data(), g.data(), 2, {2}};
    cnn::Adam a({0.1f});
    a.step({p});
    a.step({p});
    std::vector<float> w2 = w;
    const cnn::Parameter p2{"w", w2.data(), g.data(), 2, {2}};
    cnn::Adam b({0.1f});
    b.restore(a.steps_taken(), a.first_moments(), a.second_moments());
    a.step({p});
    b.step({p2});
    CHECK(w2 == w);  // bias corrections need t, the averages m and v
    CHECK(b.steps_taken() == 3);
    CHECK_THROWS_AS(b.restore(1, {{1.0f}}, {}), std::invalid_argument);
    CHECK_THROWS_AS(b.restore(0, {{1.0f}}, {{1.0f}}), std::invalid_argument);
    CHECK(b.steps_taken() == 3);
}
