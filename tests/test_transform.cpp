#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/tensor/transform.hpp"
#include "test_support.hpp"

using cnn::Tensor4;

namespace {
Tensor4 one_image(std::initializer_list<std::initializer_list<float>> rows) {
    const xt::xtensor<float, 2> m = rows;
    Tensor4 t = Tensor4::from_shape({1, 1, m.shape(0), m.shape(1)});
    std::copy(m.begin(), m.end(), t.begin());
    return t;
}
}  // namespace

TEST_CASE("shift_images: moves pixels, fills with zeros, loses what leaves the frame") {
    const Tensor4 x = one_image({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}});
    CHECK(cnn::testing::max_abs_diff(cnn::shift_images(x, 0, 1),
                                     one_image({{0, 1, 2}, {0, 4, 5}, {0, 7, 8}})) == 0);
    CHECK(cnn::testing::max_abs_diff(cnn::shift_images(x, 1, 0),
                                     one_image({{0, 0, 0}, {1, 2, 3}, {4, 5, 6}})) == 0);
    CHECK(cnn::testing::max_abs_diff(cnn::shift_images(x, -1, -2),
                                     one_image({{6, 0, 0}, {9, 0, 0}, {0, 0, 0}})) == 0);
    CHECK(cnn::testing::max_abs_diff(cnn::shift_images(x, 0, 0), x) == 0);
    CHECK(cnn::testing::max_abs_diff(cnn::shift_images(x, 5, 0), Tensor4(xt::zeros<float>(x.shape()))) == 0);
}

TEST_CASE("permute_pixels: one permutation for every image, and bad permutations are errors") {
    Tensor4 x = Tensor4::from_shape({2, 1, 2, 2});
    for (std::size_t i = 0; i < 8; ++i) {
        x.data()[i] = float(i);
    }
    const Tensor4 p = cnn::permute_pixels(x, {3, 0, 2, 1});
    // Image 0 holds 0 1 2 3 -> 3 0 2 1; image 1 holds 4 5 6 7 -> 7 4 6 5.
    const std::vector<float> expected = {3, 0, 2, 1, 7, 4, 6, 5};
    CHECK(std::equal(p.begin(), p.end(), expected.begin()));
    CHECK_THROWS_WITH_AS(cnn::permute_pixels(x, {0, 1, 2}), doctest::Contains("have 4 pixels"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::permute_pixels(x, {0, 1, 1, 3}), doctest::Contains("entry 1 repeats"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::permute_pixels(x, {0, 1, 2, 9}),
                         doctest::Contains("entry 9 is out of range"), std::invalid_argument);
}
