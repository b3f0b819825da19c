#include <stdexcept>
#include <string>

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

TEST_CASE("grid cells: no minus on a zero, and the longest number fits its cell") {
    // The case of a learned kernel: 1.000, -2.000 and a tiny negative weight shown as zero.
    CHECK(cnn::grid_cell_text(1.0f, 3) == "1.000");
    CHECK(cnn::grid_cell_text(-2.0f, 3) == "-2.000");
    CHECK(cnn::grid_cell_text(-0.0001f, 3) == "0.000");
    CHECK(cnn::grid_cell_text(-0.0f, 0) == "0");
    CHECK(cnn::grid_cell_text(-0.6f, 0) == "-1");
    // Each text's width, grid_glyph_width pixels per point and character, within the cell less
    // its margins: "-2.000" (6 characters) and "-123.45" (7) in cells of 34, 40 and 60 pixels.
    for (const double cell : {34.0, 40.0, 60.0}) {
        for (const std::string text : {"1.000", "-2.000", "0.000", "-123.45"}) {
            const double font = cnn::grid_font_size(text.size(), cell);
            INFO(text, " in a cell of ", cell, " pixels at font size ", font);
            CHECK(cnn::grid_glyph_width * font * static_cast<double>(text.size()) <=
                  cell * (1.0 - 2 * cnn::grid_text_margin) + 1e-9);
        }
    }
    // A number that cannot fit even at the smallest legible font is an error, not a spill.
    CHECK_THROWS_WITH_AS(cnn::grid_font_size(7, 20.0), doctest::Contains("do not fit a cell of 20 pixels"),
                         std::invalid_argument);
    // A short number keeps the usual size: 0.30 of the cell.
    CHECK(cnn::grid_font_size(1, 34.0) == doctest::Approx(10.2));
}
