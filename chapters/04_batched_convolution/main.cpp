// Chapter 04: convolution over channels, filters and batches; im2col; the receptive field.
//
//   1. Channels, filters, batch: a published two-channel example, step by step, shapes printed.
//   2. im2col: the windows as columns of a matrix, and convolution as one matrix product;
//      col2im and the overlap counts that make it accumulate.
//   3. A 1x1 convolution is a matrix product over channels.
//   4. The receptive field of a stack of layers: a table, and the pixels one unit sees.
//   5. Naive loops against im2col + BLAS on the convolutions of chapter 06's model.
//
// Run: ch04_batched_convolution [--quick] [--out DIR] [--seed N]

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "support/app/program.hpp"
#include "cnn/ops/conv2d_im2col.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "cnn/ops/correlate2d.hpp"
#include "cnn/ops/geometry.hpp"
#include "cnn/ops/im2col.hpp"
#include "cnn/ops/receptive_field.hpp"
#include "cnn/layers/conv2d.hpp"
#include "support/plot/number_grid.hpp"
#include "support/plot/plot.hpp"
#include "cnn/tensor/gemm.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Tensor1;
using cnn::Tensor2;
using cnn::Tensor4;


// Every (H, W) map of a 4-D tensor, labelled with its indices; the first image is number
// `first_image` (for a slice of a larger batch).
void print_maps(cnn::Transcript& text, const std::string& name, const Tensor4& t,
                std::size_t first_image = 0) {
    for (std::size_t n = 0; n < t.shape(0); ++n) {
        for (std::size_t c = 0; c < t.shape(1); ++c) {
            text.line(fmt::format("  {}[{}, {}] =", name, first_image + n, c));
            text.line(cnn::matrix_to_text(xt::view(t, n, c)));
        }
    }
}

double max_difference(const Tensor4& a, const Tensor4& b) { return xt::amax(xt::abs(a - b))(); }

// ---------------------------------------------------------------------------------------------
// 1. Channels, filters, batch
// ---------------------------------------------------------------------------------------------

//! [example_data]
// The two-channel example of "Dive into Deep Learning" (Zhang et al.), section 7.4: the input
// has channels 0..8 and 1..9 (3x3 each), the filter has kernels [[0, 1], [2, 3]] and
// [[1, 2], [3, 4]]; the book's output is [[56, 72], [104, 120]].
Tensor4 example_input() {
    Tensor4 x = Tensor4::from_shape({1, 2, 3, 3});  // (N, C, H, W)
    for (std::size_t i = 0; i < 9; ++i) {
        x.data()[i] = static_cast<float>(i);          // channel 0: 0 .. 8
        x.data()[9 + i] = static_cast<float>(i + 1);  // channel 1: 1 .. 9
    }
    return x;
}

Tensor4 example_filter() {
    return Tensor4{{{{0, 1}, {2, 3}}, {{1, 2}, {3, 4}}}};  // (FN, C, FH, FW) = (1, 2, 2, 2)
}
//! [example_data]

void channels_filters_batch(const fs::path& out) {
    cnn::Transcript text(out / "ch04_channels.txt");
    const Tensor4 x = example_input();
    const Tensor4 k = example_filter();
    const cnn::Conv2DGeometry valid;  // stride 1, no padding
    text.line(fmt::format("input x {} and one filter w {}:", cnn::shape_to_string(x.shape()),
                          cnn::shape_to_string(k.shape())));
    print_maps(text, "x", x);

    //! [per_channel]
    // One filter over two channels: correlate each channel with its own kernel, then add.
    const Tensor2 channel0 = cnn::correlate2d_forward(xt::view(x, 0, 0), xt::view(k, 0, 0));
    const Tensor2 channel1 = cnn::correlate2d_forward(xt::view(x, 0, 1), xt::view(k, 0, 1));
    const Tensor4 y1 = cnn::conv2d_naive_forward(x, k, Tensor1{0.0f}, valid);
    //! [per_channel]
    text.line("channel 0 * kernel 0 (chapter 02's correlate2d):");
    text.line(cnn::matrix_to_text(channel0));
    text.line("channel 1 * kernel 1:");
    text.line(cnn::matrix_to_text(channel1));
    text.line("their sum:");
    text.line(cnn::matrix_to_text(channel0 + channel1));
    text.line(fmt::format("conv2d_naive_forward(x, w): y {}, one map per filter",
                          cnn::shape_to_string(y1.shape())));
    print_maps(text, "y", y1);

    //! [filters_and_batch]
    // FN = 3 filters: the kernels above, plus 1, plus 2 (the book's next example), and a bias
    // of one number per filter, broadcast over its whole map.
    Tensor4 filters = Tensor4::from_shape({3, 2, 2, 2});
    for (std::size_t f = 0; f < 3; ++f) {
        xt::view(filters, f) = xt::view(k, 0) + static_cast<float>(f);
    }
    const Tensor1 bias = {0.0f, 100.0f, 1000.0f};
    const Tensor4 y3 = cnn::conv2d_naive_forward(x, filters, bias, valid);

    // A batch of N = 2: the same image and its negative, in one call.
    Tensor4 batch = Tensor4::from_shape({2, 2, 3, 3});
    xt::view(batch, 0) = xt::view(x, 0);
    xt::view(batch, 1) = -xt::view(x, 0);
    const Tensor4 y_batch = cnn::conv2d_naive_forward(batch, filters, bias, valid);
    //! [filters_and_batch]
    text.line(fmt::format("{} filters w {} with bias b = [0, 100, 1000] (one per filter, as "
                          "(FN, 1, 1)): y {}",
                          filters.shape(0), cnn::shape_to_string(filters.shape()),
                          cnn::shape_to_string(y3.shape())));
    print_maps(text, "y", y3);
    text.line(fmt::format("a batch x {} (the image and its negative): y {}",
                          cnn::shape_to_string(batch.shape()),
                          cnn::shape_to_string(y_batch.shape())));
    print_maps(text, "y", xt::view(y_batch, xt::range(1, 2)), 1);
    text.line("(y[0] is the single image's result above; shown is y[1], where the sums change "
              "sign and the bias does not)");
    text.save();
    std::cout << '\n';

    cnn::save_number_grids(
        {"One filter over two channels: correlate each channel with its kernel, then add",
         {{xt::view(x, 0, 0), "x, channel 0", {}},
          {xt::view(k, 0, 0), "w, kernel 0", {}},
          {channel0, "channel 0 result", {}},
          {xt::view(x, 0, 1), "x, channel 1", {}},
          {xt::view(k, 0, 1), "w, kernel 1", {}},
          {channel1, "channel 1 result", {}},
          {xt::view(y1, 0, 0), "sum: y (1, 1, 2, 2)", {}}},
         3, 34, 0},
        out / "ch04_channels.png");
}

// The block diagrams of the chapter page, as Graphviz descriptions whose shapes come from the
// library: one image through a layer, and a batch through im2col and the matrix product.
void flow_diagrams(const fs::path& out) {
    const std::size_t c = 3, h = 32, w = 32, fn = 16, fh = 5, fw = 5;
    const auto g = cnn::Conv2DGeometry::keras(cnn::PaddingMode::valid, h, w, fh, fw, 1, 1);
    const Tensor4 x = xt::zeros<float>({std::size_t{8}, c, h, w});
    const Tensor4 filters = xt::zeros<float>({fn, c, fh, fw});
    const auto [n, f, oh, ow] = cnn::conv2d_output_shape(x, filters, g);
    const auto cols = cnn::im2col_shape(x, fh, fw, g);
    const auto box = [](const std::string& id, const std::string& label, const char* colour) {
        return fmt::format("  {} [shape=box, style=\"rounded,filled\", fillcolor=\"{}\", "
                           "label=\"{}\"];\n", id, colour, label);
    };
    std::string one = "digraph one_image {\n  rankdir=LR;\n  node [fontname=Helvetica];\n";
    one += box("x", fmt::format("input x\\n(C, H, W) = ({}, {}, {})", c, h, w), "#dbe9f6");
    one += box("w", fmt::format("{} filters w\\n(FN, C, FH, FW) = ({}, {}, {}, {})", fn, fn, c, fh, fw), "#fde2c8");
    one += box("b", fmt::format("bias b\\n(FN, 1, 1) = ({}, 1, 1)", fn), "#fde2c8");
    one += box("y", fmt::format("output y\\n(FN, OH, OW) = ({}, {}, {})", f, oh, ow), "#d5efd5");
    one += "  x -> y [label=\" each filter: sum over C channels \"];\n  w -> y;\n  b -> y;\n}\n";
    std::string batch = "digraph batch {\n  rankdir=LR;\n  node [fontname=Helvetica];\n";
    batch += box("x", fmt::format("batch x\\n(N, C, H, W) = ({}, {}, {}, {})", n, c, h, w), "#dbe9f6");
    batch += box("cols", fmt::format("im2col, per image\\n(C FH FW, OH OW) = ({}, {})", cols[0], cols[1]), "#eeeeee");
    batch += box("w", fmt::format("filters as a matrix\\n(FN, C FH FW) = ({}, {})", fn, cols[0]), "#fde2c8");
    batch += box("prod", fmt::format("W x cols, per image\\n(FN, OH OW) = ({}, {})", fn, cols[1]), "#eeeeee");
    batch += box("y", fmt::format("batch y\\n(N, FN, OH, OW) = ({}, {}, {}, {})", n, f, oh, ow), "#d5efd5");
    batch += "  x -> cols -> prod -> y [label=\" \"];\n  w -> prod;\n}\n";
    cnn::write_file_atomically(out / "ch04_flow.dot", one);
    cnn::write_file_atomically(out / "ch04_batch_flow.dot", batch);
}

// ---------------------------------------------------------------------------------------------
// 2. im2col
// ---------------------------------------------------------------------------------------------

void im2col_figures(const fs::path& out) {
    cnn::Transcript text(out / "ch04_im2col.txt");
    const Tensor4 x = example_input();
    const cnn::Conv2DGeometry valid;
    //! [im2col_example]
    // The windows of the two-channel example as columns: (C*FH*FW, OH*OW) = (8, 4).
    const auto shape = cnn::im2col_shape(x, 2, 2, valid);
    Tensor2 cols = Tensor2::from_shape({shape[0], shape[1]});
    cnn::im2col(x, 0, 2, 2, valid, cols);

    // Three filters, each flattened into a row of 8 weights: W is (FN, C*FH*FW) = (3, 8).
    Tensor2 w = Tensor2::from_shape({3, 8});
    for (std::size_t f = 0; f < 3; ++f) {
        for (std::size_t i = 0; i < 8; ++i) {
            w(f, i) = example_filter().data()[i] + static_cast<float>(f);
        }
    }
    // The whole convolution is one product: (3, 8) x (8, 4) = (3, 4), i.e. (FN, OH*OW).
    Tensor2 product = Tensor2::from_shape({3, 4});
    cnn::gemm(w, cnn::Op::none, cols, cnn::Op::none, product);
    //! [im2col_example]
    text.line("im2col(x) (8, 4): row (c, u, v), column = output position (i, j):");
    text.line(cnn::matrix_to_text(cols));
    text.line("W (3, 8): one filter per row:");
    text.line(cnn::matrix_to_text(w));
    text.line("W x cols (3, 4): row f is filter f's output map, read row by row:");
    text.line(cnn::matrix_to_text(product));

    cnn::NumberGridFigure figure;
    figure.title = "im2col: each window becomes a column; then W (3, 8) x cols (8, 4) gives all outputs";
    figure.columns = 4;
    figure.cell_pixels = 30;
    for (std::size_t p = 0; p < 4; ++p) {
        const std::size_t i = p / 2, j = p % 2;
        figure.grids.push_back({xt::view(x, 0, 0), fmt::format("channel 0, window {}", p),
                                {{i, j, 2, 2}}});
    }
    figure.grids.push_back({cols, "cols (8, 4): window p is column p", {}});
    figure.grids.push_back({w, "W (3, 8)", {}});
    figure.grids.push_back({product, "W x cols (3, 4)", {}});
    cnn::save_number_grids(figure, out / "ch04_im2col.png");

    //! [overlap]
    // col2im of a matrix of ones: each pixel receives 1 from every window that contains it.
    Tensor4 counts = xt::zeros<float>({1, 1, 5, 5});
    cnn::Conv2DGeometry stride2;
    stride2.stride_rows = stride2.stride_cols = 2;
    cnn::col2im(xt::ones<float>({9, 9}), 0, 3, 3, cnn::Conv2DGeometry{}, counts);
    Tensor4 counts2 = xt::zeros<float>({1, 1, 5, 5});
    cnn::col2im(xt::ones<float>({9, 4}), 0, 3, 3, stride2, counts2);
    //! [overlap]
    text.line("col2im of ones, 5x5 input, 3x3 windows, stride 1: windows covering each pixel");
    text.line(cnn::matrix_to_text(xt::view(counts, 0, 0)));
    text.line("the same with stride 2");
    text.line(cnn::matrix_to_text(xt::view(counts2, 0, 0)));
    text.save();
    std::cout << '\n';
    cnn::save_number_grids({"How many windows cover each pixel of a 5x5 input (3x3 windows)",
                            {{xt::view(counts, 0, 0), "stride 1", {}},
                             {xt::view(counts2, 0, 0), "stride 2", {}}},
                            2, 34, 0},
                           out / "ch04_overlap.png");
}

// ---------------------------------------------------------------------------------------------
// 3. 1x1 convolution
// ---------------------------------------------------------------------------------------------

void one_by_one(std::uint64_t seed, const fs::path& out) {
    //! [one_by_one]
    // A 1x1 convolution mixes channels at each pixel separately: for image n it is the matrix
    // product W (FN, C) x x_n (C, H*W).
    cnn::Rng rng(seed);
    Tensor4 x = Tensor4::from_shape({2, 16, 5, 5});
    Tensor4 w = Tensor4::from_shape({8, 16, 1, 1});
    for (float& v : x) {
        v = rng.normal();
    }
    for (float& v : w) {
        v = rng.normal();
    }
    const Tensor4 y = cnn::conv2d_naive_forward(x, w, xt::zeros<float>({8}), {});
    const Tensor2 w_matrix = xt::reshape_view(w, {8, 16});
    double worst = 0.0;
    for (std::size_t n = 0; n < 2; ++n) {
        const Tensor2 x_n = xt::reshape_view(xt::view(x, n), {16, 25});
        Tensor2 y_n = Tensor2::from_shape({8, 25});
        cnn::gemm(w_matrix, cnn::Op::none, x_n, cnn::Op::none, y_n);
        worst = std::max(worst, static_cast<double>(xt::amax(
                                    xt::abs(y_n - xt::reshape_view(xt::view(y, n), {8, 25})))()));
    }
    //! [one_by_one]
    cnn::Transcript text(out / "ch04_one_by_one.txt");
    text.line(fmt::format("1x1 convolution of x {} with w {}", cnn::shape_to_string(x.shape()),
                          cnn::shape_to_string(w.shape())));
    text.line(fmt::format("against the product W (8, 16) x x_n (16, 25) for each image n:"));
    text.line(fmt::format("largest difference {:.2e}", worst));
    text.save();
    std::cout << '\n';
}

// ---------------------------------------------------------------------------------------------
// 4. The receptive field
// ---------------------------------------------------------------------------------------------

void receptive_field(const fs::path& out) {
    cnn::Transcript text(out / "ch04_receptive_field.txt");
    //! [stacks]
    const std::vector<std::pair<std::string, std::vector<cnn::WindowLayer>>> stacks = {
        {"two 3x3 convolutions", {{"conv 3x3", 3, 1, 1}, {"conv 3x3", 3, 1, 1}}},
        {"three 3x3 convolutions",
         {{"conv 3x3", 3, 1, 1}, {"conv 3x3", 3, 1, 1}, {"conv 3x3", 3, 1, 1}}},
        {"a 3x3 convolution with stride 2, then two 3x3",
         {{"conv 3x3 /2", 3, 2, 1}, {"conv 3x3", 3, 1, 1}, {"conv 3x3", 3, 1, 1}}},
        {"chapter 06's model ('same' convolutions, 2x2 pooling)",
         {{"conv 7x7", 7, 1, 3}, {"pool 2x2 /2", 2, 2, 0}, {"conv 3x3", 3, 1, 1},
          {"conv 3x3", 3, 1, 1}, {"pool 2x2 /2", 2, 2, 0}, {"conv 3x3", 3, 1, 1},
          {"conv 3x3", 3, 1, 1}, {"pool 2x2 /2", 2, 2, 0}}},
    };
    //! [stacks]
    for (const auto& [title, stack] : stacks) {
        text.line(title + ":");
        text.line(fmt::format("  {:<14} {:>6} {:>6} {:>7}", "layer", "size r", "jump j", "start"));
        for (const cnn::ReceptiveField& f : cnn::receptive_fields(stack)) {
            text.line(fmt::format("  {:<14} {:>6} {:>6} {:>7.1f}", f.name, f.size, f.jump, f.start));
        }
        text.line();
    }

    //! [field_picture]
    // The pixels one unit sees, found by the backward pass: send a gradient of 1 from the centre
    // unit of the last layer down through two 3x3 convolutions with kernels of ones. Each input
    // pixel receives the number of paths that lead from it to that unit.
    const cnn::Conv2DGeometry same1 = cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 9, 9, 3, 3, 1, 1);
    const Tensor4 x = xt::zeros<float>({1, 1, 9, 9});
    const Tensor4 ones = xt::ones<float>({1, 1, 3, 3});
    Tensor4 dw = xt::zeros<float>(ones.shape());
    Tensor1 db = xt::zeros<float>({1});
    Tensor4 grad = xt::zeros<float>({1, 1, 9, 9});
    grad(0, 0, 4, 4) = 1.0f;                                                     // layer 2, centre
    grad = cnn::conv2d_naive_backward(grad, x, ones, same1, dw, db);             // -> layer 1
    const Tensor4 seen = cnn::conv2d_naive_backward(grad, x, ones, same1, dw, db);  // -> input
    //! [field_picture]

    // The same through a 3x3 stride-2 convolution followed by a 3x3 one, on an 11x11 input.
    const auto s2 = cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 11, 11, 3, 3, 2, 2);
    const auto s1 = cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 6, 6, 3, 3, 1, 1);
    Tensor4 g2 = xt::zeros<float>({1, 1, 6, 6});
    g2(0, 0, 2, 2) = 1.0f;
    g2 = cnn::conv2d_naive_backward(g2, xt::zeros<float>({1, 1, 6, 6}), ones, s1, dw, db);
    const Tensor4 seen2 =
        cnn::conv2d_naive_backward(g2, xt::zeros<float>({1, 1, 11, 11}), ones, s2, dw, db);
    text.line("input pixels seen by the centre unit after two 3x3 convolutions (paths per pixel):");
    text.line(cnn::matrix_to_text(xt::view(seen, 0, 0)));
    text.save();
    std::cout << '\n';
    cnn::save_number_grids(
        {"Input pixels one unit sees: non-zero cells, each the number of paths to the unit",
         {{xt::view(seen, 0, 0), "two 3x3 convolutions: 5x5", {}},
          {xt::view(seen2, 0, 0), "3x3 with stride 2, then 3x3: 7x7", {}}},
         2, 30, 0},
        out / "ch04_receptive_field.png");
}

// ---------------------------------------------------------------------------------------------
// 5. Naive loops against im2col + BLAS
// ---------------------------------------------------------------------------------------------

struct ConvShape {
    const char* name;
    std::size_t channels, filters, size, kernel;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void speed(std::size_t batch, std::size_t repeats, std::uint64_t seed, const fs::path& out) {
    //! [speed_shapes]
    // The five convolutions of chapter 06's model, all 'same' with stride 1.
    const std::vector<ConvShape> shapes = {{"conv1 1->64 7x7 28x28", 1, 64, 28, 7},
                                           {"conv2 64->128 3x3 14x14", 64, 128, 14, 3},
                                           {"conv3 128->128 3x3 14x14", 128, 128, 14, 3},
                                           {"conv4 128->256 3x3 7x7", 128, 256, 7, 3},
                                           {"conv5 256->256 3x3 7x7", 256, 256, 7, 3}};
    //! [speed_shapes]
    cnn::Transcript text(out / "ch04_speed.txt");
    text.line(fmt::format("batch N = {}; forward + backward; im2col time is the fastest of {} runs",
                          batch, repeats));
    text.line(fmt::format("{:<26} {:>8} {:>10} {:>9} {:>10} {:>9} {:>8} {:>10}", "layer",
                          "GFLOP", "naive s", "GFLOP/s", "im2col s", "GFLOP/s", "speedup",
                          "rel. diff"));
    cnn::Rng rng(seed);
    std::vector<double> naive_rate, fast_rate;
    std::vector<std::string> names;
    for (const ConvShape& s : shapes) {
        Tensor4 x = Tensor4::from_shape({batch, s.channels, s.size, s.size});
        for (float& v : x) {
            v = rng.normal();
        }
        cnn::Conv2D layer = cnn::Conv2D(s.filters, s.kernel).padding("same");
        layer.build({s.channels, s.size, s.size}, rng);  // He-normal weights, zero biases
        const cnn::Conv2DGeometry g = layer.geometry(s.size, s.size);
        const Tensor4& w = layer.weights();
        const Tensor1& b = layer.bias();
        // Forward: 2 FLOP per multiply-add; backward: twice that (dW and dx).
        const double flop = 3.0 * 2.0 * static_cast<double>(batch * s.filters * s.size * s.size *
                                                            s.channels * s.kernel * s.kernel);
        Tensor4 dw = xt::zeros<float>(w.shape()), dw2 = dw;
        Tensor1 db = xt::zeros<float>(b.shape()), db2 = db;

        auto start = std::chrono::steady_clock::now();
        const Tensor4 y_naive = cnn::conv2d_naive_forward(x, w, b, g);
        const Tensor4 dx_naive = cnn::conv2d_naive_backward(y_naive, x, w, g, dw, db);
        const double naive = seconds_since(start);

        double fast = 1e30;
        Tensor4 y_fast, dx_fast;
        for (std::size_t r = 0; r < repeats; ++r) {
            dw2.fill(0.0f);
            db2.fill(0.0f);
            start = std::chrono::steady_clock::now();
            y_fast = cnn::conv2d_im2col_forward(x, w, b, g);
            dx_fast = cnn::conv2d_im2col_backward(y_naive, x, w, g, dw2, db2);
            fast = std::min(fast, seconds_since(start));
        }
        const auto relative = [](const Tensor4& expected, const Tensor4& actual) {
            return max_difference(expected, actual) /
                   std::max(1.0, static_cast<double>(xt::amax(xt::abs(expected))()));
        };
        const double diff = std::max({relative(y_naive, y_fast), relative(dx_naive, dx_fast),
                                      relative(dw, dw2)});
        naive_rate.push_back(flop / naive / 1e9);
        fast_rate.push_back(flop / fast / 1e9);
        names.push_back(std::string(s.name).substr(0, 5));  // "conv1" ... for the chart
        text.line(fmt::format("{:<26} {:>8.3f} {:>10.3f} {:>9.2f} {:>10.4f} {:>9.1f} {:>7.0f}x {:>10.1e}",
                              s.name, flop / 1e9, naive, naive_rate.back(), fast, fast_rate.back(),
                              naive / fast, diff));
    }
    text.save();
    cnn::BarChart chart;
    chart.title = fmt::format("Convolution speed, forward + backward, batch {} (this machine)", batch);
    chart.y_label = "GFLOP/s (log scale)";
    chart.categories = names;
    chart.series = {{"naive loops", naive_rate}, {"im2col + OpenBLAS", fast_rate}};
    chart.log_y = true;
    chart.width = 1000;
    cnn::save_bar_chart(chart, out / "ch04_speed.png");
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch04_batched_convolution",
                         "Chapter 04: convolution over channels, filters and batches; im2col; "
                         "the receptive field",
                         cnn::ReadsData::no);
    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        std::cout << "== 1. Channels, filters, batch ==\n\n";
        channels_filters_batch(options.out);
        flow_diagrams(options.out);
        std::cout << "== 2. im2col ==\n\n";
        im2col_figures(options.out);
        std::cout << "== 3. 1x1 convolution ==\n\n";
        one_by_one(options.seed, options.out);
        std::cout << "== 4. The receptive field ==\n\n";
        receptive_field(options.out);
        std::cout << "== 5. Naive loops against im2col + BLAS ==\n\n";
        speed(options.quick ? 1 : 8, options.quick ? 1 : 3, options.seed, options.out);
        std::cout << "\nplots and tables written to " << options.out.string() << '\n';
    });
}
