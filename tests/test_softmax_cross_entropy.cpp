#include <cmath>

#include <doctest/doctest.h>

#include "cnn/check/gradient_check.hpp"
#include "cnn/losses/softmax_cross_entropy.hpp"
#include "test_support.hpp"

using cnn::Tensor2;

TEST_CASE("softmax cross-entropy: values computed by hand") {
    // Two equal logits: p = [1/2, 1/2], loss = -log(1/2) = log 2.
    const auto even = cnn::softmax_cross_entropy_forward(Tensor2{{0, 0}}, {0});
    CHECK(even.loss == doctest::Approx(std::log(2.0)).epsilon(1e-7));
    // Logits [1, 2, 3]: p_k = e^k / (e + e^2 + e^3); for the true class 2 (the 3),
    // loss = log(e^1 + e^2 + e^3) - 3 = log(1 + e^-1 + e^-2) = 0.4076059644...
    const auto three = cnn::softmax_cross_entropy_forward(Tensor2{{1, 2, 3}}, {2});
    CHECK(three.loss == doctest::Approx(std::log(1.0 + std::exp(-1.0) + std::exp(-2.0))));
    CHECK(three.loss == doctest::Approx(0.4076059644).epsilon(1e-6));
    const double denom = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
    CHECK(three.probs(0, 0) == doctest::Approx(std::exp(1.0) / denom));
    CHECK(three.probs(0, 1) == doctest::Approx(std::exp(2.0) / denom));
    CHECK(three.probs(0, 2) == doctest::Approx(std::exp(3.0) / denom));
    // The loss is the batch mean.
    const auto both = cnn::softmax_cross_entropy_forward(Tensor2{{0, 0, 0}, {1, 2, 3}}, {1, 2});
    CHECK(both.loss == doctest::Approx((std::log(3.0) + three.loss) / 2));
}

TEST_CASE("softmax cross-entropy: large logits neither overflow nor lose the answer") {
    // e^1000 overflows even a double; with the row maximum subtracted nothing does.
    const auto r = cnn::softmax_cross_entropy_forward(Tensor2{{1000, 0}, {-1000, 1000}}, {1, 1});
    CHECK(std::isfinite(r.loss));
    CHECK(r.loss == doctest::Approx(500.0));  // row 0: 1000; row 1: ~0; mean 500
    CHECK(r.probs(0, 0) == 1.0f);
    CHECK(r.probs(0, 1) == 0.0f);
    const Tensor2 d = cnn::softmax_cross_entropy_backward(r.probs, {1, 1});
    CHECK(d(0, 0) == doctest::Approx(0.5));  // (1 - 0) / 2
    CHECK(d(0, 1) == doctest::Approx(-0.5)); // (0 - 1) / 2
}

TEST_CASE("softmax cross-entropy: backward is (p - onehot) / N, checked numerically") {
    cnn::Rng rng(11);
    for (std::size_t n : {1, 4, 9}) {
        CAPTURE(n);
        Tensor2 logits = cnn::testing::random_tensor<2>({n, 10}, rng) * 3.0f;
        cnn::Labels labels(n);
        for (std::size_t i = 0; i < n; ++i) {
            labels[i] = rng.below(10);
        }
        const auto forward = cnn::softmax_cross_entropy_forward(logits, labels);
        const Tensor2 grad = cnn::softmax_cross_entropy_backward(forward.probs, labels);
        const auto loss = [&] { return cnn::softmax_cross_entropy_forward(logits, labels).loss; };
        const auto result = cnn::check_gradient("dlogits", loss, logits.data(), grad.data(),
                                                logits.size(), {1e-2, 1e-3});
        CHECK_MESSAGE(result.passed(), result.summary());
    }
}

TEST_CASE("softmax cross-entropy: bad labels are errors") {
    CHECK_THROWS_WITH_AS(cnn::softmax_cross_entropy_forward(Tensor2{{0, 0}}, {2}),
                         doctest::Contains("label 2 at row 0 is not a class in [0, 2)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::softmax_cross_entropy_forward(Tensor2{{0, 0}}, {0, 1}),
                         doctest::Contains("expected one label per row"), std::invalid_argument);
}
