// Chapter 03: padding, stride and the output-size formula.
//
// Without options, the program works through Saito's examples, compares 'valid' and
// 'same' padding, draws where the windows land, shows the dark frame zero padding leaves on a
// photograph and what a stride saves. With --input it is a calculator:
//
//   ch03_padding_stride --input 28x31 --kernel 5x5 --padding 2 --stride 3
//   ch03_padding_stride --input 28x31 --kernel 5 --padding same --stride 2
//
// Every size option takes one number (both axes) or HxW.

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "support/app/program.hpp"
#include "cnn/ops/geometry.hpp"
#include "cnn/ops/strided_correlate2d.hpp"
#include "support/io/image.hpp"
#include "support/plot/number_grid.hpp"
#include "support/plot/plot.hpp"
#include "cnn/tensor/padding.hpp"
#include "cnn/tensor/tensor.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Tensor2;

// The photograph of chapter 02 ("Friends" by Aitzol Berasategi, CC-BY-4.0, Debian's
// lomiri-wallpapers-16.04).
const char* const default_photo = "/usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg";

// ---------------------------------------------------------------------------------------------
// The calculator
// ---------------------------------------------------------------------------------------------

// A size for both axes: "5" means 5x5, "28x31" means 28 rows and 31 columns.
struct Pair {
    std::size_t rows = 0, cols = 0;
};

Pair parse_pair(const std::string& text, const std::string& option) {
    const auto number = [&](const std::string& part) {
        const bool digits = !part.empty() && part.size() <= 9 &&
                            std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) {
            throw std::invalid_argument(fmt::format(
                "{}: expected a whole number or HxW (such as 3 or 3x5), got '{}'", option, text));
        }
        return static_cast<std::size_t>(std::stoul(part));
    };
    const std::size_t x = text.find('x');
    if (x == std::string::npos) {
        const std::size_t n = number(text);
        return {n, n};
    }
    return {number(text.substr(0, x)), number(text.substr(x + 1))};
}

// One question for the calculator: what shape comes out?
struct Query {
    Pair input, kernel, stride{1, 1};
    std::string padding = "0";              // a number, HxW, "same" or "valid"
    cnn::SizePolicy policy = cnn::SizePolicy::strict;
};

// `text` broken at spaces into lines of at most 96 characters, the later ones indented: the
// explanations are long sentences, and the page shows them in a fixed-width box.
std::string wrapped(const std::string& text, const std::string& indent) {
    std::string out, line = indent;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find(' ', start);
        end = end == std::string::npos ? text.size() : end;
        const std::string word = text.substr(start, end - start);
        if (line.size() + word.size() + 1 > 96 && line.size() > indent.size() + 4) {
            out += line + "\n";
            line = indent + "    ";
        }
        line += (line.back() == ' ' ? "" : " ") + word;
        start = end + 1;
    }
    return out + line;
}

std::string padding_text(const cnn::AxisPadding& p) {
    return p.before == p.after ? fmt::format("{}", p.before)
                               : fmt::format("{} before + {} after", p.before, p.after);
}

//! [calculate_geometry]
// Prints the output size of `q`, axis by axis, with the formula filled in. Throws
// cnn::GeometryError (the same explanation, as an error) when the size does not exist.
Pair calculate(const Query& q, cnn::Transcript& out) {
    cnn::Conv2DGeometry g;
    g.stride_rows = q.stride.rows;
    g.stride_cols = q.stride.cols;
    g.policy = q.policy;
    if (q.padding == "same" || q.padding == "valid") {
        const auto mode = q.padding == "same" ? cnn::PaddingMode::same : cnn::PaddingMode::valid;
        g = cnn::Conv2DGeometry::keras(mode, q.input.rows, q.input.cols, q.kernel.rows,
                                       q.kernel.cols, q.stride.rows, q.stride.cols);
        g.policy = q.policy;  // keras() rounds down, as Keras does; the calculator asks first
    } else {
        const Pair p = parse_pair(q.padding, "--padding");
        g.pad_rows = {p.rows, p.rows};
        g.pad_cols = {p.cols, p.cols};
    }
    //! [calculate_geometry]
    out.line(fmt::format("input {}x{}, kernel {}x{}, stride {}x{}, padding {} -> rows: {}, "
                         "columns: {}{}",
                         q.input.rows, q.input.cols, q.kernel.rows, q.kernel.cols, q.stride.rows,
                         q.stride.cols, q.padding, padding_text(g.pad_rows),
                         padding_text(g.pad_cols),
                         g.policy == cnn::SizePolicy::floor ? " (rounding down)" : ""));
    //! [calculate_size]
    const cnn::AxisGeometry rows{q.input.rows, q.kernel.rows, g.stride_rows, g.pad_rows};
    const cnn::AxisGeometry cols{q.input.cols, q.kernel.cols, g.stride_cols, g.pad_cols};
    out.line(wrapped(cnn::explain_output_size(rows, g.policy, "H"), "  "));
    out.line(wrapped(cnn::explain_output_size(cols, g.policy, "W"), "  "));
    const Pair result{cnn::conv_output_size(rows, g.policy), cnn::conv_output_size(cols, g.policy)};
    out.line(fmt::format("  output: {}x{}", result.rows, result.cols));
    return result;
    //! [calculate_size]
}

// ---------------------------------------------------------------------------------------------
// 1. Saito's examples
// ---------------------------------------------------------------------------------------------

void worked_examples(const fs::path& out) {
    cnn::Transcript text(out / "ch03_examples.txt");
    //! [examples]
    calculate({{4, 4}, {3, 3}, {1, 1}, "1"}, text);    // example 1: the size is kept
    text.line();
    calculate({{7, 7}, {3, 3}, {2, 2}, "0"}, text);    // example 2: stride 2 roughly halves it
    text.line();
    calculate({{28, 31}, {5, 5}, {3, 3}, "2"}, text);  // example 3: rows and columns differ
    text.line();
    // Géron's model (Hands-On Machine Learning, ch. 14) pools 28 -> 14 -> 7 -> 3 with 2x2
    // windows and stride 2. The last step is (7 - 2) / 2 + 1 = 3.5: the strict formula refuses
    // it, the floor rule gives 3.
    try {
        calculate({{7, 7}, {2, 2}, {2, 2}, "0"}, text);
    } catch (const cnn::GeometryError& e) {
        text.line(wrapped(std::string("strict: error: ") + e.what(), "  "));
    }
    text.line();
    calculate({{7, 7}, {2, 2}, {2, 2}, "0", cnn::SizePolicy::floor}, text);
    //! [examples]
    text.save();
    std::cout << '\n';
}

// ---------------------------------------------------------------------------------------------
// 2. 'valid' and 'same'
// ---------------------------------------------------------------------------------------------

void valid_and_same(const fs::path& out) {
    cnn::Transcript text(out / "ch03_valid_same.txt");
    text.line(fmt::format("{:>5} {:>6} {:>6} | {:>9} | {:>9} {:>14}", "H", "FH", "S",
                          "valid: OH", "same: OH", "pad (top, bot)"));
    for (std::size_t h : {7, 8}) {
        for (std::size_t fh : {2, 3, 4}) {
            for (std::size_t s : {1, 2}) {
                const cnn::AxisPadding same = cnn::keras_padding(cnn::PaddingMode::same, h, fh, s);
                text.line(fmt::format(
                    "{:>5} {:>6} {:>6} | {:>9} | {:>9} {:>14}", h, fh, s,
                    cnn::conv_output_size({h, fh, s, {0, 0}}, cnn::SizePolicy::floor),
                    cnn::conv_output_size({h, fh, s, same}, cnn::SizePolicy::floor),
                    fmt::format("({}, {})", same.before, same.after)));
            }
        }
    }
    text.save();
    std::cout << '\n';

    cnn::Transcript calc(out / "ch03_calculator.txt");
    for (const char* padding : {"2", "valid", "same"}) {
        calc.line(fmt::format("$ ch03_padding_stride --input 28x31 --kernel 5x5 --padding {} "
                              "--stride 3{}",
                              padding, std::string(padding) == "2" ? "" : " --floor"));
        calculate({{28, 31}, {5, 5}, {3, 3}, padding,
                   std::string(padding) == "2" ? cnn::SizePolicy::strict : cnn::SizePolicy::floor},
                  calc);
        calc.line();
    }
    calc.save();
}

// ---------------------------------------------------------------------------------------------
// 3. Where the windows land
// ---------------------------------------------------------------------------------------------

void window_figures(const fs::path& out) {
    //! [padded_windows]
    // A 5x5 input holding 1..25, one ring of zeros, a 3x3 window moving 2 at a time.
    Tensor2 x = Tensor2::from_shape({5, 5});
    for (std::size_t i = 0; i < x.size(); ++i) {
        x.data()[i] = static_cast<float>(i + 1);
    }
    const Tensor2 padded = cnn::pad2d(x, {1, 1}, {1, 1});
    cnn::Conv2DGeometry g;
    g.stride_rows = g.stride_cols = 2;
    g.pad_rows = g.pad_cols = {1, 1};
    const Tensor2 y = cnn::strided_correlate2d_forward(x, xt::ones<float>({3, 3}), g);
    //! [padded_windows]
    cnn::NumberGridFigure figure;
    figure.title = "Input 5x5, padding 1, a 3x3 window, stride 2: (5 + 2 - 3) / 2 + 1 = 3 positions a side";
    figure.columns = 3;
    figure.cell_pixels = 26;
    for (std::size_t i = 0; i < y.shape(0); ++i) {
        for (std::size_t j = 0; j < y.shape(1); ++j) {
            figure.grids.push_back({padded, fmt::format("output ({}, {}) = {:g}", i, j, y(i, j)),
                                    {{2 * i, 2 * j, 3, 3}}});
        }
    }
    cnn::save_number_grids(figure, out / "ch03_padded_windows.png");

    // 'same' with stride 2 on an even size: one row and one column of padding, both at the end.
    const cnn::Conv2DGeometry same = cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 6, 6, 3, 3, 2, 2);
    Tensor2 six = Tensor2::from_shape({6, 6});
    for (std::size_t i = 0; i < six.size(); ++i) {
        six.data()[i] = static_cast<float>(i + 1);
    }
    const Tensor2 six_padded = cnn::pad2d(six, same.pad_rows, same.pad_cols);
    cnn::save_number_grids(
        {"'same', 6x6 input, 3x3 window, stride 2: ceil(6 / 2) = 3 outputs, padding only at the end",
         {{six_padded, "first window", {{0, 0, 3, 3}}},
          {six_padded, "last window", {{4, 4, 3, 3}}}},
         2, 26, 0},
        out / "ch03_same_asymmetric.png");
}

// ---------------------------------------------------------------------------------------------
// 4. Output size against stride and padding
// ---------------------------------------------------------------------------------------------

void size_plot(const fs::path& out) {
    cnn::LinePlot plot;
    plot.title = "Output size of a 3x3 window on 28 rows, by stride and padding (rounding down)";
    plot.x_label = "stride S";
    plot.y_label = "output size OH";
    for (std::size_t p : {0, 1, 2}) {
        cnn::Series s{fmt::format("padding P = {}", p), {}, {}};
        for (std::size_t stride = 1; stride <= 7; ++stride) {
            s.x.push_back(static_cast<double>(stride));
            s.y.push_back(static_cast<double>(
                cnn::conv_output_size({28, 3, stride, {p, p}}, cnn::SizePolicy::floor)));
        }
        plot.series.push_back(s);
    }
    cnn::save_line_plot(plot, out / "ch03_output_size.png");
}

// ---------------------------------------------------------------------------------------------
// 5. The dark frame of zero padding
// ---------------------------------------------------------------------------------------------

void padding_artifacts(const Tensor2& photo, const fs::path& out) {
    //! [artifacts]
    // A 9x9 averaging filter with 'same' padding: near the edges part of every window lies on
    // the zeros of the padding, so the average is pulled towards black.
    const Tensor2 box = xt::ones<float>({9, 9}) / 81.0f;
    const auto same = cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, photo.shape(0),
                                                 photo.shape(1), 9, 9, 1, 1);
    const Tensor2 blurred = cnn::strided_correlate2d_forward(photo, box, same);
    //! [artifacts]
    // Brightness of the outermost ring, of the ring 4 pixels in, and of the interior.
    const auto ring_mean = [](const Tensor2& m, std::size_t inset) {
        const std::size_t h = m.shape(0), w = m.shape(1);
        double sum = 0;
        std::size_t n = 0;
        if (2 * inset >= std::min(h, w)) {
            return 0.0;  // no such ring in so small an image
        }
        for (std::size_t i = inset; i < h - inset; ++i) {
            for (std::size_t j = inset; j < w - inset; ++j) {
                if (i == inset || j == inset || i == h - 1 - inset || j == w - 1 - inset) {
                    sum += m(i, j);
                    ++n;
                }
            }
        }
        return sum / static_cast<double>(n);
    };
    cnn::Transcript text(out / "ch03_padding_artifacts.txt");
    text.line(fmt::format("photo {}, 9x9 mean filter, 'same' padding (4 rows/columns of zeros "
                          "each side) -> {}",
                          cnn::shape_to_string(photo.shape()),
                          cnn::shape_to_string(blurred.shape())));
    text.line(fmt::format("{:<28} {:>8} {:>9} {:>8}", "mean brightness", "input", "filtered",
                          "change"));
    for (std::size_t inset : {0, 2, 4, 8}) {
        if (2 * inset >= std::min(photo.shape(0), photo.shape(1))) {
            break;
        }
        const double before = ring_mean(photo, inset), after = ring_mean(blurred, inset);
        text.line(fmt::format("{:<28} {:>8.3f} {:>9.3f} {:>+7.0f}%",
                              fmt::format("ring {} pixels from the edge", inset), before, after,
                              100.0 * (after - before) / before));
    }
    text.save();
    std::cout << '\n';
    cnn::ImageGrid grid;
    grid.title = "A 9x9 mean filter with 'same' zero padding darkens a frame 4 pixels wide";
    grid.columns = 2;
    grid.cell_pixels = 320;
    grid.value_range = std::make_pair(0.0, 1.0);
    grid.images = {{photo, "input"}, {blurred, "filtered, same size"}};
    cnn::save_image_grid(grid, out / "ch03_padding_artifacts.png");
}

// ---------------------------------------------------------------------------------------------
// 6. What a stride saves
// ---------------------------------------------------------------------------------------------

void stride_cost(const Tensor2& photo, const fs::path& out) {
    cnn::Transcript text(out / "ch03_stride_cost.txt");
    text.line(fmt::format("a 3x3 filter with 'same' padding on the photo {}",
                          cnn::shape_to_string(photo.shape())));
    text.line(fmt::format("{:>6} {:>12} {:>10} {:>16} {:>12}", "stride", "output", "outputs",
                          "multiply-adds", "of stride 1"));
    double first = 0;
    for (std::size_t s : {1, 2, 3, 4}) {
        const auto g = cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, photo.shape(0),
                                                  photo.shape(1), 3, 3, s, s);
        // The shape comes from running the convolution, not from the formula alone.
        const Tensor2 y = cnn::strided_correlate2d_forward(photo, xt::ones<float>({3, 3}), g);
        const double outputs = static_cast<double>(y.size());
        const double macs = outputs * 9;
        first = s == 1 ? macs : first;
        text.line(fmt::format("{:>6} {:>12} {:>10} {:>16} {:>11.1f}%", s,
                              cnn::shape_to_string(y.shape()), cnn::thousands(y.size()),
                              cnn::thousands(static_cast<std::uint64_t>(macs)),
                              100.0 * macs / first));
    }
    text.save();
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch03_padding_stride",
                         "Chapter 03: padding, stride and the output-size formula. Without "
                         "--input it runs the chapter; with --input it is a calculator.",
                         cnn::ReadsData::no);
    std::string input, kernel = "3", padding = "0", stride = "1", photo_file = default_photo;
    bool floor = false;
    program.option("--input", input, "Calculator: the input size, H or HxW");
    program.option("--kernel", kernel, "Calculator: the window size, FH or FHxFW").show_default();
    program.option("--padding", padding, "Calculator: P or PHxPW, or 'same' or 'valid'")
        .show_default();
    program.option("--stride", stride, "Calculator: S or SHxSW").show_default();
    program.flag("--floor", floor,
                 "Calculator: round the size down (PyTorch, Keras) instead of "
                 "refusing a size that is not a whole number");
    program.option("--photo", photo_file, "A photograph for the zero-padding figure")
        .show_default();

    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        if (!input.empty()) {
            cnn::Transcript out(options.out / "ch03_query.txt");
            calculate({parse_pair(input, "--input"), parse_pair(kernel, "--kernel"),
                       parse_pair(stride, "--stride"), padding,
                       floor ? cnn::SizePolicy::floor : cnn::SizePolicy::strict},
                      out);
            out.save();
            return;
        }
        std::cout << "== 1. Saito's examples ==\n\n";
        worked_examples(options.out);
        std::cout << "== 2. 'valid' and 'same' ==\n\n";
        valid_and_same(options.out);
        window_figures(options.out);
        size_plot(options.out);
        std::cout << "== 3. The dark frame of zero padding ==\n\n";
        const Tensor2 photo = cnn::load_grayscale_image(photo_file, 320);
        padding_artifacts(photo, options.out);
        std::cout << "== 4. What a stride saves ==\n\n";
        stride_cost(photo, options.out);
        std::cout << "\nplots and tables written to " << options.out.string() << '\n';
    });
}
