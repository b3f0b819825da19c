#include <doctest/doctest.h>

#include "cnn/layers/parameter.hpp"

TEST_CASE("Parameter: a flat view with name and shape, zeroing and counting") {
    xt::xtensor<float, 2> w = {{1, 2, 3}, {4, 5, 6}};
    xt::xtensor<float, 2> dw = {{1, 1, 1}, {1, 1, 1}};
    xt::xtensor<float, 1> b = {1, 2};
    xt::xtensor<float, 1> db = {3, 4};
    const std::vector<cnn::Parameter> params = {cnn::make_parameter("w", w, dw),
                                                cnn::make_parameter("b", b, db)};
    CHECK(params[0].size == 6);
    CHECK(params[0].shape == std::vector<std::size_t>{2, 3});
    CHECK(params[0].value[4] == 5);  // row-major: (1, 1)
    CHECK(cnn::count_values(params) == 8);
    cnn::zero_gradients(params);
    CHECK(xt::all(xt::equal(dw, 0.0f)));
    CHECK(xt::all(xt::equal(db, 0.0f)));
    xt::xtensor<float, 1> wrong = {0, 0, 0};
    CHECK_THROWS_WITH_AS(cnn::make_parameter("b", b, wrong),
                         doctest::Contains("value is (2) but gradient is (3)"),
                         std::invalid_argument);
}

TEST_CASE("make_state: a view of values learnt without a gradient") {
    xt::xtensor<float, 1> moving_mean = {0.5f, -1.0f, 2.0f};
    const cnn::Parameter state = cnn::make_state("bn/moving_mean", moving_mean);
    CHECK(state.name == "bn/moving_mean");
    CHECK(state.value == moving_mean.data());
    CHECK(state.grad == nullptr);
    CHECK(state.size == 3);
    CHECK(state.shape == std::vector<std::size_t>{3});
    CHECK(cnn::count_values({state}) == 3);
}
