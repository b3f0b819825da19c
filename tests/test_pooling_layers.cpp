#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/layers/pooling.hpp"
#include "test_support.hpp"

TEST_CASE("pooling layers: no parameters, Keras's default stride, 'same' sizes") {
    cnn::MaxPooling2D max2;
    CHECK(max2.parameter_count() == 0);
    CHECK(cnn::AveragePooling2D{}.parameter_count() == 0);
    cnn::Rng rng(1);
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 28, 28}, rng);
    CHECK(max2.forward(x).shape() == std::array<std::size_t, 4>{2, 3, 14, 14});
    // The study notes' model: 28 -> 14 -> 7 -> 3 (the last by rounding down).
    const cnn::Tensor4 seven = cnn::testing::random_tensor<4>({1, 1, 7, 7}, rng);
    CHECK(max2.forward(seven).shape(2) == 3);
    cnn::MaxPooling2D same({3, 3, 1, 1, cnn::PaddingMode::same, "p"});
    CHECK(same.forward(x).shape() == x.shape());
    cnn::AveragePooling2D avg({2, 2, 0, 0, cnn::PaddingMode::same, "a"});
    CHECK(avg.forward(seven).shape(2) == 4);  // ceil(7 / 2)
    CHECK(avg.backward(xt::ones<float>({1, 1, 4, 4})).shape() == seven.shape());
    CHECK_THROWS_AS(cnn::MaxPooling2D{}.backward(xt::ones<float>({1, 1, 1, 1})), std::logic_error);
}
