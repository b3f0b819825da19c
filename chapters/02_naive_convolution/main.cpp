// Chapter 02: convolution as a loop you can read.
//
//   1. A worked example, window by window: a 4x4 input and a 3x3 filter give a 2x2 output.
//   2. Convolution versus cross-correlation: the flipped kernel.
//   3. Hand-made filters: a 7x7 vertical-line and a horizontal-line filter on real images;
//      one filter gives one feature map.
//   4. An edge detector, [1, -1], and its transpose.
//   5. Learning a kernel: gradient descent through the backward pass recovers a known kernel.
//   6. Why a convolution layer has so few parameters.
//
// Run: ch02_naive_convolution [--quick] [--out DIR] [--seed N] [--data DIR] [--photo FILE]

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "support/app/program.hpp"
#include "cnn/ops/correlate2d.hpp"
#include "support/io/dataset.hpp"
#include "support/io/data_error.hpp"
#include "support/io/image.hpp"
#include "cnn/ops/dense.hpp"
#include "cnn/layers/parameter.hpp"
#include "cnn/losses/mean_squared_error.hpp"
#include "cnn/optim/sgd.hpp"
#include "support/plot/number_grid.hpp"
#include "support/plot/plot.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Tensor2;



// ---------------------------------------------------------------------------------------------
// 1. A worked example, window by window
// ---------------------------------------------------------------------------------------------

//! [example_data]
// The worked example of Saito, "Deep Learning from Scratch" (2016), figure 7-4: a (4, 4) input
// and a (3, 3) filter; the output there is [[15, 16], [6, 15]], and [[18, 19], [9, 18]] with a
// bias of 3 (figure 7-5).
const Tensor2 example_input = {{1, 2, 3, 0}, {0, 1, 2, 3}, {3, 0, 1, 2}, {2, 3, 0, 1}};
const Tensor2 example_filter = {{2, 0, 1}, {0, 1, 2}, {1, 0, 2}};
//! [example_data]

//! [example_calls]
void worked_example(const fs::path& out) {
    cnn::Transcript text(out / "ch02_worked_example.txt");
    text.line("input x (4, 4):");
    text.line(cnn::matrix_to_text(example_input));
    text.line("filter k (3, 3):");
    text.line(cnn::matrix_to_text(example_filter));
    const Tensor2 y = cnn::correlate2d_forward(example_input, example_filter);
    const Tensor2 y_bias = cnn::correlate2d_forward(example_input, example_filter, 3.0f);
    //! [example_calls]

    cnn::NumberGridFigure figure;
    figure.title = "The 3x3 window slides over the 4x4 input; each position gives one output";
    figure.columns = 3;
    for (std::size_t i = 0; i < y.shape(0); ++i) {
        for (std::size_t j = 0; j < y.shape(1); ++j) {
            // The window under the filter at output position (i, j), multiplied element-wise.
            const Tensor2 window = xt::view(example_input, xt::range(i, i + 3), xt::range(j, j + 3));
            const Tensor2 products = window * example_filter;
            std::string terms;
            for (std::size_t t = 0; t < products.size(); ++t) {
                terms += fmt::format("{}{:g}", t == 0 ? "" : " + ", products.data()[t]);
            }
            text.line(fmt::format("position ({}, {}): window x[{}:{}, {}:{}]", i, j, i, i + 3, j,
                                  j + 3));
            text.line(cnn::matrix_to_text(window));
            text.line(fmt::format("  window * k, summed: {} = {:g}", terms, y(i, j)));
            text.line();
            figure.grids.push_back({example_input, fmt::format("x, window at ({}, {})", i, j),
                                    {{i, j, 3, 3}}});
            figure.grids.push_back({products, "window * k", {}});
            figure.grids.push_back({y, fmt::format("y, output ({}, {})", i, j), {{i, j, 1, 1}}});
        }
    }
    text.line("output y = correlate2d_forward(x, k) (2, 2):");
    text.line(cnn::matrix_to_text(y));
    text.line("with bias b = 3, added once to every output: correlate2d_forward(x, k, 3):");
    text.line(cnn::matrix_to_text(y_bias));
    text.save();
    cnn::save_number_grids(figure, out / "ch02_sliding_window.png");
}

// ---------------------------------------------------------------------------------------------
// 2. Convolution versus cross-correlation
// ---------------------------------------------------------------------------------------------

void convolution_versus_correlation(const fs::path& out) {
    cnn::Transcript text(out / "ch02_convolution.txt");
    //! [convolution]
    const Tensor2 flipped = cnn::flip2d(example_filter);
    const Tensor2 convolved = cnn::convolve2d(example_input, example_filter);
    const Tensor2 correlated_flipped = cnn::correlate2d_forward(example_input, flipped);
    //! [convolution]
    text.line("the filter turned by 180 degrees, flip2d(k):");
    text.line(cnn::matrix_to_text(flipped));
    text.line("true convolution, convolve2d(x, k):");
    text.line(cnn::matrix_to_text(convolved));
    text.line("cross-correlation with the flipped filter, correlate2d_forward(x, flip2d(k)):");
    text.line(cnn::matrix_to_text(correlated_flipped));
    text.line(fmt::format("largest difference between the two: {:g}",
                          xt::amax(xt::abs(convolved - correlated_flipped))()));
    text.line("cross-correlation with k itself (section 1) differs:");
    text.line(cnn::matrix_to_text(cnn::correlate2d_forward(example_input, example_filter)));
    text.save();
}

// ---------------------------------------------------------------------------------------------
// 3. Hand-made filters on real images
// ---------------------------------------------------------------------------------------------

//! [line_filters]
// The two filters of Géron's chapter 14: 7x7, zero except for a middle column (or row) of ones.
Tensor2 vertical_line_filter() {
    Tensor2 k = xt::zeros<float>({7, 7});
    xt::view(k, xt::all(), 3) = 1.0f;
    return k;
}

Tensor2 horizontal_line_filter() {
    Tensor2 k = xt::zeros<float>({7, 7});
    xt::view(k, 3, xt::all()) = 1.0f;
    return k;
}
//! [line_filters]

void line_filters(const cnn::Dataset& fashion, const Tensor2& photo, const fs::path& out) {
    const Tensor2 vertical = vertical_line_filter();
    const Tensor2 horizontal = horizontal_line_filter();
    cnn::save_number_grids({"The two hand-made 7x7 filters",
                            {{vertical, "vertical line", {}}, {horizontal, "horizontal line", {}}},
                            2, 22, 0},
                           out / "ch02_line_filters.png");

    const auto& names = cnn::fashion_mnist_class_names();
    cnn::ImageGrid grid;
    grid.title = "Fashion-MNIST images (28x28) and their feature maps (22x22), one per filter";
    grid.columns = 3;
    grid.cell_pixels = 150;
    const std::vector<std::size_t> picks = {0, 1, 2, 8};  // a boot, a pullover, trousers, a sandal
    for (std::size_t n : picks) {
        const Tensor2 image = xt::view(fashion.images, n, 0);
        grid.images.push_back({image, names.at(fashion.labels[n])});
        grid.images.push_back({cnn::correlate2d_forward(image, vertical), "vertical filter"});
        grid.images.push_back({cnn::correlate2d_forward(image, horizontal), "horizontal filter"});
    }
    cnn::save_image_grid(grid, out / "ch02_feature_maps_fashion.png");

    //! [photo_feature_maps]
    const Tensor2 photo_vertical = cnn::correlate2d_forward(photo, vertical);
    const Tensor2 photo_horizontal = cnn::correlate2d_forward(photo, horizontal);
    //! [photo_feature_maps]
    cnn::ImageGrid photo_grid;
    photo_grid.title = "A photograph and its two feature maps (photo: Aitzol Berasategi, CC-BY-4.0)";
    photo_grid.columns = 3;
    photo_grid.cell_pixels = 300;
    photo_grid.images = {
        {photo, fmt::format("input {}", cnn::shape_to_string(photo.shape()))},
        {photo_vertical, fmt::format("vertical filter {}", cnn::shape_to_string(photo_vertical.shape()))},
        {photo_horizontal,
         fmt::format("horizontal filter {}", cnn::shape_to_string(photo_horizontal.shape()))}};
    cnn::save_image_grid(photo_grid, out / "ch02_feature_maps_photo.png");
    std::cout << fmt::format("photo {} -> feature maps {}\n\n", cnn::shape_to_string(photo.shape()),
                             cnn::shape_to_string(photo_vertical.shape()));
}

// ---------------------------------------------------------------------------------------------
// 4. An edge detector
// ---------------------------------------------------------------------------------------------

void edge_detector(const cnn::Dataset& fashion, const fs::path& out) {
    //! [edges]
    // A dark 6x8 image with a bright 4x4 square; the kernel [1, -1] compares each pixel with
    // its right-hand neighbour, its transpose with the pixel below.
    Tensor2 square = xt::zeros<float>({6, 8});
    xt::view(square, xt::range(1, 5), xt::range(2, 6)) = 1.0f;
    const Tensor2 edge = {{1, -1}};
    const Tensor2 edge_t = xt::transpose(edge);
    const Tensor2 vertical_edges = cnn::correlate2d_forward(square, edge);      // (6, 7)
    const Tensor2 horizontal_edges = cnn::correlate2d_forward(square, edge_t);  // (5, 8)
    //! [edges]
    cnn::Transcript text(out / "ch02_edges.txt");
    text.line("image (6, 8):");
    text.line(cnn::matrix_to_text(square, 0, 3));
    text.line("correlate2d_forward(image, [[1, -1]]) (6, 7): +1 where brightness drops to the "
              "right, -1 where it rises");
    text.line(cnn::matrix_to_text(vertical_edges, 0, 3));
    text.line("correlate2d_forward(image, [[1], [-1]]) (5, 8): the same, downwards");
    text.line(cnn::matrix_to_text(horizontal_edges, 0, 3));
    text.save();
    cnn::save_number_grids({"The edge kernel [1, -1] and its transpose on a bright square",
                            {{square, "image (6, 8)", {}},
                             {vertical_edges, "kernel [1, -1]: (6, 7)", {}},
                             {horizontal_edges, "kernel [1, -1] transposed: (5, 8)", {}}},
                            3, 30, 0},
                           out / "ch02_edges.png");

    const auto& names = cnn::fashion_mnist_class_names();
    cnn::ImageGrid grid;
    grid.title = "The same two kernels on Fashion-MNIST images (red +, blue -)";
    grid.columns = 4;
    grid.cell_pixels = 150;
    grid.diverging = true;
    for (std::size_t n : {0, 1}) {
        const Tensor2 image = xt::view(fashion.images, n, 0);
        const std::string name = names.at(fashion.labels[n]);
        grid.images.push_back({cnn::correlate2d_forward(image, edge), name + ", [1, -1]"});
        grid.images.push_back(
            {cnn::correlate2d_forward(image, edge_t), name + ", [1, -1] transposed"});
    }
    cnn::save_image_grid(grid, out / "ch02_edges_fashion.png");
}

// ---------------------------------------------------------------------------------------------
// 5. Learning a kernel
// ---------------------------------------------------------------------------------------------

void learn_kernel(const Tensor2& photo, std::size_t steps, std::uint64_t seed, const fs::path& out) {
    //! [learn_target]
    // The target: what a known kernel and bias make of the photo.
    const Tensor2 true_kernel = {{1, 0, -1}, {2, 0, -2}, {1, 0, -1}};  // Sobel, vertical edges
    const float true_bias = 0.5f;
    const Tensor2 target = cnn::correlate2d_forward(photo, true_kernel, true_bias);

    // The learner: a random 3x3 kernel and a zero bias, trained by SGD with momentum from
    // chapter 01 through the backward pass of the naive loops.
    cnn::Rng rng(seed);
    Tensor2 kernel = Tensor2::from_shape({3, 3}), dkernel = xt::zeros<float>({3, 3});
    for (float& w : kernel) {
        w = rng.normal();
    }
    cnn::Tensor1 bias = {0.0f}, dbias = {0.0f};
    const std::vector<cnn::Parameter> parameters = {
        cnn::make_parameter("kernel", kernel, dkernel), cnn::make_parameter("bias", bias, dbias)};
    cnn::Sgd sgd({/*learning_rate=*/0.05f, /*momentum=*/0.9f});
    //! [learn_target]

    //! [learn_loop]
    cnn::Series loss_curve{"mean squared error", {}, {}};
    for (std::size_t step = 0; step <= steps; ++step) {
        const Tensor2 y = cnn::correlate2d_forward(photo, kernel, bias(0));
        const double loss = cnn::mean_squared_error_forward(y, target);
        loss_curve.x.push_back(static_cast<double>(step));
        loss_curve.y.push_back(loss);
        if (step == steps) {
            break;
        }
        cnn::zero_gradients(parameters);
        cnn::correlate2d_backward(cnn::mean_squared_error_backward(y, target), photo, kernel,
                                  dkernel, dbias(0));
        sgd.step(parameters);
    }
    //! [learn_loop]

    cnn::Transcript text(out / "ch02_learning.txt");
    text.line(fmt::format("input: the photo {}, target: its correlation with the kernel below "
                          "plus bias {:g}",
                          cnn::shape_to_string(photo.shape()), true_bias));
    for (std::size_t step : {std::size_t{0}, steps / 10, steps / 4, steps / 2, steps}) {
        text.line(fmt::format("step {:>4}: loss {:.3e}", step, loss_curve.y[step]));
    }
    text.line("true kernel:");
    text.line(cnn::matrix_to_text(true_kernel, 3, 8));
    text.line("learned kernel:");
    text.line(cnn::matrix_to_text(kernel, 3, 8));
    text.line(fmt::format("true bias {:.3f}, learned bias {:.3f}", true_bias, bias(0)));
    text.line(fmt::format("largest kernel error: {:.2e}", xt::amax(xt::abs(kernel - true_kernel))()));
    text.save();

    cnn::LinePlot plot;
    plot.title = "Learning a 3x3 kernel by gradient descent";
    plot.x_label = "step";
    plot.y_label = "mean squared error (log scale)";
    plot.log_y = true;
    plot.points = false;
    for (double& v : loss_curve.y) {
        v = std::max(v, 1e-12);  // an exact fit would be 0, which a log axis cannot show
    }
    plot.series = {loss_curve};
    cnn::save_line_plot(plot, out / "ch02_learning_loss.png");
    cnn::save_number_grids({"The kernel that made the target, and the one gradient descent found",
                            {{true_kernel, "true kernel", {}}, {kernel, "learned kernel", {}}},
                            2, 56, 3},
                           out / "ch02_learned_kernel.png");
}

// ---------------------------------------------------------------------------------------------
// 6. Why so few parameters
// ---------------------------------------------------------------------------------------------

//! [parameter_counts]
void parameter_counts(const fs::path& out) {
    // One 28x28 grey image in, one 28x28 map out (as a 'same' convolution, chapter 03, gives).
    const std::size_t pixels = 28 * 28;
    cnn::Transcript text(out / "ch02_parameters.txt");
    text.line(fmt::format("{:<34} {:>11} {:>24} {:>22}", "layer (28x28 in, 28x28 out)",
                          "parameters", "inputs each output sees", "outputs sharing a weight"));
    text.line(fmt::format("{:<34} {:>11} {:>24} {:>22}", "Dense, 784 -> 784 (chapter 01)",
                          cnn::thousands(cnn::dense_parameter_count(pixels, pixels)), pixels, 1));
    for (std::size_t f : {3, 5, 7}) {
        text.line(fmt::format("{:<34} {:>11} {:>24} {:>22}",
                              fmt::format("one {}x{} filter and its bias", f, f), f * f + 1, f * f,
                              pixels));
    }
    text.save();
}
//! [parameter_counts]

// Section 5 learns on a 96 x 96 crop of the photo, from 11/20 of its height and 1/4 of its
// width: its planks and posts give every weight something to learn from.
constexpr std::size_t crop_side = 96;
std::size_t crop_top(std::size_t height) { return height * 11 / 20; }
std::size_t crop_left(std::size_t width) { return width / 4; }

// Refuses a photo this chapter cannot use, naming --photo: one without room for section 5's
// crop, or of a single shade (no edges to find, no spread to standardise by).
void check_photo(const Tensor2& photo, const std::string& file) {
    const std::size_t h = photo.shape(0), w = photo.shape(1);
    if (h < crop_top(h) + crop_side || w < crop_left(w) + crop_side) {
        std::size_t rows = crop_side, cols = crop_side;  // the smallest sizes that hold it
        while (rows < crop_top(rows) + crop_side) {
            ++rows;
        }
        while (cols < crop_left(cols) + crop_side) {
            ++cols;
        }
        throw std::invalid_argument(fmt::format(
            "--photo {}: expected a photo with room for section 5's {} x {} crop (at least {} x "
            "{} pixels once shrunk to 320 at most), found {} x {}",
            file, crop_side, crop_side, rows, cols, h, w));
    }
    const auto [low, high] = std::minmax_element(photo.begin(), photo.end());
    if (*low == *high) {
        throw std::invalid_argument(
            fmt::format("--photo {}: expected a photo with more than one shade of grey, found "
                        "{} everywhere",
                        file, std::lround(*low * 255.0f)));
    }
}

// Section 5's input: the crop, standardised to mean 0 and standard deviation 1. Throws, naming
// --photo, if the crop is of a single shade, which has no deviation to divide by.
Tensor2 learning_crop(const Tensor2& photo, const std::string& file) {
    const std::size_t top = crop_top(photo.shape(0)), left = crop_left(photo.shape(1));
    Tensor2 crop = xt::view(photo, xt::range(top, top + crop_side),
                            xt::range(left, left + crop_side));
    const float deviation = xt::stddev(crop)();
    if (!(deviation > 0.0f)) {
        throw std::invalid_argument(fmt::format(
            "--photo {}: expected some contrast in the {} x {} crop at row {}, column {} that "
            "section 5 learns on, found a single shade",
            file, crop_side, crop_side, top, left));
    }
    return (crop - xt::mean(crop)()) / deviation;
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch02_naive_convolution",
                         "Chapter 02: convolution as a loop you can read", cnn::ReadsData::yes);
    std::string photo_file = cnn::debian_photo;  // section 3's photograph
    program.option("--photo", photo_file, "A photograph (PNG, JPEG, ...) for the feature maps")
        .show_default();

    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        std::cout << "== 1. A worked example ==\n\n";
        worked_example(options.out);

        std::cout << "== 2. Convolution versus cross-correlation ==\n\n";
        convolution_versus_correlation(options.out);

        std::cout << "== 3. Hand-made filters ==\n\n";
        const fs::path data_dir = cnn::find_data_directory(options.data, options.quick);
        const cnn::Dataset fashion = cnn::load_split(data_dir, cnn::Split::test, 16);
        cnn::require_images(fashion, 9, "the figures show test images 0, 1, 2 and 8");
        const Tensor2 photo = cnn::load_grayscale_image(photo_file, 320);
        check_photo(photo, photo_file);
        line_filters(fashion, photo, options.out);

        std::cout << "== 4. An edge detector ==\n\n";
        edge_detector(fashion, options.out);

        std::cout << "== 5. Learning a kernel ==\n\n";
        // A 96x96 crop of the photo keeps each step cheap (see learning_crop()).
        learn_kernel(learning_crop(photo, photo_file), options.quick ? 300 : 600, options.seed,
                     options.out);

        std::cout << "== 6. Why so few parameters ==\n\n";
        parameter_counts(options.out);
        std::cout << "\nplots and tables written to " << options.out.string() << '\n';
    });
}
