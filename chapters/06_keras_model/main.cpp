// Chapter 06: a whole CNN, written like Keras, trained on Fashion-MNIST.
//
//   1. Géron's model, layer for layer, and its summary; how the resolution shrinks
//      while the depth grows.
//   2. Training a model of the same API on Fashion-MNIST with a held-out validation set, then
//      testing it: by default a LeNet-style model (under a minute on 2 cores); --model seed
//      trains Géron's model (about 25 minutes for 10 epochs on 2 cores); --quick a
//      tiny one in seconds.
//   3. Plots: learning curves, the confusion matrix, misclassified images, the first layer's
//      filters, and one image's feature maps through every layer.
//   4. Saving the weights and loading them into a fresh model.
//
// Run: ch06_keras_model [--quick] [--out DIR] [--seed N] [--data DIR] [--model lenet|seed|tiny]
//                       [--epochs N] [--batch-size N] [--optimizer adam|nadam]
//                       [--learning-rate R] [--decay-at EPOCH...] [--standardize]
//                       [--summary] [--checkpoint DIR [--resume]]

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "cnn/layers/conv2d.hpp"
#include "cnn/model/metrics.hpp"
#include "cnn/model/schedule.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/model/standardize.hpp"
#include "cnn/model/zoo.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/tensor/tensor.hpp"
#include "support/app/program.hpp"
#include "support/io/checkpoint.hpp"
#include "support/io/data_error.hpp"
#include "support/io/dataset.hpp"
#include "support/io/weights.hpp"
#include "support/plot/number_grid.hpp"
#include "support/plot/plot.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Tensor2;
using cnn::Tensor4;

// ---------------------------------------------------------------------------------------------
// 1. The model and its shapes
// ---------------------------------------------------------------------------------------------

void describe_seed_model(std::uint64_t seed, const fs::path& out) {
    cnn::Sequential model = cnn::seed_model(seed);
    std::ostringstream summary;
    model.summary(summary);
    cnn::Transcript text(out / "ch06_summary.txt");
    text.line(summary.str());
    text.save();

    //! [shapes]
    // Resolution and depth after every convolution and pooling, read from the model itself.
    cnn::Transcript shapes(out / "ch06_shapes.txt");
    shapes.line(fmt::format("{:<16} {:>14} {:>8} {:>10}", "layer", "H x W", "depth", "values"));
    for (std::size_t i = 0; i < model.size(); ++i) {
        const cnn::Shape& s = model.output_shape(i);
        if (s.size() == 3) {
            shapes.line(fmt::format("{:<16} {:>14} {:>8} {:>10}", model.layer(i).name(),
                                    fmt::format("{} x {}", s[1], s[2]), s[0],
                                    cnn::thousands(s[0] * s[1] * s[2])));
        }
    }
    //! [shapes]
    shapes.save();
    std::cout << '\n';
}

// ---------------------------------------------------------------------------------------------
// 3. Plots
// ---------------------------------------------------------------------------------------------

// One measure per epoch, training against validation.
void save_curve(const std::string& measure, const std::string& y_label,
                const std::vector<double>& training, const std::vector<double>& validation,
                const fs::path& png) {
    const auto series = [](const char* label, const std::vector<double>& values) {
        cnn::Series s{label, {}, {}};
        for (std::size_t e = 0; e < values.size(); ++e) {
            s.x.push_back(static_cast<double>(e + 1));
            s.y.push_back(values[e]);
        }
        return s;
    };
    cnn::LinePlot plot;
    plot.title = measure + " per epoch";
    plot.x_label = "epoch";
    plot.y_label = y_label;
    plot.series = {series("training", training), series("validation", validation)};
    cnn::save_line_plot(plot, png);
}

void learning_curves(const cnn::History& h, const fs::path& out) {
    save_curve("Loss", "cross-entropy", h.loss, h.val_loss, out / "ch06_loss.png");
    save_curve("Accuracy", "accuracy", h.accuracy, h.val_accuracy, out / "ch06_accuracy.png");
}

void confusion(const cnn::Labels& truth, const cnn::Labels& predicted, const fs::path& out) {
    //! [confusion]
    Tensor2 counts = xt::zeros<float>({10, 10});  // row: true class, column: predicted class
    for (std::size_t n = 0; n < truth.size(); ++n) {
        counts(truth[n], predicted[n]) += 1.0f;
    }
    //! [confusion]
    const auto& names = cnn::fashion_mnist_class_names();
    cnn::Transcript text(out / "ch06_confusion.txt");
    std::string header = fmt::format("{:<12}", "true \\ pred");
    for (std::size_t k = 0; k < 10; ++k) {
        header += fmt::format("{:>6}", k);
    }
    text.line(header + "   recall");
    for (std::size_t i = 0; i < 10; ++i) {
        std::string row = fmt::format("{:<12}", fmt::format("{} {}", i, std::string(names[i]).substr(0, 9)));
        float total = 0.0f;
        for (std::size_t j = 0; j < 10; ++j) {
            row += fmt::format("{:>6g}", counts(i, j));
            total += counts(i, j);
        }
        text.line(row + fmt::format("   {:.3f}", total > 0 ? counts(i, i) / total : 0.0f));
    }
    text.save();
    cnn::save_number_grids({"Test-set confusion matrix: rows true class, columns predicted",
                            {{counts, "classes 0-9 as in the table above", {}}},
                            1, 44, 0},
                           out / "ch06_confusion.png");
}

void misclassified(const cnn::Dataset& test, const cnn::Labels& predicted, const fs::path& out) {
    const auto& names = cnn::fashion_mnist_class_names();
    cnn::ImageGrid grid;
    grid.title = "Misclassified test images: true class, then the model's answer";
    grid.columns = 6;
    grid.cell_pixels = 140;
    grid.value_range = std::make_pair(0.0, 1.0);
    for (std::size_t n = 0; n < test.labels.size() && grid.images.size() < 18; ++n) {
        if (predicted[n] != test.labels[n]) {
            grid.images.push_back({xt::view(test.images, n, 0),
                                   fmt::format("{} -> {}", names.at(test.labels[n]),
                                               names.at(predicted[n]))});
        }
    }
    if (grid.images.empty()) {
        // Nothing to draw is no reason to throw away a finished training: say so, go on.
        std::cout << "every test image is classified right, so there is no mistake to draw: "
                     "ch06_misclassified.png skipped\n";
        return;
    }
    cnn::save_image_grid(grid, out / "ch06_misclassified.png");
}

void first_filters(cnn::Sequential& model, const fs::path& out) {
    const Tensor4& w = dynamic_cast<cnn::Conv2D&>(model.layer(0)).weights();  // (FN, 1, FH, FW)
    cnn::ImageGrid grid;
    grid.title = fmt::format("The {} learned filters of the first layer ({}x{}; red +, blue -)",
                             w.shape(0), w.shape(2), w.shape(3));
    grid.columns = 8;
    grid.cell_pixels = 90;
    grid.diverging = true;
    for (std::size_t f = 0; f < std::min<std::size_t>(w.shape(0), 32); ++f) {
        grid.images.push_back({xt::view(w, f, 0), fmt::format("{}", f)});
    }
    cnn::save_image_grid(grid, out / "ch06_filters.png");
}

// `inputs` are the test images as the model sees them, `images` as they are shown.
void feature_maps(cnn::Sequential& model, const Tensor4& inputs, const Tensor4& images,
                  const fs::path& out) {
    //! [feature_maps]
    // One test image through the layers, keeping each convolution's and pooling's output.
    Tensor4 h = xt::view(inputs, xt::range(0, 1));
    cnn::ImageGrid grid;
    grid.title = "A test image, then the first maps of every convolution and pooling layer, one "
                 "layer per row";
    grid.columns = 6;
    grid.cell_pixels = 110;
    grid.images.push_back({xt::view(images, 0, 0), "input 28x28"});
    for (std::size_t i = 0; i < model.size() && model.output_shape(i).size() == 3; ++i) {
        h = model.layer(i).forward(h, /*training=*/false);
        const std::size_t maps = std::min<std::size_t>(i == 0 ? 5 : 6, h.shape(1));
        for (std::size_t c = 0; c < maps; ++c) {
            grid.images.push_back({xt::view(h, 0, c),
                                   c == 0 ? fmt::format("{} {}x{}", model.layer(i).name(), h.shape(2), h.shape(3))
                                          : fmt::format("map {}", c)});
        }
    }
    //! [feature_maps]
    cnn::save_image_grid(grid, out / "ch06_feature_maps.png");
}

// ---------------------------------------------------------------------------------------------
// 2. Training, and 4. saving and loading the weights
// ---------------------------------------------------------------------------------------------

// What the command line asks for.
struct Settings {
    std::string model_name;
    std::size_t epochs = 0, batch_size = 64;
    bool summary_only = false, resume = false, standardize = false;
    std::string checkpoint, optimizer = "adam";
    float learning_rate = 0.001f;
    std::vector<std::size_t> decay_at;
};

void add_flags(cnn::Program& program, Settings& s) {
    program
        .option("--model", s.model_name,
                "Which model to train: lenet (default), seed (Géron's model, Hands-On Machine "
                "Learning ch. 14) or "
                "tiny (the --quick default)")
        .one_of({"lenet", "seed", "tiny"});
    program.option("--epochs", s.epochs, "Epochs (default: 5 for lenet, 10 for seed, 2 for tiny)")
        .within(1, 1000);
    program.option("--batch-size", s.batch_size, "Examples per training step")
        .show_default()
        .within(1, 60000);
    program
        .option("--optimizer", s.optimizer,
                "adam, or nadam (Adam with Nesterov momentum, as Géron's notebook)")
        .show_default()
        .one_of({"adam", "nadam"});
    program.option("--learning-rate", s.learning_rate, "The optimizer's learning rate")
        .show_default()
        .check([](const std::string& text) {
            char* end = nullptr;
            const double rate = std::strtod(text.c_str(), &end);
            return end != text.c_str() && *end == '\0' && rate > 0.0 && rate <= 1.0
                       ? std::string()
                       : "expected a learning rate in (0, 1], got '" + text + "'";
        });
    program
        .option("--decay-at", s.decay_at,
                "Epochs from which the learning rate is 10 times smaller, e.g. --decay-at 11")
        .within(1, 1000);
    program.flag("--standardize", s.standardize,
                 "Standardise every pixel with the training images' mean and deviation");
    program.flag("--summary", s.summary_only, "Print Géron's model's summary and stop");
    const cnn::Option checkpoint_option =
        program.option("--checkpoint", s.checkpoint,
                       "Save the whole training state in this folder after every epoch");
    program
        .flag("--resume", s.resume,
              "Continue the training saved by --checkpoint (same --model, --seed, "
              "--batch-size, --optimizer, --learning-rate, --decay-at, --standardize and data) "
              "up to --epochs in all")
        .needs(checkpoint_option);
}

// Before the data is read and the model is built: puts back the newest complete checkpoint
// an interrupted save left, and refuses a checkpoint with more epochs than --epochs (which
// counts every epoch, those in the checkpoint too).
void prepare_resume(const Settings& s) {
    if (!s.resume) {
        return;
    }
    const std::string recovered = cnn::recover_checkpoint(s.checkpoint);
    if (!recovered.empty()) {
        std::cout << recovered << "\n\n";
    }
    if (!cnn::has_checkpoint(s.checkpoint)) {
        return;
    }
    const std::size_t done = cnn::read_checkpoint_progress(s.checkpoint).epoch;
    if (done > s.epochs) {
        throw std::invalid_argument(fmt::format(
            "--epochs {}: the checkpoint in {} holds {} completed epochs already; ask for "
            "--epochs {} or more to continue it",
            s.epochs, s.checkpoint, done, done));
    }
}

struct TrainedModel {
    cnn::Sequential model;
    cnn::History history;
    Tensor4 x_test;  // the test images as the model sees them (standardised or not)
};

TrainedModel train(const Settings& s, const cnn::Dataset& train_set, const cnn::Dataset& test,
                   std::uint64_t seed) {
    //! [train]
    cnn::Sequential model = cnn::make_model(s.model_name, seed);
    model.summary();
    const cnn::AdamOptions adam{s.learning_rate};
    model.compile(s.optimizer == "nadam" ? cnn::nadam(adam) : cnn::Adam(adam),
                  "sparse_categorical_crossentropy", {"accuracy"});
    cnn::FitOptions fit;
    fit.epochs = s.epochs;
    fit.batch_size = s.batch_size;
    fit.validation_split = 1.0 / 12.0;  // the last 5,000 of 60,000 training images
    if (!s.decay_at.empty()) {
        fit.callbacks.push_back(std::make_shared<cnn::LearningRateScheduler>(
            cnn::step_decay(s.learning_rate, s.decay_at)));
    }
    if (!s.checkpoint.empty()) {
        fit.callbacks.push_back(std::make_shared<cnn::ModelCheckpoint>(s.checkpoint, s.resume));
    }
    Tensor4 x = train_set.images, x_test = test.images;
    if (s.standardize) {
        // Statistics of the images trained on, the part fit() keeps before the held-out tail.
        const std::size_t held = cnn::validation_count(x.shape(0), fit.validation_split);
        const cnn::PixelStatistics statistics = cnn::pixel_statistics(x, x.shape(0) - held);
        cnn::standardize(x, statistics);
        cnn::standardize(x_test, statistics);
    }
    cnn::History history = model.fit(x, train_set.labels, fit);
    //! [train]
    return {std::move(model), std::move(history), std::move(x_test)};
}

void report(const Settings& s, TrainedModel& run, const cnn::Dataset& test, std::size_t examples,
            const fs::path& out) {
    const cnn::Evaluation result = run.model.evaluate(run.x_test, test.labels);
    double seconds = 0.0, training = 0.0;  // all of fit(), and its training steps alone
    for (std::size_t e = 0; e < run.history.seconds.size(); ++e) {
        seconds += run.history.seconds[e];
        training += run.history.train_seconds[e];
    }
    const double trained = static_cast<double>(examples - cnn::validation_count(examples, 1.0 / 12.0));
    cnn::Transcript text(out / "ch06_result.txt");
    text.line(fmt::format("model {}: {} parameters, {} {:g}{}{}, {} epochs of batch {} in "
                          "{:.0f} s ({:.0f} s of training steps: {:.0f} training images/s)",
                          s.model_name, cnn::thousands(run.model.parameter_count()), s.optimizer,
                          s.learning_rate,
                          s.decay_at.empty() ? "" : fmt::format(" / 10 at epochs {}",
                                                                fmt::join(s.decay_at, ", ")),
                          s.standardize ? ", standardised inputs" : "", s.epochs, s.batch_size,
                          seconds, training, trained * static_cast<double>(s.epochs) / training));
    text.line(fmt::format("test loss {:.4f}, test accuracy {:.4f}", result.loss, result.accuracy));
    text.save();
    std::cout << '\n';
}

void save_and_reload(const Settings& s, cnn::Sequential& model, const Tensor4& x_test,
                     std::uint64_t seed, const fs::path& out) {
    //! [save_load]
    const fs::path weights = out / "ch06_weights";
    cnn::save_weights(model.weights(), weights);
    cnn::Sequential reloaded = cnn::make_model(s.model_name, seed + 1);  // other weights
    cnn::load_weights(reloaded.weights(), weights);
    const Tensor2 before = model.predict(x_test);
    const Tensor2 after = reloaded.predict(x_test);
    //! [save_load]
    cnn::Transcript saved(out / "ch06_weights.txt");
    saved.line(fmt::format("saved {} tensors to {}; a fresh model loaded them and predicts the "
                           "{} test images with a largest difference of {:g}",
                           model.weights().size(), weights.filename().string(),
                           x_test.shape(0), xt::amax(xt::abs(before - after))()));
    saved.save();
}

}  // namespace

int main(int argc, char** argv) {
    // Training takes minutes: the layers compute with chapter 07's engines unless
    // `--engines book` asks for chapter 04's and 05's (cnn::Program installs them).
    cnn::Program program("ch06_keras_model",
                         "Chapter 06: a Keras-style CNN trained on Fashion-MNIST",
                         cnn::ReadsData::yes, cnn::Engines::fast);
    Settings s;
    add_flags(program, s);
    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        std::cout << "== 1. Géron's model ==\n\n";
        describe_seed_model(options.seed, options.out);
        if (s.summary_only) {
            return;
        }
        if (s.model_name.empty()) {
            s.model_name = options.quick ? "tiny" : "lenet";
        }
        if (s.epochs == 0) {
            s.epochs = s.model_name == "seed" ? 10 : s.model_name == "lenet" ? 5 : 2;
        }

        prepare_resume(s);
        std::cout << "== 2. Training ==\n\n";
        const fs::path dir = cnn::find_data_directory(options.data, options.quick);
        const cnn::Dataset train_set = cnn::load_split(dir, cnn::Split::train);
        const cnn::Dataset test = cnn::load_split(dir, cnn::Split::test);
        cnn::require_images(train_set, 12, "1 in 12 is held out for validation");
        cnn::require_images(test, 1);
        std::cout << fmt::format("data: {} ({} training images, {} test images)\n", dir.string(),
                                 train_set.labels.size(), test.labels.size());
        std::cout << (options.engines == cnn::Engines::fast
                          ? "engines: chapter 07's (--engines book for chapter 04's and 05's)\n\n"
                          : "engines: chapter 04's im2col and chapter 05's loops\n\n");
        TrainedModel run = train(s, train_set, test, options.seed);
        report(s, run, test, train_set.labels.size(), options.out);

        std::cout << "== 3. Plots ==\n\n";
        const cnn::Labels predicted = cnn::predicted_classes(run.model.predict(run.x_test));
        learning_curves(run.history, options.out);
        confusion(test.labels, predicted, options.out);
        misclassified(test, predicted, options.out);
        first_filters(run.model, options.out);
        feature_maps(run.model, run.x_test, test.images, options.out);

        std::cout << "\n== 4. Saving and loading the weights ==\n\n";
        save_and_reload(s, run.model, run.x_test, options.seed, options.out);
        std::cout << "\nplots and tables written to " << options.out.string() << '\n';
    });
}
