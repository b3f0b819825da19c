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
