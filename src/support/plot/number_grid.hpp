/// \file
/// \ingroup support
/// \brief Small matrices drawn with their numbers, and boxes around the cells that matter.
///
/// The figures of the worked examples: an input with the window of the current position boxed,
/// a kernel, an output with the cell that window produced. Each matrix is drawn as a grid of
/// cells shaded by value, with every value written in its cell.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// A rectangle of cells: `rows` x `cols` cells whose top-left cell is (row, col).
struct CellBox {
    std::size_t row = 0, col = 0;
    std::size_t rows = 1, cols = 1;
};
/// \var CellBox::row
/// The top row of the box, from 0.
/// \var CellBox::col
/// The left column of the box, from 0.
/// \var CellBox::rows
/// The box's height in cells, at least 1.
/// \var CellBox::cols
/// The box's width in cells, at least 1.

/// One matrix of a NumberGridFigure.
struct NumberGrid {
    Tensor2 values;               ///< (rows, cols), row 0 drawn at the top
    std::string caption;          ///< above the matrix
    std::vector<CellBox> boxes;   ///< outlined in red
};

/// Several matrices side by side, in rows of `columns`.
struct NumberGridFigure {
    std::string title;              ///< above the matrices; may be empty
    std::vector<NumberGrid> grids;  ///< at least one
    std::size_t columns = 4;        ///< matrices per row, at least 1
    std::size_t cell_pixels = 34;   ///< side of one cell in the PNG
    int decimals = 0;               ///< digits after the decimal point of each value (0 to 4)
};

/// Draws `figure` into the PNG file `png` (directories created; replaced only on success).
/// Throws std::invalid_argument for an empty figure, an empty matrix, a box outside its
/// matrix, non-finite values or options out of range.
/// \param figure the matrices and how to draw them
/// \param png the file written
/// \throws std::runtime_error when gnuplot fails or the file cannot be written
void save_number_grids(const NumberGridFigure& figure, const std::filesystem::path& png);

/// The widest a digit, point or minus sign of the plots' font is, in pixels per point of the
/// font's size: gnuplot's pngcairo terminal draws a point as 4/3 of a pixel, and a digit of its
/// sans font is about 0.55 of the size wide, so 0.75 (measured on ch02_learned_kernel.png: a
/// 13-point "-1.000" is about 57 pixels wide).
inline constexpr double grid_glyph_width = 0.75;
/// The space kept free on each side of a cell's text, as a fraction of the cell: 0.08.
inline constexpr double grid_text_margin = 0.08;

/// What one cell of a number grid shows: `value` with `decimals` digits after the point, and
/// no minus sign on a value that shows as zero ("0.000", never "-0.000").
/// \param value the cell's value
/// \param decimals digits after the decimal point
/// \return the text
std::string grid_cell_text(float value, int decimals);

/// The smallest font a grid's numbers are drawn at, in points: below it they are not legible.
inline constexpr double grid_smallest_font = 5.0;

/// The font size of a grid's numbers: 0.30 of a cell, or less, so that the longest text fits
/// inside its cell with grid_text_margin free on each side (each character at most
/// grid_glyph_width pixels per point); at most 14.
/// \param longest_text the most characters any cell shows (grid_cell_text())
/// \param cell_pixels the side of a cell in the PNG
/// \return the font size in points
/// \throws std::invalid_argument when the text would not fit even at grid_smallest_font: the
///         number would spill out of its cell
double grid_font_size(std::size_t longest_text, double cell_pixels);

}  // namespace cnn
