#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/tensor/padding.hpp"
#include "test_support.hpp"

TEST_CASE("pad2d frames the input, thicker on one side when asked, and crop2d undoes it") {
    const cnn::Tensor2 x = {{1, 2}, {3, 4}};
    const cnn::Tensor2 padded = cnn::pad2d(x, {1, 0}, {0, 2}, 9);
    const cnn::Tensor2 expected = {{9, 9, 9, 9}, {1, 2, 9, 9}, {3, 4, 9, 9}};
    CHECK(cnn::testing::max_abs_diff(padded, expected) == 0);
    CHECK(cnn::testing::max_abs_diff(cnn::crop2d(padded, {1, 0}, {0, 2}), x) == 0);
    CHECK(cnn::testing::max_abs_diff(cnn::pad2d(x, {0, 0}, {0, 0}), x) == 0);
    CHECK_THROWS_AS(cnn::crop2d(x, {1, 1}, {0, 0}), std::invalid_argument);
}
