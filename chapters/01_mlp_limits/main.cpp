// Chapter 01: why a multi-layer perceptron is the wrong tool for images.
//
// Three experiments, each with numbers this program computes:
//   1. Parameter explosion: what one Dense layer on a flattened image costs, against a 3x3
//      convolution layer, from 28x28 grey images up to 224x224 colour ones.
//   2. Pixel shuffling: the same MLP trained on Fashion-MNIST and on the same images with their
//      pixels scrambled by one fixed permutation reaches the same test accuracy. The MLP never
//      knew which pixels were neighbours.
//   3. Translation: the trained MLP's accuracy as the test images move a few pixels.
//
// Run: ch01_mlp_limits [--quick] [--out DIR] [--seed N] [--data DIR] [--epochs N] [--seeds N]

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>
#include <xtensor/xview.hpp>

#include "support/app/program.hpp"
#include "support/app/statistics.hpp"
#include "cnn/check/gradient_check.hpp"
#include "support/io/dataset.hpp"
#include "cnn/model/batches.hpp"
#include "cnn/model/mlp.hpp"
#include "cnn/ops/dense.hpp"
#include "cnn/optim/sgd.hpp"
#include "support/plot/plot.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"
#include "cnn/tensor/transform.hpp"

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// 1. Parameter explosion
// ---------------------------------------------------------------------------------------------

struct ImageSize {
    std::size_t height, width, channels;
    const char* example;
};

//! [parameter_counts]
// A 3x3 convolution layer with 64 filters: each filter has 3 * 3 * C weights and one bias,
// and the same filter slides over every position, so the count does not depend on H or W.
// (Chapters 02-04 build this layer; here we only count.)
std::uint64_t conv3x3_parameters(std::uint64_t channels, std::uint64_t filters) {
    return (3 * 3 * channels + 1) * filters;
}

// A Dense layer on the flattened image: every one of the H * W * C inputs is wired to every
// unit. "Keeping the size" means as many units as inputs, the way a convolution layer with
// 'same' padding keeps one output per input pixel.
std::uint64_t dense_parameters(std::uint64_t inputs, std::uint64_t units) {
    return cnn::dense_parameter_count(inputs, units);
}
//! [parameter_counts]

// 90.6 GB reads better than 90,635,317,248 bytes.
std::string human_bytes(std::uint64_t bytes) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1000.0 && unit + 1 < std::size(units)) {
        value /= 1000.0;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, units[unit]);
}

void parameter_explosion(const fs::path& out) {
    const std::vector<ImageSize> sizes = {
        {28, 28, 1, "Fashion-MNIST"}, {32, 32, 3, "CIFAR-10"},  {64, 64, 3, "small photo"},
        {128, 128, 3, "medium photo"}, {224, 224, 3, "ImageNet"},
    };
    cnn::Transcript table(out / "ch01_parameters.txt");
    table.line(fmt::format("{:<15} {:>14} {:>9} {:>18} {:>22} {:>12} {:>13}", "image", "example",
                    "inputs", "Dense, 1000 units", "Dense, inputs->inputs", "as float32",
                    "Conv 3x3, 64"));
    for (const ImageSize& s : sizes) {
        const std::uint64_t inputs = s.height * s.width * s.channels;
        const std::uint64_t square = dense_parameters(inputs, inputs);
        table.line(fmt::format("{:<15} {:>14} {:>9} {:>18} {:>22} {:>12} {:>13}",
                        fmt::format("{}x{}x{}", s.height, s.width, s.channels), s.example,
                        cnn::thousands(inputs), cnn::thousands(dense_parameters(inputs, 1000)),
                        cnn::thousands(square), human_bytes(square * 4),
                        cnn::thousands(conv3x3_parameters(s.channels, 64))));
    }
    table.save();
    std::cout << '\n';

    cnn::LinePlot plot;
    plot.title = "Parameters of one layer on an RGB image of side s (s x s x 3 inputs)";
    plot.x_label = "image side s (pixels)";
    plot.y_label = "parameters (log scale)";
    plot.log_y = true;
    cnn::Series dense_square{"Dense, one unit per input", {}, {}};
    cnn::Series dense_1000{"Dense, 1000 units", {}, {}};
    cnn::Series conv{"Conv 3x3, 64 filters", {}, {}};
    for (std::uint64_t side = 8; side <= 256; side += 8) {
        const std::uint64_t inputs = side * side * 3;
        for (cnn::Series* s : {&dense_square, &dense_1000, &conv}) {
            s->x.push_back(static_cast<double>(side));
        }
        dense_square.y.push_back(static_cast<double>(dense_parameters(inputs, inputs)));
        dense_1000.y.push_back(static_cast<double>(dense_parameters(inputs, 1000)));
        conv.y.push_back(static_cast<double>(conv3x3_parameters(3, 64)));
    }
    plot.series = {dense_square, dense_1000, conv};
    cnn::save_line_plot(plot, out / "ch01_parameters.png");
}

// ---------------------------------------------------------------------------------------------
// 2. Pixel shuffling and 3. translation
// ---------------------------------------------------------------------------------------------

// How big the experiment is: the full run, or --quick on the committed sample.
struct Setup {
    std::size_t train_limit;     // 0 = all of the training file
    std::size_t validation;      // examples held out of training to watch each epoch
    std::vector<std::size_t> hidden;
    std::size_t epochs;
    std::size_t seeds;           // independent repetitions of the shuffle experiment
    std::size_t max_shift;
};

// Images (N, 1, 28, 28) and their labels; the MLP flattens them itself (its first layer).
struct Split {
    cnn::Tensor4 x;
    cnn::Labels y;
};

struct Data {
    Split train, validation, test;
};

// The shape of one image, (C, H, W).
cnn::Shape image_shape(const cnn::Tensor4& images) {
    return {images.shape(1), images.shape(2), images.shape(3)};
}

Data load_data(const cnn::ProgramOptions& options, const Setup& setup) {
    const fs::path dir = cnn::find_data_directory(options.data, options.quick);
    std::cout << "data: " << dir.string() << '\n';
    const cnn::Dataset train = cnn::load_split(dir, cnn::Split::train, setup.train_limit);
    const cnn::Dataset test = cnn::load_split(dir, cnn::Split::test);
    // The gradient check takes four training images; the figures and the shift experiment
    // draw 28 x 28 pictures.
    cnn::require_images(train, setup.validation + 4,
                        fmt::format("{} held out for validation, 4 more to train on",
                                    setup.validation));
    cnn::require_images(test, 1);
    const std::size_t n = train.labels.size();
    // The last `validation` training images are held out; the test set is only used at the end.
    std::vector<std::size_t> fit_rows(n - setup.validation), val_rows(setup.validation);
    for (std::size_t i = 0; i < n; ++i) {
        (i < fit_rows.size() ? fit_rows[i] : val_rows[i - fit_rows.size()]) = i;
    }
    Data data;
    data.train = {cnn::take_examples(train.images, fit_rows), cnn::take_labels(train.labels, fit_rows)};
    data.validation = {cnn::take_examples(train.images, val_rows),
                       cnn::take_labels(train.labels, val_rows)};
    data.test = {test.images, test.labels};
    const cnn::Shape shape = image_shape(train.images);
    std::cout << fmt::format("train {} images, validation {}, test {}; each {} -> {} inputs\n\n",
                             data.train.y.size(), data.validation.y.size(), data.test.y.size(),
                             cnn::shape_to_string(shape), shape[0] * shape[1] * shape[2]);
    return data;
}

// The same pixels of every image (train, validation, test), put in a different fixed order.
Split permuted(const Split& split, const std::vector<std::size_t>& permutation) {
    return {cnn::permute_pixels(split.x, permutation), split.y};
}

struct Trained {
    cnn::Sequential model;
    cnn::History history;
    double test_accuracy;
};

//! [train_mlp]
Trained train_mlp(const Data& data, const Setup& setup, std::uint64_t seed) {
    // The same seed gives the same initial weights and batch order.
    cnn::Sequential model = cnn::mlp({image_shape(data.train.x), setup.hidden, 10}, seed);
    model.compile(cnn::Sgd({/*learning_rate=*/0.05f, /*momentum=*/0.9f}),
                  "sparse_categorical_crossentropy", {"accuracy"});
    cnn::FitOptions fit;
    fit.epochs = setup.epochs;
    fit.batch_size = 64;
    cnn::History history = model.fit(data.train.x, data.train.y, fit, data.validation.x,
                                     data.validation.y);
    const double test_accuracy = model.evaluate(data.test.x, data.test.y).accuracy;
    return {std::move(model), std::move(history), test_accuracy};
}
//! [train_mlp]

//! [check_backward]
// Before trusting the training loop, check the MLP's backward pass against central differences
// of the real loss, on a few real images. The network is a small one (one hidden layer of 8
// units) so that every one of its weights can be nudged in a moment.
void check_backward(const Data& data, std::uint64_t seed, const fs::path& out) {
    cnn::Sequential mlp = cnn::mlp({image_shape(data.train.x), {8}, 10}, seed);
    const std::vector<std::size_t> rows = {0, 1, 2, 3};
    // A nudge of 1e-3: a hidden unit within epsilon of ReLU's kink at 0 would spoil the
    // difference quotient, and a smaller nudge makes that rarer.
    const std::vector<cnn::GradientCheckResult> checks = cnn::check_model_gradients(
        mlp, cnn::take_examples(data.train.x, rows), cnn::take_labels(data.train.y, rows), {1e-3, 1e-3});
    cnn::Transcript table(out / "ch01_gradient_check.txt");
    bool all_passed = true;
    for (const cnn::GradientCheckResult& check : checks) {
        table.line(check.summary());
        all_passed = all_passed && check.passed();
    }
    table.save();
    if (!all_passed) {
        throw std::runtime_error("the MLP's backward pass disagrees with the numerical gradient");
    }
    std::cout << '\n';
}
//! [check_backward]

// The first channel of image `row` of x (N, C, H, W), as a picture (H, W).
cnn::Tensor2 image_of(const cnn::Tensor4& x, std::size_t row) {
    return xt::view(x, row, 0);
}

void plot_shuffled_examples(const Data& data, const Split& shuffled_test, const fs::path& out) {
    const auto& names = cnn::fashion_mnist_class_names();
    cnn::ImageGrid grid;
    grid.title = "The same test images, before (top) and after (bottom) one fixed pixel permutation";
    grid.columns = 6;
    grid.value_range = std::make_pair(0.0, 1.0);
    for (const Split* split : {&data.test, &shuffled_test}) {
        for (std::size_t i = 0; i < std::min<std::size_t>(grid.columns, split->y.size()); ++i) {
            grid.images.push_back({image_of(split->x, i), names.at(split->y[i])});
        }
    }
    cnn::save_image_grid(grid, out / "ch01_shuffled_images.png");
}

// Trains the same MLP, with the same seeds, on the original and on the pixel-shuffled images.
// Returns the model trained on the original images with the first seed.
cnn::Sequential shuffle_experiment(const Data& data, const Setup& setup, std::uint64_t seed,
                                   const fs::path& out) {
    //! [shuffle_data]
    cnn::Rng rng(seed ^ 0x5eedULL);
    const cnn::Shape shape = image_shape(data.train.x);
    const std::vector<std::size_t> permutation = rng.permutation(shape[0] * shape[1] * shape[2]);
    Data shuffled = data;
    shuffled.train = permuted(data.train, permutation);
    shuffled.validation = permuted(data.validation, permutation);
    shuffled.test = permuted(data.test, permutation);
    //! [shuffle_data]
    plot_shuffled_examples(data, shuffled.test, out);

    //! [shuffle_pairs]
    std::vector<double> original_acc, shuffled_acc;
    std::vector<Trained> first_pair;
    for (std::size_t s = 0; s < setup.seeds; ++s) {
        for (const Data* d : std::array<const Data*, 2>{&data, &shuffled}) {
            std::cout << fmt::format("seed {} ({}/{}), {} pixels:\n", seed + s, s + 1, setup.seeds,
                                     d == &data ? "original" : "shuffled");
            Trained t = train_mlp(*d, setup, seed + s);
            std::cout << fmt::format("test accuracy {:.4f}\n\n", t.test_accuracy);
            (d == &data ? original_acc : shuffled_acc).push_back(t.test_accuracy);
            if (s == 0) {
                first_pair.push_back(std::move(t));
            }
        }
    }
    //! [shuffle_pairs]

    cnn::Transcript table(out / "ch01_shuffle.txt");
    table.line("Shuffle experiment: test accuracy of the same MLP (same seeds)");
    table.line(fmt::format("{:>6} {:>10} {:>10} {:>12}", "seed", "original", "shuffled",
                           "difference"));
    std::vector<double> differences;
    for (std::size_t s = 0; s < setup.seeds; ++s) {
        differences.push_back(shuffled_acc[s] - original_acc[s]);
        table.line(fmt::format("{:>6} {:>10.4f} {:>10.4f} {:>+12.4f}", seed + s, original_acc[s],
                               shuffled_acc[s], differences.back()));
    }
    table.line(fmt::format("{:>6} {:>10.4f} {:>10.4f} {:>+12.4f}", "mean", cnn::mean(original_acc),
                           cnn::mean(shuffled_acc), cnn::mean(differences)));
    if (setup.seeds > 1) {
        const double spread = cnn::sample_stddev(differences);
        const double standard_error = cnn::standard_error(differences);
        table.line(fmt::format("{:>6} {:>10.4f} {:>10.4f} {:>12.4f}", "stddev",
                               cnn::sample_stddev(original_acc), cnn::sample_stddev(shuffled_acc), spread));
        table.line(fmt::format("mean difference {:+.4f} +- {:.4f} (standard error): {:.1f} "
                               "standard errors from 0",
                               cnn::mean(differences), standard_error,
                               std::abs(cnn::mean(differences)) / std::max(standard_error, 1e-12)));
    }
    table.save();
    std::cout << '\n';

    cnn::LinePlot curves;
    curves.title = fmt::format("Validation accuracy per epoch, seed {}", seed);
    curves.x_label = "epoch";
    curves.y_label = "validation accuracy";
    for (std::size_t i = 0; i < first_pair.size(); ++i) {
        cnn::Series series{i == 0 ? "original pixels" : "shuffled pixels", {}, {}};
        const std::vector<double>& accuracy = first_pair[i].history.val_accuracy;
        for (std::size_t epoch = 1; epoch <= accuracy.size(); ++epoch) {
            series.x.push_back(static_cast<double>(epoch));
            series.y.push_back(accuracy[epoch - 1]);
        }
        curves.series.push_back(series);
    }
    cnn::save_line_plot(curves, out / "ch01_shuffle_training.png");
    return std::move(first_pair.front().model);
}

//! [shift_experiment]
// Accuracy of the trained MLP on the test images moved `shift` pixels right, or down.
void shift_experiment(cnn::Sequential& model, const Data& data, const Setup& setup,
                      const fs::path& out) {
    cnn::Series right{"shifted right", {}, {}}, down{"shifted down", {}, {}};
    cnn::Transcript table(out / "ch01_shift.txt");
    table.line("Translation: test accuracy of the MLP trained on centred images");
    table.line(fmt::format("{:>6} {:>14} {:>14}", "pixels", "shifted right", "shifted down"));
    for (std::size_t shift = 0; shift <= setup.max_shift; ++shift) {
        const auto s = static_cast<std::ptrdiff_t>(shift);
        const double acc_right =
            model.evaluate(cnn::shift_images(data.test.x, 0, s), data.test.y).accuracy;
        const double acc_down =
            model.evaluate(cnn::shift_images(data.test.x, s, 0), data.test.y).accuracy;
        table.line(fmt::format("{:>6} {:>14.4f} {:>14.4f}", shift, acc_right, acc_down));
        right.x.push_back(static_cast<double>(shift));
        right.y.push_back(acc_right);
        down.x.push_back(static_cast<double>(shift));
        down.y.push_back(acc_down);
    }
    //! [shift_experiment]
    table.save();
    std::cout << '\n';

    cnn::LinePlot plot;
    plot.title = "An MLP trained on centred images, tested on shifted ones";
    plot.x_label = "shift (pixels)";
    plot.y_label = "test accuracy";
    plot.y_range = std::make_pair(0.0, 1.0);
    cnn::Series chance{"chance (1 in 10)", {0.0, static_cast<double>(setup.max_shift)}, {0.1, 0.1}};
    plot.series = {right, down, chance};
    cnn::save_line_plot(plot, out / "ch01_shift_accuracy.png");

    cnn::ImageGrid grid;
    grid.title = "One test image shifted right by 0, 2, 4, 6 and 8 pixels";
    grid.columns = 5;
    grid.value_range = std::make_pair(0.0, 1.0);
    const cnn::Tensor4 first = xt::view(data.test.x, xt::range(0, 1));
    for (std::ptrdiff_t s = 0; s <= 8; s += 2) {
        const cnn::Tensor4 shifted = cnn::shift_images(first, 0, s);
        grid.images.push_back({xt::view(shifted, 0, 0), fmt::format("{} px", s)});
    }
    cnn::save_image_grid(grid, out / "ch01_shifted_images.png");
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch01_mlp_limits", "Chapter 01: why a multi-layer perceptron is the "
                                            "wrong tool for images",
                         cnn::ReadsData::yes);
    std::size_t epochs = 0;
    std::size_t seeds = 0;
    program.option("--epochs", epochs, "Training epochs per model (default: 10, or 5 with --quick)")
        .within(1, 1000);
    program
        .option("--seeds", seeds,
                "Repetitions of the shuffle experiment (default: 5, or 1 with --quick)")
        .within(1, 100);

    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        Setup setup = options.quick ? Setup{0, 500, {64}, 5, 1, 8}
                                    : Setup{0, 5000, {256, 128}, 10, 5, 8};
        if (epochs != 0) {
            setup.epochs = epochs;
        }
        if (seeds != 0) {
            setup.seeds = seeds;
        }
        std::cout << "== 1. Parameter explosion ==\n\n";
        parameter_explosion(options.out);

        std::cout << "== 2. Pixel shuffling ==\n\n";
        const Data data = load_data(options, setup);
        check_backward(data, options.seed, options.out);
        const cnn::Shape shape = image_shape(data.train.x);
        std::cout << fmt::format("MLP: {} -> {} -> 10, SGD (learning rate 0.05, momentum 0.9), "
                                 "batch 64, {} epochs\n\n",
                                 shape[0] * shape[1] * shape[2], fmt::join(setup.hidden, " -> "),
                                 setup.epochs);
        cnn::Sequential model = shuffle_experiment(data, setup, options.seed, options.out);

        std::cout << "== 3. Translation ==\n\n";
        shift_experiment(model, data, setup, options.out);
        std::cout << "plots and tables written to " << options.out.string() << '\n';
    });
}
