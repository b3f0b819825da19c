/// \file
/// \ingroup support
/// \brief PNG plots for the chapters: line plots, grouped bar charts and grids of images.
///
/// The book does not draw pixels itself: each `save_*` function describes its figure as a
/// small, self-contained gnuplot script (the numbers travel inside it as inline data blocks)
/// and runs gnuplot's `pngcairo` terminal on it. The figure types are plain structs filled
/// with designated fields, so a chapter program reads like the figure it draws:
///
/// \code
/// cnn::LinePlot plot;
/// plot.title = "Training loss";
/// plot.x_label = "epoch";
/// plot.y_label = "loss";
/// plot.series.push_back({"train", {1, 2, 3}, {0.9, 0.5, 0.4}});
/// plot.series.push_back({"test", {1, 2, 3}, {1.0, 0.7, 0.6}});
/// cnn::save_line_plot(plot, out_dir / "loss.png");
/// \endcode
///
/// Every `save_*` function behaves the same way:
/// - it checks its input first and throws `std::invalid_argument` naming the PNG, the series,
///   image or category and the offending index (lengths that differ, NaN or infinite values,
///   non-positive values on a log axis, nothing to draw, ...);
/// - it creates the PNG's parent directories when they do not exist;
/// - it writes the PNG under a temporary name in the same directory and renames it into place
///   only when gnuplot succeeded, so the PNG path never holds a half-written file and an
///   existing PNG is replaced in one step;
/// - when gnuplot fails it throws `std::runtime_error` with the PNG path and what gnuplot
///   printed, and leaves no temporary file behind.
///
/// Line plots and bar charts share one look: title on top, axes left and bottom with light
/// grid lines, colours that stay apart for colour-blind readers, and a key (legend) right of
/// the plot, or under it when a series label is longer than 24 characters. A series with an
/// empty label stays out of the key; with no label at all, there is no key.
///
/// Text (titles, labels, captions) is printed literally: it reaches gnuplot in single quotes,
/// where nothing is interpreted (not even a `command` in backquotes, which gnuplot would run
/// in a shell from double quotes), and `_`, `^`, `{}` are not taken as markup. A `\n` in a
/// text starts a new line.
///
/// The gnuplot executable is the compile definition `CNN_GNUPLOT` (a string literal), or
/// `gnuplot` from the `PATH` when it is not defined.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

// ----------------------------------------------------------------------------------------------
// Line plots: loss and accuracy curves, accuracy against a shift, timings against a size.
// ----------------------------------------------------------------------------------------------

/// One curve of a line plot: the points (x[i], y[i]), joined in the order given.
struct Series {
    std::string label;      ///< the curve's name in the key; empty leaves it out of the key
    std::vector<double> x;  ///< as many values as y
    std::vector<double> y;  ///< the values plotted against x
};

/// A line plot with one or more curves, each in its own colour and marker shape (eight
/// colours; from the ninth curve on they repeat with dashed lines).
struct LinePlot {
    std::string title;    ///< above the plot; may be empty
    std::string x_label;  ///< under the x axis
    std::string y_label;  ///< beside the y axis
    std::vector<Series> series;  ///< at least one, each with at least one point
    bool log_x = false;          ///< logarithmic x axis (every x must then be > 0)
    bool log_y = false;          ///< logarithmic y axis (every y must then be > 0)
    /// Mark the data points, not only the lines between them. A long series (hundreds of
    /// points) is marked at about 40 evenly spaced points so the curve stays readable.
    /// A series of a single point is always marked, since it has no line to draw.
    bool points = true;
    /// A fixed y range {low, high}, e.g. {0, 1} for accuracies; empty to fit the data.
    std::optional<std::pair<double, double>> y_range;
    std::size_t width = 900;   ///< PNG width in pixels (at least 200)
    std::size_t height = 560;  ///< PNG height in pixels (at least 150)
};

/// Draws `plot` into the PNG file `png` (width x height pixels), creating its directories.
/// \param plot the curves and how to draw them
/// \param png the file written
/// \throws std::invalid_argument for a plot that cannot be drawn (no series, an empty or
///         uneven series, a value a log axis cannot show, a size out of range)
/// \throws std::runtime_error when gnuplot fails or the file cannot be written
void save_line_plot(const LinePlot& plot, const std::filesystem::path& png);

// ----------------------------------------------------------------------------------------------
// Bar charts: a few numbers side by side, e.g. the accuracy of two models on each experiment.
// ----------------------------------------------------------------------------------------------

/// Grouped bars: one group per category along x, one bar per series in every group.
struct BarChart {
    std::string title;    ///< above the chart; may be empty
    std::string y_label;  ///< beside the y axis
    std::vector<std::string> categories;  ///< the groups, left to right; at least one
    /// The bars: a label for the key (empty leaves it out) and one value per category.
    std::vector<std::pair<std::string, std::vector<double>>> series;
    bool log_y = false;  ///< logarithmic y axis (every value must then be > 0)
    /// Print each bar's value above it (below, if negative): integers in full, other values
    /// to 4 significant digits, reading upwards when they are wider than the bar.
    bool value_labels = true;
    std::size_t width = 900;   ///< PNG width in pixels (at least 200)
    std::size_t height = 560;  ///< PNG height in pixels (at least 150)
};

/// Draws `chart` into the PNG file `png` (width x height pixels), creating its directories.
/// Long category names are slanted so that they do not run into each other.
/// \param chart the bars and how to draw them
/// \param png the file written
/// \throws std::invalid_argument for a chart that cannot be drawn (no category, a series
///         without one value per category, a value a log axis cannot show, a size out of range)
/// \throws std::runtime_error when gnuplot fails or the file cannot be written
void save_bar_chart(const BarChart& chart, const std::filesystem::path& png);

// ----------------------------------------------------------------------------------------------
// Image grids: input images, filters and feature maps, each with a caption and, where a
// figure needs them, boxes drawn over it.
// ----------------------------------------------------------------------------------------------

/// A rectangle drawn over an image of a grid, e.g. a detector's box: its outline (2 pixels
/// wide, centred on the box's edges) in `colour`, and its label in small text of the same
/// colour just inside its top-left corner. The coordinates are the image's pixel coordinates,
/// the convention of cnn::Box: x to the right and y down from the image's top-left corner,
/// pixel (row r, column c) covering [c, c+1) x [r, r+1), so {20, 30, 60, 50} frames exactly
/// the pixels of rows 30..49 and columns 20..59. A box that reaches beyond the image is cut to
/// it: its outline then runs along the image's border there, and its label starts inside.
struct ImageBox {
    double x_min = 0;    ///< left edge, in pixels of the image
    double y_min = 0;    ///< top edge
    double x_max = 0;    ///< right edge, at least x_min
    double y_max = 0;    ///< bottom edge, at least y_min
    std::string label;   ///< printed inside the top-left corner, e.g. "Bag 0.93"; may be empty
    /// The colour of the outline and the label, written `"#rrggbb"`: red unless set.
    std::string colour = "#d62728";
    bool dashed = false;  ///< a dashed outline, e.g. for the true boxes beside the predicted ones
};

/// One image of a grid: pixels (H, W), row 0 drawn at the top as in the data.
struct GridImage {
    Tensor2 pixels;       ///< (H, W), both at least 1
    std::string caption;  ///< printed above the image; may be empty, may hold `\n`
    /// This image's palette, when it differs from the grid's (ImageGrid::diverging): a grid
    /// can show an input in grey beside a signed map in blue-white-red.
    std::optional<bool> diverging = std::nullopt;
    /// This image's value range, when it differs from the grid's (ImageGrid::value_range):
    /// maps of one kind can share a scale while the images beside them keep theirs.
    std::optional<std::pair<double, double>> value_range = std::nullopt;
    /// Rectangles drawn over the image, in its pixel coordinates (see ImageBox), in order: a
    /// later box is drawn over an earlier one.
    std::vector<ImageBox> boxes = {};
    /// A colour per class ("#rrggbb"), for a map of classes such as a segmentation mask: when
    /// not empty, every pixel must hold a whole number k below its size and is drawn in
    /// colour k; diverging and value_range are then ignored.
    std::vector<std::string> categories = {};
};

/// Images laid out row by row, `columns` to a row, each with its caption above it.
///
/// How values become colours:
/// - grey (the default): `value_range` {lo, hi} maps lo to black and hi to white for every
///   image alike (e.g. {0, 1} for input images); without it, each image is stretched from
///   its own minimum (black) to its own maximum (white), which suits feature maps whose
///   scales differ. A constant image is drawn mid-grey.
/// - `diverging`: blue for negative, white for 0, red for positive, for signed maps such as
///   filters or gradients. The range is symmetric about 0: +-max(|lo|, |hi|) of
///   `value_range` for every image, or else +-max|value| of each image on its own.
/// Values outside the range are drawn in the colour of the nearest end.
///
/// Captions (font size 10) and the title (13) are wrapped at spaces to fit the width of a cell
/// and of the PNG; a single word too long for that is set in a smaller font.
///
/// Size of the PNG: every image is scaled, keeping its aspect ratio, to fit a square of
/// `cell_pixels - 12` pixels (enlarged by a whole factor when it is smaller, so that its
/// pixels stay sharp squares of one size), and sits in a cell `cell_pixels` wide. With
/// c = min(columns, number of images) and r = ceil(images / c), the PNG is `c * cell_pixels`
/// wide and `title_band + r * (caption_band + image_band)` tall, where
/// - `title_band` = 24 pixels per line of the wrapped title plus 12, or 0 without a title;
/// - `caption_band` = 16 pixels per line of the caption with the most lines (once wrapped)
///   plus 4, or 0 when no image has a caption;
/// - `image_band` = the height of the tallest image fitted to that square, before rounding to
///   a whole factor, plus 12: `cell_pixels` when every image is square; for images 200 high
///   and 300 wide in cells of 160, ceil(148 * 200 / 300) + 12 = 111.
struct ImageGrid {
    std::string title;              ///< above the grid; may be empty
    std::vector<GridImage> images;  ///< at least one
    std::size_t columns = 8;        ///< images per row, at least 1
    /// A shared value range {lo, hi} with lo < hi; empty to scale each image on its own.
    std::optional<std::pair<double, double>> value_range;
    bool diverging = false;         ///< blue-white-red palette centred on 0, for signed maps
    std::size_t cell_pixels = 160;  ///< width of one cell in the PNG (at least 32)
};

/// Draws `grid` into the PNG file `png`, creating its directories. The PNG's size follows
/// from the grid (see ImageGrid) and may be at most 32767 pixels either way.
/// \param grid the images and how to draw them
/// \param png the file written
/// \throws std::invalid_argument for a grid that cannot be drawn (no image, an empty image,
///         a range with lo >= hi, options out of range, a PNG too large, a box with a
///         coordinate that is not finite, with x_max < x_min or y_max < y_min, or with a
///         colour that is not `"#rrggbb"`)
/// \throws std::runtime_error when gnuplot fails or the file cannot be written
void save_image_grid(const ImageGrid& grid, const std::filesystem::path& png);

// ----------------------------------------------------------------------------------------------
// The gnuplot layer under the three functions above, for a figure they do not cover.
// ----------------------------------------------------------------------------------------------

/// `text` as a gnuplot string expression that prints it literally: in single quotes, with
/// each `'` spliced in as `'."'".'`, each newline as `'."\n".'`, and other control characters
/// turned into spaces. E.g. `it's` becomes `'it'."'".'s'` and "a", newline, "b" becomes
/// `'a'."\n".'b'`.
/// \param text any text
/// \return the expression
std::string gnuplot_quote(const std::string& text);

/// gnuplot_quote() followed by `noenhanced`: text shown literally, so `x_1` keeps its
/// underscore. The terminal is in enhanced mode only for the superscripts of log-axis tics.
/// \param text any text
/// \return the expression, then ` noenhanced`
std::string gnuplot_text(const std::string& text);

/// Runs gnuplot on `commands` with a `pngcairo` terminal of width x height pixels (from
/// 200x150 to 32767x32767; font Sans 11, enhanced text) whose output is `png`, reading no
/// initialisation file, under the same rules as the `save_*` functions: parent directories
/// created, the PNG replaced only on success, and `std::runtime_error` with gnuplot's
/// messages on failure. `commands` must not set the terminal or the output; pass any text
/// in them through gnuplot_text (or gnuplot_quote where `noenhanced` cannot follow).
/// \param commands gnuplot's commands, after the terminal and output lines
/// \param png the file written
/// \param width in pixels, 200 to 32767
/// \param height in pixels, 150 to 32767
/// \throws std::invalid_argument for a size out of range
/// \throws std::runtime_error when gnuplot fails or the file cannot be written
void save_gnuplot_png(const std::string& commands, const std::filesystem::path& png,
                      std::size_t width, std::size_t height);

}  // namespace cnn
