// Chapter 09: what a trained CNN sees, measured.
//
//   1. Shift and shuffle: chapter 01's two experiments again, with CNNs beside the MLP. Moving
//      the test images hurts a CNN without pooling almost as much as the MLP; pooling and
//      augmentation make it robust. Shuffling the pixels does not hurt the MLP but costs the
//      CNN: its assumption that neighbours belong together no longer holds.
//   2. Hierarchical features: for channels of the first, middle and last convolution of
//      Géron's model, the test patches that excite them most, cut to the receptive field;
//      and the inputs gradient ascent builds for them and for each class.
//   3. Where the network looks: saliency and occlusion maps of right and wrong answers.
//   4. The memory of backpropagation: what every layer keeps for its backward pass, the total
//      against the measured peak of a training step, and inference beside it.
//   5. Images are made of correlated pixels: neighbours and colour channels of a photograph,
//      and a hand-made filter that spans the three channels.
//   6. Stride is subsampling, on numbers.
//
// Sections 2 and 3 need a trained Géron's model: --weights loads one (chapter 06 saves it with
// --model seed); without it the model trains here for --seed-epochs epochs and its weights are
// saved to ch09_seed_weights for the next run.
//
// Run: ch09_what_the_network_sees [--quick] [--out DIR] [--seed N] [--data DIR] [--only N]
//                                 [--weights DIR] [--seed-epochs N] [--seeds N] [--photo FILE]

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <xtensor/xview.hpp>

#include "cnn/inspect/excitation.hpp"
#include "cnn/inspect/memory.hpp"
#include "cnn/inspect/occlusion.hpp"
#include "cnn/inspect/probe.hpp"
#include "cnn/layers/augmentation.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/dropout.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/model/metrics.hpp"
#include "cnn/model/mlp.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/model/zoo.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "cnn/ops/correlation.hpp"
#include "cnn/ops/subsample.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/optim/sgd.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"
#include "cnn/tensor/transform.hpp"
#include "support/app/program.hpp"
#include "support/app/resident_memory.hpp"
#include "support/app/statistics.hpp"
#include "support/io/dataset.hpp"
#include "support/io/image.hpp"
#include "support/io/weights.hpp"
#include "support/plot/plot.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Tensor2;
using cnn::Tensor3;
using cnn::Tensor4;

// ---------------------------------------------------------------------------------------------
// The data and how much of it each section uses
// ---------------------------------------------------------------------------------------------

using Part = cnn::Examples;
using Data = cnn::TrainingData;

struct Budget {
    std::size_t train = 20000;      // images section 1's small models train on
    std::size_t seed_train = 0;     // images Géron's model trains on; 0: the whole training part
    std::size_t validation = 2000;  // the end of the training split, never trained on
    std::size_t test = 10000;
    std::size_t epochs = 3;         // of section 1's small models
    std::size_t seeds = 3;          // repetitions of the shuffle experiment
    std::size_t seed_epochs = 2;    // of Géron's model, when no weights are given
    std::size_t ascent_steps = 200;
    std::size_t memory_batch = 64;
};

Data load_data(const cnn::ProgramOptions& options, const Budget& budget) {
    const fs::path dir = cnn::find_data_directory(options.data, options.quick);
    Data data = cnn::load_training_data(dir, budget.train, budget.validation, budget.test);
    std::cout << fmt::format("data: {} ({} training images, {} test images)\n\n", dir.string(),
                             data.train.y.size() + data.validation.y.size(), data.test.y.size());
    return data;
}

// ---------------------------------------------------------------------------------------------
// 1. Shift and shuffle
// ---------------------------------------------------------------------------------------------

enum class Kind { mlp, cnn_flat, cnn_pooled, cnn_augmented };

std::string label(Kind kind) {
    switch (kind) {
    case Kind::mlp: return "MLP";
    case Kind::cnn_flat: return "CNN without pooling";
    case Kind::cnn_pooled: return "CNN with pooling";
    case Kind::cnn_augmented: return "CNN, pooling, augmented";
    }
    return "";
}

// Chapter 01's MLP, and three small CNNs with the same two convolutions: the first flattens
// their full-size maps straight into the classifier, the second pools twice before it, the
// third also sees every training image flipped and shifted (chapter 08's augmentation).
//! [make_model]
cnn::Sequential make_model(Kind kind, std::uint64_t seed) {
    if (kind == Kind::mlp) {
        return cnn::mlp({{1, 28, 28}, {256, 128}, 10}, seed);
    }
    cnn::Sequential model(seed);
    const bool augment = kind == Kind::cnn_augmented, pool = kind != Kind::cnn_flat;
    if (augment) {
        model.add(cnn::RandomFlip("horizontal").input_shape({1, 28, 28}));
        model.add(cnn::RandomTranslation(0.1f, 0.1f));
    }
    const cnn::Conv2D first = cnn::Conv2D(16, 3).padding("same").activation("relu");
    model.add(augment ? first : cnn::Conv2D(first).input_shape({1, 28, 28}));
    if (pool) {
        model.add(cnn::MaxPooling2D(2));
    }
    model.add(cnn::Conv2D(32, 3).padding("same").activation("relu"));
    if (pool) {
        model.add(cnn::MaxPooling2D(2));
    }
    model.add(cnn::Flatten());
    model.add(cnn::Dense(10).activation("softmax"));
    return model;
}
//! [make_model]

struct Trained {
    cnn::Sequential model;
    double test_accuracy = 0.0;
};

Trained train(Kind kind, const Data& data, const Budget& budget, std::uint64_t seed) {
    cnn::Sequential model = make_model(kind, seed);
    if (kind == Kind::mlp) {  // chapter 01's recipe
        model.compile(cnn::Sgd({0.05f, 0.9f}), "sparse_categorical_crossentropy", {"accuracy"});
    } else {
        model.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
    }
    cnn::FitOptions fit;
    fit.epochs = budget.epochs;
    fit.batch_size = 64;
    fit.verbose = cnn::Verbosity::silent;
    model.fit(data.train.x, data.train.y, fit);
    const double accuracy = model.evaluate(data.test.x, data.test.y).accuracy;
    return {std::move(model), accuracy};
}

// The same pixels of every image of every part, put in one fixed order.
Data shuffled(const Data& data, const std::vector<std::size_t>& permutation) {
    return {{cnn::permute_pixels(data.train.x, permutation), data.train.y},
            {cnn::permute_pixels(data.validation.x, permutation), data.validation.y},
            {cnn::permute_pixels(data.test.x, permutation), data.test.y}};
}

// Accuracy on the test images moved right by every shift from -max to max (negative: left).
cnn::Series shift_curve(const std::string& name, cnn::Sequential& model, const Part& test, int max) {
    cnn::Series s{name, {}, {}};
    for (int shift = -max; shift <= max; ++shift) {
        s.x.push_back(shift);
        s.y.push_back(model.evaluate(cnn::shift_images(test.x, 0, shift), test.y).accuracy);
    }
    return s;
}

void shift_and_shuffle(const Data& all, const Budget& budget, std::uint64_t seed, const fs::path& out) {
    const Data data{cnn::first_examples(all.train, budget.train), all.validation, all.test};
    std::cout << fmt::format("{} training images, {} epochs each; the MLP with SGD (chapter 01), "
                             "the CNNs with Adam\n\n", data.train.y.size(), budget.epochs);
    //! [shuffle_runs]
    cnn::Rng rng(seed ^ 0x5eedULL);  // chapter 01's permutation
    const Data scrambled = shuffled(data, rng.permutation(28 * 28));
    const std::vector<Kind> kinds = {Kind::mlp, Kind::cnn_pooled};
    std::vector<std::vector<double>> original(2), permuted(2), differences(2);
    std::vector<Trained> first_models;  // the first seed's models, for the shift experiment
    for (std::size_t s = 0; s < budget.seeds; ++s) {
        for (std::size_t k = 0; k < kinds.size(); ++k) {
            Trained plain = train(kinds[k], data, budget, seed + s);
            const Trained mixed = train(kinds[k], scrambled, budget, seed + s);
            //! [shuffle_runs]
            std::cout << fmt::format("seed {}: {:<18} original pixels {:.4f}, shuffled {:.4f}\n",
                                     seed + s, label(kinds[k]), plain.test_accuracy,
                                     mixed.test_accuracy);
            original[k].push_back(plain.test_accuracy);
            permuted[k].push_back(mixed.test_accuracy);
            differences[k].push_back(mixed.test_accuracy - plain.test_accuracy);
            if (s == 0) {
                first_models.push_back(std::move(plain));
            }
        }
    }
    std::cout << '\n';
    cnn::Transcript table(out / "ch09_shuffle.txt");
    table.line(fmt::format("Test accuracy, mean +- standard error over {} seeds", budget.seeds));
    table.line("(one fixed pixel permutation; each seed trains on both)");
    table.line(fmt::format("{:<20} {:>17} {:>17} {:>17}", "model", "original", "shuffled",
                           "shuffled - orig."));
    // The mean and its standard error, which one seed cannot give.
    const auto with_error = [](const std::vector<double>& v, bool sign) {
        const std::string mean = sign ? fmt::format("{:+.4f}", cnn::mean(v)) : fmt::format("{:.4f}", cnn::mean(v));
        return mean + (v.size() < 2 ? std::string(" +- n/a") : fmt::format(" +- {:.4f}", cnn::standard_error(v)));
    };
    cnn::BarChart bars;
    bars.title = "Test accuracy on original and on shuffled pixels";
    bars.y_label = "test accuracy";
    bars.series = {{"original pixels", {}}, {"shuffled pixels", {}}};
    for (std::size_t k = 0; k < kinds.size(); ++k) {
        table.line(fmt::format("{:<20} {:>17} {:>17} {:>17}", label(kinds[k]),
                               with_error(original[k], false), with_error(permuted[k], false),
                               with_error(differences[k], true)));
        bars.categories.push_back(label(kinds[k]));
        bars.series[0].second.push_back(cnn::mean(original[k]));
        bars.series[1].second.push_back(cnn::mean(permuted[k]));
    }
    table.save();
    cnn::save_bar_chart(bars, out / "ch09_shuffle.png");

    // The shift experiment: the first seed's MLP and pooled CNN, and two more CNNs.
    std::cout << '\n';
    Trained flat = train(Kind::cnn_flat, data, budget, seed);
    Trained augmented = train(Kind::cnn_augmented, data, budget, seed);
    const int max_shift = 8;
    std::vector<cnn::Series> curves = {
        shift_curve(label(Kind::mlp), first_models[0].model, data.test, max_shift),
        shift_curve(label(Kind::cnn_flat), flat.model, data.test, max_shift),
        shift_curve(label(Kind::cnn_pooled), first_models[1].model, data.test, max_shift),
        shift_curve(label(Kind::cnn_augmented), augmented.model, data.test, max_shift)};
    cnn::Transcript shifts(out / "ch09_shift.txt");
    shifts.line("Test accuracy of images moved right (+) or left (-), seed " + std::to_string(seed));
    std::string header = fmt::format("{:<24}", "shift (pixels)");
    for (int s = -max_shift; s <= max_shift; s += 2) {
        header += fmt::format(" {:>6}", s);
    }
    shifts.line(header);
    for (const cnn::Series& curve : curves) {
        std::string row = fmt::format("{:<24}", curve.label);
        for (std::size_t i = 0; i < curve.y.size(); i += 2) {
            row += fmt::format(" {:>6.3f}", curve.y[i]);
        }
        shifts.line(row);
    }
    shifts.save();
    cnn::LinePlot plot;
    plot.title = "Test accuracy when the test images move sideways";
    plot.x_label = "shift (pixels; negative: left)";
    plot.y_label = "test accuracy";
    plot.y_range = std::make_pair(0.0, 1.0);
    plot.series = curves;
    plot.series.push_back({"chance (1 in 10)", {-max_shift + 0.0, max_shift + 0.0}, {0.1, 0.1}});
    cnn::save_line_plot(plot, out / "ch09_shift.png");
}

// ---------------------------------------------------------------------------------------------
// 2. Hierarchical features
// ---------------------------------------------------------------------------------------------

// Géron's model with trained weights: loaded from `weights`, or trained here and saved.
cnn::Sequential trained_seed_model(const Data& data, const Budget& budget,
                                   const std::optional<fs::path>& weights, std::uint64_t seed,
                                   const fs::path& out) {
    cnn::Sequential model = cnn::seed_model(seed);
    model.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
    cnn::Transcript text(out / "ch09_seed_model.txt");
    if (weights) {
        cnn::load_weights(model.weights(), *weights);
        text.line("Géron's model, weights loaded from " + weights->filename().string());
    } else {
        const Part part = cnn::first_examples(data.train, budget.seed_train);  // 0: all
        text.line(fmt::format("Géron's model, trained here: {} epoch{} of Adam on {} images, batch 64",
                              budget.seed_epochs, budget.seed_epochs == 1 ? "" : "s", part.y.size()));
        text.line("(pass --weights for a longer-trained one)");
        cnn::FitOptions fit;
        fit.epochs = budget.seed_epochs;
        fit.batch_size = 64;
        fit.verbose = cnn::Verbosity::epoch_line;
        model.fit(part.x, part.y, fit, data.validation.x, data.validation.y);
        cnn::save_weights(model.weights(), out / "ch09_seed_weights");
    }
    text.line(fmt::format("test accuracy {:.4f} on {} test images",
                          model.evaluate(data.test.x, data.test.y).accuracy, data.test.y.size()));
    text.save();
    std::cout << '\n';
    return model;
}

// The first, middle and last convolution layers of a model, by index.
std::vector<std::size_t> three_convolutions(const cnn::Sequential& model) {
    std::vector<std::size_t> convs;
    for (std::size_t i = 0; i < model.size(); ++i) {
        if (model.layer(i).type() == "Conv2D") {
            convs.push_back(i);
        }
    }
    return {convs.front(), convs[convs.size() / 2], convs.back()};
}

struct FeatureLayer {
    std::size_t index;
    std::string role;                    // "first", "middle", "last"
    std::vector<std::size_t> channels;   // the channels shown
};

const std::size_t patches_per_unit = 8;
const std::size_t units_per_layer = 6;

void strongest_patches(cnn::Sequential& model, const Data& data, std::vector<FeatureLayer>& layers,
                       const fs::path& out) {
    cnn::Transcript text(out / "ch09_patches.txt");
    text.line(fmt::format("{:<10} {:<8} {:>8} {:>9} {:>5}  {}", "layer", "role", "channels",
                          "field", "jump", "strongest response of the channels shown"));
    for (FeatureLayer& f : layers) {
        //! [strongest_patches]
        const auto best = cnn::strongest_excitations(model, data.test.x, f.index, patches_per_unit);
        // The first channels that respond to anything at all (a ReLU channel can be dead).
        for (std::size_t c = 0; c < best.size() && f.channels.size() < units_per_layer; ++c) {
            if (best[c].front().value > 0.0f) {
                f.channels.push_back(c);
            }
        }
        cnn::ImageGrid grid;
        grid.columns = patches_per_unit;
        grid.value_range = std::make_pair(0.0, 1.0);
        grid.cell_pixels = 96;
        for (const std::size_t c : f.channels) {
            for (std::size_t rank = 0; rank < best[c].size(); ++rank) {
                const cnn::Excitation& e = best[c][rank];
                const cnn::InputWindow w = cnn::receptive_window(model, f.index, e.row, e.col);
                const Tensor3 patch = cnn::crop_window(xt::view(data.test.x, e.image), w);
                grid.images.push_back({xt::view(patch, 0), rank == 0 ? fmt::format("channel {}", c) : ""});
            }
        }
        //! [strongest_patches]
        const cnn::InputWindow field = cnn::receptive_window(model, f.index, 0, 0);
        const cnn::Layer& layer = model.layer(f.index);
        grid.title = fmt::format("{} ({} convolution): the test patches that excite {} of its "
                                 "channels most, each its {}x{} receptive field",
                                 layer.name(), f.role, f.channels.size(), field.rows, field.cols);
        cnn::save_image_grid(grid, out / ("ch09_patches_" + f.role + ".png"));
        std::string values;
        for (const std::size_t c : f.channels) {
            values += fmt::format(" {:.2f}", best[c].front().value);
        }
        const cnn::Shape& shape = model.output_shape(f.index);
        const auto jump = cnn::receptive_window(model, f.index, 0, 1).left - field.left;
        text.line(fmt::format("{:<10} {:<8} {:>8} {:>9} {:>5} {}", layer.name(), f.role, shape[0],
                              fmt::format("{}x{}", field.rows, field.cols), jump, values));
    }
    text.save();
    std::cout << '\n';
}

void activation_maximisation(cnn::Sequential& model, const std::vector<FeatureLayer>& layers,
                             const Budget& budget, std::uint64_t seed, const fs::path& out) {
    cnn::AscentOptions options;
    options.steps = budget.ascent_steps;
    options.seed = seed;
    // The unit at the centre of each channel's map, climbed before its ReLU: from a grey start
    // a ReLU unit often sits at 0, where the value after the ReLU has no gradient.
    options.before_relu = true;
    cnn::Transcript text(out / "ch09_maximisation.txt");
    text.line(fmt::format("Gradient ascent from grey {} with noise {}, seed {}: {} steps of {} "
                          "(normalised),", options.start, options.noise, seed, options.steps,
                          options.step_size));
    text.line(fmt::format("decay {}, a 3x3 blur (sigma {}) every {} steps. Each unit: the centre "
                          "of its map, before its ReLU.", options.decay, options.blur_sigma,
                          options.blur_every));
    text.line();
    text.line(fmt::format("{:<12} {:>8} {:>8} {:>8}", "layer", "channel", "start", "end"));
    cnn::ImageGrid grid;
    grid.title = "What gradient ascent builds for the centre unit of the channels of figures 9.3-9.5, cut to its field";
    grid.columns = units_per_layer;
    grid.value_range = std::make_pair(0.0, 1.0);
    grid.cell_pixels = 120;
    for (const FeatureLayer& f : layers) {
        //! [maximise_channels]
        const cnn::Ascent ascent = cnn::maximise_units(model, f.index, f.channels, options);
        const cnn::Shape& map = model.output_shape(f.index);
        const cnn::InputWindow field = cnn::receptive_window(model, f.index, map[1] / 2, map[2] / 2);
        //! [maximise_channels]
        for (std::size_t k = 0; k < f.channels.size(); ++k) {
            const Tensor3 crop = cnn::crop_window(xt::view(ascent.images, k), field, options.start);
            grid.images.push_back({xt::view(crop, 0),
                                   fmt::format("{} ch {}", model.layer(f.index).name(), f.channels[k])});
            text.line(fmt::format("{:<12} {:>8} {:>8.2f} {:>8.2f}", model.layer(f.index).name(),
                                  f.channels[k], ascent.initial_activation[k], ascent.final_activation[k]));
        }
    }
    cnn::save_image_grid(grid, out / "ch09_maximisation.png");

    // Each class's logit (a Dense unit: the whole channel is the unit).
    std::vector<std::size_t> classes(10);
    for (std::size_t k = 0; k < 10; ++k) {
        classes[k] = k;
    }
    const cnn::Ascent ascent = cnn::maximise_units(model, model.size() - 1, classes, options);
    const auto& names = cnn::fashion_mnist_class_names();
    cnn::ImageGrid class_grid;
    class_grid.title = "The input gradient ascent builds for each class's score (logit)";
    class_grid.columns = 5;
    class_grid.value_range = std::make_pair(0.0, 1.0);
    text.line();
    text.line(fmt::format("{:<12} {:>8} {:>8}", "class logit", "start", "end"));
    for (std::size_t k = 0; k < 10; ++k) {
        class_grid.images.push_back({xt::view(ascent.images, k, 0), names.at(k)});
        text.line(fmt::format("{:<12} {:>8.2f} {:>8.2f}", names.at(k), ascent.initial_activation[k],
                              ascent.final_activation[k]));
    }
    text.save();
    cnn::save_image_grid(class_grid, out / "ch09_class_maximisation.png");
    std::cout << '\n';
}

// ---------------------------------------------------------------------------------------------
// 3. Where the network looks
// ---------------------------------------------------------------------------------------------

// The share of the map's absolute mass on the item: the pixels brighter than 0.1.
double share_on_item(const Tensor2& map, const Tensor2& image) {
    double on = 0.0, all = 0.0;
    for (std::size_t i = 0; i < map.size(); ++i) {
        const double v = std::abs(map.flat(i));
        all += v;
        on += image.flat(i) > 0.1f ? v : 0.0;
    }
    return all > 0 ? on / all : 0.0;
}

void where_it_looks(cnn::Sequential& model, const Data& data, const fs::path& out) {
    const Tensor2 probabilities = model.predict(data.test.x);
    const cnn::Labels predicted = cnn::predicted_classes(probabilities);
    std::vector<std::size_t> right, wrong;  // the first four test images of each
    for (std::size_t n = 0; n < predicted.size() && (right.size() < 4 || wrong.size() < 4); ++n) {
        std::vector<std::size_t>& list = predicted[n] == data.test.y[n] ? right : wrong;
        if (list.size() < 4) {
            list.push_back(n);
        }
    }
    // Side by side, a right answer and a wrong one per row; a model without mistakes (or
    // without a right answer) gets one column.
    const bool one_column = right.empty() || wrong.empty();
    std::vector<std::size_t> order = right.empty() ? wrong : right;
    if (!one_column) {
        order.clear();
        for (std::size_t r = 0; r < std::min(right.size(), wrong.size()); ++r) {
            order.push_back(right[r]);
            order.push_back(wrong[r]);
        }
    }
    struct Maps {
        std::size_t n;
        Tensor2 pixels, salient, occluded;
    };
    std::vector<Maps> maps;
    for (const std::size_t n : order) {
        const std::size_t answer = predicted[n];  // what the network said, right or wrong
        //! [where_maps]
        const Tensor4 image = xt::view(data.test.x, xt::range(n, n + 1));
        const Tensor4 gradient = cnn::saliency(model, image, {answer});
        const Tensor2 salient = xt::abs(xt::view(gradient, 0, 0));
        const Tensor2 occluded = cnn::occlusion_map(model, image, answer);
        //! [where_maps]
        maps.push_back({n, xt::view(image, 0, 0), salient, occluded});
    }
    // One colour scale for every occlusion map, so that their reds compare.
    double largest = 0.05;
    for (const Maps& m : maps) {
        largest = std::max(largest, static_cast<double>(xt::amax(xt::abs(m.occluded))()));
    }
    const auto& names = cnn::fashion_mnist_class_names();
    cnn::ImageGrid grid;
    grid.title = fmt::format("{}: image, saliency of the answer's logit (own scale), occlusion: drop "
                             "of the answer's probability (red: it fell; scale +-{:.2f})",
                             one_column ? "Test images" : "Right (left) and wrong (right) answers",
                             largest);
    grid.columns = one_column ? 3 : 6;
    grid.cell_pixels = 130;
    cnn::Transcript text(out / "ch09_where.txt");
    text.line("Maps of the class the network answered; shares of each map's mass on the item's pixels");
    text.line(fmt::format("{:>6} {:<12} {:<12} {:>7} {:>6} {:>9} {:>9} {:>9}", "image", "true",
                          "answer", "p(ans.)", "item", "saliency", "occlusion", "largest"));
    text.line(fmt::format("{:>6} {:<12} {:<12} {:>7} {:>6} {:>9} {:>9} {:>9}", "", "", "", "",
                          "area", "on item", "on item", "drop"));
    for (const Maps& m : maps) {
        const std::size_t truth = data.test.y[m.n], answer = predicted[m.n];
        const double p = probabilities(m.n, answer);
        grid.images.push_back({m.pixels, truth == answer ? fmt::format("{} {:.2f}", names.at(truth), p)
                                                         : fmt::format("{}, said {} {:.2f}", names.at(truth),
                                                                       names.at(answer), p)});
        grid.images.push_back({m.salient, "saliency", false});
        grid.images.push_back({m.occluded, "occlusion", true, std::make_pair(-largest, largest)});
        const Tensor2 ones = xt::ones_like(m.pixels);
        const double drop = xt::amax(m.occluded)();
        text.line(fmt::format("{:>6} {:<12} {:<12} {:>7.3f} {:>5.0f}% {:>8.0f}% {:>9} {:>9.3f}", m.n,
                              names.at(truth), names.at(answer), p, 100 * share_on_item(ones, m.pixels),
                              100 * share_on_item(m.salient, m.pixels),
                              // A map without a drop worth the name has no shape to share out.
                              drop < 0.01 ? std::string("-")
                                          : fmt::format("{:.0f}%", 100 * share_on_item(m.occluded, m.pixels)),
                              drop));
    }
    text.save();
    cnn::save_image_grid(grid, out / "ch09_where.png");
    std::cout << '\n';
}

// ---------------------------------------------------------------------------------------------
// 4. The memory of backpropagation
// ---------------------------------------------------------------------------------------------

double mb(std::size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

struct MemoryTotals {
    std::size_t weights = 0, gradients = 0, kept = 0, workspace = 0, largest_pair = 0;
};

// Adds up what training_memory() found; largest_pair is the largest input + output of one
// layer: what inference must hold at once besides the weights.
MemoryTotals totals(const std::vector<cnn::LayerMemory>& layers, std::size_t input_bytes) {
    MemoryTotals t;
    std::size_t previous = input_bytes;
    for (const cnn::LayerMemory& m : layers) {
        t.weights += m.weight_bytes;
        t.gradients += m.gradient_bytes;
        t.kept += m.kept_bytes;
        t.largest_pair = std::max(t.largest_pair, previous + m.output_bytes);
        previous = m.output_bytes;
    }
    t.workspace = cnn::shared_workspace_bytes(layers);  // layers that share one count it once
    return t;
}

// Géron's model, or the same convolutions without its pooling layers, or with each pooling
// replaced by a stride of 2 in the convolution before it.
enum class Downsampling { pooling, none, stride };

cnn::Sequential seed_variant(Downsampling d, std::uint64_t seed) {
    if (d == Downsampling::pooling) {
        return cnn::seed_model(seed);
    }
    cnn::Sequential model(seed);
    const std::size_t s = d == Downsampling::stride ? 2 : 1;
    model.add(cnn::Conv2D(64, 7).strides(s, s).padding("same").activation("relu").input_shape({1, 28, 28}));
    model.add(cnn::Conv2D(128, 3).padding("same").activation("relu"));
    model.add(cnn::Conv2D(128, 3).strides(s, s).padding("same").activation("relu"));
    model.add(cnn::Conv2D(256, 3).padding("same").activation("relu"));
    model.add(cnn::Conv2D(256, 3).strides(s, s).padding("same").activation("relu"));
    model.add(cnn::Flatten());
    model.add(cnn::Dense(128).activation("relu"));
    model.add(cnn::Dropout(0.5f));
    model.add(cnn::Dense(64).activation("relu"));
    model.add(cnn::Dropout(0.5f));
    model.add(cnn::Dense(10).activation("softmax"));
    return model;
}

void backprop_memory(const Data& data, const Budget& budget, std::uint64_t seed, const fs::path& out) {
    const std::size_t batch_size = budget.memory_batch;
    const Part batch = cnn::first_examples(data.train, batch_size);
    const std::size_t input_bytes = batch.x.size() * sizeof(float);
    // OpenBLAS and the threads take their buffers at the first matrix product of the process;
    // a throwaway model's step makes sure that has happened before the measurements.
    {
        cnn::Sequential warm_up = cnn::seed_model(seed);
        warm_up.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
        warm_up.train_on_batch(batch.x, batch.y);
    }
    cnn::return_freed_memory();
    const cnn::ResidentMemory before_model = cnn::resident_memory();

    cnn::Transcript table(out / "ch09_memory.txt");
    MemoryTotals t;
    {  // the model trained here is gone before inference is measured, and its scratch with it
        cnn::Sequential model = cnn::seed_model(seed);
        model.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
        const std::vector<cnn::LayerMemory> layers = cnn::training_memory(model, batch.x);
        table.line(fmt::format(
            "Géron's model, one training step at batch {} (float32; MB = 2^20 bytes)", batch_size));
        table.line(fmt::format("{:<16} {:<15} {:>10} {:>10} {:>10} {:>10}", "layer", "output",
                               "weights MB", "output MB", "kept MB", "scratch MB"));
        // A scratch that several layers share is theirs together: the table says "shared",
        // and the line below it gives its size and who shares it.
        std::map<const void*, std::vector<std::string>> users;
        for (const cnn::LayerMemory& m : layers) {
            if (m.workspace_bytes > 0) {
                users[m.workspace_owner].push_back(m.name);
            }
        }
        for (const cnn::LayerMemory& m : layers) {
            const bool shared = m.workspace_bytes > 0 && users[m.workspace_owner].size() > 1;
            const std::string scratch =
                shared ? "shared" : fmt::format("{:.2f}", mb(m.workspace_bytes));
            table.line(fmt::format("{:<16} {:<15} {:>10.2f} {:>10.2f} {:>10.2f} {:>10}", m.name,
                                   cnn::shape_to_string(m.output_shape), mb(m.weight_bytes),
                                   mb(m.output_bytes), mb(m.kept_bytes), scratch));
        }
        for (const cnn::LayerMemory& m : layers) {
            const std::vector<std::string>& names = users[m.workspace_owner];
            if (m.workspace_bytes > 0 && names.size() > 1 && names.front() == m.name) {
                table.line(fmt::format("shared scratch {:.2f} MB: one set for {} (one runs at a "
                                       "time)",
                                       mb(m.workspace_bytes), fmt::join(names, ", ")));
            }
        }
        t = totals(layers, input_bytes);
        // Adam keeps two moments per trainable weight.
        const std::size_t counted =
            t.weights + 3 * t.gradients + t.kept + t.workspace + input_bytes;
        table.line(fmt::format("count: weights {:.1f} + gradients {:.1f} + Adam's moments {:.1f}\n"
                               "       + kept for backward {:.1f} + scratch {:.1f} + the model's copy "
                               "of the batch {:.1f} = {:.1f} MB",
                               mb(t.weights), mb(t.gradients), mb(2 * t.gradients), mb(t.kept),
                               mb(t.workspace), mb(input_bytes), mb(counted)));

        //! [measured_step]
        model.train_on_batch(batch.x, batch.y);  // the first step also creates Adam's moments
        cnn::reset_resident_peak();
        model.train_on_batch(batch.x, batch.y);
        const double training_peak = cnn::resident_memory().peak_mb - before_model.now_mb;
        //! [measured_step]
        table.line(fmt::format(
            "measured: during a training step the process holds {:.1f} MB more\n"
            "       than before the model existed, {:+.1f} MB beyond the count",
            training_peak, training_peak - mb(counted)));
    }

    // Inference, in a fresh model: nothing to keep for a backward pass.
    {
        cnn::return_freed_memory();
        const cnn::ResidentMemory before = cnn::resident_memory();
        cnn::Sequential fresh = cnn::seed_model(seed + 1);
        fresh.build();
        cnn::reset_resident_peak();
        fresh.predict(batch.x, batch_size);
        const double inference_peak = cnn::resident_memory().peak_mb - before.now_mb;
        std::size_t kept = 0;
        for (std::size_t i = 0; i < fresh.size(); ++i) {
            kept += fresh.layer(i).kept_for_backward();
        }
        const std::size_t scratch = cnn::shared_workspace_bytes(fresh);
        table.line(fmt::format("inference needs the weights {:.1f} MB and the largest input + "
                               "output of one layer {:.1f} MB = {:.1f} MB", mb(t.weights),
                               mb(t.largest_pair), mb(t.weights + t.largest_pair)));
        table.line(fmt::format("measured peak of predict(): {:.1f} MB; our layers also keep their\n"
                               "last input ({:.1f} MB) and the engines their scratch ({:.1f} MB)",
                               inference_peak, mb(kept), mb(scratch)));
    }

    // How pooling and stride shrink the activations, and what removing them costs.
    table.line();
    table.line(fmt::format("{:<30} {:>24} {:>10} {:>8}", "the same convolutions with",
                           "weights, gradients, Adam", "kept", "sum MB"));
    cnn::BarChart bars;
    bars.title = fmt::format("Memory of one training step at batch {}: weights and what backward keeps",
                             batch_size);
    bars.y_label = "MB (log scale)";
    bars.log_y = true;
    bars.series = {{"weights, gradients, Adam", {}}, {"kept for backward", {}}};
    for (const auto& [d, name] : {std::pair{Downsampling::pooling, "max pooling (Géron's)"},
                                  std::pair{Downsampling::stride, "stride 2 instead of pooling"},
                                  std::pair{Downsampling::none, "no downsampling"}}) {
        cnn::Sequential variant = seed_variant(d, seed);
        const MemoryTotals v = totals(cnn::training_memory(variant, batch.x), input_bytes);
        const std::size_t learning = v.weights + 3 * v.gradients;  // Adam: two moments each
        table.line(fmt::format("{:<30} {:>24.1f} {:>10.1f} {:>8.1f}", name, mb(learning), mb(v.kept),
                               mb(learning + v.kept)));
        bars.categories.push_back(name);
        bars.series[0].second.push_back(mb(learning));
        bars.series[1].second.push_back(mb(v.kept));
    }
    table.save();
    cnn::save_bar_chart(bars, out / "ch09_memory.png");
    std::cout << '\n';
}

// ---------------------------------------------------------------------------------------------
// 5. Images are made of correlated pixels
// ---------------------------------------------------------------------------------------------

void correlated_pixels(const fs::path& photo, std::uint64_t seed, const fs::path& out) {
    const Tensor3 rgb = cnn::load_rgb_image(photo, 480);
    const Tensor2 grey = cnn::load_grayscale_image(photo, 480);
    cnn::Transcript text(out / "ch09_correlation.txt");
    text.line(fmt::format("photo: {} ({} rows x {} columns after shrinking)", photo.filename().string(),
                          grey.shape(0), grey.shape(1)));
    // The same pixels in a random order: what an MLP could as well be given.
    cnn::Rng rng(seed);
    const std::vector<std::size_t> order = rng.permutation(grey.size());
    Tensor2 scrambled = Tensor2::from_shape(grey.shape());
    for (std::size_t i = 0; i < order.size(); ++i) {
        scrambled.flat(i) = grey.flat(order[i]);
    }
    //! [neighbour_correlation]
    cnn::Series right{"neighbour to the right", {}, {}}, down{"neighbour below", {}, {}},
        shuffled{"pixels shuffled", {}, {}};
    for (const std::size_t d : {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64}) {
        right.x.push_back(static_cast<double>(d));
        right.y.push_back(cnn::neighbour_correlation(grey, d, cnn::Direction::right));
        down.x.push_back(static_cast<double>(d));
        down.y.push_back(cnn::neighbour_correlation(grey, d, cnn::Direction::down));
        shuffled.x.push_back(static_cast<double>(d));
        shuffled.y.push_back(cnn::neighbour_correlation(scrambled, d, cnn::Direction::right));
    }
    //! [neighbour_correlation]
    text.line("Correlation of a pixel with the pixel d away (grey photograph)");
    text.line(fmt::format("{:>4} {:>8} {:>8} {:>9}", "d", "right", "below", "shuffled"));
    for (std::size_t i = 0; i < right.x.size(); ++i) {
        text.line(fmt::format("{:>4.0f} {:>8.3f} {:>8.3f} {:>+9.3f}", right.x[i], right.y[i], down.y[i],
                              shuffled.y[i]));
    }
    const Tensor2 channels = cnn::channel_correlations(rgb);
    text.line();
    text.line("Correlation between the colour channels at the same pixel");
    text.line(fmt::format("{:>6} {:>6} {:>6} {:>6}", "", "R", "G", "B"));
    const char* names[] = {"R", "G", "B"};
    for (std::size_t a = 0; a < 3; ++a) {
        text.line(fmt::format("{:>6} {:>6.3f} {:>6.3f} {:>6.3f}", names[a], channels(a, 0), channels(a, 1),
                              channels(a, 2)));
    }
    cnn::LinePlot plot;
    plot.title = "Neighbouring pixels of a photograph are alike; shuffled ones are not";
    plot.x_label = "distance d (pixels, log scale)";
    plot.y_label = "correlation";
    plot.log_x = true;
    plot.y_range = std::make_pair(-0.1, 1.0);
    plot.series = {right, down, shuffled};
    cnn::save_line_plot(plot, out / "ch09_correlation.png");

    //! [red_detector]
    // One 3x3 filter across the three channels: +1 on red, -1/2 on green and on blue, each
    // weight divided by 9, so the output is the window's mean of R - (G + B) / 2.
    Tensor4 w = Tensor4::from_shape({1, 3, 3, 3});
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 3; ++j) {
            w(0, 0, i, j) = 1.0f / 9;
            w(0, 1, i, j) = -0.5f / 9;
            w(0, 2, i, j) = -0.5f / 9;
        }
    }
    const Tensor4 x = xt::view(rgb, xt::newaxis(), xt::all(), xt::all(), xt::all());  // (1, 3, H, W)
    const Tensor4 redness = cnn::conv2d_naive_forward(x, w, cnn::Tensor1{-0.1f}, cnn::Conv2DGeometry{});
    const Tensor2 map = xt::maximum(xt::view(redness, 0, 0), 0.0f);  // bias -0.1, then ReLU
    //! [red_detector]
    std::size_t on = 0;
    for (const float v : map) {
        on += v > 0.0f ? 1 : 0;
    }
    text.line();
    text.line(fmt::format("red detector: 3x3x3 filter, R +1/9, G -1/18, B -1/18, bias -0.1, ReLU:\n"
                          "{:.1f}% of the {} positions respond",
                          100.0 * static_cast<double>(on) / static_cast<double>(map.size()), map.size()));
    text.save();
    cnn::ImageGrid grid;
    grid.title = "The photograph's red, green and blue channels, and the red detector's feature map";
    grid.columns = 2;
    grid.cell_pixels = 420;
    grid.images = {{xt::view(rgb, 0), "red channel"},
                   {xt::view(rgb, 1), "green channel"},
                   {xt::view(rgb, 2), "blue channel"},
                   {map, "red detector (ReLU of R - (G + B) / 2 - 0.1)"}};
    cnn::save_image_grid(grid, out / "ch09_red_detector.png");
    std::cout << '\n';
}

// ---------------------------------------------------------------------------------------------
// 6. Stride is subsampling
// ---------------------------------------------------------------------------------------------

void stride_is_subsampling(const fs::path& out) {
    // A 7x7 input holding 0, 1, ..., 48 row by row, and a 3x3 kernel of ones: every output is
    // the sum of a window, easy to check by hand.
    Tensor4 x = Tensor4::from_shape({1, 1, 7, 7});
    for (std::size_t i = 0; i < x.size(); ++i) {
        x.flat(i) = static_cast<float>(i);
    }
    const Tensor4 w = xt::ones<float>({1, 1, 3, 3});
    const cnn::Tensor1 b = xt::zeros<float>({1});
    //! [stride_subsample]
    cnn::Conv2DGeometry stride1, stride2;
    stride2.stride_rows = stride2.stride_cols = 2;
    const Tensor4 every = cnn::conv2d_naive_forward(x, w, b, stride1);   // 5x5 outputs
    const Tensor4 strided = cnn::conv2d_naive_forward(x, w, b, stride2); // 3x3 outputs
    const Tensor4 sampled = cnn::subsample(every, 2, 2);                // rows, columns 0, 2, 4
    //! [stride_subsample]
    cnn::Transcript text(out / "ch09_stride.txt");
    text.line("input 7x7 (0 to 48), kernel 3x3 of ones, no padding");
    text.line("stride 1, 5x5 outputs (25 windows of 9 multiply-adds):");
    text.line(cnn::matrix_to_text(xt::view(every, 0, 0), 0, 5));
    text.line("stride 2, 3x3 outputs (9 windows):");
    text.line(cnn::matrix_to_text(xt::view(strided, 0, 0), 0, 5));
    text.line("the stride-1 outputs at rows and columns 0, 2, 4:");
    text.line(cnn::matrix_to_text(xt::view(sampled, 0, 0), 0, 5));
    text.line(fmt::format("largest difference: {}", xt::amax(xt::abs(sampled - strided))()));
    // Keras 'same' pads 1 and 1 for stride 1 but 0 and 1 for stride 2 on an even size: there
    // the strided output is the stride-1 output sampled from row and column 1.
    Tensor4 even = xt::view(x, xt::all(), xt::all(), xt::range(0, 6), xt::range(0, 6));
    const auto same = [](std::size_t s) {
        return cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 6, 6, 3, 3, s, s);
    };
    const Tensor4 same1 = cnn::conv2d_naive_forward(even, w, b, same(1));
    const Tensor4 same2 = cnn::conv2d_naive_forward(even, w, b, same(2));
    text.line(fmt::format("Keras 'same' on 6x6, stride 2 against the stride-1 output sampled\n"
                          "from (0, 0): largest difference {}; from (1, 1): {}",
                          xt::amax(xt::abs(cnn::subsample(same1, 2, 2) - same2))(),
                          xt::amax(xt::abs(cnn::subsample(same1, 2, 2, 1, 1) - same2))()));
    text.save();
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch09_what_the_network_sees",
                         "Chapter 09: what a trained CNN sees: shift and shuffle, features, "
                         "saliency and occlusion, memory, correlated pixels, stride",
                         cnn::ReadsData::yes, cnn::Engines::fast);
    std::size_t seed_epochs = 0, seeds = 0;
    std::string weights, photo = cnn::debian_photo;
    program.sections(6);
    program
        .option("--weights", weights,
                "Weights of Géron's model for sections 2 and 3 (a folder saved by "
                "ch06_keras_model --model seed, or by an earlier run of this program)")
        .existing_folder();
    program
        .option("--seed-epochs", seed_epochs,
                "Without --weights: epochs of Géron's model (default 2, or 1 with --quick)")
        .within(1, 100);
    program
        .option("--seeds", seeds,
                "Repetitions of the shuffle experiment (default 3, or 2 with --quick)")
        .within(1, 100);
    program.option("--photo", photo, "The colour photograph of section 5");
    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        Budget budget;
        if (options.quick) {  // the committed sample: seconds
            budget.train = budget.seed_train = 384;
            budget.validation = 128;
            budget.test = 256;
            budget.epochs = budget.seed_epochs = 1;
            budget.seeds = 2;
            budget.ascent_steps = 10;
            budget.memory_batch = 8;
        }
        budget.seed_epochs = seed_epochs > 0 ? seed_epochs : budget.seed_epochs;
        budget.seeds = seeds > 0 ? seeds : budget.seeds;
        const std::uint64_t seed = options.seed;
        const fs::path& out = options.out;
        std::optional<Data> data;
        if (options.wants(1) || options.wants(2) || options.wants(3) || options.wants(4)) {
            data = load_data(options, budget);
        }
        if (options.wants(1)) {
            std::cout << "== 1. Shift and shuffle: CNNs beside the MLP ==\n\n";
            shift_and_shuffle(*data, budget, seed, out);
        }
        if (options.wants(2) || options.wants(3)) {
            cnn::Sequential model = trained_seed_model(
                *data, budget, weights.empty() ? std::nullopt : std::optional<fs::path>(weights), seed, out);
            if (options.wants(2)) {
                std::cout << "\n== 2. Hierarchical features ==\n\n";
                const std::vector<std::size_t> convs = three_convolutions(model);
                std::vector<FeatureLayer> layers = {
                    {convs[0], "first", {}}, {convs[1], "middle", {}}, {convs[2], "last", {}}};
                strongest_patches(model, *data, layers, out);
                activation_maximisation(model, layers, budget, seed, out);
            }
            if (options.wants(3)) {
                std::cout << "\n== 3. Where the network looks ==\n\n";
                where_it_looks(model, *data, out);
            }
        }
        if (options.wants(4)) {
            std::cout << "\n== 4. The memory of backpropagation ==\n\n";
            backprop_memory(*data, budget, seed, out);
        }
        if (options.wants(5)) {
            std::cout << "\n== 5. Images are made of correlated pixels ==\n\n";
            correlated_pixels(photo, seed, out);
        }
        if (options.wants(6)) {
            std::cout << "\n== 6. Stride is subsampling ==\n\n";
            stride_is_subsampling(out);
        }
        std::cout << "\nplots and tables written to " << out.string() << '\n';
    });
}
