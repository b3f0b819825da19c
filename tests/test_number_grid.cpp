#include <stdexcept>

#include <doctest/doctest.h>

#include "support/plot/number_grid.hpp"
#include "test_support.hpp"

TEST_CASE("save_number_grids writes a PNG, and rejects what it cannot draw") {
    cnn::testing::TempDir dir;
    const auto png = dir / "grids.png";
    cnn::NumberGridFigure figure{"title", {{cnn::Tensor2{{1, 2}, {3, 4}}, "a", {{0, 0, 2, 1}}},
                                           {cnn::Tensor2{{0.5f}}, "b", {}}},
                                 2, 30, 1};
    cnn::save_number_grids(figure, png);
    CHECK(dir.files() == std::vector<std::string>{"grids.png"});
    // Two matrices side by side in slots of 30-pixel cells, each at least as wide as its caption.
    CHECK(cnn::testing::read_png_size(png).width >= 2 * 30 + 30);

    cnn::NumberGridFigure outside = figure;
    outside.grids[0].boxes = {{1, 1, 2, 1}};  // rows 1..2 of a 2-row matrix
    CHECK_THROWS_WITH_AS(cnn::save_number_grids(outside, png),
                         doctest::Contains("at (1, 1) does not fit inside it"),
                         std::invalid_argument);
    cnn::NumberGridFigure empty = figure;
    empty.grids.clear();
    CHECK_THROWS_AS(cnn::save_number_grids(empty, png), std::invalid_argument);
    cnn::NumberGridFigure nan = figure;
    nan.grids[1].values(0, 0) = NAN;
    CHECK_THROWS_WITH_AS(cnn::save_number_grids(nan, png),
                         doctest::Contains("non-finite value"), std::invalid_argument);
}
