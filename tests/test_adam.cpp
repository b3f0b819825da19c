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

TEST_CASE("Nadam: the first step computed by hand") {
    std::vector<float> w = {1.0f, -2.0f}, g = {0.5f, -0.1f};
    cnn::Adam nadam = cnn::nadam({0.1f});
    nadam.step({view(w, g)});
    // mu_1 = 0.9 (1 - 0.5 * 0.96^0.004) = 0.450073..., mu_2 = 0.9 (1 - 0.5 * 0.96^0.008);
    // m = 0.1 g and v_hat = g^2 as for Adam. The gradient's share is 0.1 (1 - mu_1) / (1 - mu_1)
    // = 0.1, the average's 0.1 mu_2 / (1 - mu_1 mu_2) times m = 0.1 g: a step of
    // 0.1 (1 + 0.1 mu_2 / (1 - mu_1 mu_2)) = 0.10565 against the gradient's sign.
    const double mu_1 = 0.9 * (1.0 - 0.5 * std::pow(0.96, 0.004));
    const double mu_2 = 0.9 * (1.0 - 0.5 * std::pow(0.96, 0.008));
    const double step = 0.1 * (1.0 + 0.1 * mu_2 / (1.0 - mu_1 * mu_2));
    CHECK(step == doctest::Approx(0.10565).epsilon(1e-4));
    CHECK(w[0] == doctest::Approx(1.0 - step).epsilon(1e-6));
    CHECK(w[1] == doctest::Approx(-2.0 + step).epsilon(1e-6));
}

TEST_CASE("Nadam: three steps equal PyTorch's NAdam") {
    // Golden values from PyTorch 1.13's torch.optim.NAdam(lr=0.1, betas=(0.9, 0.999),
    // eps=1e-7, momentum_decay=0.004, foreach=True) in float64 on these gradients. (Its
    // foreach=False path of 1.13 multiplies mu_t into the product twice for the average's share,
    // a bug fixed in later releases; the foreach path follows Dozat's rule, as Keras 2 does.)
    std::vector<float> w = {1.0f, -2.0f, 0.5f}, g(3);
    const float gradients[3][3] = {{0.5f, -0.1f, 0.0f}, {0.25f, -0.1f, 2.0f}, {-0.3f, 0.05f, 1.0f}};
    const double expected[3][3] = {{0.894354842, -1.894354927, 0.500000000},
                                   {0.841962525, -1.815986569, 0.395501961},
                                   {0.887288918, -1.844357761, 0.338463008}};
    cnn::Adam nadam = cnn::nadam({0.1f});
    for (int s = 0; s < 3; ++s) {
        g.assign(gradients[s], gradients[s] + 3);
        nadam.step({view(w, g)});
        for (int j = 0; j < 3; ++j) {
            CAPTURE(s);
            CAPTURE(j);
            CHECK(w[j] == doctest::Approx(expected[s][j]).epsilon(1e-6));
        }
    }
}

TEST_CASE("Nadam: restore rebuilds the momentum schedule from the step count") {
    std::vector<float> w = {1.0f, -2.0f}, g = {0.3f, 0.7f};
    const cnn::Parameter p{"w", w.data(), g.data(), 2, {2}};
    cnn::Adam a = cnn::nadam({0.1f});
    for (int i = 0; i < 5; ++i) {
        a.step({p});
    }
    std::vector<float> w2 = w;
    const cnn::Parameter p2{"w", w2.data(), g.data(), 2, {2}};
    cnn::Adam b = cnn::nadam({0.1f});
    b.restore(a.steps_taken(), a.first_moments(), a.second_moments());
    a.step({p});
    b.step({p2});
    CHECK(w2 == w);
    CHECK(b.options().nesterov);
    CHECK_THROWS_AS(cnn::nadam({0.1f, 0.9f, 0.999f, 1e-7f, true, -1.0f}), std::invalid_argument);
}
