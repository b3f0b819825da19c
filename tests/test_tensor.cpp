#include <doctest/doctest.h>

#include "cnn/tensor/tensor.hpp"

TEST_CASE("shape_to_string prints shapes as the book writes them") {
    CHECK(cnn::shape_to_string(std::vector<std::size_t>{64, 1, 28, 28}) == "(64, 1, 28, 28)");
    CHECK(cnn::shape_to_string(std::vector<std::size_t>{7}) == "(7)");
    CHECK(cnn::shape_to_string(std::vector<std::size_t>{}) == "()");
}

TEST_CASE("flatten_images: (N, C, H, W) -> (N, C*H*W), channel by channel, row by row") {
    cnn::Tensor4 images = cnn::Tensor4::from_shape({2, 2, 2, 3});
    for (std::size_t i = 0; i < images.size(); ++i) {
        images.data()[i] = float(i);
    }
    const cnn::Tensor2 flat = cnn::flatten_images(images);
    REQUIRE(flat.shape(0) == 2);
    REQUIRE(flat.shape(1) == 12);
    CHECK(flat(0, 0) == images(0, 0, 0, 0));
    CHECK(flat(0, 4) == images(0, 0, 1, 1));   // row 1, column 1 of channel 0: 1 * 3 + 1
    CHECK(flat(0, 7) == images(0, 1, 0, 1));   // channel 1 starts at 6
    CHECK(flat(1, 11) == images(1, 1, 1, 2));
}
