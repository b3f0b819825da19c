// Tests of inspect/excitation.hpp: the strongest responses by hand, receptive windows by hand
// (Géron's model, an even kernel, asymmetric 'same' padding) and against backpropagation, and
// cropping past the borders.
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/inspect/excitation.hpp"
#include "cnn/inspect/probe.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/model/zoo.hpp"
#include "test_support.hpp"

using cnn::Tensor3;
using cnn::Tensor4;

namespace {

bool same_window(const cnn::InputWindow& a, const cnn::InputWindow& b) {
    return a.top == b.top && a.left == b.left && a.rows == b.rows && a.cols == b.cols;
}

}  // namespace

TEST_CASE("strongest_excitations: each image's best position, the best images first, by hand") {
    // A 1x1 convolution with weights (1, -1) over two channels: output = channel 0 - channel 1.
    cnn::Sequential model(1);
    model.add(cnn::Conv2D(1, 1).input_shape({2, 2, 2}));
    model.build();
    auto& conv = dynamic_cast<cnn::Conv2D&>(model.layer(0));
    conv.weights() = Tensor4{{{{1.0f}}, {{-1.0f}}}};
    conv.bias() = cnn::Tensor1{0.0f};
    Tensor4 x = xt::zeros<float>({4, 2, 2, 2});
    x(0, 0, 1, 0) = 3.0f;  // image 0: 3 at (1, 0)
    x(1, 0, 0, 1) = 5.0f;  // image 1: 5 - 1 = 4 at (0, 1)
    x(1, 1, 0, 1) = 1.0f;
    x(2, 0, 1, 1) = 4.0f;  // image 2: 4 at (1, 1), a tie with image 1
    x(3, 1, 0, 0) = 2.0f;  // image 3: -2 at (0, 0), 0 elsewhere
    for (const std::size_t batch : {std::size_t{256}, std::size_t{3}}) {
        const auto best = cnn::strongest_excitations(model, x, 0, 3, batch);
        REQUIRE(best.size() == 1);
        REQUIRE(best[0].size() == 3);
        CHECK(best[0][0].image == 1);  // the tie goes to the lower index
        CHECK(best[0][0].row == 0);
        CHECK(best[0][0].col == 1);
        CHECK(best[0][0].value == 4.0f);
        CHECK(best[0][1].image == 2);
        CHECK(best[0][1].row == 1);
        CHECK(best[0][1].col == 1);
        CHECK(best[0][2].image == 0);
        CHECK(best[0][2].value == 3.0f);
    }
    CHECK(cnn::strongest_excitations(model, x, 0, 10)[0].size() == 4);
    // No images: one empty list per channel.
    const auto none = cnn::strongest_excitations(model, xt::zeros<float>({0, 2, 2, 2}), 0, 3);
    REQUIRE(none.size() == 1);
    CHECK(none[0].empty());
}

TEST_CASE("receptive_window: Géron's model, by hand with chapter 04's recurrence") {
    cnn::Sequential model = cnn::seed_model(1);
    // conv2d, 7x7 'same' (3 above): r = 7, j = 1, start 0; unit 0 sees rows -3 to 3.
    CHECK(same_window(cnn::receptive_window(model, 0, 0, 0), {-3, -3, 7, 7}));
    CHECK(same_window(cnn::receptive_window(model, 0, 27, 5), {24, 2, 7, 7}));
    // max_pooling2d, 2x2 stride 2: r = 8, j = 2, start 0.5; unit 13 is centred on 26.5.
    CHECK(same_window(cnn::receptive_window(model, 1, 13, 0), {23, -3, 8, 8}));
    // conv2d_1 and conv2d_2 (3x3): r = 12, 16; max_pooling2d_1: r = 18, j = 4, start 1.5;
    // conv2d_3 and conv2d_4: r = 26, 34. Unit (6, 0) of conv2d_4: centre 1.5 + 24 = 25.5.
    CHECK(same_window(cnn::receptive_window(model, 3, 0, 0), {-7, -7, 16, 16}));
    CHECK(same_window(cnn::receptive_window(model, 6, 6, 0), {9, -15, 34, 34}));
    CHECK_THROWS_WITH_AS(cnn::receptive_window(model, 8, 0, 0),
                         doctest::Contains("flatten (Flatten) mixes all positions"), std::invalid_argument);
}

TEST_CASE("receptive_window: even kernels, asymmetric 'same' padding, unequal strides") {
    cnn::Sequential model(1);
    // 4x2 kernel, 'same': rows padded 1 above and 2 below, columns 0 left and 1 right.
    model.add(cnn::Conv2D(1, 4).kernel_size(4, 2).padding("same").input_shape({1, 8, 8}));
    model.add(cnn::MaxPooling2D(2).strides(1));  // overlapping windows
    model.add(cnn::Conv2D(1, 3).strides(2, 1));
    model.build();
    // Layer 0, unit (0, 0): rows -1..2, columns 0..1.
    CHECK(same_window(cnn::receptive_window(model, 0, 0, 0), {-1, 0, 4, 2}));
    // Layer 1: r = 5 x 3; layer 2: r = 7 x 5, jumps 2 x 1.
    CHECK(same_window(cnn::receptive_window(model, 1, 0, 0), {-1, 0, 5, 3}));
    CHECK(same_window(cnn::receptive_window(model, 2, 1, 2), {1, 2, 7, 5}));
}

TEST_CASE("receptive_window: no pixel outside the window reaches the unit (backpropagation)") {
    cnn::Sequential model(3);
    model.add(cnn::Conv2D(2, 4).padding("same").activation("relu").input_shape({1, 12, 12}));
    model.add(cnn::MaxPooling2D(3).strides(2).padding("same"));
    model.add(cnn::Conv2D(2, 3).strides(2, 2).padding("same"));
    model.build();
    cnn::Rng rng(5);
    const Tensor4 x = xt::abs(cnn::testing::random_tensor<4>({1, 1, 12, 12}, rng)) + 0.1f;
    const Tensor4 y = cnn::forward_to(model, x, 2);
    for (std::size_t i = 0; i < y.shape(2); ++i) {
        for (std::size_t j = 0; j < y.shape(3); ++j) {
            cnn::forward_to(model, x, 2);
            Tensor4 dy = xt::zeros<float>(y.shape());
            dy(0, 0, i, j) = 1.0f;
            const Tensor4 dx = cnn::backward_from(model, 2, dy);
            const cnn::InputWindow w = cnn::receptive_window(model, 2, i, j);
            for (std::ptrdiff_t r = 0; r < 12; ++r) {
                for (std::ptrdiff_t c = 0; c < 12; ++c) {
                    const bool inside = r >= w.top && r < w.top + static_cast<std::ptrdiff_t>(w.rows) &&
                                        c >= w.left && c < w.left + static_cast<std::ptrdiff_t>(w.cols);
                    if (!inside) {
                        REQUIRE(dx(0, 0, static_cast<std::size_t>(r), static_cast<std::size_t>(c)) == 0.0f);
                    }
                }
            }
        }
    }
}

TEST_CASE("crop_window: the window's pixels, and fill beyond the borders") {
    const Tensor3 image = Tensor3{{{1, 2, 3}, {4, 5, 6}}};
    CHECK(cnn::crop_window(image, {-1, 1, 3, 3}, -9.0f) ==
          Tensor3{{{-9, -9, -9}, {2, 3, -9}, {5, 6, -9}}});
    CHECK(cnn::crop_window(image, {0, 0, 2, 3}) == image);
}
