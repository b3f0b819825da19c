#include "cnn/detect/boxes.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace cnn {

namespace {

/// Throws unless the image and the grid have at least one pixel and one cell.
void expect_sizes(const char* where, std::size_t image_height, std::size_t image_width,
                  std::size_t grid) {
    if (image_height == 0 || image_width == 0 || grid == 0) {
        throw std::invalid_argument(fmt::format(
            "{}: expected an image of at least 1x1 pixels and a grid of at least 1x1 cells, got "
            "an image of {}x{} (H x W) and a grid of {}x{}",
            where, image_height, image_width, grid, grid));
    }
}

/// The cell (row or column) that holds `centre`, in pixels along an axis of `size` pixels cut
/// into `grid` cells, and the centre's offset in it; the far edge belongs to the last cell.
std::pair<std::size_t, float> cell_and_offset(double centre, std::size_t size, std::size_t grid) {
    const double in_cells = centre * static_cast<double>(grid) / static_cast<double>(size);
    const auto cell = std::min(static_cast<std::size_t>(std::floor(in_cells)), grid - 1);
    return {cell, static_cast<float>(in_cells - static_cast<double>(cell))};
}

}  // namespace

//! [intersection_over_union]
float box_area(const Box& box) {
    const float w = box.x_max - box.x_min, h = box.y_max - box.y_min;
    return w > 0 && h > 0 ? w * h : 0.0f;  // false for an empty box, and for NaN
}

float intersection_area(const Box& a, const Box& b) {
    // The common part of two rectangles is a rectangle: the larger of the left edges to the
    // smaller of the right edges, and the same for top and bottom. It is empty when they miss.
    const Box common{std::max(a.x_min, b.x_min), std::max(a.y_min, b.y_min),
                     std::min(a.x_max, b.x_max), std::min(a.y_max, b.y_max)};
    return box_area(common);
}

float intersection_over_union(const Box& a, const Box& b) {
    const float common = intersection_area(a, b);
    const float both = box_area(a) + box_area(b) - common;  // |A ∪ B|
    if (!(both > 0) || !std::isfinite(both)) {
        return 0.0f;  // two empty boxes, or coordinates that are not numbers: never NaN
    }
    return common / both;
}
//! [intersection_over_union]

CentreSize to_centre_size(const Box& box) {
    return {(box.x_min + box.x_max) / 2, (box.y_min + box.y_max) / 2, box.x_max - box.x_min,
            box.y_max - box.y_min};
}

Box from_centre_size(const CentreSize& c) {
    return {c.x - c.w / 2, c.y - c.h / 2, c.x + c.w / 2, c.y + c.h / 2};
}

GridBox to_grid(const Box& box, std::size_t image_height, std::size_t image_width,
                std::size_t grid) {
    expect_sizes("to_grid", image_height, image_width, grid);
    const bool finite = std::isfinite(box.x_min) && std::isfinite(box.y_min) &&
                        std::isfinite(box.x_max) && std::isfinite(box.y_max);
    if (!finite || box.x_max < box.x_min || box.y_max < box.y_min) {
        throw std::invalid_argument(fmt::format(
            "to_grid: expected a box with finite corners, x_min <= x_max and y_min <= y_max, "
            "got [{}, {}, {}, {}] (x_min, y_min, x_max, y_max)",
            box.x_min, box.y_min, box.x_max, box.y_max));
    }
    // The centre in pixels, in double so that a centre on a cell's edge stays on it.
    const double cx = (static_cast<double>(box.x_min) + box.x_max) / 2;
    const double cy = (static_cast<double>(box.y_min) + box.y_max) / 2;
    const auto w = static_cast<double>(image_width), h = static_cast<double>(image_height);
    if (cx < 0 || cx > w || cy < 0 || cy > h) {
        throw std::invalid_argument(fmt::format(
            "to_grid: the box's centre ({}, {}) lies outside the image [0, {}] x [0, {}]; "
            "a YOLO cell can only encode a box whose centre is in the image",
            cx, cy, image_width, image_height));
    }
    const auto [column, x] = cell_and_offset(cx, image_width, grid);
    const auto [row, y] = cell_and_offset(cy, image_height, grid);
    return {row,
            column,
            x,
            y,
            static_cast<float>((static_cast<double>(box.x_max) - box.x_min) / w),
            static_cast<float>((static_cast<double>(box.y_max) - box.y_min) / h)};
}

Box from_grid(const GridBox& cell, std::size_t image_height, std::size_t image_width,
              std::size_t grid) {
    expect_sizes("from_grid", image_height, image_width, grid);
    if (cell.row >= grid || cell.column >= grid) {
        throw std::invalid_argument(fmt::format(
            "from_grid: expected a cell of the {}x{} grid (row and column below {}), got row {}, "
            "column {}",
            grid, grid, grid, cell.row, cell.column));
    }
    const bool finite = std::isfinite(cell.x) && std::isfinite(cell.y) && std::isfinite(cell.w) &&
                        std::isfinite(cell.h);
    if (!finite || cell.w < 0 || cell.h < 0) {
        throw std::invalid_argument(fmt::format(
            "from_grid: expected finite x, y and w, h >= 0, got x {}, y {}, w {}, h {} in cell "
            "(row {}, column {})",
            cell.x, cell.y, cell.w, cell.h, cell.row, cell.column));
    }
    const auto w = static_cast<double>(image_width), h = static_cast<double>(image_height);
    const auto s = static_cast<double>(grid);
    const double cx = (static_cast<double>(cell.column) + cell.x) * w / s;
    const double cy = (static_cast<double>(cell.row) + cell.y) * h / s;
    const double bw = cell.w * w, bh = cell.h * h;
    return {static_cast<float>(cx - bw / 2), static_cast<float>(cy - bh / 2),
            static_cast<float>(cx + bw / 2), static_cast<float>(cy + bh / 2)};
}

}  // namespace cnn
