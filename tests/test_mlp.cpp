#include <doctest/doctest.h>

#include "cnn/check/gradient_check.hpp"
#include "cnn/losses/softmax_cross_entropy.hpp"
#include "cnn/model/mlp.hpp"
#include "test_support.hpp"

TEST_CASE("mlp: chapter 01's network, layer by layer, with its parameter count by hand") {
    cnn::Sequential model = cnn::mlp({{1, 28, 28}, {256, 128}, 10}, 1);
    model.build();
    // (784 + 1) * 256 + (256 + 1) * 128 + (128 + 1) * 10 = 200,960 + 32,896 + 1,290
    CHECK(model.parameter_count() == 235146);
    REQUIRE(model.size() == 4);
    CHECK(model.layer(0).type() == "Flatten");
    CHECK(model.output_shape(0) == cnn::Shape{784});
    CHECK(model.layer(1).activation() == cnn::Activation::relu);
    CHECK(model.layer(3).activation() == cnn::Activation::softmax);
    CHECK(model.parameters().size() == 6);
    CHECK(model.parameters()[4].name == "dense_2/kernel");
}

TEST_CASE("mlp: every parameter passes the numerical gradient check of the real loss") {
    cnn::Sequential model = cnn::mlp({{6}, {5, 4}, 3}, 21);
    cnn::Rng rng(21);
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({4, 6, 1, 1}, rng);
    const cnn::Labels y = {0, 2, 1, 2};
    CHECK(cnn::testing::check_model_gradients(model, x, y) == 0);
}
