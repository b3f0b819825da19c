#include "support/plot/plot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <tuple>

// The gnuplot to run; the build passes the one CMake found, e.g. -DCNN_GNUPLOT="/usr/bin/gnuplot".
#ifndef CNN_GNUPLOT
#define CNN_GNUPLOT "gnuplot"
#endif

extern char** environ;  // the environment gnuplot inherits (POSIX has programs declare it)

namespace cnn {

namespace fs = std::filesystem;

namespace {

// ==============================================================================================
// Small text helpers
// ==============================================================================================

/// `value` in the shortest form that reads back exactly (e.g. `0.1`, `1e-08`), independent of
/// the C locale, which could otherwise turn the decimal point into a comma.
std::string number(double value) {
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return std::string(buffer.data(), result.ptr);
}

/// `value` with `digits` significant digits, for text a reader sees (e.g. `0.9123`).
std::string rounded(double value, int digits) {
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                      std::chars_format::general, digits);
    return std::string(buffer.data(), result.ptr);
}

/// How a bar's value is printed above it: integers in full (`1413834`), others to 4 digits.
std::string value_label(double value) {
    if (value == std::round(value) && std::fabs(value) < 1e15) {
        return number(value);
    }
    return rounded(value, 4);
}

/// The number of lines of `text` (0 for an empty text).
std::size_t line_count(const std::string& text) {
    if (text.empty()) {
        return 0;
    }
    return 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// The number of characters of a line of UTF-8 text (each multi-byte character counts once).
std::size_t characters(const std::string& line) {
    return static_cast<std::size_t>(std::count_if(line.begin(), line.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // not a continuation byte
    }));
}

/// The number of characters in the longest line of `text`.
std::size_t longest_line(const std::string& text) {
    std::size_t longest = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        longest = std::max(longest, characters(line));
    }
    return longest;
}

/// Text size estimates. In the Sans font that pngcairo uses, an average character is about
/// 0.7 pixels wide per point of font size (7 pixels at 10 points); digits are a little narrower.
constexpr double pixels_per_character_point = 0.7;

/// `text` with its spaces turned into line breaks where needed so that, at a font of `points`,
/// no line is wider than `pixels`. A single word wider than that stays whole on its own line.
std::string wrap_text(const std::string& text, double pixels, double points) {
    const auto fits = static_cast<std::size_t>(
        std::max(1.0, std::floor(pixels / (pixels_per_character_point * points))));
    std::string wrapped;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (!wrapped.empty()) {
            wrapped += '\n';
        }
        std::istringstream words(line);
        std::size_t used = 0;  // characters on the current output line
        for (std::string word; words >> word;) {
            const std::size_t length = characters(word);
            if (used > 0 && used + 1 + length > fits) {
                wrapped += '\n';
                used = 0;
            } else if (used > 0) {
                wrapped += ' ';
                ++used;
            }
            wrapped += word;
            used += length;
        }
    }
    return wrapped;
}

/// A font size (points), at most `preferred`, at which the longest line of `text` fits
/// `pixels` across; never below 6 points, so a very long word may still overflow a little.
double fitting_font_size(const std::string& text, double pixels, double preferred) {
    const double longest = static_cast<double>(std::max<std::size_t>(longest_line(text), 1));
    const double points = pixels / (pixels_per_character_point * longest);
    return std::clamp(std::floor(points * 10) / 10, 6.0, preferred);  // to a tenth of a point
}

/// How an error message names the function and its PNG, e.g. `save_line_plot(out/a.png)`.
std::string where(const char* function, const fs::path& png) {
    return std::string(function) + "(" + png.string() + ")";
}

[[noreturn]] void bad_input(const std::string& where, const std::string& problem) {
    throw std::invalid_argument(where + ": " + problem);
}

/// How an error message names item `index` of a figure, e.g. `series 1 ("test")`.
std::string name_of(const char* kind, std::size_t index, const std::string& label) {
    std::string name = std::string(kind) + " " + std::to_string(index);
    return label.empty() ? name : name + " (\"" + label + "\")";
}

/// The colours of curves and bar series, in order: the Okabe-Ito palette, which stays
/// distinguishable for colour-blind readers (its yellow, too pale on white, replaced by brown).
constexpr std::array<const char*, 8> series_colours = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                                       "#E69F00", "#56B4E9", "#000000", "#8C564B"};

/// Marker shapes of the curves, in order (filled circle, square, triangles, diamond, pentagon,
/// then open circle and square), so curves differ in print without colour too.
constexpr std::array<int, 8> point_types = {7, 5, 9, 11, 13, 15, 6, 4};

void expect_png_size(const std::string& where, std::size_t width, std::size_t height) {
    if (width < 200 || height < 150 || width > 32767 || height > 32767) {
        bad_input(where, "expected a size from 200x150 to 32767x32767 pixels, got " +
                             std::to_string(width) + "x" + std::to_string(height));
    }
}

// ==============================================================================================
// Running gnuplot
// ==============================================================================================

/// A path removed (if it exists) when this object goes out of scope, on success and on
/// exceptions alike: how no temporary file outlives a call.
class RemovedAtScopeExit {
public:
    explicit RemovedAtScopeExit(fs::path path) : path_(std::move(path)) {}
    ~RemovedAtScopeExit() {
        std::error_code ignored;
        fs::remove(path_, ignored);
    }
    RemovedAtScopeExit(const RemovedAtScopeExit&) = delete;
    RemovedAtScopeExit& operator=(const RemovedAtScopeExit&) = delete;

    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

/// Creates an empty file with a unique name `cnn-plot-XXXXXX<suffix>` in the system's
/// temporary directory (mkstemps picks the X's so that no two calls collide).
fs::path make_temp_file(const std::string& suffix) {
    std::string name = (fs::temp_directory_path() / ("cnn-plot-XXXXXX" + suffix)).string();
    const int fd = ::mkstemps(name.data(), static_cast<int>(suffix.size()));
    if (fd < 0) {
        throw std::runtime_error("plot: cannot create a temporary file " + name + ": " +
                                 std::strerror(errno));
    }
    ::close(fd);
    return name;
}

/// A name in the PNG's own directory for gnuplot to write to, so that the final rename
/// stays on one file system and is atomic: `.<name>.png.tmp-<process>-<count>`.
fs::path temp_png_name(const fs::path& png) {
    static std::atomic<unsigned long> count{0};
    return png.parent_path() / ("." + png.filename().string() + ".tmp-" +
                                std::to_string(::getpid()) + "-" + std::to_string(++count));
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    constexpr std::size_t keep = 4000;  // gnuplot's last words are the ones that matter
    if (text.size() > keep) {
        text = "..." + text.substr(text.size() - keep);
    }
    return text;
}

/// Runs `gnuplot <script>` with no input, its output and error messages going to `log`, and
/// waits for it. Returns an empty string on success, else what went wrong. posix_spawn runs
/// the program directly, without a shell, so no path needs shell quoting.
std::string run_gnuplot(const fs::path& script, const fs::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_TRUNC, 0);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

    // --default-settings: read no gnuplotrc or ~/.gnuplot, which could change our figures.
    std::string program = CNN_GNUPLOT;
    std::string no_init_files = "--default-settings";
    std::string script_path = script.string();
    std::array<char*, 4> argv = {program.data(), no_init_files.data(), script_path.data(), nullptr};
    pid_t pid = 0;
    const int error =
        ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) {
        return "cannot run gnuplot \"" + program + "\": " + std::strerror(error);
    }

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return std::string("cannot wait for gnuplot: ") + std::strerror(errno);
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return "";
    }
    const std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                              : "signal " + std::to_string(WTERMSIG(status));
    return "gnuplot failed (" + how + "):\n" + read_text(log);
}

/// The work behind every save_* function; see save_gnuplot_png in the header.
void render(const std::string& where, const std::string& commands, const fs::path& png,
            std::size_t width, std::size_t height) {
    if (png.empty() || !png.has_filename()) {
        bad_input(where, "expected the path of a PNG file, got \"" + png.string() + "\"");
    }
    const std::string path = png.string();
    if (std::any_of(path.begin(), path.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; })) {
        bad_input(where, "expected a PNG path without control characters (tabs, newlines, ...)");
    }
    std::error_code ec;
    if (fs::is_directory(png, ec)) {
        bad_input(where, "expected the path of a PNG file, but it is a directory");
    }
    if (png.has_parent_path() && !fs::is_directory(png.parent_path(), ec)) {
        fs::create_directories(png.parent_path(), ec);
        if (ec) {
            throw std::runtime_error(where + ": cannot create the directory " +
                                     png.parent_path().string() + ": " + ec.message());
        }
    }

    const RemovedAtScopeExit script(make_temp_file(".gp"));
    const RemovedAtScopeExit log(make_temp_file(".log"));
    const RemovedAtScopeExit temp_png(temp_png_name(png));
    {
        std::ofstream out(script.path(), std::ios::binary);
        out << "set terminal pngcairo size " << width << "," << height
            << " enhanced font \"Sans,11\"\n"
            << "set output " << gnuplot_quote(temp_png.path().string()) << "\n"
            << commands << "\nunset output\n";
        out.close();
        if (!out) {
            throw std::runtime_error(where + ": cannot write the gnuplot script " +
                                     script.path().string());
        }
    }

    const std::string failure = run_gnuplot(script.path(), log.path());
    if (!failure.empty()) {
        throw std::runtime_error(where + ": " + failure);
    }
    const std::uintmax_t png_bytes = fs::file_size(temp_png.path(), ec);
    if (ec || png_bytes == 0) {
        throw std::runtime_error(where + ": gnuplot reported success but wrote no PNG:\n" +
                                 read_text(log.path()));
    }
    fs::rename(temp_png.path(), png, ec);
    if (ec) {
        throw std::runtime_error(where +
                                 ": cannot move the finished PNG into place: " + ec.message());
    }
}

/// Appends a gnuplot data block named `name` (e.g. `$s0`) holding `rows` lines.
void append_data_block(std::ostringstream& script, const std::string& name,
                       const std::string& rows) {
    script << name << " << EOD\n" << rows << "EOD\n";
}

// ==============================================================================================
// Input checks
// ==============================================================================================

void expect_finite(const std::string& where, double value, const std::string& what) {
    if (!std::isfinite(value)) {
        bad_input(where, what + " = " + number(value) + "; every value must be a finite number");
    }
}

void expect_positive_on_log_axis(const std::string& where, double value, const std::string& what,
                                 char axis) {
    if (!(value > 0)) {
        bad_input(where,
                  what + " = " + number(value) + ", but a log " + axis + " axis needs values > 0");
    }
}

void expect_range(const std::string& where, const std::pair<double, double>& range,
                  const char* name, bool log_axis) {
    const auto [low, high] = range;
    if (!std::isfinite(low) || !std::isfinite(high) || !(low < high)) {
        bad_input(where, std::string("expected ") + name + " {low, high} with low < high, got {" +
                             number(low) + ", " + number(high) + "}");
    }
    if (log_axis && !(low > 0)) {
        bad_input(where, std::string(name) + " starts at " + number(low) +
                             ", but a log axis needs values > 0");
    }
}

void check_line_plot(const std::string& where, const LinePlot& plot) {
    expect_png_size(where, plot.width, plot.height);
    if (plot.series.empty()) {
        bad_input(where, "expected at least one series, got none");
    }
    for (std::size_t s = 0; s < plot.series.size(); ++s) {
        const Series& series = plot.series[s];
        const std::string name = name_of("series", s, series.label);
        if (series.x.size() != series.y.size()) {
            bad_input(where, name + ": expected as many x as y values, got " +
                                 std::to_string(series.x.size()) + " x and " +
                                 std::to_string(series.y.size()) + " y values");
        }
        if (series.x.empty()) {
            bad_input(where, name + ": expected at least one point, got none");
        }
        for (std::size_t i = 0; i < series.x.size(); ++i) {
            const double x = series.x[i], y = series.y[i];
            const bool good = std::isfinite(x) && std::isfinite(y) && (!plot.log_x || x > 0) &&
                              (!plot.log_y || y > 0);
            if (!good) {  // find out what is wrong (messages are built only when needed)
                const std::string at = "[" + std::to_string(i) + "]";
                expect_finite(where, x, name + " has x" + at);
                expect_finite(where, y, name + " has y" + at);
                if (plot.log_x) {
                    expect_positive_on_log_axis(where, x, name + " has x" + at, 'x');
                }
                if (plot.log_y) {
                    expect_positive_on_log_axis(where, y, name + " has y" + at, 'y');
                }
            }
        }
    }
    if (plot.y_range) {
        expect_range(where, *plot.y_range, "y_range", plot.log_y);
    }
}

void check_bar_chart(const std::string& where, const BarChart& chart) {
    expect_png_size(where, chart.width, chart.height);
    if (chart.categories.empty()) {
        bad_input(where, "expected at least one category, got none");
    }
    if (chart.series.empty()) {
        bad_input(where, "expected at least one series, got none");
    }
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
        const auto& [label, values] = chart.series[s];
        const std::string name = name_of("series", s, label);
        if (values.size() != chart.categories.size()) {
            bad_input(where, name + ": expected one value per category (" +
                                 std::to_string(chart.categories.size()) + "), got " +
                                 std::to_string(values.size()));
        }
        for (std::size_t i = 0; i < values.size(); ++i) {
            const std::string what =
                name + " has value[" + std::to_string(i) + "] (\"" + chart.categories[i] + "\")";
            expect_finite(where, values[i], what);
            if (chart.log_y) {
                expect_positive_on_log_axis(where, values[i], what, 'y');
            }
        }
    }
}

/// Whether `colour` is written "#rrggbb": a hash and six hexadecimal digits.
bool is_hex_colour(const std::string& colour) {
    return colour.size() == 7 && colour[0] == '#' &&
           std::all_of(colour.begin() + 1, colour.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// A map of classes: a colour for each, and pixels that are whole numbers naming one of them.
void check_categories(const std::string& where, const std::string& name, const GridImage& image) {
    const std::vector<std::string>& colours = image.categories;
    for (std::size_t k = 0; k < colours.size(); ++k) {
        if (!is_hex_colour(colours[k])) {
            bad_input(where, name + ": expected category colours written \"#rrggbb\", got \"" +
                                 colours[k] + "\" for category " + std::to_string(k));
        }
    }
    if (colours.empty()) {
        return;
    }
    for (std::size_t i = 0; i < image.pixels.size(); ++i) {
        const float value = image.pixels.flat(i);
        if (value < 0 || value != std::floor(value) || value >= static_cast<float>(colours.size())) {
            bad_input(where, name + ": expected a category 0 to " + std::to_string(colours.size() - 1) +
                                 " in every pixel, got " + number(value) + " at pixel " + std::to_string(i));
        }
    }
}

void check_image_boxes(const std::string& where, const std::string& image_name,
                       const std::vector<ImageBox>& boxes) {
    for (std::size_t b = 0; b < boxes.size(); ++b) {
        const ImageBox& box = boxes[b];
        const std::string name = image_name + " " + name_of("box", b, box.label);
        expect_finite(where, box.x_min, name + " has x_min");
        expect_finite(where, box.y_min, name + " has y_min");
        expect_finite(where, box.x_max, name + " has x_max");
        expect_finite(where, box.y_max, name + " has y_max");
        if (box.x_max < box.x_min || box.y_max < box.y_min) {
            bad_input(where, name + ": expected x_min <= x_max and y_min <= y_max, got x " +
                                 number(box.x_min) + " to " + number(box.x_max) + ", y " +
                                 number(box.y_min) + " to " + number(box.y_max));
        }
        if (!is_hex_colour(box.colour)) {
            bad_input(where, name + ": expected a colour written \"#rrggbb\", got \"" +
                                 box.colour + "\"");
        }
    }
}

void check_image_grid(const std::string& where, const ImageGrid& grid) {
    if (grid.images.empty()) {
        bad_input(where, "expected at least one image, got none");
    }
    if (grid.columns == 0) {
        bad_input(where, "expected columns >= 1, got 0");
    }
    if (grid.cell_pixels < 32) {
        bad_input(where, "expected cell_pixels >= 32, got " + std::to_string(grid.cell_pixels));
    }
    if (grid.value_range) {
        expect_range(where, *grid.value_range, "value_range", false);
    }
    for (std::size_t k = 0; k < grid.images.size(); ++k) {
        const Tensor2& pixels = grid.images[k].pixels;
        const std::string name = name_of("image", k, grid.images[k].caption);
        if (grid.images[k].value_range) {
            expect_range(where, *grid.images[k].value_range, (name + ": value_range").c_str(), false);
        }
        if (pixels.shape(0) == 0 || pixels.shape(1) == 0) {
            bad_input(where, name + ": expected pixels (H, W) with H, W >= 1, got " +
                                 shape_to_string(pixels.shape()));
        }
        for (std::size_t i = 0; i < pixels.shape(0); ++i) {
            for (std::size_t j = 0; j < pixels.shape(1); ++j) {
                if (!std::isfinite(pixels(i, j))) {
                    expect_finite(where, pixels(i, j),
                                  name + " has pixel (row " + std::to_string(i) + ", column " +
                                      std::to_string(j) + ")");
                }
            }
        }
        check_image_boxes(where, name, grid.images[k].boxes);
        check_categories(where, name, grid.images[k]);
    }
}

// ==============================================================================================
// Image grid layout, in pixels from the top-left corner of the PNG
// ==============================================================================================

constexpr double grid_padding = 6;          // space around each image inside its cell
constexpr double caption_points = 10;       // font size of the captions
constexpr double caption_line_pixels = 16;  // height of one line of a caption
constexpr double title_points = 13;         // font size of the title
constexpr double title_line_pixels = 24;    // height of one line of the title

/// Where everything of an image grid goes; see ImageGrid in the header for the rules.
struct GridLayout {
    std::size_t columns = 0, rows = 0;
    std::string title;                  // the title, wrapped to the width of the PNG
    std::vector<std::string> captions;  // the captions, wrapped to the width of a cell
    double title_band = 0, caption_band = 0, image_band = 0;
    std::size_t width = 0, height = 0;
};

/// The size (width, height) of image `pixels` in the PNG: it fits a square of `box` pixels,
/// enlarged by a whole factor when it is smaller, so that its pixels stay equal sharp squares.
std::pair<double, double> scaled_size(const Tensor2& pixels, double box) {
    const double h = static_cast<double>(pixels.shape(0));
    const double w = static_cast<double>(pixels.shape(1));
    double scale = box / std::max(h, w);
    if (scale >= 1) {
        scale = std::floor(scale);
    }
    return {std::max(1.0, std::round(w * scale)), std::max(1.0, std::round(h * scale))};
}

GridLayout lay_out(const std::string& where, const ImageGrid& grid) {
    GridLayout layout;
    const std::size_t n = grid.images.size();
    const double cell = static_cast<double>(grid.cell_pixels);
    layout.columns = std::min(grid.columns, n);
    layout.rows = (n + layout.columns - 1) / layout.columns;
    const double width = static_cast<double>(layout.columns) * cell;

    layout.title = wrap_text(grid.title, width - 8, title_points);
    const std::size_t title_lines = line_count(layout.title);
    layout.title_band = title_lines == 0 ? 0 : title_line_pixels * title_lines + 12;

    std::size_t caption_lines = 0;
    double tallest = 0;  // the tallest image fitted to the box, before whole-factor rounding
    const double box = cell - 2 * grid_padding;
    for (const GridImage& image : grid.images) {
        layout.captions.push_back(wrap_text(image.caption, cell - 6, caption_points));
        caption_lines = std::max(caption_lines, line_count(layout.captions.back()));
        const double h = static_cast<double>(image.pixels.shape(0));
        const double w = static_cast<double>(image.pixels.shape(1));
        tallest = std::max(tallest, std::ceil(box * h / std::max(h, w)));
    }
    layout.caption_band = caption_lines == 0 ? 0 : caption_line_pixels * caption_lines + 4;
    layout.image_band = tallest + 2 * grid_padding;

    const double height = layout.title_band + static_cast<double>(layout.rows) *
                                                  (layout.caption_band + layout.image_band);
    if (width > 32767 || height > 32767) {
        bad_input(where, "the grid would be " + number(width) + "x" + number(height) +
                             " pixels, more than the 32767 a PNG can have here; use a smaller "
                             "cell_pixels or fewer images per grid");
    }
    layout.width = static_cast<std::size_t>(width);
    layout.height = static_cast<std::size_t>(height);
    return layout;
}

/// How many times each row and each column of `pixels` is sent to gnuplot: gnuplot draws no
/// image less than 2 pixels high or wide, so a 1-pixel-high image is sent as 2 equal rows (and
/// a 1-pixel-wide one as 2 equal columns). Returns (row repeats, column repeats).
std::pair<std::size_t, std::size_t> repeats(const Tensor2& pixels) {
    return {pixels.shape(0) == 1 ? 2 : 1, pixels.shape(1) == 1 ? 2 : 1};
}

/// The pixels of one image as a gnuplot `matrix` block: one text line per image row, each
/// value already turned into its place t in [0, 1] on the colour scale (written with 3
/// decimals, finer than the 256 shades a PNG can show), repeated as repeats() says.
std::string colour_scale_rows(const Tensor2& pixels,
                              const std::optional<std::pair<double, double>>& range, bool diverging) {
    double low = 0, high = 0;
    if (range) {
        std::tie(low, high) = *range;
    } else {
        const auto [min, max] = std::minmax_element(pixels.begin(), pixels.end());
        low = *min;
        high = *max;
    }
    if (diverging) {  // symmetric about 0, so that 0 is the white in the middle
        high = std::max(std::fabs(low), std::fabs(high));
        low = -high;
    }
    const double span = high - low;
    const auto [repeat_rows, repeat_columns] = repeats(pixels);

    std::string row_text, rows;
    std::array<char, 16> buffer{};
    for (std::size_t i = 0; i < pixels.shape(0); ++i) {
        row_text.clear();
        for (std::size_t j = 0; j < pixels.shape(1); ++j) {
            const double t = span > 0 ? std::clamp((pixels(i, j) - low) / span, 0.0, 1.0) : 0.5;
            const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), t,
                                              std::chars_format::fixed, 3);
            for (std::size_t r = 0; r < repeat_columns; ++r) {  // 1 or 2
                if (!row_text.empty()) {
                    row_text += ' ';
                }
                row_text.append(buffer.data(), result.ptr);
            }
        }
        row_text += '\n';
        for (std::size_t r = 0; r < repeat_rows; ++r) {
            rows += row_text;
        }
    }
    return rows;
}

/// The boxes drawn over one image, as gnuplot objects (rectangles, tags 1, 2, ...) and labels
/// (tags 11, 12, ...; tags 1 and 2 are the title and the caption) in the coordinates of the
/// image's plot, where data pixel (row i, column j) is centred on (x = j, y = i) after the
/// repeats of repeats(): a box edge at pixel coordinate X lies at X * repeat - 0.5. gnuplot
/// clips the rectangles to the plot. Every tag set here must be
/// unset after the image is plotted (unset_image_boxes), or the next image would show it too.
void append_image_boxes(std::ostringstream& script, const GridImage& image) {
    const auto [repeat_rows, repeat_columns] = repeats(image.pixels);
    const auto x_of = [repeat = static_cast<double>(repeat_columns)](double x) {
        return number(x * repeat - 0.5);
    };
    const auto y_of = [repeat = static_cast<double>(repeat_rows)](double y) {
        return number(y * repeat - 0.5);
    };
    const auto width = static_cast<double>(image.pixels.shape(1));
    const auto height = static_cast<double>(image.pixels.shape(0));
    for (std::size_t b = 0; b < image.boxes.size(); ++b) {
        const ImageBox& box = image.boxes[b];
        script << "set object " << b + 1 << " rectangle from " << x_of(box.x_min) << ","
               << y_of(box.y_min) << " to " << x_of(box.x_max) << "," << y_of(box.y_max)
               << " front clip fillstyle empty border lc rgb \"" << box.colour << "\" lw 2"
               << (box.dashed ? " dashtype 2" : " dashtype solid") << "\n";
        if (!box.label.empty()) {
            // Just inside the top-left corner: 0.3 of a character to the right and 0.7 of a
            // line down, since gnuplot centres a label's line on its position. A corner outside
            // the image is moved onto its border, so that the label stays on the image.
            script << "set label " << b + 11 << " " << gnuplot_text(box.label) << " at "
                   << x_of(std::clamp(box.x_min, 0.0, width)) << ","
                   << y_of(std::clamp(box.y_min, 0.0, height))
                   << " left front textcolor rgb \"" << box.colour
                   << "\" font \"Sans,8\" offset character 0.3,-0.7\n";
        }
    }
}

/// Removes what append_image_boxes() set for `image`.
void unset_image_boxes(std::ostringstream& script, const GridImage& image) {
    for (std::size_t b = 0; b < image.boxes.size(); ++b) {
        script << "unset object " << b + 1 << "\n";
        if (!image.boxes[b].label.empty()) {
            script << "unset label " << b + 11 << "\n";
        }
    }
}

/// What append_frame decided: the rough size in pixels of the plot area (inside the axes),
/// and whether the key went under the plot.
struct Frame {
    double width = 0, height = 0;
    bool key_below = false;
    std::size_t key_entries = 0;
};

/// Commands shared by line plots and bar charts: title, axis labels, light grid lines behind
/// the data, and the key (legend) of the series with a label in `key_labels`, each entry its
/// sample then its label. The key stands right of the plot, or, when a label is longer than
/// 24 characters, in one column under the plot (see append_bottom_margin). The texts are
/// wrapped to the room they have.
Frame append_frame(std::ostringstream& script, const std::string& title, const std::string& x_label,
                   const std::string& y_label, const std::vector<std::string>& key_labels,
                   std::size_t width, std::size_t height) {
    Frame frame;
    std::size_t widest_key = 0;
    for (const std::string& label : key_labels) {
        widest_key = std::max(widest_key, characters(label));
        frame.key_entries += label.empty() ? 0 : 1;
    }
    frame.key_below = widest_key > 24;
    const double key_width =
        widest_key == 0 || frame.key_below ? 20 : 7.7 * static_cast<double>(widest_key) + 70;
    const double key_height =
        frame.key_below ? 22 * static_cast<double>(frame.key_entries) + 20 : 0;
    frame.width = static_cast<double>(width) - 90 - key_width;
    frame.height = static_cast<double>(height) - 140 - key_height;

    script << "set title " << gnuplot_text(wrap_text(title, frame.width + 60, 13))
           << " font \",13\"\n"
           << "set xlabel " << gnuplot_text(wrap_text(x_label, frame.width, 11)) << "\n"
           << "set ylabel " << gnuplot_text(wrap_text(y_label, frame.height, 11)) << "\n"
           << "set border 3 lw 1\n"  // the left and bottom axes only
           << "set tics nomirror out\n"
           << "set grid back lt 1 lw 1 lc rgb \"#e3e3e3\"\n";
    // "width 1": one character more than gnuplot estimates, so the box clears the last letter.
    const char* key_style = " Left reverse box lc rgb \"#999999\" spacing 1.3 samplen 3 width 1\n";
    if (widest_key == 0) {
        script << "unset key\n";
    } else if (frame.key_below) {
        // gnuplot's own "below" placement lets the key touch the x label, so the key goes at
        // the bottom edge and the plot's bottom margin makes room for it.
        script << "set key at screen 0.5, screen 0.015 center bottom vertical maxcols 1"
               << key_style;
    } else {
        script << "set key outside right top" << key_style;
    }
    return frame;
}

/// When the key is under the plot, a bottom margin (in lines of text) that holds what is under
/// the x axis, `lines_under_axis` (tic labels and x label), and then the key.
void append_bottom_margin(std::ostringstream& script, const Frame& frame, double lines_under_axis) {
    if (frame.key_below) {
        script << "set bmargin "
               << number(lines_under_axis + 1.3 * static_cast<double>(frame.key_entries) + 1)
               << "\n";
    }
}

/// Tic labels of a log axis as powers of ten, 10^{-3} ... 10^{11}, set as superscripts (the
/// one place where gnuplot's enhanced text is used; all other text is `noenhanced`).
void append_log_axis(std::ostringstream& script, char axis) {
    script << "set logscale " << axis << " 10\n"
           << "set m" << axis << "tics 10\n"
           << "set format " << axis << " \"10^{%L}\"\n";
}

// ==============================================================================================
// Bar chart parts
// ==============================================================================================

constexpr double bar_gap = 1;  // the space between groups of bars, in bar widths

/// The sizes, in characters, of the texts of a bar chart that could collide.
struct BarTexts {
    std::size_t widest_value = 0;     // the widest value label
    std::size_t widest_category = 0;  // the longest line of a category name
    std::size_t category_lines = 0;   // the most lines a category name has
};

BarTexts measure_bar_texts(const BarChart& chart) {
    BarTexts texts;
    for (const auto& series : chart.series) {
        for (double value : series.second) {
            texts.widest_value = std::max(texts.widest_value, characters(value_label(value)));
        }
    }
    for (const std::string& category : chart.categories) {
        texts.widest_category = std::max(texts.widest_category, longest_line(category));
        texts.category_lines = std::max(texts.category_lines, line_count(category));
    }
    return texts;
}

/// How a bar chart prints the texts that could collide: the category names under the groups
/// (slanted when the widest does not fit its group), and the values above the bars (upright
/// when wider than a bar), with the fraction `room` of the y range kept for them.
struct BarTextLayout {
    bool slanted_categories = false;
    bool upright_values = false;
    double room = 0;
};

/// Decides the BarTextLayout from rough pixel sizes of a group and of a bar.
BarTextLayout lay_out_bar_texts(const BarChart& chart, const BarTexts& texts, const Frame& frame) {
    const double group_pixels = frame.width / static_cast<double>(chart.categories.size());
    const double bar_pixels = group_pixels / (static_cast<double>(chart.series.size()) + bar_gap);
    const double value_pixels = 6.5 * static_cast<double>(texts.widest_value);  // at 10 points
    BarTextLayout layout;
    layout.slanted_categories =
        7.7 * static_cast<double>(texts.widest_category) > 0.9 * group_pixels;
    layout.upright_values = chart.value_labels && value_pixels > bar_pixels - 2;
    layout.room = !chart.value_labels     ? 0.04
                  : layout.upright_values ? std::min(0.4, (value_pixels + 14) / frame.height)
                                          : 0.09;
    return layout;
}

/// The clustered histogram style and the x axis: the category names as its tic labels,
/// slanted when the widest would not fit its group.
void append_category_axis(std::ostringstream& script, const BarChart& chart, bool slanted) {
    const std::size_t categories = chart.categories.size();
    script << "set style data histograms\n"
           << "set style histogram clustered gap " << bar_gap << "\n"
           << "set style fill solid 0.9 border rgb \"#404040\"\n"
           << "set grid noxtics\n"
           // In a clustered histogram, group i is centred on x = i.
           << "set xrange [-0.5:" << number(static_cast<double>(categories) - 0.5) << "]\n";
    script << "set xtics (";
    for (std::size_t i = 0; i < categories; ++i) {
        script << (i == 0 ? "" : ", ") << gnuplot_quote(chart.categories[i]) << " " << i;
    }
    script << ") scale 0 noenhanced" << (slanted ? " rotate by 30 right" : "") << "\n";
}

/// The y range: the data, plus a fraction `room` of the range above (and below, for negative
/// bars) for the value labels.
void append_bar_y_range(std::ostringstream& script, const BarChart& chart, double room) {
    double low = chart.series[0].second[0], high = low;
    for (const auto& series : chart.series) {
        const auto [min, max] = std::minmax_element(series.second.begin(), series.second.end());
        low = std::min(low, *min);
        high = std::max(high, *max);
    }
    if (chart.log_y) {
        // Whole decades, at least half a decade below the smallest bar so that it shows.
        const double bottom = std::floor(std::log10(low) - 0.5);
        const double decades = (std::log10(high) - bottom) / (1 - room);
        append_log_axis(script, 'y');
        script << "set yrange [" << number(std::pow(10.0, bottom)) << ":"
               << number(std::pow(10.0, std::ceil(bottom + decades))) << "]\n";
    } else {
        low = std::min(low, 0.0);  // bars grow from 0, so 0 is always in view
        high = std::max(high, 0.0);
        const double sides = (high > 0 ? 1 : 0) + (low < 0 ? 1 : 0);
        const double span = (high > low ? high - low : 1.0) / (1 - sides * room);
        script << "set yrange [" << number(low < 0 ? low - room * span : low) << ":"
               << number(high > 0 || low == 0 ? high + room * span : high) << "]\n";
        if (low < 0) {
            script << "set xzeroaxis lt 1 lw 1 lc rgb \"#404040\"\n";
        }
    }
}

/// The bars' values, one row per category and one column per series: the layout gnuplot's
/// histograms read.
std::string bar_rows(const BarChart& chart) {
    std::string rows;
    for (std::size_t i = 0; i < chart.categories.size(); ++i) {
        for (std::size_t s = 0; s < chart.series.size(); ++s) {
            rows += (s == 0 ? "" : " ") + number(chart.series[s].second[i]);
        }
        rows += "\n";
    }
    return rows;
}

/// The value labels, as "x y text" lines: bar s of group i is centred (s - (S - 1) / 2) bar
/// widths from i, a bar being 1 / (S + gap) wide. Returns the labels of the positive bars,
/// which go above them, and those of the negative ones, which go below.
std::pair<std::string, std::string> value_label_rows(const BarChart& chart) {
    const std::size_t series_count = chart.series.size();
    const double bar = 1.0 / (static_cast<double>(series_count) + bar_gap);
    std::string above, below;
    for (std::size_t i = 0; i < chart.categories.size(); ++i) {
        for (std::size_t s = 0; s < series_count; ++s) {
            const double value = chart.series[s].second[i];
            const double x =
                static_cast<double>(i) +
                (static_cast<double>(s) - (static_cast<double>(series_count) - 1) / 2) * bar;
            (value < 0 ? below : above) +=
                number(x) + " " + number(value) + " \"" + value_label(value) + "\"\n";
        }
    }
    return {above, below};
}

/// The plot command: the bars of each series from $bars, then the value labels from $above
/// and $below where there are any, upright (reading upwards) when they are wider than a bar.
void append_bar_plot(std::ostringstream& script, const BarChart& chart, bool above, bool below,
                     bool upright_values) {
    script << "plot";
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
        const std::string& label = chart.series[s].first;
        script << (s == 0 ? " " : ", \\\n     ") << "$bars using " << s + 1 << " lc rgb \""
               << series_colours[s % series_colours.size()] << "\""
               << (label.empty() ? " notitle" : " title " + gnuplot_text(label));
    }
    if (above) {
        script << ", \\\n     $above using 1:2:3 with labels font \",10\""
               << (upright_values ? " rotate by 90 left offset 0,0.5" : " offset 0,0.7")
               << " notitle";
    }
    if (below) {
        script << ", \\\n     $below using 1:2:3 with labels font \",10\""
               << (upright_values ? " rotate by 90 right offset 0,-0.5" : " offset 0,-0.7")
               << " notitle";
    }
    script << "\n";
}

}  // namespace

// ==============================================================================================
// Public functions
// ==============================================================================================

std::string gnuplot_quote(const std::string& text) {
    // Single quotes, because in double quotes gnuplot would run `text in backquotes` as a
    // shell command. Single-quoted strings know no escapes, so a quote and a newline are
    // spliced in as the double-quoted "'" and "\n" with gnuplot's concatenation operator.
    // (Doubling the quote, which gnuplot also allows, fails when the text starts with one.)
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'') {
            quoted += "'.\"'\".'";
        } else if (c == '\n') {
            quoted += "'.\"\\n\".'";
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            quoted += ' ';
        } else {
            quoted += c;
        }
    }
    return quoted + "'";
}

std::string gnuplot_text(const std::string& text) { return gnuplot_quote(text) + " noenhanced"; }

void save_gnuplot_png(const std::string& commands, const fs::path& png, std::size_t width,
                      std::size_t height) {
    const std::string here = where("save_gnuplot_png", png);
    expect_png_size(here, width, height);
    render(here, commands, png, width, height);
}

void save_line_plot(const LinePlot& plot, const fs::path& png) {
    const std::string here = where("save_line_plot", png);
    check_line_plot(here, plot);

    std::vector<std::string> key_labels;
    for (const Series& series : plot.series) {
        key_labels.push_back(series.label);
    }
    std::ostringstream script;
    const Frame frame = append_frame(script, plot.title, plot.x_label, plot.y_label, key_labels,
                                     plot.width, plot.height);
    // Under the x axis: a line of tic labels, the x label, and some space.
    append_bottom_margin(
        script, frame,
        2.5 + static_cast<double>(line_count(wrap_text(plot.x_label, frame.width, 11))));
    if (plot.log_x) {
        append_log_axis(script, 'x');
    }
    if (plot.log_y) {
        append_log_axis(script, 'y');
    }
    if (plot.y_range) {
        script << "set yrange [" << number(plot.y_range->first) << ":"
               << number(plot.y_range->second) << "]\n";
    }

    // The points of series s, one "x y" line each, in the data block $s<s>.
    for (std::size_t s = 0; s < plot.series.size(); ++s) {
        std::string rows;
        for (std::size_t i = 0; i < plot.series[s].x.size(); ++i) {
            rows += number(plot.series[s].x[i]) + " " + number(plot.series[s].y[i]) + "\n";
        }
        append_data_block(script, "$s" + std::to_string(s), rows);
    }

    script << "plot";
    for (std::size_t s = 0; s < plot.series.size(); ++s) {
        const Series& series = plot.series[s];
        const std::size_t n = series.x.size();
        script << (s == 0 ? " " : ", \\\n     ") << "$s" << s;
        if (plot.points || n == 1) {
            // "pi k" marks every k-th point: at most 40 marks however long the series.
            const std::size_t every = std::max<std::size_t>(1, (n + 39) / 40);
            script << " with linespoints pt " << point_types[s % point_types.size()]
                   << " ps 1.1 pi " << every;
        } else {
            script << " with lines";
        }
        // After the eighth curve the colours repeat: the repeats are dashed (then dotted, ...).
        script << " lw 2 lc rgb \"" << series_colours[s % series_colours.size()] << "\" dashtype "
               << 1 + s / series_colours.size();
        script << (series.label.empty() ? " notitle" : " title " + gnuplot_text(series.label));
    }
    script << "\n";

    render(here, script.str(), png, plot.width, plot.height);
}

void save_bar_chart(const BarChart& chart, const fs::path& png) {
    const std::string here = where("save_bar_chart", png);
    check_bar_chart(here, chart);

    std::vector<std::string> key_labels;
    for (const auto& series : chart.series) {
        key_labels.push_back(series.first);
    }
    const BarTexts texts = measure_bar_texts(chart);
    std::ostringstream script;
    const Frame frame =
        append_frame(script, chart.title, "", chart.y_label, key_labels, chart.width, chart.height);
    const BarTextLayout layout = lay_out_bar_texts(chart, texts, frame);
    // A name slanted by 30 degrees reaches down half its length: about 0.25 line a character.
    append_bottom_margin(
        script, frame,
        1.5 + (layout.slanted_categories ? 0.25 * static_cast<double>(texts.widest_category)
                                         : static_cast<double>(texts.category_lines)));
    append_category_axis(script, chart, layout.slanted_categories);
    append_bar_y_range(script, chart, layout.room);

    append_data_block(script, "$bars", bar_rows(chart));
    std::string above, below;
    if (chart.value_labels) {
        std::tie(above, below) = value_label_rows(chart);
        if (!above.empty()) {
            append_data_block(script, "$above", above);
        }
        if (!below.empty()) {
            append_data_block(script, "$below", below);
        }
    }
    append_bar_plot(script, chart, !above.empty(), !below.empty(), layout.upright_values);

    render(here, script.str(), png, chart.width, chart.height);
}

void save_image_grid(const ImageGrid& grid, const fs::path& png) {
    const std::string here = where("save_image_grid", png);
    check_image_grid(here, grid);
    const GridLayout layout = lay_out(here, grid);
    const double width = static_cast<double>(layout.width);
    const double height = static_cast<double>(layout.height);
    const double cell = static_cast<double>(grid.cell_pixels);
    // gnuplot places things in "screen" coordinates: 0..1 from left to right, bottom to top.
    auto screen_x = [&](double x) { return number(x / width); };
    auto screen_y = [&](double y) { return number(1 - y / height); };

    std::ostringstream script;
    script << "unset key\nunset tics\nunset colorbox\n"
           << "set border lw 1 lc rgb \"#909090\"\n"
           << "set cbrange [0:1]\n";
    const auto diverging = [&](std::size_t k) {
        return grid.images[k].diverging.value_or(grid.diverging);
    };
    for (std::size_t k = 0; k < grid.images.size(); ++k) {
        const GridImage& image = grid.images[k];
        // Categories: class k sits at (k + 0.5) / K on the colour scale, inside its own step.
        const auto categories = static_cast<double>(image.categories.size());
        append_data_block(script, "$image" + std::to_string(k),
                          image.categories.empty()
                              ? colour_scale_rows(image.pixels,
                                                  image.value_range ? image.value_range : grid.value_range,
                                                  diverging(k))
                              : colour_scale_rows(image.pixels + 0.5f, std::pair<double, double>{0.0, categories},
                                                  false));
    }

    // Every image is a plot of its own, placed by setting its margins at exact screen positions.
    script << "set multiplot\n";
    if (layout.title_band > 0) {
        script << "set label 1 " << gnuplot_text(layout.title) << " at screen 0.5, screen "
               << screen_y(layout.title_band / 2) << " center font \"Sans,"
               << number(fitting_font_size(layout.title, width - 8, title_points)) << "\"\n";
    }
    const double box = cell - 2 * grid_padding;
    for (std::size_t k = 0; k < grid.images.size(); ++k) {
        const Tensor2& pixels = grid.images[k].pixels;
        const std::string& caption = layout.captions[k];
        const double cell_left = static_cast<double>(k % layout.columns) * cell;
        const double cell_top = layout.title_band + static_cast<double>(k / layout.columns) *
                                                        (layout.caption_band + layout.image_band);
        const auto [w, h] = scaled_size(pixels, box);
        // The image is centred in its cell, below the caption band.
        const double left = std::round(cell_left + (cell - w) / 2);
        const double top = std::round(cell_top + layout.caption_band + grid_padding +
                                      (layout.image_band - 2 * grid_padding - h) / 2);

        script << "# image " << k << "\n";
        if (!caption.empty()) {
            // gnuplot centres a label on its position; this puts the caption's last line just
            // above the caption band's bottom edge, however many lines the caption has.
            const double lines = static_cast<double>(line_count(caption));
            script << "set label 2 " << gnuplot_text(caption) << " at screen "
                   << screen_x(cell_left + cell / 2) << ", screen "
                   << screen_y(cell_top + layout.caption_band - 1 - caption_line_pixels * lines / 2)
                   << " center font \"Sans,"
                   << number(fitting_font_size(caption, cell - 6, caption_points)) << "\"\n";
        } else {
            script << "unset label 2\n";
        }
        // Data pixel (row i, column j) is centred on (x = j, y = i), and y grows downwards so
        // that row 0 is at the top (the ranges count the rows and columns as sent).
        const auto [repeat_rows, repeat_columns] = repeats(pixels);
        const auto rows = static_cast<double>(pixels.shape(0) * repeat_rows);
        const auto columns = static_cast<double>(pixels.shape(1) * repeat_columns);
        script << "set lmargin at screen " << screen_x(left) << "\n"
               << "set rmargin at screen " << screen_x(left + w) << "\n"
               << "set tmargin at screen " << screen_y(top) << "\n"
               << "set bmargin at screen " << screen_y(top + h) << "\n"
               << "set xrange [-0.5:" << number(columns - 0.5) << "]\n"
               << "set yrange [" << number(rows - 0.5) << ":-0.5]\n";
        if (!grid.images[k].categories.empty()) {
            // One flat step of the palette per category: k to k + 1 in colour k.
            script << "set palette defined (";
            const std::vector<std::string>& colours = grid.images[k].categories;
            for (std::size_t c = 0; c < colours.size(); ++c) {
                script << (c == 0 ? "" : ", ") << c << " \"" << colours[c] << "\", " << c + 1 << " \""
                       << colours[c] << "\"";
            }
            script << ")\n";
        } else {
            script << (diverging(k) ? "set palette defined (0 \"#2166AC\", 0.5 \"#FFFFFF\", 1 \"#B2182B\")\n"
                                    : "set palette defined (0 \"black\", 1 \"white\")\n");
        }
        append_image_boxes(script, grid.images[k]);
        script << "plot $image" << k << " matrix with image\n";
        unset_image_boxes(script, grid.images[k]);
        if (k == 0) {
            script << "unset label 1\n";  // the title is drawn once, with the first image
        }
    }
    script << "unset multiplot\n";

    render(here, script.str(), png, layout.width, layout.height);
}

}  // namespace cnn
