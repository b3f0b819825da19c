#include <cmath>
#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/conv/conv2d_naive.hpp"
#include "cnn/layers/conv2d.hpp"
#include "test_support.hpp"

using cnn::Tensor4;

TEST_CASE("Conv2D: parameter count, He initialisation, zero bias") {
    cnn::Rng rng(1);
    // The first layer of chapter 06's model: 64 filters 7x7 over 1 channel.
    cnn::Conv2D first({1, 64, 7, 7, 1, 1, cnn::PaddingMode::same, "conv2d"}, rng);
    CHECK(first.parameter_count() == 64 * (1 * 7 * 7 + 1));  // 3,200, as Keras reports
    cnn::Conv2D wide({128, 256, 3, 3, 1, 1, cnn::PaddingMode::same, "conv2d_3"}, rng);
    CHECK(wide.parameter_count() == 256 * (128 * 9 + 1));   // 295,168
    // He: variance 2 / fan_in, fan_in = C FH FW = 1152.
    double sum2 = 0;
    for (float v : wide.weights()) {
        sum2 += double(v) * v;
    }
    CHECK(sum2 / double(wide.weights().size()) == doctest::Approx(2.0 / 1152).epsilon(0.02));
    CHECK(xt::all(xt::equal(wide.bias(), 0.0f)));
    CHECK(wide.parameters()[0].name == "conv2d_3/kernel");
}

TEST_CASE("Conv2D: 'same' keeps the size, stride 2 halves it, and the layer matches the naive loops") {
    cnn::Rng rng(2);
    cnn::Conv2D layer({3, 4, 3, 3, 2, 2, cnn::PaddingMode::same, "c"}, rng);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 9, 8}, rng);
    const Tensor4 y = layer.forward(x);
    CHECK(y.shape() == std::array<std::size_t, 4>{2, 4, 5, 4});  // ceil(9/2), ceil(8/2)
    const auto g = layer.geometry(9, 8);
    CHECK(cnn::testing::max_abs_diff(y, cnn::conv2d_naive_forward(x, layer.weights(), layer.bias(), g)) < 1e-5);

    // backward accumulates into the parameters' gradients until they are zeroed.
    const Tensor4 dy = cnn::testing::random_tensor<4>({2, 4, 5, 4}, rng);
    const std::vector<cnn::Parameter> params = layer.parameters();
    cnn::zero_gradients(params);
    layer.backward(dy);
    const std::vector<float> once(params[0].grad, params[0].grad + params[0].size);
    layer.backward(dy);
    CHECK(params[0].grad[7] == doctest::Approx(2 * once[7]));
}

TEST_CASE("Conv2D: bad options and inputs are errors that name the layer") {
    cnn::Rng rng(3);
    CHECK_THROWS_AS(cnn::Conv2D({0, 4, 3, 3, 1, 1, cnn::PaddingMode::valid, "c"}, rng),
                    std::invalid_argument);
    cnn::Conv2D layer({3, 4, 5, 5, 1, 1, cnn::PaddingMode::valid, "conv_a"}, rng);
    CHECK_THROWS_WITH_AS(layer.forward(xt::zeros<float>({1, 2, 8, 8})),
                         doctest::Contains("Conv2D conv_a: expected input (N, 3, H, W), got (1, 2, 8, 8)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(layer.forward(xt::zeros<float>({1, 3, 4, 8})),
                         doctest::Contains("does not fit"), cnn::GeometryError);
    cnn::Conv2D fresh({3, 4, 3, 3, 1, 1, cnn::PaddingMode::valid, "c"}, rng);
    CHECK_THROWS_AS(fresh.backward(xt::zeros<float>({1, 4, 2, 2})), std::logic_error);
}
