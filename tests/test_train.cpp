#include <sstream>

#include <doctest/doctest.h>

#include "cnn/model/mlp.hpp"
#include "cnn/model/train.hpp"

namespace {
// Two classes that a line separates: class 1 when x0 + x1 > 0.
void make_blobs(std::size_t n, cnn::Rng& rng, cnn::Tensor2& x, cnn::Labels& y) {
    x = cnn::Tensor2::from_shape({n, 2});
    y.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        x(i, 0) = rng.uniform(-1, 1);
        x(i, 1) = rng.uniform(-1, 1);
        y[i] = x(i, 0) + x(i, 1) > 0 ? 1 : 0;
    }
}
}  // namespace

TEST_CASE("train_classifier: learns a separable problem and logs one line per epoch") {
    cnn::Rng rng(8);
    cnn::Tensor2 x, x_val;
    cnn::Labels y, y_val;
    make_blobs(512, rng, x, y);
    make_blobs(256, rng, x_val, y_val);
    cnn::Mlp mlp({2, {16}, 2}, rng);
    const double before = cnn::evaluate_classifier(mlp, x_val, y_val).accuracy;
    cnn::Sgd sgd({0.1f, 0.9f});
    std::ostringstream log;
    const auto history = cnn::train_classifier(mlp, sgd, x, y, x_val, y_val, {10, 32, true}, rng, log);
    REQUIRE(history.size() == 10);
    CHECK(history.back().validation.accuracy > 0.95);
    CHECK(history.back().validation.accuracy > before);
    CHECK(history.back().train.loss < history.front().train.loss);
    CHECK(log.str().find("epoch 10/10") != std::string::npos);
    // Evaluation agrees with computing the accuracy of one big batch.
    const auto eval = cnn::evaluate_classifier(mlp, x_val, y_val, 7);
    CHECK(eval.accuracy == doctest::Approx(cnn::accuracy(mlp.forward(x_val), y_val)));
}
