#include <doctest/doctest.h>

#include "cnn/tensor/tensor.hpp"

TEST_CASE("shape_to_string prints shapes as the book writes them") {
    CHECK(cnn::shape_to_string(std::vector<std::size_t>{64, 1, 28, 28}) == "(64, 1, 28, 28)");
    CHECK(cnn::shape_to_string(std::vector<std::size_t>{7}) == "(7)");
    CHECK(cnn::shape_to_string(std::vector<std::size_t>{}) == "()");
}


TEST_CASE("reshaped: the same values under another shape, the storage moved, not copied") {
    cnn::Tensor4 batch = {{{{1}}, {{2}}, {{3}}}, {{{4}}, {{5}}, {{6}}}};  // (2, 3, 1, 1)
    const float* storage = batch.data();
    const cnn::Tensor2 matrix = cnn::reshaped<2>(std::move(batch), {2, 3});
    CHECK(matrix.data() == storage);
    CHECK(matrix == cnn::Tensor2{{1, 2, 3}, {4, 5, 6}});
    CHECK(matrix(1, 0) == 4);  // strides follow the new shape
    cnn::Tensor2 again = matrix;
    CHECK_THROWS_WITH_AS(cnn::reshaped<4>(std::move(again), {2, 2, 1, 1}),
                         doctest::Contains("cannot view 6 values as (2, 2, 1, 1)"), std::invalid_argument);
    const cnn::Tensor4 one = cnn::reshaped<4>(cnn::Tensor2{{7, 8}}, {1, 2, 1, 1});
    CHECK(one(0, 1, 0, 0) == 8);
}

TEST_CASE("thousands: separators as Keras prints them") {
    CHECK(cnn::thousands(0) == "0");
    CHECK(cnn::thousands(999) == "999");
    CHECK(cnn::thousands(1000) == "1,000");
    CHECK(cnn::thousands(1413834) == "1,413,834");
    CHECK(cnn::thousands(22658709504ULL) == "22,658,709,504");
}
