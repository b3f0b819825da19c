// Chapter 08: deeper networks, and what it took to train them.
//
// Six experiments on Fashion-MNIST, each trained here and measured:
//   1. AlexNet and VGG: their summaries at their real input sizes (not trained), then what VGG
//      contributed, at Fashion-MNIST's scale: one 5x5 convolution against two stacked 3x3
//      ones, and VGG blocks of growing depth.
//   2. Dropout: inverted dropout on numbers, then Géron's model with and without it.
//   3. Batch normalization: the arithmetic on numbers, then one deep plain network with and
//      without it, trained at learning rates from small to large.
//   4. Residual connections: the graph model, and the ResNet paper's degradation experiment:
//      plain networks of growing depth against the same networks with shortcuts.
//   5. Data augmentation: random flips and shifts, and accuracy under shifted test images.
//   6. The book's ResNet against Géron's model.
//
// The full run trains about 30 small networks in about 20 minutes on 2 cores; to fit, every
// experiment but the last trains on a part of the training set for a few epochs (the page
// says which). --quick runs everything on a few hundred images in seconds.
//
// Run: ch08_deeper_networks [--quick] [--out DIR] [--seed N] [--data DIR] [--only N]
//                           [--resnet-epochs N] [--engines book|fast]

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "cnn/layers/augmentation.hpp"
#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/dropout.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/merge.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/relu.hpp"
#include "cnn/model/classic.hpp"
#include "cnn/model/graph.hpp"
#include "cnn/model/resnet.hpp"
#include "cnn/model/schedule.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/model/zoo.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/optim/sgd.hpp"
#include "cnn/tensor/tensor.hpp"
#include "cnn/tensor/transform.hpp"
#include "support/app/program.hpp"
#include "support/io/data_error.hpp"
#include "support/io/dataset.hpp"
#include "support/plot/plot.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Tensor4;

// ---------------------------------------------------------------------------------------------
// What every experiment shares: the data, one training run, its results
// ---------------------------------------------------------------------------------------------

using Part = cnn::Examples;
using Data = cnn::TrainingData;

// How much data and training each experiment gets; --quick shrinks all of it.
struct Budget {
    std::size_t train = 10000;       // images most experiments train on
    std::size_t validation = 2000;   // the end of the training split, never trained on
    std::size_t test = 10000;
    std::size_t epochs = 4;
    bool quick = false;
};

Data load_data(const cnn::ProgramOptions& options, const Budget& budget) {
    const fs::path dir = cnn::find_data_directory(options.data, options.quick);
    Data data = cnn::load_training_data(dir, budget.train, budget.validation, budget.test);
    std::cout << fmt::format("data: {} ({} training images, {} test images)\n\n", dir.string(),
                             data.train.y.size() + data.validation.y.size(), data.test.y.size());
    return data;
}

// One trained model's results.
struct Run {
    std::string label;
    cnn::History history;
    double test_accuracy = 0.0;
    double seconds = 0.0;  // of training steps, all epochs
    std::size_t parameters = 0;
    std::size_t multiply_adds = 0;  // per image, forward
    bool diverged = false;
};

// How one experiment trains.
struct Training {
    std::size_t examples = 0;  // of Data::train; 0: all of it
    std::size_t epochs = 1;
    std::size_t batch_size = 64;
    std::function<std::unique_ptr<cnn::Optimizer>()> optimizer = [] {
        return std::make_unique<cnn::Adam>(cnn::AdamOptions{});
    };
    std::vector<std::shared_ptr<cnn::Callback>> callbacks;
    cnn::Verbosity verbose = cnn::Verbosity::silent;  // the small runs print one line each
};

Training training(std::size_t examples, std::size_t epochs) {
    Training t;
    t.examples = examples;
    t.epochs = epochs;
    return t;
}

std::size_t multiply_adds(const cnn::Model& model) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < model.size(); ++i) {
        total += model.layer(i).multiply_adds(model.output_shape(i));
    }
    return total;
}

//! [train_run]
// Trains `model` on the first t.examples training images, measures it on the validation part
// after every epoch and on the test part at the end. A run whose loss becomes NaN is kept,
// marked diverged, with the epochs it finished.
Run train(const std::string& label, cnn::Model& model, const Data& data, const Training& t) {
    model.compile(t.optimizer(), "sparse_categorical_crossentropy", {"accuracy"});
    cnn::FitOptions fit;
    fit.epochs = t.epochs;
    fit.batch_size = t.batch_size;
    fit.verbose = t.verbose;
    fit.callbacks = t.callbacks;
    const Part part = cnn::first_examples(data.train, t.examples);  // 0: all of them
    Run run{label, {}, 0.0, 0.0, model.parameter_count(), multiply_adds(model), false};
    try {
        run.history = model.fit(part.x, part.y, fit, data.validation.x, data.validation.y);
        run.test_accuracy = model.evaluate(data.test.x, data.test.y).accuracy;
    } catch (const cnn::TrainingDiverged&) {
        run.diverged = true;
    }
    for (const double s : run.history.train_seconds) {
        run.seconds += s;
    }
    return run;
}
//! [train_run]

std::string accuracy_text(const Run& run) {
    return run.diverged ? "diverged" : fmt::format("{:.4f}", run.test_accuracy);
}

// One line per run, printed as the run ends.
std::string run_line(const Run& run) {
    const std::vector<double>& val = run.history.val_accuracy;
    return fmt::format("{:<30} {:>9} {:>9} {:>9} {:>9} {:>8}", run.label,
                       cnn::thousands(run.parameters), cnn::si_prefixed(static_cast<double>(run.multiply_adds)),
                       val.empty() ? "-" : fmt::format("{:.4f}", val.back()), accuracy_text(run),
                       run.history.train_seconds.empty() ? "-" : fmt::format("{:.1f}", run.seconds));
}

std::string run_header() {
    return fmt::format("{:<30} {:>9} {:>9} {:>9} {:>9} {:>8}", "model", "params", "mult-adds",
                       "val acc", "test acc", "train s");
}

// One curve per run: `measure` of its History per epoch.
cnn::LinePlot curves(const std::string& title, const std::string& y_label, const std::vector<Run>& runs,
                     const std::function<const std::vector<double>&(const cnn::History&)>& measure) {
    cnn::LinePlot plot;
    plot.title = title;
    plot.x_label = "epoch";
    plot.y_label = y_label;
    for (const Run& run : runs) {
        cnn::Series s{run.label, {}, {}};
        const std::vector<double>& values = measure(run.history);
        for (std::size_t e = 0; e < values.size(); ++e) {
            s.x.push_back(static_cast<double>(e + 1));
            s.y.push_back(values[e]);
        }
        if (!s.y.empty()) {
            plot.series.push_back(std::move(s));
        }
    }
    return plot;
}

const std::vector<double>& training_loss(const cnn::History& h) { return h.loss; }
const std::vector<double>& validation_accuracy(const cnn::History& h) { return h.val_accuracy; }

// ---------------------------------------------------------------------------------------------
// 1. AlexNet and VGG
// ---------------------------------------------------------------------------------------------

void classic_summaries(std::uint64_t seed, const fs::path& out) {
    //! [classic_summaries]
    cnn::Sequential alexnet = cnn::alexnet(seed);
    cnn::Sequential vgg16 = cnn::vgg16(seed);
    cnn::SummaryOptions with_flops;
    with_flops.flops = true;
    std::ostringstream a, v;
    alexnet.summary(a, with_flops);
    vgg16.summary(v, with_flops);
    //! [classic_summaries]
    cnn::Transcript alexnet_text(out / "ch08_alexnet.txt");
    alexnet_text.line(a.str());
    alexnet_text.save();
    cnn::Transcript vgg_text(out / "ch08_vgg16.txt");
    vgg_text.line(v.str());
    vgg_text.save();
}

//! [five_against_three]
// The same network around one 5x5 convolution, or two stacked 3x3 ones: both see a 5x5
// window of the 14x14 maps, with 32 * 32 * 25 = 25,600 or 2 * 32 * 32 * 9 = 18,432 weights.
cnn::Sequential five_or_three(bool stacked, std::uint64_t seed) {
    cnn::Sequential model(seed);
    model.add(cnn::Conv2D(32, 3).padding("same").activation("relu").input_shape({1, 28, 28}));
    model.add(cnn::MaxPooling2D(2));
    if (stacked) {
        model.add(cnn::Conv2D(32, 3).padding("same").activation("relu"));
        model.add(cnn::Conv2D(32, 3).padding("same").activation("relu"));
    } else {
        model.add(cnn::Conv2D(32, 5).padding("same").activation("relu"));
    }
    model.add(cnn::MaxPooling2D(2));
    model.add(cnn::Flatten());
    model.add(cnn::Dense(10).activation("softmax"));
    return model;
}
//! [five_against_three]

void five_against_three(const Data& data, const Budget& budget, std::uint64_t seed,
                        const fs::path& out) {
    cnn::Transcript text(out / "ch08_five_three.txt");
    text.line(run_header());
    std::vector<Run> runs;
    for (const bool stacked : {false, true}) {
        cnn::Sequential model = five_or_three(stacked, seed);
        runs.push_back(train(stacked ? "two 3x3 convolutions" : "one 5x5 convolution", model, data,
                             training(budget.train, budget.epochs)));
        text.line(run_line(runs.back()));
    }
    text.save();
    cnn::save_line_plot(curves("One 5x5 convolution or two 3x3: validation accuracy", "accuracy",
                               runs, validation_accuracy),
                        out / "ch08_five_three.png");
}

//! [vgg_depth]
// VGG blocks on 28x28 images: each block's 2x2 pooling halves the maps (28, 14, 7, 3, 1), so
// four blocks are all there is room for.
cnn::VggOptions vgg_blocks(std::size_t blocks) {
    cnn::VggOptions o;
    const std::vector<std::size_t> filters = {16, 32, 64, 128};
    o.block_filters.assign(filters.begin(), filters.begin() + static_cast<std::ptrdiff_t>(blocks));
    o.dense_units = {64};
    return o;
}
//! [vgg_depth]

void vgg_depth(const Data& data, const Budget& budget, std::uint64_t seed, const fs::path& out) {
    cnn::Transcript text(out / "ch08_vgg_depth.txt");
    text.line(run_header());
    std::vector<Run> runs;
    cnn::Series test{"test accuracy", {}, {}};
    for (std::size_t blocks = 1; blocks <= 4; ++blocks) {
        cnn::Sequential model = cnn::vgg(vgg_blocks(blocks), seed);
        runs.push_back(train(fmt::format("{} block{} ({} conv)", blocks, blocks > 1 ? "s" : "",
                                         2 * blocks),
                             model, data, training(budget.train, budget.epochs)));
        text.line(run_line(runs.back()));
        test.x.push_back(static_cast<double>(blocks));
        test.y.push_back(runs.back().test_accuracy);
    }
    text.save();
    cnn::LinePlot plot;
    plot.title = "VGG blocks on 28x28 images: test accuracy against depth";
    plot.x_label = "VGG blocks (two 3x3 convolutions and a 2x2 max-pooling each)";
    plot.y_label = "test accuracy";
    plot.series = {test};
    cnn::save_line_plot(plot, out / "ch08_vgg_depth.png");
}

// ---------------------------------------------------------------------------------------------
// 2. Dropout
// ---------------------------------------------------------------------------------------------

void dropout_on_numbers(std::uint64_t seed, const fs::path& out) {
    //! [dropout_numbers]
    cnn::Rng rng(seed);
    cnn::Dropout dropout(0.5f);
    dropout.build({8}, rng);
    Tensor4 x = Tensor4::from_shape({1, 8, 1, 1});
    for (std::size_t i = 0; i < 8; ++i) {
        x(0, i, 0, 0) = static_cast<float>(i + 1);  // 1 2 3 ... 8
    }
    const Tensor4 trained = dropout.forward(x, /*training=*/true);
    const Tensor4 inferred = dropout.forward(x, /*training=*/false);
    // Averaged over many training passes, each value comes back: kept with probability
    // 1 - rate and then divided by 1 - rate.
    Tensor4 mean = xt::zeros<float>(x.shape());
    const std::size_t passes = 10000;
    for (std::size_t p = 0; p < passes; ++p) {
        mean += dropout.forward(x, true) / static_cast<float>(passes);
    }
    //! [dropout_numbers]
    const auto row = [](const Tensor4& t) {
        std::string s;
        for (std::size_t i = 0; i < t.shape(1); ++i) {
            s += fmt::format("{:>6.2f}", t(0, i, 0, 0));
        }
        return s;
    };
    cnn::Transcript text(out / "ch08_dropout_numbers.txt");
    text.line(fmt::format("{:<34}{}", "input", row(x)));
    text.line(fmt::format("{:<34}{}", "training pass (rate 0.5)", row(trained)));
    text.line(fmt::format("{:<34}{}", "inference pass", row(inferred)));
    text.line(fmt::format("{:<34}{}", "mean of 10,000 training passes", row(mean)));
    text.save();
}

void dropout_experiment(const Data& data, const Budget& budget, std::uint64_t seed,
                        const fs::path& out) {
    // Few examples and more epochs: overfitting, which dropout fights, shows quickly.
    const Training t = training(budget.quick ? budget.train : 4000, budget.quick ? 1 : 10);
    cnn::Transcript text(out / "ch08_dropout.txt");
    text.line(run_header() + "   train-val gap");
    std::vector<Run> runs;
    for (const float rate : {0.5f, 0.0f}) {
        //! [dropout_models]
        cnn::Sequential model = cnn::seed_model(seed, rate);  // Géron's model, Dropout(rate)
        //! [dropout_models]
        runs.push_back(train(rate > 0 ? "Géron's model, dropout 0.5" : "Géron's model, no dropout",
                             model, data, t));
        const cnn::History& h = runs.back().history;
        text.line(run_line(runs.back()) +
                  (h.accuracy.empty() ? "" : fmt::format("   {:>+13.4f}", h.accuracy.back() - h.val_accuracy.back())));
    }
    text.save();
    cnn::LinePlot plot;
    plot.title = "Géron's model trained on 4,000 images: accuracy on them and on validation images";
    plot.x_label = "epoch";
    plot.y_label = "accuracy";
    for (const Run& run : runs) {
        for (const bool validation : {false, true}) {
            const std::vector<double>& v = validation ? run.history.val_accuracy : run.history.accuracy;
            cnn::Series s{run.label + (validation ? ", validation" : ", training"), {}, {}};
            for (std::size_t e = 0; e < v.size(); ++e) {
                s.x.push_back(static_cast<double>(e + 1));
                s.y.push_back(v[e]);
            }
            plot.series.push_back(std::move(s));
        }
    }
    cnn::save_line_plot(plot, out / "ch08_dropout.png");
}

// ---------------------------------------------------------------------------------------------
// 3. Batch normalization
// ---------------------------------------------------------------------------------------------

void batch_norm_on_numbers(std::uint64_t seed, const fs::path& out) {
    //! [batch_norm_numbers]
    cnn::Rng rng(seed);
    cnn::BatchNormalization bn;  // momentum 0.99, epsilon 0.001, as Keras
    bn.build({2}, rng);          // two features, as after a Dense layer
    Tensor4 x = Tensor4::from_shape({4, 2, 1, 1});  // a batch of 4
    const float feature0[] = {1, 2, 3, 6}, feature1[] = {10, 10, 10, 50};
    for (std::size_t n = 0; n < 4; ++n) {
        x(n, 0, 0, 0) = feature0[n];
        x(n, 1, 0, 0) = feature1[n];
    }
    const Tensor4 trained = bn.forward(x, /*training=*/true);    // batch statistics
    const Tensor4 inferred = bn.forward(x, /*training=*/false);  // moving statistics
    //! [batch_norm_numbers]
    const std::vector<cnn::Parameter> state = bn.state();  // moving mean, moving variance
    cnn::Transcript text(out / "ch08_batch_norm_numbers.txt");
    for (std::size_t c = 0; c < 2; ++c) {
        std::string in, tr, inf;
        for (std::size_t n = 0; n < 4; ++n) {
            in += fmt::format("{:>8.2f}", x(n, c, 0, 0));
            tr += fmt::format("{:>8.3f}", trained(n, c, 0, 0));
            inf += fmt::format("{:>8.3f}", inferred(n, c, 0, 0));
        }
        text.line(fmt::format("feature {}: input {}", c, in));
        text.line(fmt::format("  training pass (batch statistics)  {}", tr));
        text.line(fmt::format("  moving mean {:.4f}, moving variance {:.4f} after one step",
                              state[0].value[c], state[1].value[c]));
        text.line(fmt::format("  inference pass (moving statistics){}", inf));
    }
    text.save();
}

// A deep plain network: three stages of three 3x3 convolutions (16, 32, 64 channels), each
// stage ending in a 2x2 max-pooling; with `batch_norm`, every convolution is followed by
// BatchNormalization before its ReLU. Its moving averages use momentum 0.9 (PyTorch's default)
// rather than Keras's 0.99: this run is only 160 steps long, and after n steps the averages
// still hold momentum^n of their starting values (0.99^160 = 20%, 0.9^160 = 0%).
//! [plain_deep_model]
cnn::Sequential plain_deep(bool batch_norm, std::uint64_t seed) {
    cnn::Sequential model(seed);
    for (const std::size_t filters : {16, 32, 64}) {
        for (std::size_t i = 0; i < 3; ++i) {
            cnn::Conv2D conv = cnn::Conv2D(filters, 3).padding("same");
            if (model.size() == 0) {
                conv.input_shape({1, 28, 28});
            }
            if (batch_norm) {
                model.add(std::move(conv));
                model.add(cnn::BatchNormalization().momentum(0.9f));
                model.add(cnn::ReLU());
            } else {
                model.add(conv.activation("relu"));
            }
        }
        model.add(cnn::MaxPooling2D(2));
    }
    model.add(cnn::Flatten());
    model.add(cnn::Dense(10).activation("softmax"));
    return model;
}
//! [plain_deep_model]

void batch_norm_experiment(const Data& data, const Budget& budget, std::uint64_t seed,
                           const fs::path& out) {
    const std::vector<float> rates = budget.quick ? std::vector<float>{0.01f, 0.3f}
                                                  : std::vector<float>{0.003f, 0.01f, 0.03f, 0.1f, 0.3f, 1.0f};
    cnn::Transcript text(out / "ch08_batch_norm.txt");
    text.line(fmt::format("SGD with momentum 0.9, {} epochs on {} images", std::max<std::size_t>(1, budget.epochs / 2),
                          cnn::thousands(budget.train / 2)));
    text.line(run_header());
    std::vector<Run> runs;
    cnn::Series with{"with batch normalization", {}, {}}, without{"without", {}, {}};
    for (const float rate : rates) {
        for (const bool batch_norm : {false, true}) {
            cnn::Sequential model = plain_deep(batch_norm, seed);
            Training t = training(budget.train / 2, std::max<std::size_t>(1, budget.epochs / 2));
            t.optimizer = [rate] { return std::make_unique<cnn::Sgd>(cnn::SgdOptions{rate, 0.9f}); };
            runs.push_back(train(fmt::format("{} BN, rate {:g}", batch_norm ? "with" : "no", rate),
                                 model, data, t));
            text.line(run_line(runs.back()));
            cnn::Series& s = batch_norm ? with : without;
            s.x.push_back(rate);
            s.y.push_back(runs.back().diverged ? 0.0 : runs.back().test_accuracy);
        }
    }
    text.save();
    cnn::LinePlot plot;
    plot.title = "Nine convolutions trained by SGD: test accuracy against learning rate";
    plot.x_label = "learning rate (log scale)";
    plot.y_label = "test accuracy (0: diverged)";
    plot.log_x = true;
    plot.series = {without, with};
    cnn::save_line_plot(plot, out / "ch08_batch_norm.png");
}

// ---------------------------------------------------------------------------------------------
// 4. Residual connections
// ---------------------------------------------------------------------------------------------

void graph_example(std::uint64_t seed, const fs::path& out) {
    //! [graph_example]
    cnn::Graph model(seed, "residual_example");
    const cnn::Node x = model.input({1, 28, 28});
    const cnn::Node h = model.call(cnn::Conv2D(16, 3).padding("same").activation("relu"), x);
    cnn::Node f = model.call(cnn::Conv2D(16, 3).padding("same").activation("relu"), h);
    f = model.call(cnn::Conv2D(16, 3).padding("same"), f);
    const cnn::Node sum = model.call(cnn::Add(), {f, h});  // F(h) + h: h is read twice
    const cnn::Node r = model.call(cnn::ReLU(), sum);
    const cnn::Node pooled = model.call(cnn::GlobalAveragePooling2D(), r);
    model.output(model.call(cnn::Dense(10).activation("softmax"), pooled));
    //! [graph_example]
    std::ostringstream summary;
    model.summary(summary);
    cnn::Transcript text(out / "ch08_graph_summary.txt");
    text.line(summary.str());
    text.save();
}

void degradation(const Data& data, const Budget& budget, std::uint64_t seed, const fs::path& out) {
    const std::vector<std::size_t> blocks = budget.quick ? std::vector<std::size_t>{1, 3}
                                                         : std::vector<std::size_t>{1, 3, 5};
    cnn::Transcript text(out / "ch08_degradation.txt");
    text.line(run_header() + "   final loss");
    std::vector<Run> runs;
    for (const bool shortcuts : {false, true}) {
        for (const std::size_t n : blocks) {
            //! [degradation_models]
            cnn::ResNetOptions o;
            o.stage_filters = {8, 16, 32};
            o.blocks_per_stage = n;
            o.shortcuts = shortcuts;
            cnn::Graph model = cnn::resnet(o, seed);
            //! [degradation_models]
            runs.push_back(train(fmt::format("{}-{}", shortcuts ? "resnet" : "plain", cnn::resnet_depth(o)),
                                 model, data, training(budget.train, budget.epochs)));
            const std::vector<double>& loss = runs.back().history.loss;
            text.line(run_line(runs.back()) + (loss.empty() ? "" : fmt::format("   {:>10.4f}", loss.back())));
        }
    }
    text.save();
    cnn::save_line_plot(curves("Training loss of plain networks and of ResNets of the same depth",
                               "training cross-entropy", runs, training_loss),
                        out / "ch08_degradation.png");
}

// ---------------------------------------------------------------------------------------------
// 5. Data augmentation
// ---------------------------------------------------------------------------------------------

//! [augmented_model]
// A two-block VGG-style network, with or without random flips and shifts in front. The
// augmentation layers change every training batch and pass test images through untouched.
cnn::Sequential augmented(bool augment, std::uint64_t seed) {
    cnn::Sequential model(seed);
    if (augment) {
        model.add(cnn::RandomFlip("horizontal").input_shape({1, 28, 28}));  // half the images
        model.add(cnn::RandomTranslation(0.1f, 0.1f));  // up to 2 pixels each way
    }
    cnn::Conv2D first = cnn::Conv2D(32, 3).padding("same").activation("relu");
    model.add(augment ? first : first.input_shape({1, 28, 28}));
    model.add(cnn::Conv2D(32, 3).padding("same").activation("relu"));
    model.add(cnn::MaxPooling2D(2));
    model.add(cnn::Conv2D(64, 3).padding("same").activation("relu"));
    model.add(cnn::Conv2D(64, 3).padding("same").activation("relu"));
    model.add(cnn::MaxPooling2D(2));
    model.add(cnn::Flatten());
    model.add(cnn::Dense(128).activation("relu"));
    model.add(cnn::Dense(10).activation("softmax"));
    return model;
}
//! [augmented_model]

void augmentation_experiment(const Data& data, const Budget& budget, std::uint64_t seed,
                             const fs::path& out) {
    cnn::Transcript text(out / "ch08_augmentation.txt");
    text.line(run_header());
    std::vector<Run> runs;
    std::vector<cnn::Series> shifted;
    for (const bool augment : {false, true}) {
        cnn::Sequential model = augmented(augment, seed);
        runs.push_back(train(augment ? "flips and shifts" : "no augmentation", model, data,
                             training(budget.train, budget.epochs + budget.epochs / 2)));
        text.line(run_line(runs.back()));
        //! [shift_curve]
        cnn::Series s{runs.back().label, {}, {}};
        for (std::ptrdiff_t shift = -6; shift <= 6; ++shift) {
            s.x.push_back(static_cast<double>(shift));
            s.y.push_back(model.evaluate(cnn::shift_images(data.test.x, 0, shift), data.test.y).accuracy);
        }
        //! [shift_curve]
        shifted.push_back(std::move(s));
    }
    text.line();
    text.line(fmt::format("{:>6} {:>16} {:>16}", "shift", runs[0].label, runs[1].label));
    for (std::size_t i = 0; i < shifted[0].x.size(); i += 2) {
        text.line(fmt::format("{:>+6.0f} {:>16.4f} {:>16.4f}", shifted[0].x[i], shifted[0].y[i],
                              shifted[1].y[i]));
    }
    text.save();
    cnn::LinePlot plot;
    plot.title = "Test accuracy of images shifted right (+) or left (-)";
    plot.x_label = "shift (pixels)";
    plot.y_label = "test accuracy";
    plot.series = shifted;
    cnn::save_line_plot(plot, out / "ch08_augmentation_shift.png");
    cnn::save_line_plot(curves("Validation accuracy with and without augmentation", "accuracy", runs,
                               validation_accuracy),
                        out / "ch08_augmentation.png");
}

// ---------------------------------------------------------------------------------------------
// 6. The book's ResNet
// ---------------------------------------------------------------------------------------------

void resnet_run(const Data& data, const Budget& budget, std::size_t epochs, std::uint64_t seed,
                const fs::path& out) {
    //! [resnet_run]
    cnn::Graph model = cnn::resnet_model(seed);
    std::ostringstream summary;
    model.summary(summary);
    Training t = training(budget.quick ? budget.train : 0, epochs);  // 0: all of them
    t.verbose = cnn::Verbosity::epoch_line;
    // Adam at 0.001, ten times smaller for the last epochs / 4 epochs (3 of 15).
    const std::size_t decay_at = epochs - epochs / 4 + 1;
    t.callbacks.push_back(std::make_shared<cnn::LearningRateScheduler>(cnn::step_decay(0.001f, {decay_at})));
    //! [resnet_run]
    cnn::Transcript text(out / "ch08_resnet.txt");
    text.line(summary.str());
    const Run run = train("resnet_model", model, data, t);
    text.line(run_header());
    text.line(run_line(run));
    text.save();
    cnn::save_line_plot(curves("The book's ResNet: validation accuracy", "accuracy", {run},
                               validation_accuracy),
                        out / "ch08_resnet.png");
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch08_deeper_networks",
                         "Chapter 08: deeper networks: VGG, dropout, batch normalization, "
                         "residual connections, augmentation",
                         cnn::ReadsData::yes, cnn::Engines::fast);
    std::size_t resnet_epochs = 0;
    program.sections(6);
    program
        .option("--resnet-epochs", resnet_epochs,
                "Epochs of section 6's ResNet on the whole training set (default 2; the "
                "recorded run used 15)")
        .within(1, 200);
    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        Budget budget;
        if (options.quick) {
            budget = {384, 128, 256, 1, true};
        }
        const Data data = load_data(options, budget);
        const std::uint64_t seed = options.seed;
        const fs::path& out = options.out;
        if (options.wants(1)) {
            std::cout << "== 1. AlexNet and VGG ==\n\n";
            classic_summaries(seed, out);
            five_against_three(data, budget, seed, out);
            vgg_depth(data, budget, seed, out);
        }
        if (options.wants(2)) {
            std::cout << "\n== 2. Dropout ==\n\n";
            dropout_on_numbers(seed, out);
            dropout_experiment(data, budget, seed, out);
        }
        if (options.wants(3)) {
            std::cout << "\n== 3. Batch normalization ==\n\n";
            batch_norm_on_numbers(seed, out);
            batch_norm_experiment(data, budget, seed, out);
        }
        if (options.wants(4)) {
            std::cout << "\n== 4. Residual connections ==\n\n";
            graph_example(seed, out);
            degradation(data, budget, seed, out);
        }
        if (options.wants(5)) {
            std::cout << "\n== 5. Data augmentation ==\n\n";
            augmentation_experiment(data, budget, seed, out);
        }
        if (options.wants(6)) {
            std::cout << "\n== 6. The book's ResNet ==\n\n";
            resnet_run(data, budget, resnet_epochs > 0 ? resnet_epochs : options.quick ? 1 : 2, seed, out);
        }
        std::cout << "\nplots and tables written to " << out.string() << '\n';
    });
}
