#include <sstream>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/upsampling2d.hpp"
#include "cnn/model/sequential.hpp"
#include "test_support.hpp"

using cnn::Tensor4;
using cnn::UpSampling2D;
using cnn::testing::image_of;
using cnn::testing::max_abs_diff;

namespace {

// The line of a summary that starts with `start`, or "" when there is none.
std::string summary_line(const std::string& summary, const std::string& start) {
    std::istringstream lines(summary);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(start, 0) == 0) {
            return line;
        }
    }
    return "";
}

}  // namespace

TEST_CASE("UpSampling2D: output shape (C, H fh, W fw), no parameters, Keras's names and summary row") {
    cnn::Rng rng(3);
    UpSampling2D square;  // Keras's default size (2, 2)
    CHECK(square.options().size.rows == 2);
    CHECK(square.options().size.cols == 2);
    CHECK(square.options().interpolation == cnn::Interpolation::nearest);
    CHECK(square.build({3, 4, 5}, rng) == cnn::Shape{3, 8, 10});
    CHECK(square.parameter_count() == 0);
    CHECK(square.type() == "UpSampling2D");
    CHECK(square.default_name() == "up_sampling2d");
    UpSampling2D tall = UpSampling2D(3, 2).interpolation("bilinear");
    CHECK(tall.options().interpolation == cnn::Interpolation::bilinear);
    CHECK(tall.build({3, 4, 5}, rng) == cnn::Shape{3, 12, 10});
    CHECK(UpSampling2D(4).build({1, 7, 7}, rng) == cnn::Shape{1, 28, 28});
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 4, 5}, rng);
    CHECK(tall.forward(x).shape() == std::array<std::size_t, 4>{2, 3, 12, 10});
    CHECK(tall.kept_for_backward() == 0);  // only x's shape: the weights do not depend on x

    // In a model: Keras's summary row, "name (Type)  (None, C, H, W)  0".
    cnn::Sequential model(1);
    model.add(cnn::Conv2D(3, 3).padding("same").input_shape({1, 4, 6}));
    model.add(UpSampling2D(2, 3));
    std::ostringstream out;
    model.summary(out);
    std::string row = summary_line(out.str(), "up_sampling2d (UpSampling2D)");
    row.erase(row.find_last_not_of(' ') + 1);  // the columns are padded with spaces
    CAPTURE(out.str());
    CHECK(row.find("(None, 3, 8, 18)") != std::string::npos);
    REQUIRE(row.size() >= 2);
    CHECK(row.substr(row.size() - 2) == " 0");  // Param #
    CHECK(model.output_shape(1) == cnn::Shape{3, 8, 18});
}

TEST_CASE("UpSampling2D computes nearest and bilinear upsampling and their gradients, by hand") {
    const Tensor4 x = image_of({{0, 1}, {2, 3}});
    UpSampling2D nearest(2);
    // Nearest: every value copied into a 2x2 block; backward of ones: 4 per input (its block).
    CHECK(max_abs_diff(nearest.forward(x),
                       image_of({{0, 0, 1, 1}, {0, 0, 1, 1}, {2, 2, 3, 3}, {2, 2, 3, 3}})) == 0);
    CHECK(max_abs_diff(nearest.backward(xt::ones<float>({1, 1, 4, 4})),
                       image_of({{4, 4}, {4, 4}})) == 0);
    // Bilinear: samples at 0, 0.25, 0.75, 1 along both axes (half-pixel centres, clamped), and
    // x[r, s] = 2 r + s is linear, so y[i, j] = 2 p_i + p_j. Its backward of ones also gives 4
    // per input: along each axis the weights of an input add up to 2 (1 + 0.75 + 0.25 + 0).
    UpSampling2D bilinear = UpSampling2D(2).interpolation("bilinear");
    CHECK(max_abs_diff(bilinear.forward(x), image_of({{0.0f, 0.25f, 0.75f, 1.0f},
                                                      {0.5f, 0.75f, 1.25f, 1.5f},
                                                      {1.5f, 1.75f, 2.25f, 2.5f},
                                                      {2.0f, 2.25f, 2.75f, 3.0f}})) < 1e-6);
    CHECK(max_abs_diff(bilinear.backward(xt::ones<float>({1, 1, 4, 4})),
                       image_of({{4, 4}, {4, 4}})) < 1e-6);
    // A dy that is not uniform tells the two apart: dy = 1 at output (1, 1) goes to x[0, 0]
    // alone (nearest: its block), or 3/4 x 3/4, 3/4 x 1/4, 1/4 x 3/4 and 1/4 x 1/4 to the four
    // inputs (bilinear: that output samples position (0.25, 0.25)).
    Tensor4 dy = xt::zeros<float>({1, 1, 4, 4});
    dy(0, 0, 1, 1) = 1.0f;
    nearest.forward(x);
    CHECK(max_abs_diff(nearest.backward(dy), image_of({{1, 0}, {0, 0}})) == 0);
    bilinear.forward(x);
    CHECK(max_abs_diff(bilinear.backward(dy), image_of({{0.5625f, 0.1875f}, {0.1875f, 0.0625f}})) <
          1e-6);
}

TEST_CASE("UpSampling2D passes the numerical gradient check, nearest and bilinear, factors (2, 2) and (3, 2), batch 2, channels 3") {
    for (const char* mode : {"nearest", "bilinear"}) {
        for (const cnn::UpsampleFactors f : {cnn::UpsampleFactors{2, 2}, cnn::UpsampleFactors{3, 2}}) {
            CAPTURE(mode);
            CAPTURE(f.rows);
            CAPTURE(f.cols);
            cnn::Rng rng(29 + f.rows);
            UpSampling2D layer = UpSampling2D(f.rows, f.cols).interpolation(mode);
            layer.build({3, 4, 5}, rng);
            const Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 4, 5}, rng);
            CHECK(cnn::testing::check_layer_gradients(layer, x, rng) == 0);
        }
    }
}

TEST_CASE("UpSampling2D rejects a size of 0, an unknown interpolation, a non-image input and a wrong dy") {
    CHECK_THROWS_WITH_AS(UpSampling2D(0), doctest::Contains("UpSampling2D: expected a size of at least 1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(UpSampling2D(2, 0), doctest::Contains("got (2, 0)"), std::invalid_argument);
    cnn::UpSampling2DOptions zero;
    zero.size.rows = 0;
    CHECK_THROWS_AS(UpSampling2D{zero}, std::invalid_argument);
    CHECK_THROWS_WITH_AS(UpSampling2D(2).interpolation("bicubic"),
                         doctest::Contains("expected interpolation 'nearest' or 'bilinear'"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(UpSampling2D(2).interpolation("area"), doctest::Contains("got 'area'"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::parse_interpolation("Nearest"), std::invalid_argument);  // Keras's spelling only
    cnn::Rng rng(1);
    UpSampling2D layer(2);
    CHECK_THROWS_WITH_AS(layer.build({16}, rng),
                         doctest::Contains("UpSampling2D up_sampling2d: expected input (None, C, H, W), got (None, 16)"),
                         std::invalid_argument);
    CHECK_THROWS_AS(layer.backward(xt::ones<float>({1, 1, 4, 4})), std::logic_error);
    layer.forward(xt::ones<float>({1, 1, 2, 3}));
    CHECK_THROWS_WITH_AS(layer.backward(xt::ones<float>({1, 1, 4, 4})),
                         doctest::Contains("expected dy (1, 1, 4, 6), as the last forward() output, got (1, 1, 4, 4)"),
                         std::invalid_argument);
}
