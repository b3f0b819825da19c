// Chapter 05: pooling — max and average, invariance, and what is thrown away.
//
//   1. Max and average pooling on a worked example.
//   2. Géron's shifted images A, B and C under 2x2 max pooling.
//   3. Max pooling is destructive: 75% of the values dropped, counted on real feature maps, and
//      what that saves the next layer.
//   4. Equivariance and invariance, measured: how outputs change when the input shifts.
//   5. Feature maps of a real image before and after max and average pooling.
//
// Run: ch05_pooling [--quick] [--out DIR] [--seed N] [--data DIR]

#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "support/app/program.hpp"
#include "cnn/ops/conv2d_im2col.hpp"
#include "cnn/ops/pooling.hpp"
#include "support/io/dataset.hpp"
#include "support/io/data_error.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "support/plot/number_grid.hpp"
#include "support/plot/plot.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"
#include "cnn/tensor/transform.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Tensor2;
using cnn::Tensor4;


Tensor4 as_batch(const Tensor2& image) {
    Tensor4 x = Tensor4::from_shape({1, 1, image.shape(0), image.shape(1)});
    std::copy(image.begin(), image.end(), x.begin());
    return x;
}

// ---------------------------------------------------------------------------------------------
// 1. A worked example
// ---------------------------------------------------------------------------------------------

void worked_example(const fs::path& out) {
    //! [worked_example]
    // The 4x4 input of the max-pooling figure in Saito, "Deep Learning from Scratch" (fig. 7-14),
    // pooled with 2x2 windows and stride 2 (the MaxPooling2D(2) of Keras).
    const Tensor2 x = {{1, 2, 1, 0}, {0, 1, 2, 3}, {3, 0, 1, 2}, {2, 4, 0, 1}};
    cnn::MaxPooling2D max_pool;      // 2x2, stride 2, 'valid'
    cnn::AveragePooling2D avg_pool;  // the same window, the mean instead of the max
    const Tensor4 y_max = max_pool.forward(as_batch(x));
    const Tensor4 y_avg = avg_pool.forward(as_batch(x));
    //! [worked_example]
    cnn::Transcript text(out / "ch05_worked_example.txt");
    text.line("input (4, 4):");
    text.line(cnn::matrix_to_text(x));
    text.line("2x2 max pooling, stride 2 -> (2, 2):");
    text.line(cnn::matrix_to_text(xt::view(y_max, 0, 0)));
    text.line("2x2 average pooling, stride 2 -> (2, 2):");
    text.line(cnn::matrix_to_text(xt::view(y_avg, 0, 0)));
    text.line(fmt::format("parameters of either layer: {}", max_pool.parameter_count()));
    text.save();
    std::cout << '\n';
    cnn::save_number_grids(
        {"2x2 pooling with stride 2: four windows, four outputs, no weights",
         {{x, "input", {{0, 0, 2, 2}, {0, 2, 2, 2}, {2, 0, 2, 2}, {2, 2, 2, 2}}},
          {xt::view(y_max, 0, 0), "max pooling", {}},
          {xt::view(y_avg, 0, 0), "average pooling", {}}},
         3, 40, 2},
        out / "ch05_worked_example.png");
}

// ---------------------------------------------------------------------------------------------
// 2. A, B and C
// ---------------------------------------------------------------------------------------------

void shifted_images(const fs::path& out) {
    //! [abc]
    // A has its bright pixels in the left column of each 2x2 block. B is A moved one pixel to the
    // right: every bright pixel stays inside its block. C is A moved one pixel to the left:
    // every bright pixel crosses into the neighbouring block.
    Tensor2 a = xt::zeros<float>({4, 8});
    a(0, 2) = 1.0f;
    a(1, 4) = 0.6f;
    a(2, 0) = 0.8f;
    a(3, 6) = 0.4f;
    a(3, 2) = 0.9f;
    const Tensor4 images[3] = {as_batch(a), cnn::shift_images(as_batch(a), 0, 1),
                               cnn::shift_images(as_batch(a), 0, -1)};
    cnn::MaxPooling2D pool;  // 2x2, stride 2
    Tensor4 pooled[3];
    for (int k = 0; k < 3; ++k) {
        pooled[k] = pool.forward(images[k]);
    }
    //! [abc]
    const char* names[3] = {"A", "B (A one pixel right)", "C (A one pixel left)"};
    cnn::Transcript text(out / "ch05_abc.txt");
    cnn::NumberGridFigure figure;
    figure.title = "2x2 max pooling, stride 2: A and B pool to the same output, C does not";
    figure.columns = 2;
    figure.cell_pixels = 30;
    figure.decimals = 1;
    for (int k = 0; k < 3; ++k) {
        text.line(fmt::format("{} (4, 8):", names[k]));
        text.line(cnn::matrix_to_text(xt::view(images[k], 0, 0)));
        text.line("after max pooling (2, 4):");
        text.line(cnn::matrix_to_text(xt::view(pooled[k], 0, 0)));
        std::vector<cnn::CellBox> blocks;
        for (std::size_t r = 0; r < 4; r += 2) {
            for (std::size_t c = 0; c < 8; c += 2) {
                blocks.push_back({r, c, 2, 2});
            }
        }
        figure.grids.push_back({xt::view(images[k], 0, 0), names[k], blocks});
        figure.grids.push_back({xt::view(pooled[k], 0, 0), std::string("pooled ") + names[k][0], {}});
    }
    const auto same = [&](int p, int q) {
        return xt::amax(xt::abs(pooled[p] - pooled[q]))() == 0.0f ? "identical" : "different";
    };
    text.line(fmt::format("pooled A and pooled B: {}; pooled A and pooled C: {}", same(0, 1),
                          same(0, 2)));
    text.save();
    std::cout << '\n';
    cnn::save_number_grids(figure, out / "ch05_abc.png");
}

// ---------------------------------------------------------------------------------------------
// Real feature maps: Fashion-MNIST images through a convolution layer with hand-set filters
// ---------------------------------------------------------------------------------------------

// Four 3x3 filters: vertical edges, horizontal edges, a blur, a centre-surround spot.
cnn::Conv2D feature_layer(cnn::Rng& rng) {
    cnn::Conv2D conv = cnn::Conv2D(4, 3).padding("same");
    conv.build({1, 28, 28}, rng);  // one input channel; the filters are set by hand below
    const Tensor4 filters = {{{{1, 0, -1}, {2, 0, -2}, {1, 0, -1}}},
                             {{{1, 2, 1}, {0, 0, 0}, {-1, -2, -1}}},
                             {{{1.f / 9, 1.f / 9, 1.f / 9}, {1.f / 9, 1.f / 9, 1.f / 9}, {1.f / 9, 1.f / 9, 1.f / 9}}},
                             {{{-1, -1, -1}, {-1, 8, -1}, {-1, -1, -1}}}};
    conv.weights() = filters;
    return conv;
}

// ---------------------------------------------------------------------------------------------
// 3. What max pooling throws away
// ---------------------------------------------------------------------------------------------

void destructive(const Tensor4& maps, const fs::path& out) {
    //! [dropped]
    cnn::MaxPooling2D pool;
    const Tensor4 pooled = pool.forward(maps);
    // Count the inputs that won a window (their value went on) and those that did not.
    const Tensor4 routed = pool.backward(xt::ones<float>(pooled.shape()));
    const std::size_t kept = static_cast<std::size_t>(xt::sum(xt::not_equal(routed, 0.0f))());
    //! [dropped]
    const double total = static_cast<double>(maps.size());
    cnn::Transcript text(out / "ch05_dropped.txt");
    text.line(fmt::format("feature maps {} -> 2x2 max pooling -> {}",
                          cnn::shape_to_string(maps.shape()), cnn::shape_to_string(pooled.shape())));
    text.line(fmt::format("values in: {}, passed on: {} ({:.1f}%), dropped: {} ({:.1f}%)",
                          cnn::thousands(maps.size()), cnn::thousands(kept), 100.0 * kept / total,
                          cnn::thousands(maps.size() - kept), 100.0 * (total - kept) / total));
    text.line(fmt::format("memory of the maps as float32: {:.2f} MB before, {:.2f} MB after",
                          total * 4 / 1e6, static_cast<double>(pooled.size()) * 4 / 1e6));
    // The next layer: a 3x3 'same' convolution to 64 filters costs per image
    // OH * OW * 64 * C * 9 multiply-adds.
    const auto macs = [&](const Tensor4& t) {
        return static_cast<double>(t.shape(2) * t.shape(3) * 64 * t.shape(1) * 9);
    };
    text.line(fmt::format("a following 3x3 convolution to 64 maps: {} multiply-adds per image "
                          "before pooling, {} after ({:.0f}%)",
                          cnn::thousands(static_cast<std::uint64_t>(macs(maps))),
                          cnn::thousands(static_cast<std::uint64_t>(macs(pooled))),
                          100.0 * macs(pooled) / macs(maps)));
    text.save();
    std::cout << '\n';
}

// ---------------------------------------------------------------------------------------------
// 4. Equivariance and invariance
// ---------------------------------------------------------------------------------------------

// ||a - b|| / ||b||, over whole batches.
template <std::size_t Rank>
double relative_change(const xt::xtensor<float, Rank>& a, const xt::xtensor<float, Rank>& b) {
    return std::sqrt(static_cast<double>(xt::sum(xt::square(a - b))())) /
           std::sqrt(static_cast<double>(xt::sum(xt::square(b))()));
}

void shift_study(cnn::Conv2D& conv, const Tensor4& images, std::size_t max_shift,
                 const fs::path& out) {
    //! [shift_reference]
    // For each shift s: move the images s pixels right and compare what comes out with the
    // output for the unshifted images.
    cnn::MaxPooling2D pool2;                                   // 2x2 max pooling
    cnn::MaxPooling2D pool4(4);                                // 4x4 max pooling
    const Tensor4 maps = conv.forward(images);
    const Tensor4 pooled2 = pool2.forward(maps);
    const Tensor4 pooled4 = pool4.forward(maps);
    cnn::GlobalAveragePooling2D global;
    const Tensor4 averaged = global.forward(maps);  // (N, C, 1, 1)
    //! [shift_reference]
    cnn::Series conv_in_place{"convolution, same positions", {}, {}};
    cnn::Series conv_shifted{"convolution, shifted back (equivariance)", {}, {}};
    cnn::Series pool2_series{"after 2x2 max pooling", {}, {}};
    cnn::Series pool4_series{"after 4x4 max pooling", {}, {}};
    cnn::Series global_series{"after global average pooling", {}, {}};
    //! [shift_loop]
    for (std::size_t s = 0; s <= max_shift; ++s) {
        const auto shift = static_cast<std::ptrdiff_t>(s);
        const Tensor4 moved_maps = conv.forward(cnn::shift_images(images, 0, shift));
        const double x = static_cast<double>(s);
        conv_in_place.x.push_back(x);
        conv_in_place.y.push_back(relative_change(moved_maps, maps));
        conv_shifted.x.push_back(x);
        conv_shifted.y.push_back(relative_change(moved_maps, cnn::shift_images(maps, 0, shift)));
        pool2_series.x.push_back(x);
        pool2_series.y.push_back(relative_change(pool2.forward(moved_maps), pooled2));
        pool4_series.x.push_back(x);
        pool4_series.y.push_back(relative_change(pool4.forward(moved_maps), pooled4));
        global_series.x.push_back(x);
        global_series.y.push_back(relative_change(global.forward(moved_maps), averaged));
    }
    //! [shift_loop]
    cnn::Transcript text(out / "ch05_shift.txt");
    text.line(fmt::format("relative change ||out(shifted) - out|| / ||out|| over {} images",
                          images.shape(0)));
    text.line(fmt::format("{:>6} {:>14} {:>18} {:>8} {:>8} {:>15}", "shift", "conv in place",
                          "conv shifted back", "max 2x2", "max 4x4", "global average"));
    for (std::size_t s = 0; s <= max_shift; ++s) {
        text.line(fmt::format("{:>6} {:>14.3f} {:>18.3f} {:>8.3f} {:>8.3f} {:>15.3f}", s,
                              conv_in_place.y[s], conv_shifted.y[s], pool2_series.y[s],
                              pool4_series.y[s], global_series.y[s]));
    }
    text.save();
    std::cout << '\n';
    cnn::LinePlot plot;
    plot.title = "How much outputs change when Fashion-MNIST images move right";
    plot.x_label = "shift (pixels)";
    plot.y_label = "relative change of the output";
    plot.series = {conv_in_place, conv_shifted, pool2_series, pool4_series, global_series};
    cnn::save_line_plot(plot, out / "ch05_shift.png");
}

// ---------------------------------------------------------------------------------------------
// 5. Feature maps before and after pooling
// ---------------------------------------------------------------------------------------------

void pooled_maps(cnn::Conv2D& conv, const Tensor4& image, const std::string& label,
                 const fs::path& out) {
    const Tensor4 maps = conv.forward(image);  // (1, 4, 28, 28)
    cnn::MaxPooling2D max_pool;
    cnn::AveragePooling2D avg_pool;
    const Tensor4 maxed = max_pool.forward(maps);
    const Tensor4 averaged = avg_pool.forward(maps);
    const char* filters[4] = {"vertical edges", "horizontal edges", "blur", "spot"};
    cnn::ImageGrid grid;
    grid.title = fmt::format("A {}: four feature maps (28x28), after 2x2 max and average pooling (14x14)",
                             label);
    grid.columns = 3;
    grid.cell_pixels = 150;
    for (std::size_t f = 0; f < 4; ++f) {
        grid.images.push_back({xt::view(maps, 0, f), filters[f]});
        grid.images.push_back({xt::view(maxed, 0, f), "max pooled"});
        grid.images.push_back({xt::view(averaged, 0, f), "average pooled"});
    }
    cnn::save_image_grid(grid, out / "ch05_pooled_maps.png");
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch05_pooling",
                         "Chapter 05: pooling — max and average, invariance, and what is thrown away",
                         cnn::ReadsData::yes);
    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        std::cout << "== 1. A worked example ==\n\n";
        worked_example(options.out);
        std::cout << "== 2. A, B and C ==\n\n";
        shifted_images(options.out);

        const fs::path dir = cnn::find_data_directory(options.data, options.quick);
        const cnn::Dataset test = cnn::load_split(dir, cnn::Split::test, options.quick ? 100 : 1000);
        cnn::require_images(test, 2, "the pooled maps show test image 1");
        cnn::Rng rng(options.seed);
        cnn::Conv2D conv = feature_layer(rng);
        std::cout << "== 3. What max pooling throws away ==\n\n";
        destructive(conv.forward(test.images), options.out);
        std::cout << "== 4. Equivariance and invariance ==\n\n";
        shift_study(conv, test.images, 6, options.out);
        std::cout << "== 5. Feature maps before and after pooling ==\n\n";
        const Tensor4 first = xt::view(test.images, xt::range(1, 2));
        pooled_maps(conv, first, cnn::fashion_mnist_class_names().at(test.labels[1]), options.out);
        std::cout << "plots and tables written to " << options.out.string() << '\n';
    });
}
