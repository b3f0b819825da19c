#include <doctest/doctest.h>

#include "cnn/optim/sgd.hpp"

namespace {
cnn::Parameter view(std::vector<float>& w, std::vector<float>& g) {
    return {"w", w.data(), g.data(), w.size(), {w.size()}};
}
}  // namespace

TEST_CASE("Sgd: plain and momentum steps computed by hand") {
    std::vector<float> w = {1.0f}, g = {0.5f};
    cnn::Sgd plain({0.1f, 0.0f});
    plain.step({view(w, g)});
    CHECK(w[0] == doctest::Approx(0.95));  // 1 - 0.1 * 0.5

    std::vector<float> w2 = {1.0f}, g2 = {0.5f};
    cnn::Sgd momentum({0.1f, 0.9f});
    momentum.step({view(w2, g2)});  // v = -0.05, w = 0.95
    CHECK(w2[0] == doctest::Approx(0.95));
    momentum.step({view(w2, g2)});  // v = 0.9 * -0.05 - 0.05 = -0.095, w = 0.855
    CHECK(w2[0] == doctest::Approx(0.855));
}

TEST_CASE("Sgd: bad options and a changed parameter list are errors") {
    CHECK_THROWS_WITH_AS(cnn::Sgd({0.0f, 0.0f}), doctest::Contains("learning_rate > 0"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::Sgd({0.1f, 1.0f}), doctest::Contains("momentum in [0, 1)"),
                         std::invalid_argument);
    std::vector<float> w = {1.0f}, g = {0.5f};
    cnn::Sgd sgd({0.1f, 0.5f});
    sgd.step({view(w, g)});
    CHECK_THROWS_AS(sgd.step({view(w, g), view(w, g)}), std::logic_error);
}

TEST_CASE("Sgd: steps_taken, velocities and restore carry the whole state") {
    std::vector<float> w = {1.0f, 2.0f}, g = {0.5f, -1.0f};
    cnn::Sgd a({0.1f, 0.9f});
    CHECK(a.velocities().empty());
    a.step({view(w, g)});
    a.step({view(w, g)});
    CHECK(a.steps_taken() == 2);
    std::vector<float> w2 = w;
    cnn::Sgd b({0.1f, 0.9f});
    b.restore(a.steps_taken(), a.velocities());
    a.step({view(w, g)});
    b.step({view(w2, g)});
    CHECK(w2 == w);  // the same step: the velocity came along
    CHECK(b.steps_taken() == 3);
    CHECK_THROWS_AS(b.restore(0, {{1.0f}}), std::invalid_argument);
    CHECK_THROWS_AS(b.restore(2, {}), std::invalid_argument);
}
