#include <memory>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/layers/layer.hpp"
#include "cnn/layers/relu.hpp"
#include "test_support.hpp"

TEST_CASE("shapes print with Keras's None, and activations are read by name") {
    CHECK(cnn::batch_shape_to_string({64, 28, 28}) == "(None, 64, 28, 28)");
    CHECK(cnn::batch_shape_to_string({10}) == "(None, 10)");
    CHECK(cnn::parse_activation("relu") == cnn::Activation::relu);
    CHECK(cnn::parse_activation("") == cnn::Activation::linear);
    CHECK(cnn::parse_activation("softmax") == cnn::Activation::softmax);
    CHECK_THROWS_WITH_AS(cnn::parse_activation("tanh"), doctest::Contains("expected 'linear', 'relu' or 'softmax'"),
                         std::invalid_argument);
}

TEST_CASE("backward_inputs_shared: a dy held by nobody else is written over, a shared one kept") {
    // A ReLU layer undoes its activation over dy: with dy its own, dx is dy's storage; with dy
    // held elsewhere too (an Add's gradient in a graph model), it works on a copy.
    cnn::Rng rng(3);
    cnn::ReLU relu;
    relu.build({1, 2, 3}, rng);
    const cnn::Tensor4 x = {{{{1, -2, 3}, {-4, 5, -6}}}};
    const cnn::Tensor4 dy_values = {{{{10, 20, 30}, {40, 50, 60}}}};
    const cnn::Tensor4 expected = {{{{10, 0, 30}, {0, 50, 0}}}};  // dy where x > 0, by hand
    const auto compute = cnn::InputGradient::compute;

    relu.forward(x, true);
    auto own = std::make_shared<cnn::Tensor4>(dy_values);
    const float* storage = own->data();
    std::vector<cnn::SharedTensor4> dx =
        relu.backward_inputs_shared(std::move(own), false, compute);
    REQUIRE(dx.size() == 1);
    CHECK(dx[0]->data() == storage);
    CHECK(cnn::testing::same_values(*dx[0], expected));

    relu.forward(x, true);
    const auto shared = std::make_shared<cnn::Tensor4>(dy_values);
    dx = relu.backward_inputs_shared(shared, false, compute);
    REQUIRE(dx.size() == 1);
    CHECK(dx[0]->data() != shared->data());
    CHECK(cnn::testing::same_values(*dx[0], expected));
    CHECK(cnn::testing::same_values(*shared, dy_values));  // untouched

    CHECK_THROWS_WITH_AS(relu.backward_inputs_shared(nullptr, false, compute),
                         doctest::Contains("backward_inputs_shared() of no dy"),
                         std::invalid_argument);
}
