#include "support/plot/number_grid.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "support/plot/plot.hpp"

namespace cnn {

namespace {

constexpr double margin = 16;        // pixels around the figure
constexpr double gap = 28;           // pixels between matrices in a row
constexpr double caption_band = 26;  // pixels above each matrix for its caption
constexpr double title_band = 36;    // pixels above everything for the title

// Rough width in pixels of a text in Sans 11 (captions) or 13 (the title): gnuplot cannot be
// asked, so the layout leaves room for about this much.
double text_pixels(const std::string& text, double points) {
    return static_cast<double>(text.size()) * points * 0.72 + 8;
}

void validate(const NumberGridFigure& figure, const std::filesystem::path& png) {
    const std::string where = "save_number_grids(" + png.string() + "): ";
    if (figure.grids.empty()) {
        throw std::invalid_argument(where + "expected at least one matrix, got none");
    }
    if (figure.columns == 0 || figure.cell_pixels < 12 || figure.decimals < 0 ||
        figure.decimals > 4) {
        throw std::invalid_argument(where + "expected columns >= 1, cell_pixels >= 12 and "
                                    "decimals in 0..4, got " + std::to_string(figure.columns) +
                                    ", " + std::to_string(figure.cell_pixels) + " and " +
                                    std::to_string(figure.decimals));
    }
    for (std::size_t g = 0; g < figure.grids.size(); ++g) {
        const NumberGrid& grid = figure.grids[g];
        const std::string name = "matrix " + std::to_string(g) + " (\"" + grid.caption + "\")";
        if (grid.values.size() == 0) {
            throw std::invalid_argument(where + name + " is empty: " +
                                        shape_to_string(grid.values.shape()));
        }
        for (float v : grid.values) {
            if (!std::isfinite(v)) {
                throw std::invalid_argument(where + name + " has a non-finite value");
            }
        }
        for (const CellBox& box : grid.boxes) {
            if (box.rows == 0 || box.cols == 0 || box.row + box.rows > grid.values.shape(0) ||
                box.col + box.cols > grid.values.shape(1)) {
                throw std::invalid_argument(
                    where + name + " " + shape_to_string(grid.values.shape()) + ": a box of " +
                    std::to_string(box.rows) + "x" + std::to_string(box.cols) + " cells at (" +
                    std::to_string(box.row) + ", " + std::to_string(box.col) +
                    ") does not fit inside it");
            }
        }
    }
}

// Where the matrices go, in pixels from the top-left corner of the PNG.
struct FigureLayout {
    std::vector<double> slot;        // per matrix: as wide as the matrix or its caption
    std::vector<double> row_height;  // per row of the figure: its tallest matrix
    std::vector<double> row_width;   // per row of the figure: its slots and the gaps between
    double top = 0;                  // the top of the first row, below the title
    double width = 0, height = 0;    // of the PNG

    // gnuplot's screen coordinates: 0..1 from left to right and from bottom to top.
    std::string sx(double px) const { return fmt::format("{:.5f}", px / width); }
    std::string sy(double px) const { return fmt::format("{:.5f}", 1.0 - px / height); }
};

// Lays the matrices out in pixels: each row of the figure is as tall as its tallest matrix.
// Each matrix gets a slot as wide as the matrix or its caption, whichever is wider.
FigureLayout lay_out(const NumberGridFigure& figure) {
    const double cell = static_cast<double>(figure.cell_pixels);
    const std::size_t count = figure.grids.size();
    const std::size_t rows_of_grids = (count + figure.columns - 1) / figure.columns;
    FigureLayout layout;
    layout.row_height.assign(rows_of_grids, 0.0);
    layout.row_width.assign(rows_of_grids, 0.0);
    layout.slot.resize(count);
    for (std::size_t g = 0; g < count; ++g) {
        const std::size_t r = g / figure.columns;
        const Tensor2& v = figure.grids[g].values;
        layout.slot[g] = std::max(static_cast<double>(v.shape(1)) * cell,
                                  text_pixels(figure.grids[g].caption, 11));
        layout.row_height[r] =
            std::max(layout.row_height[r], static_cast<double>(v.shape(0)) * cell);
        layout.row_width[r] += layout.slot[g] + (g % figure.columns ? gap : 0);
    }
    layout.top = margin + (figure.title.empty() ? 0.0 : title_band);
    layout.height = layout.top + margin;
    for (double h : layout.row_height) {
        layout.height += caption_band + h + margin;
    }
    layout.width =
        std::max({2 * margin + *std::max_element(layout.row_width.begin(), layout.row_width.end()),
                  2 * margin + text_pixels(figure.title, 13), 240.0});
    return layout;
}

// The settings every matrix shares, and the title.
void append_settings(std::ostringstream& gp, const NumberGridFigure& figure,
                     const FigureLayout& layout) {
    gp << "set multiplot\n"
       << "unset key\nunset colorbox\nset tics scale 0\nset format x ''\nset format y ''\n"
       << "set mxtics 2\nset mytics 2\n"
       << "set grid noxtics noytics mxtics mytics front lc rgb '#9a9a9a' lw 1 dt 1\n"
       << "set border 15 lw 1.5 lc rgb '#404040' front\n"
       << "set palette defined (0 '#ffffff', 1 '#a6cbe3')\n";
    if (!figure.title.empty()) {
        gp << "set label 1 " << gnuplot_text(figure.title) << " at screen 0.5, screen "
           << layout.sy(margin + title_band / 2) << " center font ',13'\n";
    }
}

// The values of matrix `g` as the data block $m<g>, one line per row.
void append_values(std::ostringstream& gp, std::size_t g, const Tensor2& values) {
    gp << "$m" << g << " << EOD\n";
    for (std::size_t i = 0; i < values.shape(0); ++i) {
        for (std::size_t j = 0; j < values.shape(1); ++j) {
            gp << (j ? " " : "") << fmt::format("{:.6g}", values(i, j));
        }
        gp << "\n";
    }
    gp << "EOD\n";
}

// The text of every cell, as datablock $t<g>: "column row text" per line.
void append_texts(std::ostringstream& gp, std::size_t g, const Tensor2& values, int decimals) {
    gp << "$t" << g << " << EOD\n";
    for (std::size_t i = 0; i < values.shape(0); ++i) {
        for (std::size_t j = 0; j < values.shape(1); ++j) {
            gp << j << " " << i << " \"" << grid_cell_text(values(i, j), decimals) << "\"\n";
        }
    }
    gp << "EOD\n";
}

// The red outlines of `boxes`, as gnuplot objects in the coordinates of the cells.
void append_boxes(std::ostringstream& gp, const std::vector<CellBox>& boxes) {
    gp << "unset object\n";
    for (std::size_t b = 0; b < boxes.size(); ++b) {
        const CellBox& box = boxes[b];
        gp << "set object " << b + 1 << " rect from " << box.col - 0.5 << "," << box.row - 0.5
           << " to " << box.col + box.cols - 0.5 << "," << box.row + box.rows - 0.5
           << " front fillstyle empty border lc rgb '#d62728' lw 3\n";
    }
}

// Matrix `g` of the figure, centred in its slot whose top-left corner is (x_left, y_top): its
// values, colour range, place, caption and boxes, and the plot that draws it.
void append_matrix(std::ostringstream& gp, const NumberGridFigure& figure,
                   const FigureLayout& layout, std::size_t g, double x_left, double y_top) {
    const double cell = static_cast<double>(figure.cell_pixels);
    const NumberGrid& grid = figure.grids[g];
    const std::size_t rows = grid.values.shape(0), cols = grid.values.shape(1);
    const double w = static_cast<double>(cols) * cell, h = static_cast<double>(rows) * cell;
    const double x0 = x_left + (layout.slot[g] - w) / 2;  // the matrix, centred in its slot
    const double panel_top = y_top + caption_band;
    append_values(gp, g, grid.values);
    const float lo = *std::min_element(grid.values.begin(), grid.values.end());
    const float hi = *std::max_element(grid.values.begin(), grid.values.end());
    gp << "set cbrange [" << lo << ":" << (hi > lo ? hi : lo + 1) << "]\n"
       << "set lmargin at screen " << layout.sx(x0) << "\n"
       << "set rmargin at screen " << layout.sx(x0 + w) << "\n"
       << "set tmargin at screen " << layout.sy(panel_top) << "\n"
       << "set bmargin at screen " << layout.sy(panel_top + h) << "\n"
       << "set xrange [-0.5:" << cols - 0.5 << "]\n"
       << "set yrange [" << rows - 0.5 << ":-0.5]\n"
       << "set xtics 0, 1, " << cols << "\nset ytics 0, 1, " << rows << "\n";
    if (!grid.caption.empty()) {
        gp << "set label 2 " << gnuplot_text(grid.caption) << " at screen " << layout.sx(x0 + w / 2)
           << ", screen " << layout.sy(y_top + caption_band / 2) << " center font ',11'\n";
    } else {
        gp << "unset label 2\n";
    }
    append_boxes(gp, grid.boxes);
    append_texts(gp, g, grid.values, figure.decimals);
    std::size_t longest = 1;
    for (const float v : grid.values) {
        longest = std::max(longest, grid_cell_text(v, figure.decimals).size());
    }
    gp << "plot $m" << g << " matrix with image, $t" << g << " using 1:2:3 with labels font ',"
       << grid_font_size(longest, cell) << "'\n"
       << "unset label 1\n";
}

}  // namespace

std::string grid_cell_text(float value, int decimals) {
    std::string text = fmt::format("{:.{}f}", value, decimals);
    if (text.front() == '-' && text.find_first_not_of("-0.") == std::string::npos) {
        text.erase(0, 1);  // "-0.000": a sign on a number shown as zero says nothing
    }
    return text;
}

double grid_font_size(std::size_t longest_text, double cell_pixels) {
    const std::size_t characters = std::max<std::size_t>(longest_text, 1);
    const double fits =
        cell_pixels * (1.0 - 2 * grid_text_margin) / (grid_glyph_width * static_cast<double>(characters));
    if (fits < grid_smallest_font) {
        throw std::invalid_argument(fmt::format(
            "number grid: {} characters do not fit a cell of {} pixels even at {} points; give the cells "
            "more pixels (cell_pixels) or the numbers fewer decimals",
            characters, cell_pixels, grid_smallest_font));
    }
    return std::min({cell_pixels * 0.30, fits, 14.0});
}

void save_number_grids(const NumberGridFigure& figure, const std::filesystem::path& png) {
    validate(figure, png);
    const FigureLayout layout = lay_out(figure);
    const std::size_t count = figure.grids.size();
    std::ostringstream gp;
    append_settings(gp, figure, layout);
    double y_top = layout.top;
    for (std::size_t r = 0; r < layout.row_height.size(); ++r) {
        double x_left = margin + (layout.width - 2 * margin - layout.row_width[r]) / 2;  // centred
        for (std::size_t g = r * figure.columns; g < std::min(count, (r + 1) * figure.columns);
             ++g) {
            append_matrix(gp, figure, layout, g, x_left, y_top);
            x_left += layout.slot[g] + gap;
        }
        y_top += caption_band + layout.row_height[r] + margin;
    }
    gp << "unset multiplot\n";
    save_gnuplot_png(gp.str(), png, static_cast<std::size_t>(std::ceil(layout.width)),
                     static_cast<std::size_t>(std::ceil(layout.height)));
}

}  // namespace cnn
