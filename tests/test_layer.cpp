#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/layers/layer.hpp"

TEST_CASE("shapes print with Keras's None, and activations are read by name") {
    CHECK(cnn::batch_shape_to_string({64, 28, 28}) == "(None, 64, 28, 28)");
    CHECK(cnn::batch_shape_to_string({10}) == "(None, 10)");
    CHECK(cnn::parse_activation("relu") == cnn::Activation::relu);
    CHECK(cnn::parse_activation("") == cnn::Activation::linear);
    CHECK(cnn::parse_activation("softmax") == cnn::Activation::softmax);
    CHECK_THROWS_WITH_AS(cnn::parse_activation("tanh"), doctest::Contains("expected 'linear', 'relu' or 'softmax'"),
                         std::invalid_argument);
}
