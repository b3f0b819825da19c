// Tests of support/plot/plot.hpp: every figure becomes a valid PNG of the size asked for, bad input
// is refused with a message that names the problem, and a failure leaves no file behind.
//
// Each test writes into its own fresh directory under the system's temporary directory, so it
// can check that the PNG is the only file there afterwards.
#include "support/io/image.hpp"
#include "support/plot/plot.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using cnn::testing::PngSize;
using cnn::testing::read_png_size;

namespace {


/// Checks that `dir` holds exactly the one file `name`: the PNG, and no temporary file.
void check_only_file(const cnn::testing::TempDir& dir, const std::string& name) {
    const std::vector<std::string> files = dir.files();
    CHECK(files == std::vector<std::string>{name});
}

/// A 28x28 test image: a bright ring on a dark background, shifted right by `shift` pixels.
cnn::Tensor2 ring_image(int shift) {
    cnn::Tensor2 image = cnn::Tensor2::from_shape({28, 28});
    for (std::size_t i = 0; i < 28; ++i) {
        for (std::size_t j = 0; j < 28; ++j) {
            const double dy = static_cast<double>(i) - 13.5;
            const double dx = static_cast<double>(j) - 13.5 - shift;
            const double r = std::sqrt(dx * dx + dy * dy);
            image(i, j) = static_cast<float>(std::exp(-(r - 8) * (r - 8) / 6));
        }
    }
    image(0, 0) = 1.0f;  // a white corner pixel shows that row 0 is drawn at the top left
    return image;
}

/// A loss curve and an accuracy curve over `epochs` epochs, as a chapter would plot them.
cnn::LinePlot training_curves(std::size_t epochs) {
    cnn::LinePlot plot;
    plot.title = "Training of model_a (loss_fn = cross_entropy)";
    plot.x_label = "epoch";
    plot.y_label = "loss / accuracy";
    cnn::Series loss{"train loss", {}, {}}, accuracy{"test accuracy", {}, {}};
    for (std::size_t e = 1; e <= epochs; ++e) {
        const double t = static_cast<double>(e);
        loss.x.push_back(t);
        loss.y.push_back(0.3 + 0.9 * std::exp(-t / 3));
        accuracy.x.push_back(t);
        accuracy.y.push_back(0.92 - 0.4 * std::exp(-t / 2));
    }
    plot.series = {loss, accuracy};
    return plot;
}

/// doctest::Contains for a std::string built at run time.
doctest::Contains contains(const std::string& text) {
    return doctest::Contains(text.c_str());
}

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double infinity = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("gnuplot_quote makes a single-quoted string that gnuplot prints as it is") {
    CHECK(cnn::gnuplot_quote("plain_text") == "'plain_text'");
    CHECK(cnn::gnuplot_quote("it's") == "'it'.\"'\".'s'");
    CHECK(cnn::gnuplot_quote("'same'") == "''.\"'\".'same'.\"'\".''");
    CHECK(cnn::gnuplot_quote("say \"hi\" \\ `date`") == "'say \"hi\" \\ `date`'");
    CHECK(cnn::gnuplot_quote("two\nlines") == "'two'.\"\\n\".'lines'");
    CHECK(cnn::gnuplot_quote("tab\there") == "'tab here'");
    CHECK(cnn::gnuplot_quote("") == "''");
}

// ----------------------------------------------------------------------------------------------
// Line plots
// ----------------------------------------------------------------------------------------------

TEST_CASE("save_line_plot writes a PNG of the size asked for") {
    cnn::testing::TempDir dir;
    SUBCASE("default size, with a key and points") {
        const fs::path png = dir / "curves.png";
        cnn::save_line_plot(training_curves(12), png);
        const PngSize size = read_png_size(png);
        CHECK(size.width == 900);
        CHECK(size.height == 560);
        check_only_file(dir, "curves.png");
    }
    SUBCASE("log axes, a fixed y range, a long series, a custom size") {
        cnn::LinePlot plot;
        plot.title = "Time of a convolution";
        plot.x_label = "image side (pixels)";
        plot.y_label = "seconds";
        plot.log_x = plot.log_y = true;
        plot.y_range = std::make_pair(1e-4, 10.0);
        plot.width = 640;
        plot.height = 400;
        cnn::Series naive{"naive", {}, {}}, im2col{"im2col + GEMM", {}, {}};
        for (int i = 0; i < 300; ++i) {  // 300 points: only about 40 of them get a marker
            const double side = 8 * std::pow(1.01, i);
            naive.x.push_back(side);
            naive.y.push_back(1e-7 * side * side * side);
            im2col.x.push_back(side);
            im2col.y.push_back(2e-8 * side * side * side + 1e-4);
        }
        plot.series = {naive, im2col};
        const fs::path png = dir / "log.png";
        cnn::save_line_plot(plot, png);
        const PngSize size = read_png_size(png);
        CHECK(size.width == 640);
        CHECK(size.height == 400);
        check_only_file(dir, "log.png");
    }
    SUBCASE("one series without a label, without points, and one single point") {
        cnn::LinePlot plot;
        plot.series = {{"", {0, 1, 2, 3}, {3, 1, 2, 0}}, {"", {1.5}, {1.5}}};
        plot.points = false;
        const fs::path png = dir / "bare.png";
        cnn::save_line_plot(plot, png);
        CHECK(read_png_size(png).width == 900);
        check_only_file(dir, "bare.png");
    }
}

TEST_CASE("save_line_plot prints text literally, whatever characters it holds") {
    cnn::testing::TempDir dir;
    // gnuplot runs `a command in backquotes` in a shell when it appears in a double-quoted
    // string: a label must never do that, whoever wrote it.
    const fs::path marker = dir / "backquote-ran";
    cnn::LinePlot plot = training_curves(5);
    plot.title =
        "quotes \"q\", 'single', back\\slash, under_score, x^2, {braces}, @at, 100%\n"
        "and a second line";
    plot.x_label = "x_label with $dollar and `touch " + marker.string() + "`";
    plot.y_label = "accuracy (%)";
    plot.series[0].label = "train \"loss\" \\ \xC3\xA9t\xC3\xA9";  // UTF-8 text ("été")
    plot.series[1].label = "it's `touch " + marker.string() + "`";
    const fs::path png = dir / "text.png";
    cnn::save_line_plot(plot, png);
    CHECK(read_png_size(png).width == 900);
    CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("save_line_plot creates missing parent directories") {
    cnn::testing::TempDir dir;
    const fs::path png = dir / "a/b/c/curves.png";
    cnn::save_line_plot(training_curves(3), png);
    CHECK(read_png_size(png).height == 560);
    CHECK(dir.files() == std::vector<std::string>{"a"});
    CHECK(fs::directory_iterator(dir / "a/b/c") != fs::directory_iterator());
}

TEST_CASE("save_line_plot replaces an existing PNG") {
    cnn::testing::TempDir dir;
    const fs::path png = dir / "curves.png";
    std::ofstream(png) << "an old file";
    cnn::save_line_plot(training_curves(3), png);
    CHECK(read_png_size(png).width == 900);
    check_only_file(dir, "curves.png");
}

TEST_CASE("save_line_plot refuses bad input and names the problem") {
    cnn::testing::TempDir dir;
    const fs::path png = dir / "bad.png";
    cnn::LinePlot plot = training_curves(4);

    SUBCASE("x and y of different lengths") {
        plot.series[1].y.pop_back();
        CHECK_THROWS_WITH_AS(
            cnn::save_line_plot(plot, png),
            doctest::Contains("series 1 (\"test accuracy\"): expected as many x as y values, "
                              "got 4 x and 3 y values"),
            std::invalid_argument);
    }
    SUBCASE("NaN") {
        plot.series[0].y[2] = not_a_number;
        CHECK_THROWS_WITH_AS(cnn::save_line_plot(plot, png),
                             doctest::Contains("series 0 (\"train loss\") has y[2] = nan"),
                             std::invalid_argument);
    }
    SUBCASE("infinity") {
        plot.series[1].x[3] = -infinity;
        CHECK_THROWS_WITH_AS(cnn::save_line_plot(plot, png),
                             doctest::Contains("series 1 (\"test accuracy\") has x[3] = -inf; "
                                               "every value must be a finite number"),
                             std::invalid_argument);
    }
    SUBCASE("no series") {
        plot.series.clear();
        CHECK_THROWS_WITH_AS(cnn::save_line_plot(plot, png),
                             doctest::Contains("expected at least one series, got none"),
                             std::invalid_argument);
    }
    SUBCASE("a series without points") {
        plot.series.push_back({"empty", {}, {}});
        CHECK_THROWS_WITH_AS(
            cnn::save_line_plot(plot, png),
            doctest::Contains("series 2 (\"empty\"): expected at least one point, got none"),
            std::invalid_argument);
    }
    SUBCASE("zero on a log x axis") {
        plot.log_x = true;
        plot.series[0].x[0] = 0;
        CHECK_THROWS_WITH_AS(cnn::save_line_plot(plot, png),
                             doctest::Contains("has x[0] = 0, but a log x axis needs values > 0"),
                             std::invalid_argument);
    }
    SUBCASE("a negative value on a log y axis") {
        plot.log_y = true;
        plot.series[1].y[1] = -0.5;
        CHECK_THROWS_WITH_AS(
            cnn::save_line_plot(plot, png),
            doctest::Contains("series 1 (\"test accuracy\") has y[1] = -0.5, but a log y axis"),
            std::invalid_argument);
    }
    SUBCASE("an empty or reversed y range") {
        plot.y_range = std::make_pair(1.0, 1.0);
        CHECK_THROWS_WITH_AS(
            cnn::save_line_plot(plot, png),
            doctest::Contains("expected y_range {low, high} with low < high, got {1, 1}"),
            std::invalid_argument);
    }
    SUBCASE("a y range through 0 on a log y axis") {
        plot.log_y = true;
        plot.y_range = std::make_pair(0.0, 1.0);
        CHECK_THROWS_WITH_AS(cnn::save_line_plot(plot, png),
                             doctest::Contains("y_range starts at 0, but a log axis"),
                             std::invalid_argument);
    }
    SUBCASE("a PNG too small") {
        plot.width = 20;
        CHECK_THROWS_WITH_AS(
            cnn::save_line_plot(plot, png),
            doctest::Contains("expected a size from 200x150 to 32767x32767 pixels, got 20x560"),
            std::invalid_argument);
    }
    // Every message starts with the function and the PNG it was asked to write.
    CHECK_THROWS_WITH_AS(
        cnn::save_line_plot(cnn::LinePlot{}, png),
        contains("save_line_plot(" + png.string() + "): expected at least one series"),
        std::invalid_argument);
    CHECK(dir.files().empty());
}

// ----------------------------------------------------------------------------------------------
// Bar charts
// ----------------------------------------------------------------------------------------------

TEST_CASE("save_bar_chart writes a PNG of the size asked for") {
    cnn::testing::TempDir dir;
    SUBCASE("two series, default size") {
        cnn::BarChart chart;
        chart.title = "Test accuracy of the same MLP";
        chart.y_label = "accuracy";
        chart.categories = {"original pixels", "shuffled pixels", "shifted by 3"};
        chart.series = {{"MLP", {0.8843, 0.8841, 0.4120}}, {"CNN", {0.9162, 0.5010, 0.8990}}};
        const fs::path png = dir / "bars.png";
        cnn::save_bar_chart(chart, png);
        const PngSize size = read_png_size(png);
        CHECK(size.width == 900);
        CHECK(size.height == 560);
        check_only_file(dir, "bars.png");
    }
    SUBCASE("a log axis with whole-number values") {
        cnn::BarChart chart;
        chart.title = "Parameters of one layer on a 28x28 image";
        chart.y_label = "parameters";
        chart.categories = {"Dense 784 -> 128", "Conv2D 3x3, 32 filters", "MaxPooling2D"};
        chart.series = {{"", {100480, 320, 1}}};
        chart.log_y = true;
        chart.width = 700;
        chart.height = 450;
        const fs::path png = dir / "params.png";
        cnn::save_bar_chart(chart, png);
        const PngSize size = read_png_size(png);
        CHECK(size.width == 700);
        CHECK(size.height == 450);
        check_only_file(dir, "params.png");
    }
    SUBCASE("negative values and many long categories") {
        cnn::BarChart chart;
        chart.title = "Change in accuracy per class";
        chart.y_label = "difference";
        chart.categories = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
        chart.series = {
            {"after shift", {-0.12, 0.02, -0.3, 0.05, -0.01, 0.0, -0.25, 0.1, 0.07, -0.04}},
            {"after pooling", {0.01, 0.03, -0.05, 0.0, 0.02, -0.02, 0.04, 0.01, -0.06, 0.08}}};
        const fs::path png = dir / "signed.png";
        cnn::save_bar_chart(chart, png);
        CHECK(read_png_size(png).width == 900);
        check_only_file(dir, "signed.png");
    }
    SUBCASE("long series labels put the key under the chart") {
        cnn::BarChart chart;
        chart.title = "Accuracy per class";
        chart.y_label = "accuracy";
        chart.categories = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
        chart.series = {{"MLP, 784-128-10, trained 10 epochs",
                         {0.84, 0.97, 0.79, 0.88, 0.80, 0.95, 0.62, 0.94, 0.97, 0.95}},
                        {"CNN, conv 3x3 x32 + pooling + dense",
                         {0.87, 0.98, 0.86, 0.91, 0.85, 0.98, 0.72, 0.97, 0.98, 0.97}},
                        {"CNN trained on shifted images",
                         {0.86, 0.98, 0.85, 0.90, 0.84, 0.97, 0.70, 0.96, 0.98, 0.96}}};
        const fs::path png = dir / "key_below.png";
        cnn::save_bar_chart(chart, png);
        CHECK(read_png_size(png).height == 560);
        check_only_file(dir, "key_below.png");
    }
}

TEST_CASE("save_bar_chart refuses bad input and names the problem") {
    cnn::testing::TempDir dir;
    const fs::path png = dir / "bad.png";
    cnn::BarChart chart;
    chart.categories = {"a", "b", "c"};
    chart.series = {{"first", {1, 2, 3}}, {"second", {4, 5, 6}}};

    SUBCASE("a series with too few values") {
        chart.series[1].second.pop_back();
        CHECK_THROWS_WITH_AS(cnn::save_bar_chart(chart, png),
                             doctest::Contains("series 1 (\"second\"): expected one value per "
                                               "category (3), got 2"),
                             std::invalid_argument);
    }
    SUBCASE("no categories") {
        chart.categories.clear();
        CHECK_THROWS_WITH_AS(cnn::save_bar_chart(chart, png),
                             doctest::Contains("expected at least one category, got none"),
                             std::invalid_argument);
    }
    SUBCASE("no series") {
        chart.series.clear();
        CHECK_THROWS_WITH_AS(cnn::save_bar_chart(chart, png),
                             doctest::Contains("expected at least one series, got none"),
                             std::invalid_argument);
    }
    SUBCASE("NaN") {
        chart.series[0].second[1] = not_a_number;
        CHECK_THROWS_WITH_AS(cnn::save_bar_chart(chart, png),
                             doctest::Contains("series 0 (\"first\") has value[1] (\"b\") = nan"),
                             std::invalid_argument);
    }
    SUBCASE("zero on a log axis") {
        chart.log_y = true;
        chart.series[1].second[2] = 0;
        CHECK_THROWS_WITH_AS(
            cnn::save_bar_chart(chart, png),
            doctest::Contains("series 1 (\"second\") has value[2] (\"c\") = 0, but a log y axis "
                              "needs values > 0"),
            std::invalid_argument);
    }
    CHECK(dir.files().empty());
}

// ----------------------------------------------------------------------------------------------
// Image grids
// ----------------------------------------------------------------------------------------------

TEST_CASE("save_image_grid writes a PNG whose size follows from the grid") {
    cnn::testing::TempDir dir;
    SUBCASE("28x28 images with captions and a title, shared grey range") {
        cnn::ImageGrid grid;
        grid.title = "Input images, shifted by 0..9 pixels";
        for (int shift = 0; shift < 10; ++shift) {
            grid.images.push_back({ring_image(shift - 5), "shift " + std::to_string(shift)});
        }
        grid.columns = 5;
        grid.value_range = std::make_pair(0.0, 1.0);
        const fs::path png = dir / "grid.png";
        cnn::save_image_grid(grid, png);
        const PngSize size = read_png_size(png);
        // 5 cells of 160; title band 24 + 12; 2 rows of (caption band 16 + 4, image band 160).
        CHECK(size.width == 5 * 160);
        CHECK(size.height == 36 + 2 * (20 + 160));
        check_only_file(dir, "grid.png");
    }
    SUBCASE("fewer images than columns, no title, no captions") {
        cnn::ImageGrid grid;
        grid.images = {{ring_image(0), ""}, {ring_image(3), ""}};
        grid.cell_pixels = 100;
        const fs::path png = dir / "two.png";
        cnn::save_image_grid(grid, png);
        const PngSize size = read_png_size(png);
        CHECK(size.width == 2 * 100);  // only as many columns as images
        CHECK(size.height == 100);
        check_only_file(dir, "two.png");
    }
    SUBCASE("large feature maps, each scaled to its own range") {
        cnn::ImageGrid grid;
        grid.title = "16 feature maps of 200x300";
        for (int k = 0; k < 16; ++k) {
            cnn::Tensor2 map = cnn::Tensor2::from_shape({200, 300});
            for (std::size_t i = 0; i < 200; ++i) {
                for (std::size_t j = 0; j < 300; ++j) {
                    map(i, j) = static_cast<float>(
                        (k + 1) * std::sin(0.02 * (k + 1) * static_cast<double>(i)) *
                        std::cos(0.03 * static_cast<double>(j)));
                }
            }
            grid.images.push_back(
                {map, "map " + std::to_string(k) + "\n(scale x" + std::to_string(k + 1) + ")"});
        }
        const fs::path png = dir / "maps.png";
        cnn::save_image_grid(grid, png);
        const PngSize size = read_png_size(png);
        // 300 wide -> 148, so 200 tall -> ceil(98.67) = 99, image band 111; two caption lines.
        CHECK(size.width == 8 * 160);
        CHECK(size.height == 36 + 2 * (36 + 111));
        check_only_file(dir, "maps.png");
    }
    SUBCASE("signed filters in the diverging palette, shapes that differ") {
        cnn::ImageGrid grid;
        grid.title = "Filters (blue < 0 < red)";
        cnn::Tensor2 vertical = {{-1, 2, -1}, {-1, 2, -1}, {-1, 2, -1}};
        cnn::Tensor2 horizontal = {{-1, -1, -1}, {2, 2, 2}, {-1, -1, -1}};
        cnn::Tensor2 wide = {{0.5, 0, -0.5, 0, 0.25}};
        cnn::Tensor2 zeros = cnn::Tensor2::from_shape({4, 4});
        zeros.fill(0);
        grid.images = {{vertical, "vertical line"},
                       {horizontal, "horizontal line"},
                       {wide, "a 1x5 filter"},
                       {zeros, "all zero"},
                       {ring_image(0), "a caption much too long for its cell"}};
        grid.diverging = true;
        grid.columns = 3;
        grid.cell_pixels = 120;
        const fs::path png = dir / "filters.png";
        cnn::save_image_grid(grid, png);
        const PngSize size = read_png_size(png);
        // The long caption wraps to 3 lines of at most (120 - 6) / 7 = 16 characters.
        CHECK(size.width == 3 * 120);
        CHECK(size.height == 36 + 2 * (3 * 16 + 4 + 120));
        check_only_file(dir, "filters.png");
    }
}

TEST_CASE("save_image_grid: an image can have its own palette, grey beside blue-white-red") {
    // Two 4x4 images of zeros on a shared range [-1, 1]: 0 is mid-grey on the grey palette
    // and white on the diverging one. Read back, the centre of each cell says which it got.
    cnn::testing::TempDir dir;
    cnn::ImageGrid grid;
    grid.value_range = std::make_pair(-1.0, 1.0);
    grid.cell_pixels = 100;
    const cnn::Tensor2 zeros = xt::zeros<float>({4, 4});
    grid.images = {{zeros, ""}, {zeros, "", true}};
    const fs::path png = dir / "palettes.png";
    cnn::save_image_grid(grid, png);
    const cnn::Tensor3 rgb = cnn::load_rgb_image(png);  // (3, 100, 200), values in [0, 1]
    REQUIRE(rgb.shape(2) == 200);
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(std::abs(rgb(c, 50, 50) - 0.5f) < 0.02f);  // grey
        CHECK(rgb(c, 50, 150) > 0.98f);                   // white
    }
    grid.diverging = true;  // the grid's palette for the first, the second's own as before
    grid.images[1].diverging = false;
    cnn::save_image_grid(grid, png);
    const cnn::Tensor3 swapped = cnn::load_rgb_image(png);
    CHECK(swapped(0, 50, 50) > 0.98f);
    CHECK(std::abs(swapped(0, 50, 150) - 0.5f) < 0.02f);
}

TEST_CASE("save_image_grid draws boxes over an image on the pixels they frame") {
    // A 96x96 black image with a white rectangle on rows 30..49 and columns 20..59, framed by
    // the box {20, 30, 60, 50}. In cells of 400 pixels the image fits a square of 388, enlarged
    // by the whole factor floor(388 / 96) = 4 to 384x384 and centred in the 400x400 cell: its
    // top-left corner is at PNG (x, y) = (8, 8), and image pixel (r, c) covers the PNG's
    // [8 + 4c, 12 + 4c) x [8 + 4r, 12 + 4r). So the box's edges x = 20, 60 and y = 30, 50 lie at
    // PNG x = 88, 248 and y = 128, 208. The outline is 2 pixels wide and anti-aliased, so the
    // test finds its centre line as the mean of the pixel centres across it, weighted by how red
    // each pixel is (R - G: 0 on black and on white); gnuplot rounds positions a little, so
    // the centre may be up to 1 PNG pixel off, a quarter of an image pixel. A box drawn half an
    // image pixel off (pixel centres taken for pixel edges) would be 2 PNG pixels off.
    cnn::testing::TempDir dir;
    cnn::Tensor2 scene = xt::zeros<float>({96, 96});
    for (std::size_t r = 30; r < 50; ++r) {
        for (std::size_t c = 20; c < 60; ++c) {
            scene(r, c) = 1.0f;
        }
    }
    cnn::ImageGrid grid;
    grid.cell_pixels = 400;
    grid.value_range = std::make_pair(0.0, 1.0);
    cnn::GridImage image{scene, ""};
    image.boxes.push_back({20, 30, 60, 50, "Bag 0.93"});  // red, solid
    image.boxes.push_back({4, 60, 90, 90, "truth: Sneaker", "#2ca02c", true});
    image.boxes.push_back({80, -10, 120, 10, "cut"});  // reaches outside: cut at the border
    grid.images = {image, {scene, ""}};  // the second image has no boxes
    const fs::path png = dir / "boxes.png";
    cnn::save_image_grid(grid, png);
    const cnn::Tensor3 rgb = cnn::load_rgb_image(png);  // (3, 400, 800), values in [0, 1]
    REQUIRE(rgb.shape(1) == 400);
    REQUIRE(rgb.shape(2) == 800);

    const auto redness = [&](std::size_t y, std::size_t x) {
        return std::max(0.0f, rgb(0, y, x) - rgb(1, y, x));
    };
    // The centre line of a red outline crossing PNG row y between x = from and x = to, and of
    // one crossing PNG column x between y = from and y = to.
    const auto centre_along_row = [&](std::size_t y, std::size_t from, std::size_t to) {
        double weighted = 0, total = 0;
        for (std::size_t x = from; x <= to; ++x) {
            weighted += (static_cast<double>(x) + 0.5) * redness(y, x);
            total += redness(y, x);
        }
        REQUIRE(total > 1.0);  // the outline is there: about 2 pixels of full red
        return weighted / total;
    };
    const auto centre_along_column = [&](std::size_t x, std::size_t from, std::size_t to) {
        double weighted = 0, total = 0;
        for (std::size_t y = from; y <= to; ++y) {
            weighted += (static_cast<double>(y) + 0.5) * redness(y, x);
            total += redness(y, x);
        }
        REQUIRE(total > 1.0);
        return weighted / total;
    };
    const auto black = [&](std::size_t y, std::size_t x) {
        return rgb(0, y, x) < 0.05f && rgb(1, y, x) < 0.05f && rgb(2, y, x) < 0.05f;
    };
    const auto white = [&](std::size_t y, std::size_t x) {
        return rgb(0, y, x) > 0.95f && rgb(1, y, x) > 0.95f && rgb(2, y, x) > 0.95f;
    };
    // The four edges of the red box, each measured away from the label in the top-left corner:
    // at y = 168 (image row 40) and x = 208 (image column 50).
    CHECK(std::abs(centre_along_row(168, 82, 94) - 88) <= 1.0);    // left, x = 20
    CHECK(std::abs(centre_along_row(168, 242, 254) - 248) <= 1.0); // right, x = 60
    CHECK(std::abs(centre_along_column(208, 122, 134) - 128) <= 1.0);  // top, y = 30
    CHECK(std::abs(centre_along_column(208, 202, 214) - 208) <= 1.0);  // bottom, y = 50
    // 4 PNG pixels off the edges, the image shows: black outside the box, white inside.
    CHECK(black(168, 84));
    CHECK(white(168, 92));
    CHECK(white(168, 244));
    CHECK(black(168, 252));
    CHECK(black(124, 208));
    CHECK(white(132, 208));
    CHECK(white(204, 208));
    CHECK(black(212, 208));
    // The label "Bag 0.93", in red just inside the top-left corner (88, 128): below the top
    // edge and right of the left edge, within about two lines of text.
    double label_red = 0;
    for (std::size_t y = 131; y < 160; ++y) {
        for (std::size_t x = 91; x < 180; ++x) {
            label_red += redness(y, x);
        }
    }
    CHECK(label_red > 5.0);

    // The dashed green box: its bottom edge y = 90 lies at PNG y = 368, its left edge x = 4 at
    // PNG x = 24. Along the bottom edge, some pixels are green and some, between the dashes,
    // show the black image.
    const auto green = [&](std::size_t y, std::size_t x) {
        return rgb(1, y, x) > 0.5f && rgb(0, y, x) < 0.3f;
    };
    std::size_t dashes = 0, gaps = 0, on_left_edge = 0;
    for (std::size_t x = 60; x < 300; ++x) {
        const bool on_line = green(367, x) || green(368, x);
        dashes += on_line ? 1 : 0;
        gaps += black(367, x) && black(368, x) ? 1 : 0;
        CHECK_FALSE(green(363, x));  // 5 pixels off the edge: no line there
    }
    for (std::size_t y = 280; y < 360; ++y) {
        on_left_edge += green(y, 23) || green(y, 24) ? 1 : 0;
    }
    CHECK(dashes > 40);
    CHECK(gaps > 40);
    CHECK(on_left_edge > 20);

    // The box {80, -10, 120, 10} reaches above and right of the image: its left edge x = 80
    // (PNG x = 328) shows from the image's top, PNG y = 8, down to y = 10 (PNG y = 48); nothing
    // of it shows in the margin above the image; its label starts at the image's top border.
    CHECK(std::abs(centre_along_row(40, 322, 334) - 328) <= 1.0);  // PNG y = 40: image y = 8
    double above = 0, cut_label = 0;
    for (std::size_t x = 300; x < 400; ++x) {
        for (std::size_t y = 0; y < 6; ++y) {
            above += redness(y, x);
        }
        for (std::size_t y = 10; y < 30; ++y) {
            cut_label += x > 330 && x < 380 ? redness(y, x) : 0.0f;
        }
    }
    CHECK(above == 0.0);
    CHECK(cut_label > 2.0);

    // The second image (PNG x = 400..799) shows the same scene without any box: the boxes of
    // one image do not carry over to the next.
    double red_in_second = 0;
    for (std::size_t y = 0; y < 400; ++y) {
        for (std::size_t x = 400; x < 800; ++x) {
            red_in_second += redness(y, x);
        }
    }
    CHECK(red_in_second == 0.0);
    CHECK(white(168, 400 + 92));
    CHECK(black(168, 400 + 84));
}

TEST_CASE("save_image_grid refuses bad input and names the problem") {
    cnn::testing::TempDir dir;
    const fs::path png = dir / "bad.png";
    cnn::ImageGrid grid;
    grid.images = {{ring_image(0), "first"}, {ring_image(1), "second"}};

    SUBCASE("no images") {
        grid.images.clear();
        CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, png),
                             doctest::Contains("expected at least one image, got none"),
                             std::invalid_argument);
    }
    SUBCASE("an image without pixels") {
        grid.images[1].pixels = cnn::Tensor2::from_shape({0, 28});
        CHECK_THROWS_WITH_AS(
            cnn::save_image_grid(grid, png),
            doctest::Contains("image 1 (\"second\"): expected pixels (H, W) with H, W >= 1, "
                              "got (0, 28)"),
            std::invalid_argument);
    }
    SUBCASE("zero columns") {
        grid.columns = 0;
        CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, png),
                             doctest::Contains("expected columns >= 1, got 0"),
                             std::invalid_argument);
    }
    SUBCASE("a NaN pixel") {
        grid.images[0].pixels(3, 7) = std::numeric_limits<float>::quiet_NaN();
        CHECK_THROWS_WITH_AS(
            cnn::save_image_grid(grid, png),
            doctest::Contains("image 0 (\"first\") has pixel (row 3, column 7) = nan"),
            std::invalid_argument);
    }
    SUBCASE("an empty value range") {
        grid.value_range = std::make_pair(1.0, 0.0);
        CHECK_THROWS_WITH_AS(
            cnn::save_image_grid(grid, png),
            doctest::Contains("expected value_range {low, high} with low < high, got {1, 0}"),
            std::invalid_argument);
    }
    SUBCASE("cells too small") {
        grid.cell_pixels = 8;
        CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, png),
                             doctest::Contains("expected cell_pixels >= 32, got 8"),
                             std::invalid_argument);
    }
    SUBCASE("a box with its right edge left of its left edge") {
        grid.images[1].boxes = {{10, 10, 20, 20, "fine"}, {30, 5, 25, 8, "Bag"}};
        CHECK_THROWS_WITH_AS(
            cnn::save_image_grid(grid, png),
            doctest::Contains("image 1 (\"second\") box 1 (\"Bag\"): expected x_min <= x_max "
                              "and y_min <= y_max, got x 30 to 25, y 5 to 8"),
            std::invalid_argument);
    }
    SUBCASE("a box upside down") {
        grid.images[0].boxes = {{10, 20, 20, 10, ""}};
        CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, png),
                             doctest::Contains("image 0 (\"first\") box 0: expected x_min <= "
                                               "x_max and y_min <= y_max, got x 10 to 20, y 20 "
                                               "to 10"),
                             std::invalid_argument);
    }
    SUBCASE("a box with a coordinate that is not finite") {
        grid.images[0].boxes = {{0, 0, infinity, 10, "wide"}};
        CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, png),
                             doctest::Contains("image 0 (\"first\") box 0 (\"wide\") has x_max = "
                                               "inf; every value must be a finite number"),
                             std::invalid_argument);
        grid.images[0].boxes = {{0, not_a_number, 5, 10, ""}};
        CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, png),
                             doctest::Contains("box 0 has y_min = nan"), std::invalid_argument);
    }
    SUBCASE("a box colour that is not #rrggbb") {
        for (const char* colour : {"red", "#12345", "#12345g", "d62728", "#d627280"}) {
            CAPTURE(colour);
            grid.images[0].boxes = {{0, 0, 5, 5, "", colour}};
            CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, png),
                                 contains(std::string("box 0: expected a colour written "
                                                      "\"#rrggbb\", got \"") + colour + "\""),
                                 std::invalid_argument);
        }
    }
    SUBCASE("a grid too large for a PNG") {
        grid.images.resize(2000, grid.images[0]);
        CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, png),
                             doctest::Contains("more than the 32767 a PNG can have"),
                             std::invalid_argument);
    }
    CHECK(dir.files().empty());
}

// ----------------------------------------------------------------------------------------------
// Failures: nothing half-written is ever left behind
// ----------------------------------------------------------------------------------------------

TEST_CASE("a failing gnuplot leaves no PNG and reports what gnuplot said") {
    cnn::testing::TempDir dir;
    const fs::path png = dir / "broken.png";
    CHECK_THROWS_WITH_AS(cnn::save_gnuplot_png("plot no_such_function(x)", png, 400, 300),
                         doctest::Contains("undefined function: no_such_function"),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(
        cnn::save_gnuplot_png("plot no_such_function(x)", png, 400, 300),
        contains("save_gnuplot_png(" + png.string() + "): gnuplot failed (exit status 1)"),
        std::runtime_error);
    CHECK(dir.files().empty());

    SUBCASE("an existing PNG survives a failed redraw unchanged") {
        cnn::save_gnuplot_png("plot sin(x) title \"sin\"", png, 400, 300);
        const auto before = fs::file_size(png);
        CHECK_THROWS_AS(cnn::save_gnuplot_png("plot sin(x", png, 400, 300), std::runtime_error);
        CHECK(fs::file_size(png) == before);
        CHECK(read_png_size(png).width == 400);
        check_only_file(dir, "broken.png");
    }
}

TEST_CASE("a PNG path that cannot be written is refused and leaves nothing behind") {
    cnn::testing::TempDir dir;
    SUBCASE("its parent directory is a file") {
        std::ofstream(dir / "file") << "not a directory";
        CHECK_THROWS_WITH_AS(cnn::save_line_plot(training_curves(3), dir / "file/curves.png"),
                             doctest::Contains("cannot create the directory"), std::runtime_error);
        check_only_file(dir, "file");
    }
    SUBCASE("the path is a directory") {
        fs::create_directory(dir / "curves.png");
        CHECK_THROWS_WITH_AS(cnn::save_line_plot(training_curves(3), dir / "curves.png"),
                             doctest::Contains("expected the path of a PNG file, but it is a "
                                               "directory"),
                             std::invalid_argument);
        check_only_file(dir, "curves.png");
        CHECK(fs::is_directory(dir / "curves.png"));
    }
    SUBCASE("the path holds a control character") {
        CHECK_THROWS_WITH_AS(cnn::save_line_plot(training_curves(3), dir / "a\tb.png"),
                             doctest::Contains("expected a PNG path without control characters"),
                             std::invalid_argument);
        CHECK(dir.files().empty());
    }
    SUBCASE("the path is empty") {
        CHECK_THROWS_WITH_AS(cnn::save_line_plot(training_curves(3), ""),
                             doctest::Contains("expected the path of a PNG file, got \"\""),
                             std::invalid_argument);
    }
}

TEST_CASE("text that starts or ends with a quote reaches gnuplot intact") {
    cnn::testing::TempDir dir;
    cnn::LinePlot plot;
    plot.title = "'same' padding";
    plot.x_label = "it's";
    plot.y_label = "'";
    plot.series = {{"'quoted'", {0, 1}, {0, 1}}};
    cnn::save_line_plot(plot, dir / "quotes.png");
    CHECK(read_png_size(dir / "quotes.png").width == 900);
}

TEST_CASE("save_image_grid draws a map of categories in their colours, and refuses a pixel that names none") {
    // A 2x2 map: category 0 (black) top left, 1 (red) top right, 2 (blue) along the bottom.
    // Drawn large, red must fill about a quarter of the image, up and to the right of its
    // centre, and blue half of it, below the centre: a palette step off by one class would
    // paint the wrong quarter.
    cnn::testing::TempDir dir;
    cnn::GridImage map{cnn::Tensor2{{0, 1}, {2, 2}}, ""};
    map.categories = {"#000000", "#ff0000", "#0000ff"};
    cnn::ImageGrid grid;
    grid.cell_pixels = 200;
    grid.images = {map};
    const fs::path png = dir / "categories.png";
    cnn::save_image_grid(grid, png);
    const cnn::Tensor3 rgb = cnn::load_rgb_image(png);
    double red = 0, blue = 0, black = 0, red_x = 0, red_y = 0, blue_y = 0;
    for (std::size_t y = 0; y < rgb.shape(1); ++y) {
        for (std::size_t x = 0; x < rgb.shape(2); ++x) {
            const float r = rgb(0, y, x), g = rgb(1, y, x), b = rgb(2, y, x);
            if (r > 0.95f && g < 0.05f && b < 0.05f) {
                red += 1;
                red_x += static_cast<double>(x);
                red_y += static_cast<double>(y);
            } else if (b > 0.95f && r < 0.05f && g < 0.05f) {
                blue += 1;
                blue_y += static_cast<double>(y);
            } else if (r < 0.05f && g < 0.05f && b < 0.05f) {
                black += 1;
            }
        }
    }
    REQUIRE(red > 1000);
    CHECK(blue / red == doctest::Approx(2.0).epsilon(0.05));
    CHECK(black / red == doctest::Approx(1.0).epsilon(0.05));
    CHECK(red_x / red > 100.0);           // right of the cell's centre
    CHECK(red_y / red < blue_y / blue);   // above the blue row
    // A pixel that is no category, or not a whole number, is refused.
    for (const float bad : {3.0f, 0.5f, -1.0f}) {
        cnn::GridImage wrong = map;
        wrong.pixels(0, 0) = bad;
        grid.images = {wrong};
        CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, dir / "bad.png"),
                             doctest::Contains("expected a category 0 to 2 in every pixel"), std::invalid_argument);
    }
    map.categories = {"#000000", "red", "#0000ff"};
    grid.images = {map};
    CHECK_THROWS_WITH_AS(cnn::save_image_grid(grid, dir / "bad.png"), doctest::Contains("category 1"),
                         std::invalid_argument);
}
