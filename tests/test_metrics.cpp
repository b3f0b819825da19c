#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/model/metrics.hpp"

TEST_CASE("predicted_classes and accuracy, by hand") {
    const cnn::Tensor2 scores = {{0.1f, 0.7f, 0.2f}, {0.5f, 0.5f, 0.0f}, {0, 0, 1}, {3, 2, 1}};
    // Row 1 ties classes 0 and 1: the lower index wins.
    CHECK(cnn::predicted_classes(scores) == cnn::Labels{1, 0, 2, 0});
    CHECK(cnn::accuracy(scores, {1, 1, 2, 2}) == doctest::Approx(0.5));
    CHECK(cnn::accuracy(scores, {1, 0, 2, 0}) == doctest::Approx(1.0));
    CHECK(cnn::accuracy(cnn::Tensor2::from_shape({0, 3}), {}) == 0.0);
    CHECK_THROWS_AS(cnn::accuracy(scores, {1}), std::invalid_argument);
}
