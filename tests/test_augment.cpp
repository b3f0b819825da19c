// Tests of ops/augment.hpp: flips, shifts and crops on hand-checked images, and every backward
// pass as the transpose of its forward pass.
#include "cnn/ops/augment.hpp"

#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "test_support.hpp"

using cnn::Corner;
using cnn::Flip;
using cnn::Shift;
using cnn::Tensor4;

namespace {

using cnn::testing::numbers_4x4;

// A batch of `n` images, each a copy of image (C, H, W) `one`.
Tensor4 copies(const Tensor4& one, std::size_t n) {
    Tensor4 batch = Tensor4::from_shape({n, one.shape(1), one.shape(2), one.shape(3)});
    for (std::size_t i = 0; i < batch.size(); ++i) {
        batch.flat(i) = one.flat(i % one.size());
    }
    return batch;
}

using cnn::testing::image;

// A whole number drawn uniformly from -k, ..., k.
std::ptrdiff_t up_to(std::size_t k, cnn::Rng& rng) {
    return static_cast<std::ptrdiff_t>(rng.below(2 * k + 1)) - static_cast<std::ptrdiff_t>(k);
}

}  // namespace

TEST_CASE("flip_forward: each image mirrored as its own Flip says, every channel alike") {
    const Tensor4 x = copies(numbers_4x4(), 4);
    const std::vector<Flip> flips = {{false, false}, {true, false}, {false, true}, {true, true}};
    const Tensor4 y = cnn::flip_forward(x, flips);
    CHECK(y.shape() == x.shape());
    CHECK(image(y, 0) == numbers_4x4());
    const Tensor4 left_right{{{{4, 3, 2, 1}, {8, 7, 6, 5}, {12, 11, 10, 9}, {16, 15, 14, 13}}}};
    const Tensor4 up_down{{{{13, 14, 15, 16}, {9, 10, 11, 12}, {5, 6, 7, 8}, {1, 2, 3, 4}}}};
    const Tensor4 both{{{{16, 15, 14, 13}, {12, 11, 10, 9}, {8, 7, 6, 5}, {4, 3, 2, 1}}}};
    CHECK(image(y, 1) == left_right);
    CHECK(image(y, 2) == up_down);
    CHECK(image(y, 3) == both);
    CHECK(cnn::flip_backward(y, flips) == x);  // a flip undoes itself

    // Two channels and an odd width: the middle column stays, both channels move together.
    const Tensor4 two{{{{1, 2, 3}}, {{4, 5, 6}}}};
    CHECK(cnn::flip_forward(two, {{true, false}}) == Tensor4{{{{3, 2, 1}}, {{6, 5, 4}}}});
    CHECK_THROWS_WITH_AS(cnn::flip_forward(x, {{true, false}}),
                         doctest::Contains("expected one flip per image, 4 in all, got 1"),
                         std::invalid_argument);
}

TEST_CASE("translate_forward: a shift by (+1, -1) and others, written out, with a border of 0") {
    const Tensor4 x = numbers_4x4();
    // Down 1, left 1: row 0 and the last column are uncovered, row 3 and column 0 are lost.
    const Tensor4 down1_left1{{{{0, 0, 0, 0}, {2, 3, 4, 0}, {6, 7, 8, 0}, {10, 11, 12, 0}}}};
    CHECK(cnn::translate_forward(x, {{+1, -1}}) == down1_left1);
    // Up 2, right 3: only pixels 9 and 13 of column 0 are left, in the last column.
    const Tensor4 up2_right3{{{{0, 0, 0, 9}, {0, 0, 0, 13}, {0, 0, 0, 0}, {0, 0, 0, 0}}}};
    CHECK(cnn::translate_forward(x, {{-2, +3}}) == up2_right3);
    CHECK(cnn::translate_forward(x, {{0, 0}}) == x);
    const Tensor4 zeros = xt::zeros<float>(x.shape());
    for (const Shift s : {Shift{4, 0}, Shift{-4, 0}, Shift{0, 4}, Shift{0, -9}, Shift{5, 5}}) {
        CAPTURE(s.down);
        CAPTURE(s.right);
        CHECK(cnn::translate_forward(x, {s}) == zeros);  // moved entirely past the edge
    }
    // Backward: the opposite shift. dx(i, j) = dy(i + 1, j - 1), 0 where that is outside.
    const Tensor4 back{{{{0, 5, 6, 7}, {0, 9, 10, 11}, {0, 13, 14, 15}, {0, 0, 0, 0}}}};
    CHECK(cnn::translate_backward(x, {{+1, -1}}) == back);

    // Each image of a batch moves by its own shift, all its channels alike.
    Tensor4 batch = copies(numbers_4x4(), 2);
    const Tensor4 y = cnn::translate_forward(batch, {{+1, -1}, {-2, +3}});
    CHECK(image(y, 0) == down1_left1);
    CHECK(image(y, 1) == up2_right3);
    CHECK_THROWS_WITH_AS(cnn::translate_backward(batch, {{1, 1}}),
                         doctest::Contains("translate_backward: expected one shift per image"),
                         std::invalid_argument);
}

TEST_CASE("crop_forward cuts each image's window, crop_backward puts dy back into a zero image") {
    const Tensor4 x = copies(numbers_4x4(), 2);
    // Not {{1, 1}, {0, 0}}: GCC 12.2 with -march=native on an AVX-512 machine builds that
    // constant as {{1, 1}, {1, 1}} (a compiler bug this test found).
    const std::vector<Corner> corners = {{1, 1}, {0, 1}};
    const Tensor4 y = cnn::crop_forward(x, 2, 3, corners);
    REQUIRE(y.shape() == std::array<std::size_t, 4>{2, 1, 2, 3});
    CHECK(image(y, 0) == Tensor4{{{{6, 7, 8}, {10, 11, 12}}}});
    CHECK(image(y, 1) == Tensor4{{{{2, 3, 4}, {6, 7, 8}}}});
    const Tensor4 dx = cnn::crop_backward(y, {2, 1, 4, 4}, corners);
    CHECK(image(dx, 0) == Tensor4{{{{0, 0, 0, 0}, {0, 6, 7, 8}, {0, 10, 11, 12}, {0, 0, 0, 0}}}});
    CHECK(image(dx, 1) == Tensor4{{{{0, 2, 3, 4}, {0, 6, 7, 8}, {0, 0, 0, 0}, {0, 0, 0, 0}}}});
    CHECK(cnn::crop_forward(x, 4, 4, {{0, 0}, {0, 0}}) == x);  // the whole image

    CHECK_THROWS_WITH_AS(cnn::crop_forward(x, 2, 3, {{1, 1}, {3, 0}}),
                         doctest::Contains("got a 2x3 window at row 3, column 0 for image 1"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::crop_forward(x, 2, 3, {{0, 2}, {0, 0}}), std::invalid_argument);
    CHECK_THROWS_AS(cnn::crop_forward(x, 2, 3, {{0, 0}}), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::crop_backward(y, {3, 1, 4, 4}, {{1, 1}, {0, 1}, {2, 0}}),
                         doctest::Contains("crop_backward: expected dy of 3 images of 1 channels"),
                         std::invalid_argument);
}

TEST_CASE("centred_corner: the centred window, one row or column nearer the top-left when odd") {
    CHECK(cnn::centred_corner(4, 4, 2, 2).top == 1);
    CHECK(cnn::centred_corner(4, 4, 2, 2).left == 1);
    const Corner odd = cnn::centred_corner(28, 27, 25, 24);  // 3 rows and 3 columns left over
    CHECK(odd.top == 1);                                     // one row above the window, two below
    CHECK(odd.left == 1);
    const Corner mixed = cnn::centred_corner(5, 4, 2, 3);
    CHECK(mixed.top == 1);
    CHECK(mixed.left == 0);
    CHECK(cnn::centred_corner(4, 4, 4, 4).top == 0);
    CHECK_THROWS_AS(cnn::centred_corner(4, 4, 5, 4), std::invalid_argument);
    CHECK_THROWS_AS(cnn::centred_corner(4, 4, 4, 5), std::invalid_argument);
}

// For a linear map y = A x, backward must return A^T dy, which holds exactly when
// sum(A x * dy) == sum(x * A^T dy) for every x and dy; random ones catch a wrong index at once.
TEST_CASE("every backward pass is the transpose of its forward pass (odd and even sizes)") {
    cnn::Rng rng(21);
    const std::vector<std::array<std::size_t, 4>> shapes = {
        {3, 2, 5, 5}, {2, 3, 4, 6}, {4, 1, 7, 2}};
    for (const auto& shape : shapes) {
        CAPTURE(cnn::shape_to_string(shape));
        const std::size_t n = shape[0], h = shape[2], w = shape[3];
        const Tensor4 x = cnn::testing::random_tensor<4>(shape, rng);
        const Tensor4 dy = cnn::testing::random_tensor<4>(shape, rng);
        std::vector<Flip> flips;
        std::vector<Shift> shifts;
        for (std::size_t i = 0; i < n; ++i) {
            flips.push_back({i % 2 == 0, i % 3 != 1});
            // Shifts up to one past the size, so some images leave the frame entirely.
            shifts.push_back({up_to(h + 1, rng), up_to(w + 1, rng)});
        }
        using cnn::testing::dot;
        CHECK(dot(cnn::flip_forward(x, flips), dy) ==
              doctest::Approx(dot(x, cnn::flip_backward(dy, flips))).epsilon(1e-5));
        CHECK(dot(cnn::translate_forward(x, shifts), dy) ==
              doctest::Approx(dot(x, cnn::translate_backward(dy, shifts))).epsilon(1e-5));

        const std::size_t oh = h - h / 3, ow = w - w / 2;
        std::vector<Corner> corners;
        for (std::size_t i = 0; i < n; ++i) {
            corners.push_back({rng.below(h - oh + 1), rng.below(w - ow + 1)});
        }
        const Tensor4 dy_crop = cnn::testing::random_tensor<4>({n, shape[1], oh, ow}, rng);
        CHECK(dot(cnn::crop_forward(x, oh, ow, corners), dy_crop) ==
              doctest::Approx(dot(x, cnn::crop_backward(dy_crop, shape, corners))).epsilon(1e-5));
    }
}

TEST_CASE("the transpose check can fail: a backward pass that does not undo the shift") {
    cnn::Rng rng(3);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 2, 5, 5}, rng);
    const Tensor4 dy = cnn::testing::random_tensor<4>({2, 2, 5, 5}, rng);
    const std::vector<Shift> shifts = {{1, -2}, {-1, 1}};
    using cnn::testing::dot;
    const double forward = dot(cnn::translate_forward(x, shifts), dy);
    // Shifting the gradient the same way again, instead of back, is wrong, and it shows.
    CHECK(forward != doctest::Approx(dot(x, cnn::translate_forward(dy, shifts))).epsilon(1e-5));
    CHECK(forward == doctest::Approx(dot(x, cnn::translate_backward(dy, shifts))).epsilon(1e-5));
}
