// Tests of cnn/detect/boxes.hpp: areas and IoU on boxes whose overlaps are worked out by hand,
// the centre-size form, and YOLO's cell encoding on grids computed by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "cnn/detect/boxes.hpp"

using cnn::Box;
using cnn::GridBox;

TEST_CASE("box_area is width times height, and 0 for an empty or inverted box") {
    CHECK(cnn::box_area({1, 2, 4, 6}) == 12.0f);   // (4 - 1)(6 - 2)
    CHECK(cnn::box_area({1, 1, 1, 3}) == 0.0f);    // no width
    CHECK(cnn::box_area({0, 5, 4, 5}) == 0.0f);    // no height
    CHECK(cnn::box_area({3, 3, 1, 1}) == 0.0f);    // inverted: not -2 * -2 = 4
    CHECK(cnn::box_area({0, 0, 2, -1}) == 0.0f);   // inverted in y only: not 2 * -1
    CHECK(cnn::box_area({0, 0, std::numeric_limits<float>::quiet_NaN(), 1}) == 0.0f);
}

TEST_CASE("intersection_area of two boxes that overlap in a 2x2 square") {
    // A = [2, 1, 6, 4], B = [4, 2, 9, 8]: x from max(2, 4) = 4 to min(6, 9) = 6,
    // y from max(1, 2) = 2 to min(4, 8) = 4: a 2x2 square.
    const Box a{2, 1, 6, 4}, b{4, 2, 9, 8};
    CHECK(cnn::intersection_area(a, b) == 4.0f);
    CHECK(cnn::intersection_area(b, a) == 4.0f);
    CHECK(cnn::intersection_area({0, 0, 1, 1}, {2, 2, 3, 3}) == 0.0f);  // apart
}

TEST_CASE("IoU of boxes apart, nested, touching, identical and partly overlapping") {
    // Apart: no common area.
    CHECK(cnn::intersection_over_union({0, 0, 1, 1}, {2, 2, 3, 3}) == 0.0f);
    // Apart in x only: the y ranges overlap, the x ranges do not.
    CHECK(cnn::intersection_over_union({0, 0, 1, 5}, {2, 0, 3, 5}) == 0.0f);
    // Nested: [1, 1, 3, 3] (area 4) inside [0, 0, 4, 4] (area 16): 4 / (16 + 4 - 4) = 1/4.
    CHECK(cnn::intersection_over_union({0, 0, 4, 4}, {1, 1, 3, 3}) == 0.25f);
    // Touching along an edge (x = 2) or at a corner (1, 1): the common part has no area.
    CHECK(cnn::intersection_over_union({0, 0, 2, 2}, {2, 0, 4, 2}) == 0.0f);
    CHECK(cnn::intersection_over_union({0, 0, 1, 1}, {1, 1, 2, 2}) == 0.0f);
    // Identical.
    CHECK(cnn::intersection_over_union({1.5f, 2, 7, 9}, {1.5f, 2, 7, 9}) == 1.0f);
    // [0, 0, 2, 2] and [1, 1, 3, 3]: common [1, 1, 2, 2] of area 1; union 4 + 4 - 1 = 7.
    CHECK(cnn::intersection_over_union({0, 0, 2, 2}, {1, 1, 3, 3}) == doctest::Approx(1.0 / 7));
    // [2, 1, 6, 4] (area 4 * 3 = 12) and [4, 2, 9, 8] (area 5 * 6 = 30): common 2 * 2 = 4,
    // union 12 + 30 - 4 = 38, IoU 4 / 38 = 2 / 19. Not square, so x and y mixed up would show.
    CHECK(cnn::intersection_over_union({2, 1, 6, 4}, {4, 2, 9, 8}) == doctest::Approx(2.0 / 19));
    // Half overlapping along x: [0, 0, 3, 1] and [1, 0, 4, 1]: common 2, union 3 + 3 - 2 = 4.
    CHECK(cnn::intersection_over_union({0, 0, 3, 1}, {1, 0, 4, 1}) == 0.5f);
}

TEST_CASE("IoU of empty boxes is 0, never NaN") {
    const Box line{1, 1, 1, 3};  // zero width
    const Box point{2, 2, 2, 2};
    const Box inverted{3, 3, 1, 1};
    const Box square{0, 0, 4, 4};
    // Two empty boxes: union 0, and 0 / 0 would be NaN.
    CHECK(cnn::intersection_over_union(line, line) == 0.0f);
    CHECK(cnn::intersection_over_union(point, point) == 0.0f);
    CHECK(cnn::intersection_over_union(line, point) == 0.0f);
    // An empty box inside a real one: common area 0, union 16.
    CHECK(cnn::intersection_over_union(line, square) == 0.0f);
    // An inverted box counts as empty: its "area" (-2)(-2) = 4 must not enter the union.
    CHECK(cnn::intersection_over_union(inverted, square) == 0.0f);
    CHECK(cnn::intersection_over_union(inverted, inverted) == 0.0f);
    // Coordinates that are not numbers.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    CHECK(cnn::intersection_over_union({nan, 0, 1, 1}, square) == 0.0f);
    CHECK(cnn::intersection_over_union({-inf, -inf, inf, inf}, {-inf, -inf, inf, inf}) == 0.0f);
}

TEST_CASE("IoU is symmetric and lies between 0 and 1") {
    const std::vector<Box> boxes = {{0, 0, 2, 2}, {1, 1, 3, 3},   {0, 0, 4, 4},     {2, 0, 4, 2},
                                    {1, 1, 1, 3}, {3, 3, 1, 1},   {2, 1, 6, 4},     {4, 2, 9, 8},
                                    {-5, -5, 0, 0}, {0.5f, 0.25f, 3.75f, 1}};
    for (const Box& a : boxes) {
        for (const Box& b : boxes) {
            const float ab = cnn::intersection_over_union(a, b);
            CHECK(ab == cnn::intersection_over_union(b, a));
            CHECK(ab >= 0.0f);
            CHECK(ab <= 1.0f);
        }
    }
}

TEST_CASE("to_centre_size and from_centre_size convert both ways") {
    // [2, 1, 6, 4]: centre ((2 + 6) / 2, (1 + 4) / 2) = (4, 2.5), size (6 - 2, 4 - 1) = (4, 3).
    const cnn::CentreSize c = cnn::to_centre_size({2, 1, 6, 4});
    CHECK(c.x == 4.0f);
    CHECK(c.y == 2.5f);
    CHECK(c.w == 4.0f);
    CHECK(c.h == 3.0f);
    const Box back = cnn::from_centre_size(c);
    CHECK(back.x_min == 2.0f);
    CHECK(back.y_min == 1.0f);
    CHECK(back.x_max == 6.0f);
    CHECK(back.y_max == 4.0f);
    // (10, 20) with size (5, 1): corners (10 - 2.5, 20 - 0.5) and (10 + 2.5, 20 + 0.5).
    const Box b = cnn::from_centre_size({10, 20, 5, 1});
    CHECK(b.x_min == 7.5f);
    CHECK(b.y_min == 19.5f);
    CHECK(b.x_max == 12.5f);
    CHECK(b.y_max == 20.5f);
}

TEST_CASE("to_grid: a box in a 96x96 image under a 6x6 grid, computed by hand") {
    // Cells are 96 / 6 = 16 pixels. Box [22, 40, 52, 72]: centre ((22 + 52) / 2, (40 + 72) / 2)
    // = (37, 56). Column floor(37 / 16) = 2, offset (37 - 2 * 16) / 16 = 5/16 = 0.3125;
    // row floor(56 / 16) = 3, offset (56 - 48) / 16 = 0.5. Size (52 - 22) / 96 = 30/96 = 0.3125
    // and (72 - 40) / 96 = 32/96 = 1/3.
    const GridBox g = cnn::to_grid({22, 40, 52, 72}, 96, 96, 6);
    CHECK(g.row == 3);
    CHECK(g.column == 2);
    CHECK(g.x == 0.3125f);
    CHECK(g.y == 0.5f);
    CHECK(g.w == 0.3125f);
    CHECK(g.h == doctest::Approx(1.0 / 3));

    // And back: centre ((2 + 0.3125) * 16, (3 + 0.5) * 16) = (37, 56), size (30, 32).
    const Box b = cnn::from_grid(g, 96, 96, 6);
    CHECK(b.x_min == doctest::Approx(22));
    CHECK(b.y_min == doctest::Approx(40));
    CHECK(b.x_max == doctest::Approx(52));
    CHECK(b.y_max == doctest::Approx(72));
}

TEST_CASE("to_grid: an image wider than high keeps rows and columns apart") {
    // H = 60, W = 90, S = 3: cells 90 / 3 = 30 wide and 60 / 3 = 20 high. Box [60, 30, 90, 60]:
    // centre (75, 45). Column floor(75 / 30) = 2, offset (75 - 60) / 30 = 0.5; row
    // floor(45 / 20) = 2, offset (45 - 40) / 20 = 0.25. Size 30 / 90 = 1/3 and 30 / 60 = 0.5.
    const GridBox g = cnn::to_grid({60, 30, 90, 60}, 60, 90, 3);
    CHECK(g.row == 2);
    CHECK(g.column == 2);
    CHECK(g.x == 0.5f);
    CHECK(g.y == 0.25f);
    CHECK(g.w == doctest::Approx(1.0 / 3));
    CHECK(g.h == 0.5f);
    // Box [0, 0, 30, 10]: centre (15, 5), column 0 with offset 15/30 = 0.5, row 0 with 5/20.
    const GridBox top_left = cnn::to_grid({0, 0, 30, 10}, 60, 90, 3);
    CHECK(top_left.row == 0);
    CHECK(top_left.column == 0);
    CHECK(top_left.x == 0.5f);
    CHECK(top_left.y == 0.25f);
}

TEST_CASE("to_grid: centres on a cell's edge, on the image's edges and in its corner") {
    // 96x96, S = 6, cells of 16. Centre (32, 32) on the edge between cells 1 and 2: cell 2,
    // offset 0.
    const GridBox on_edge = cnn::to_grid({24, 24, 40, 40}, 96, 96, 6);
    CHECK(on_edge.row == 2);
    CHECK(on_edge.column == 2);
    CHECK(on_edge.x == 0.0f);
    CHECK(on_edge.y == 0.0f);
    // Centre (0, 0), the image's corner; the box reaches outside the image: size 10/96.
    const GridBox corner = cnn::to_grid({-5, -5, 5, 5}, 96, 96, 6);
    CHECK(corner.row == 0);
    CHECK(corner.column == 0);
    CHECK(corner.x == 0.0f);
    CHECK(corner.w == doctest::Approx(10.0 / 96));
    // Box [90, 0, 102, 10]: centre (96, 5) on the right edge. floor(96 / 16) = 6 is no column;
    // it belongs to the last, 5, with offset 96/16 - 5 = 1. Row 0, offset 5/16 = 0.3125.
    const GridBox right = cnn::to_grid({90, 0, 102, 10}, 96, 96, 6);
    CHECK(right.column == 5);
    CHECK(right.x == 1.0f);
    CHECK(right.row == 0);
    CHECK(right.y == 0.3125f);
    CHECK(right.w == 0.125f);  // 12 / 96
    // Bottom-right corner (96, 96): the last cell both ways.
    const GridBox last = cnn::to_grid({92, 92, 100, 100}, 96, 96, 6);
    CHECK(last.row == 5);
    CHECK(last.column == 5);
    CHECK(last.y == 1.0f);
    // One cell: every centre in the image is in cell (0, 0), the offset is the centre / size.
    const GridBox one = cnn::to_grid({22, 40, 52, 72}, 96, 96, 1);
    CHECK(one.row == 0);
    CHECK(one.column == 0);
    CHECK(one.x == doctest::Approx(37.0 / 96));
}

TEST_CASE("to_grid and from_grid round trip random boxes") {
    std::mt19937 random(10);
    struct Image {
        std::size_t height, width, grid;
    };
    for (const Image image : {Image{96, 96, 6}, Image{60, 90, 3}, Image{28, 28, 7},
                              Image{100, 37, 4}, Image{5, 5, 1}}) {
        const auto h = static_cast<float>(image.height), w = static_cast<float>(image.width);
        std::uniform_real_distribution<float> x(0, w), y(0, h), size(0, std::max(h, w) / 2);
        for (int i = 0; i < 50; ++i) {
            const cnn::CentreSize c{x(random), y(random), size(random), size(random)};
            const Box box = cnn::from_centre_size(c);
            const GridBox g = cnn::to_grid(box, image.height, image.width, image.grid);
            CAPTURE(image.height);
            CAPTURE(image.width);
            CAPTURE(i);
            CHECK(g.row < image.grid);
            CHECK(g.column < image.grid);
            CHECK(g.x >= 0.0f);
            CHECK(g.x < 1.0f);
            CHECK(g.y >= 0.0f);
            CHECK(g.y < 1.0f);
            const Box back = cnn::from_grid(g, image.height, image.width, image.grid);
            const double tolerance = 1e-4 * std::max(h, w);
            CHECK(std::abs(back.x_min - box.x_min) < tolerance);
            CHECK(std::abs(back.y_min - box.y_min) < tolerance);
            CHECK(std::abs(back.x_max - box.x_max) < tolerance);
            CHECK(std::abs(back.y_max - box.y_max) < tolerance);
        }
    }
}

TEST_CASE("to_grid and from_grid refuse what no grid can encode") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(cnn::to_grid({0, 0, 8, 8}, 96, 96, 0),
                         doctest::Contains("to_grid: expected an image of at least 1x1 pixels and "
                                           "a grid of at least 1x1 cells, got an image of 96x96 "
                                           "(H x W) and a grid of 0x0"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::to_grid({0, 0, 8, 8}, 0, 96, 6),
                         doctest::Contains("got an image of 0x96"), std::invalid_argument);
    CHECK_THROWS_AS(cnn::to_grid({0, 0, 8, 8}, 96, 0, 6), std::invalid_argument);
    // Centre (100, 5): right of the 96 columns.
    CHECK_THROWS_WITH_AS(cnn::to_grid({90, 0, 110, 10}, 96, 96, 6),
                         doctest::Contains("to_grid: the box's centre (100, 5) lies outside the "
                                           "image [0, 96] x [0, 96]"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::to_grid({-10, 0, -2, 4}, 96, 96, 6), std::invalid_argument);  // x -6
    CHECK_THROWS_AS(cnn::to_grid({0, 90, 4, 110}, 96, 96, 6), std::invalid_argument);  // y 100
    CHECK_THROWS_WITH_AS(cnn::to_grid({8, 8, 4, 12}, 96, 96, 6),
                         doctest::Contains("expected a box with finite corners, x_min <= x_max "
                                           "and y_min <= y_max, got [8, 8, 4, 12]"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::to_grid({nan, 0, 4, 4}, 96, 96, 6), std::invalid_argument);

    CHECK_THROWS_WITH_AS(cnn::from_grid({6, 0, 0.5f, 0.5f, 0.1f, 0.1f}, 96, 96, 6),
                         doctest::Contains("from_grid: expected a cell of the 6x6 grid (row and "
                                           "column below 6), got row 6, column 0"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::from_grid({0, 7, 0.5f, 0.5f, 0.1f, 0.1f}, 96, 96, 6),
                    std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::from_grid({1, 2, 0.5f, 0.5f, -0.1f, 0.1f}, 96, 96, 6),
                         doctest::Contains("from_grid: expected finite x, y and w, h >= 0, got "
                                           "x 0.5, y 0.5, w -0.1, h 0.1 in cell (row 1, column 2)"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::from_grid({0, 0, nan, 0.5f, 0.1f, 0.1f}, 96, 96, 6),
                    std::invalid_argument);
    CHECK_THROWS_AS(cnn::from_grid({0, 0, 0.5f, 0.5f, 0.1f, 0.1f}, 96, 96, 0),
                    std::invalid_argument);
}
