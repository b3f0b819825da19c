// Chapter 10: object detection. A YOLO-style detector trained from scratch on scenes of
// Fashion-MNIST items, beside the sliding-window classifier it replaces.
//
//   1. Why not a classifier: chapter 06's LeNet-style classifier, given an eleventh class
//      (background), run on every window of four sizes: its boxes and its cost per scene.
//   2. Boxes: corners, centre and size, and YOLO's cell encoding; intersection over union.
//   3. The detector: the model, its loss term by term, the loss's gradient check, and
//      training on new scenes every epoch.
//   4. Decoding: every predictor's box, the confidence threshold, non-maximum suppression.
//   5. Evaluation: precision-recall curves, average precision per class, mAP, and the speed of
//      the detector against the sliding window.
//   6. Pictures: test scenes found well and badly, and the learning curves.
//
// Scenes are made from the training split (training scenes), the end of the training split
// (validation scenes) and the test split (test scenes, always drawn with the same seed), never
// mixed.
//
// Run: ch10_object_detection [--quick] [--out DIR] [--seed N] [--data DIR] [--only N]
//                            [--epochs N] [--train-scenes N] [--weights DIR]

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <xtensor/xview.hpp>

#include "cnn/check/gradient_check.hpp"
#include "cnn/detect/average_precision.hpp"
#include "cnn/detect/boxes.hpp"
#include "cnn/detect/nms.hpp"
#include "cnn/detect/scenes.hpp"
#include "cnn/detect/yolo.hpp"
#include "cnn/fast/threads.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/model/batches.hpp"
#include "cnn/model/schedule.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"
#include "support/app/program.hpp"
#include "support/app/timing.hpp"
#include "support/io/dataset.hpp"
#include "support/io/weights.hpp"
#include "support/plot/plot.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Box;
using cnn::Detection;
using cnn::LabelledBox;
using cnn::Scenes;
using cnn::Tensor2;
using cnn::Tensor4;

// ---------------------------------------------------------------------------------------------
// The data
// ---------------------------------------------------------------------------------------------

struct Budget {
    std::size_t items = 0;              // training images scenes are made of; 0: all
    std::size_t validation_items = 2000;  // the end of the training split
    std::size_t train_scenes = 16000;   // new ones every epoch
    std::size_t validation_scenes = 500;
    std::size_t test_scenes = 1000;
    std::size_t test_items = 10000;
    std::size_t epochs = 20;
    std::size_t batch = 32;
    float learning_rate = 1e-3f;
    std::size_t baseline_scenes = 200;  // the sliding window is slow: it sees the first ones
    std::size_t classifier_items = 30000;
    std::size_t classifier_epochs = 3;
};

// The test scenes are the same in every run, whatever --seed says.
constexpr std::uint64_t test_scene_seed = 2026;
// Below this score a detection is not worth evaluating; pictures show those above picture_score.
constexpr float min_score = 0.01f;
constexpr float picture_score = 0.3f;
constexpr float nms_iou = 0.45f;

struct Data {
    cnn::TrainingData items;  // Fashion-MNIST: training part, validation part, test part
    Scenes validation, test;
};

const cnn::SceneOptions scene_options{};  // 96x96, 1 to 4 items of 24 to 44 pixels

Data load_data(const cnn::ProgramOptions& options, const Budget& budget) {
    const fs::path dir = cnn::find_data_directory(options.data, options.quick);
    Data data{cnn::load_training_data(dir, budget.items, budget.validation_items, budget.test_items), {}, {}};
    //! [make_test_scenes]
    data.validation = cnn::make_scenes(data.items.validation.x, data.items.validation.y,
                                       budget.validation_scenes, scene_options, options.seed + 1);
    data.test = cnn::make_scenes(data.items.test.x, data.items.test.y, budget.test_scenes,
                                 scene_options, test_scene_seed);
    //! [make_test_scenes]
    std::cout << fmt::format("data: {} ({} training items, {} validation items, {} test items)\n\n",
                             dir.string(), data.items.train.y.size(), data.items.validation.y.size(),
                             data.items.test.y.size());
    return data;
}

std::string class_name(std::size_t label) { return cnn::fashion_mnist_class_names().at(label); }

// The truths of every scene, as the evaluation counts them.
std::vector<cnn::TruthBox> all_truths(const Scenes& scenes, std::size_t count) {
    std::vector<cnn::TruthBox> truths;
    for (std::size_t n = 0; n < count; ++n) {
        for (const LabelledBox& t : scenes.truths(n)) {
            truths.push_back({n, t.box, t.label});
        }
    }
    return truths;
}

std::vector<cnn::ScoredBox> all_detections(const std::vector<std::vector<Detection>>& per_scene) {
    std::vector<cnn::ScoredBox> result;
    for (std::size_t n = 0; n < per_scene.size(); ++n) {
        for (const Detection& d : per_scene[n]) {
            result.push_back({n, d});
        }
    }
    return result;
}

// A scene with boxes drawn on it: truths dashed in white, detections in colour with their
// class and score.
cnn::GridImage picture(const Scenes& scenes, std::size_t n, const std::vector<Detection>& found,
                       const std::string& caption) {
    cnn::GridImage image{xt::view(scenes.images, n, 0, xt::all(), xt::all()), caption};
    for (const LabelledBox& t : scenes.truths(n)) {
        image.boxes.push_back({t.box.x_min, t.box.y_min, t.box.x_max, t.box.y_max, "", "#ffffff", true});
    }
    for (const Detection& d : found) {
        image.boxes.push_back({d.box.x_min, d.box.y_min, d.box.x_max, d.box.y_max,
                               fmt::format("{} {:.2f}", class_name(d.label), d.score), "#ff7f0e", false});
    }
    return image;
}

// ---------------------------------------------------------------------------------------------
// 1. Why not a classifier: the sliding window
// ---------------------------------------------------------------------------------------------

constexpr std::size_t background = 10;  // the classifier's eleventh class
const std::vector<std::size_t> window_sides{24, 32, 40, 48};
constexpr std::size_t window_stride = 4;

//! [window_classifier]
// Chapter 06's LeNet-style classifier with an eleventh output: "no item here".
cnn::Sequential window_classifier(std::uint64_t seed) {
    cnn::Sequential model(seed);
    model.add(cnn::Conv2D(6, 5).activation("relu").padding("same").input_shape({1, 28, 28}));
    model.add(cnn::MaxPooling2D(2));
    model.add(cnn::Conv2D(16, 5).activation("relu"));
    model.add(cnn::MaxPooling2D(2));
    model.add(cnn::Flatten());
    model.add(cnn::Dense(120).activation("relu"));
    model.add(cnn::Dense(84).activation("relu"));
    model.add(cnn::Dense(11).activation("softmax"));
    return model;
}
//! [window_classifier]

// The square window of `side` pixels at (top, left) of scene n, scaled to 28x28.
Tensor2 window(const Scenes& scenes, std::size_t n, std::size_t top, std::size_t left, std::size_t side) {
    const Tensor2 crop = xt::view(scenes.images, n, 0, xt::range(top, top + side), xt::range(left, left + side));
    return cnn::resize_bilinear(crop, 28, 28);
}

// Training examples for the classifier: Fashion-MNIST items as they are, and as many windows
// of training scenes that overlap no item's frame by more than IoU 0.3: background, and
// pieces of items too small to name.
cnn::Examples classifier_examples(const cnn::Examples& items, std::size_t count, std::uint64_t seed) {
    const std::size_t n_items = std::min(count, items.y.size());
    const Scenes scenes = cnn::make_scenes(items.x, items.y, n_items, scene_options, seed);
    cnn::Examples result{Tensor4::from_shape({2 * n_items, 1, 28, 28}), cnn::Labels(2 * n_items)};
    cnn::Rng rng(seed + 1);
    for (std::size_t k = 0; k < n_items; ++k) {
        xt::view(result.x, k) = xt::view(items.x, k);
        result.y[k] = items.y[k];
        for (;;) {  // a background window of a random size and place
            const std::size_t side = window_sides[rng.below(window_sides.size())];
            const std::size_t top = rng.below(scene_options.size - side + 1);
            const std::size_t left = rng.below(scene_options.size - side + 1);
            const Box box{static_cast<float>(left), static_cast<float>(top),
                          static_cast<float>(left + side), static_cast<float>(top + side)};
            const bool clear = std::none_of(scenes.items[k].begin(), scenes.items[k].end(), [&](const cnn::SceneItem& item) {
                const Box frame{static_cast<float>(item.left), static_cast<float>(item.top),
                                static_cast<float>(item.left + item.side), static_cast<float>(item.top + item.side)};
                return cnn::intersection_over_union(box, frame) > 0.3f;
            });
            if (clear) {
                xt::view(result.x, n_items + k, 0) = window(scenes, k, top, left, side);
                result.y[n_items + k] = background;
                break;
            }
        }
    }
    return result;
}

// Every window of every size over scene n: its box, and its pixels scaled to 28x28.
struct Windows {
    std::vector<Box> boxes;
    Tensor4 x;  // (windows, 1, 28, 28)
};

Windows all_windows(const Scenes& scenes, std::size_t n) {
    Windows windows;
    std::vector<Tensor2> crops;
    for (const std::size_t side : window_sides) {
        for (std::size_t top = 0; top + side <= scenes.images.shape(2); top += window_stride) {
            for (std::size_t left = 0; left + side <= scenes.images.shape(3); left += window_stride) {
                windows.boxes.push_back({static_cast<float>(left), static_cast<float>(top),
                                         static_cast<float>(left + side), static_cast<float>(top + side)});
                crops.push_back(window(scenes, n, top, left, side));
            }
        }
    }
    windows.x = Tensor4::from_shape({crops.size(), 1, 28, 28});
    for (std::size_t k = 0; k < crops.size(); ++k) {
        xt::view(windows.x, k, 0) = crops[k];
    }
    return windows;
}

//! [sliding_window]
// Every window classified; a window whose most probable item class (background aside) scores
// at least min_score is a detection, with the window as its box.
std::vector<Detection> sliding_window(cnn::Sequential& classifier, const Scenes& scenes, std::size_t n) {
    const Windows windows = all_windows(scenes, n);
    const Tensor2 p = classifier.predict(windows.x, 512);  // (windows, 11)
    std::vector<Detection> found;
    for (std::size_t k = 0; k < windows.boxes.size(); ++k) {
        std::size_t best = 0;
        for (std::size_t c = 1; c < background; ++c) {
            best = p(k, c) > p(k, best) ? c : best;
        }
        if (p(k, best) >= min_score) {
            found.push_back({windows.boxes[k], best, p(k, best)});
        }
    }
    return cnn::non_max_suppression(found, nms_iou);
}
//! [sliding_window]

std::size_t windows_per_scene() {
    std::size_t count = 0;
    for (const std::size_t side : window_sides) {
        const std::size_t per_axis = (scene_options.size - side) / window_stride + 1;
        count += per_axis * per_axis;
    }
    return count;
}

struct Baseline {
    std::vector<std::vector<Detection>> found;  // per scene, after NMS
    double seconds = 0.0;                       // for all of them
};

Baseline why_not_a_classifier(const Data& data, const Budget& budget, std::uint64_t seed,
                              const fs::path& out) {
    cnn::Transcript text(out / "ch10_sliding_window.txt");
    const cnn::Examples examples = classifier_examples(data.items.train, budget.classifier_items, seed + 7);
    cnn::Sequential classifier = window_classifier(seed);
    classifier.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
    cnn::FitOptions fit;
    fit.epochs = budget.classifier_epochs;
    fit.batch_size = 64;
    fit.verbose = cnn::Verbosity::silent;
    classifier.fit(examples.x, examples.y, fit);
    const cnn::Examples check = classifier_examples(data.items.validation, data.items.validation.y.size(), seed + 8);
    text.line(fmt::format("classifier: chapter 06's LeNet-style network with 11 classes (10 + background),"));
    text.line(fmt::format("  {} epoch{} on {} items and {} background windows; validation accuracy {:.4f}",
                          budget.classifier_epochs, budget.classifier_epochs == 1 ? "" : "s",
                          examples.y.size() / 2, examples.y.size() / 2,
                          classifier.evaluate(check.x, check.y).accuracy));
    const std::size_t scenes = std::min(budget.baseline_scenes, data.test.items.size());
    Baseline baseline;
    baseline.found.resize(scenes);
    baseline.seconds = cnn::seconds_of([&] {
        for (std::size_t n = 0; n < scenes; ++n) {
            baseline.found[n] = sliding_window(classifier, data.test, n);
        }
    });
    text.line(fmt::format("windows of {} pixels, every {} pixels: {} windows per 96x96 scene",
                          fmt::join(window_sides, ", "), window_stride, windows_per_scene()));
    text.line(fmt::format("{} test scenes in {:.2f} s: {:.1f} ms per scene, {:.1f} scenes/s",
                          scenes, baseline.seconds, 1000.0 * baseline.seconds / static_cast<double>(scenes),
                          static_cast<double>(scenes) / baseline.seconds));
    text.save();
    std::vector<cnn::GridImage> images;
    for (std::size_t n = 0; n < std::min<std::size_t>(6, scenes); ++n) {
        std::vector<Detection> shown = cnn::above_threshold(baseline.found[n], picture_score);
        images.push_back(picture(data.test, n, shown, fmt::format("test scene {}", n)));
    }
    cnn::save_image_grid({"The sliding window: its boxes (orange, score >= 0.3) and the true ones (dashed)",
                          images, 3, std::nullopt, false, 300},
                         out / "ch10_sliding_window.png");
    return baseline;
}

// ---------------------------------------------------------------------------------------------
// 2. Boxes
// ---------------------------------------------------------------------------------------------

void boxes(const Data& data, const cnn::YoloOptions& yolo, const fs::path& out) {
    cnn::Transcript text(out / "ch10_boxes.txt");
    text.line(fmt::format("test scene 0: {} items; a {}x{} grid of {}-pixel cells", data.test.items[0].size(),
                          yolo.grid, yolo.grid, yolo.image_width / yolo.grid));
    text.line("class         corners (x0, y0, x1, y1)      centre, size               cell    x     y     w     h");
    for (const LabelledBox& t : data.test.truths(0)) {
        //! [encodings]
        const cnn::CentreSize c = cnn::to_centre_size(t.box);
        const cnn::GridBox g = cnn::to_grid(t.box, yolo.image_height, yolo.image_width, yolo.grid);
        const Box back = cnn::from_grid(g, yolo.image_height, yolo.image_width, yolo.grid);
        //! [encodings]
        text.line(fmt::format("{:<12}  ({:4.0f}, {:4.0f}, {:4.0f}, {:4.0f})   ({:5.1f}, {:5.1f}), {:2.0f}x{:2.0f}"
                              "     ({}, {})  {:.2f}  {:.2f}  {:.2f}  {:.2f}   back: IoU {:.4f}",
                              class_name(t.label), t.box.x_min, t.box.y_min, t.box.x_max, t.box.y_max,
                              c.x, c.y, c.w, c.h, g.row, g.column, g.x, g.y, g.w, g.h,
                              cnn::intersection_over_union(t.box, back)));
    }
    text.save();
    // The grid over scene 0, and the cell that answers for each item.
    cnn::GridImage grid{xt::view(data.test.images, 0, 0, xt::all(), xt::all()), "test scene 0"};
    const double cell = static_cast<double>(yolo.image_width) / static_cast<double>(yolo.grid);
    for (std::size_t i = 0; i < yolo.grid; ++i) {
        for (std::size_t j = 0; j < yolo.grid; ++j) {
            grid.boxes.push_back({j * cell, i * cell, (j + 1) * cell, (i + 1) * cell, "", "#606060", false});
        }
    }
    for (const LabelledBox& t : data.test.truths(0)) {
        const cnn::GridBox g = cnn::to_grid(t.box, yolo.image_height, yolo.image_width, yolo.grid);
        grid.boxes.push_back({g.column * cell, g.row * cell, (g.column + 1) * cell, (g.row + 1) * cell,
                              "", "#ff7f0e", false});
        grid.boxes.push_back({t.box.x_min, t.box.y_min, t.box.x_max, t.box.y_max, class_name(t.label),
                              "#ffffff", false});
    }
    cnn::save_image_grid({"", {grid}, 1, std::nullopt, false, 480}, out / "ch10_grid.png");
    // Intersection over union, on five pairs of boxes.
    struct Pair {
        Box a, b;
        std::string name;
    };
    const std::vector<Pair> pairs{
        {{8, 8, 28, 28}, {36, 30, 56, 56}, "disjoint"},
        {{8, 16, 32, 48}, {32, 16, 56, 48}, "touching"},
        {{8, 8, 40, 40}, {24, 24, 56, 56}, "overlapping"},
        {{8, 8, 56, 56}, {20, 20, 44, 44}, "nested"},
        {{12, 12, 52, 52}, {12, 12, 52, 52}, "identical"},
    };
    std::vector<cnn::GridImage> images;
    cnn::Transcript iou(out / "ch10_iou.txt");
    for (const Pair& p : pairs) {
        const float inter = cnn::intersection_area(p.a, p.b);
        const float both = cnn::box_area(p.a) + cnn::box_area(p.b) - inter;
        const float value = cnn::intersection_over_union(p.a, p.b);
        iou.line(fmt::format("{:<12} intersection {:5.0f}, union {:5.0f}: IoU {:.4f}", p.name, inter, both, value));
        cnn::GridImage image{xt::zeros<float>({64, 64}), fmt::format("{}: IoU {:.3f}", p.name, value)};
        image.boxes.push_back({p.a.x_min, p.a.y_min, p.a.x_max, p.a.y_max, "A", "#1f77b4", false});
        image.boxes.push_back({p.b.x_min, p.b.y_min, p.b.x_max, p.b.y_max, "B", "#ff7f0e", true});
        images.push_back(image);
    }
    iou.save();
    cnn::save_image_grid({"Intersection over union: the shared area over the area of either box",
                          images, 5, std::pair<double, double>{0.0, 1.0}, false, 200},
                         out / "ch10_iou.png");
}

// ---------------------------------------------------------------------------------------------
// 3. The detector
// ---------------------------------------------------------------------------------------------

struct Curves {
    std::vector<double> epoch, coordinates, object, no_object, classes, train, validation, map;
};

// The detections of every scene, before (raw) or after NMS.
std::vector<std::vector<Detection>> detect(cnn::Sequential& model, const Scenes& scenes, std::size_t count,
                                           const cnn::YoloOptions& yolo, float threshold) {
    std::vector<std::vector<Detection>> found(count);
    for (const std::vector<std::size_t>& batch : cnn::ordered_batches(count, 250)) {
        const Tensor4 outputs = model.forward(cnn::take_examples(scenes.images, batch), false, false);
        for (std::size_t k = 0; k < batch.size(); ++k) {
            found[batch[k]] = cnn::non_max_suppression(cnn::yolo_detections(outputs, k, yolo, threshold), nms_iou);
        }
    }
    return found;
}

cnn::MeanAveragePrecision evaluate(const std::vector<std::vector<Detection>>& found, const Scenes& scenes,
                                   cnn::ApMethod method = cnn::ApMethod::all_points) {
    return cnn::mean_average_precision(all_detections(found), all_truths(scenes, found.size()),
                                       cnn::dataset_class_count, 0.5f, method);
}

// The true boxes of the scenes `batch`, in that order.
std::vector<std::vector<LabelledBox>> truths_of(const Scenes& scenes, const std::vector<std::size_t>& batch) {
    std::vector<std::vector<LabelledBox>> truths;
    for (const std::size_t n : batch) {
        truths.push_back(scenes.truths(n));
    }
    return truths;
}

// The loss of every validation scene, in batches, with the network in inference mode.
double validation_loss(cnn::Sequential& model, const Scenes& scenes, const cnn::YoloOptions& yolo) {
    double sum = 0.0;
    const std::size_t count = scenes.items.size();
    for (const std::vector<std::size_t>& batch : cnn::ordered_batches(count, 250)) {
        const Tensor4 outputs = model.forward(cnn::take_examples(scenes.images, batch), false, false);
        const cnn::YoloLoss loss = cnn::yolo_loss(outputs, cnn::assign_targets(outputs, truths_of(scenes, batch), yolo), yolo);
        sum += loss.total * static_cast<double>(batch.size());
    }
    return sum / static_cast<double>(count);
}

void gradient_check(cnn::Sequential& model, const Data& data, const cnn::YoloOptions& yolo, cnn::Transcript& text) {
    // The loss's derivative with respect to the network's outputs, on the outputs of the
    // untrained model for four test scenes; the layers below are chapter 06's and 08's, each
    // checked in its own tests.
    const std::vector<std::size_t> scenes{0, 1, 2, 3};
    Tensor4 outputs = model.forward(cnn::take_examples(data.test.images, scenes), false, false);
    const cnn::YoloTargets targets = cnn::assign_targets(outputs, truths_of(data.test, scenes), yolo);
    const cnn::YoloLoss loss = cnn::yolo_loss(outputs, targets, yolo);
    const cnn::GradientCheckResult check = cnn::check_gradient(
        "YOLO loss, d/d outputs", [&] { return cnn::yolo_loss(outputs, targets, yolo).total; },
        outputs.data(), loss.gradient.data(), outputs.size());
    text.line(fmt::format("gradient check on 4 test scenes ({} outputs): {}", outputs.size(), check.summary()));
    if (!check.passed()) {
        throw std::runtime_error("the YOLO loss's gradient failed its numerical check");
    }
}

cnn::Sequential trained_detector(const Data& data, const Budget& budget, const cnn::YoloOptions& yolo,
                                 const std::optional<fs::path>& weights, std::uint64_t seed,
                                 const fs::path& out, Curves& curves) {
    cnn::Sequential model = cnn::yolo_model(yolo, seed);
    cnn::Transcript text(out / "ch10_training.txt");
    std::ostringstream summary;
    model.summary(summary, {true});
    std::cout << summary.str() << '\n';
    cnn::write_file_atomically(out / "ch10_model.txt", summary.str());
    gradient_check(model, data, yolo, text);
    if (weights) {
        cnn::load_weights(model.weights(), *weights);
        text.line("weights loaded from " + weights->filename().string() + ": no training in this run");
        text.save();
        return model;
    }
    cnn::Adam adam(cnn::AdamOptions{budget.learning_rate});
    const cnn::Schedule rate = cnn::step_decay(budget.learning_rate, {budget.epochs - budget.epochs / 4 + 1});
    const std::vector<cnn::Parameter> parameters = model.parameters();
    text.line(fmt::format("{} epoch{} of {} new training scenes each, batch {}, Adam at {}{}", budget.epochs,
                          budget.epochs == 1 ? "" : "s", budget.train_scenes, budget.batch, budget.learning_rate,
                          budget.epochs / 4 == 0 ? std::string()
                                                 : fmt::format(", 10 times less for the last {}", budget.epochs / 4)));
    text.line("epoch   coord  object  no-obj  classes   total | val loss  val mAP@0.5 | unassigned   time");
    double seconds = 0.0;
    for (std::size_t epoch = 1; epoch <= budget.epochs; ++epoch) {
        // A new set of scenes every epoch: the generator is an endless source of data.
        const Scenes train = cnn::make_scenes(data.items.train.x, data.items.train.y, budget.train_scenes,
                                              scene_options, seed * 1000 + 100 + epoch);
        adam.set_learning_rate(rate(epoch));
        cnn::Rng rng(seed + epoch);
        cnn::YoloLoss sums;
        std::size_t unassigned = 0;
        seconds += cnn::seconds_of([&] {
            for (const std::vector<std::size_t>& batch : cnn::shuffled_batches(budget.train_scenes, budget.batch, rng)) {
                Tensor4 x = cnn::take_examples(train.images, batch);
                const std::vector<std::vector<LabelledBox>> truths = truths_of(train, batch);
                //! [training_step]
                cnn::zero_gradients(parameters);
                const Tensor4 outputs = model.forward(std::move(x), true, false);
                const cnn::YoloTargets targets = cnn::assign_targets(outputs, truths, yolo);
                cnn::YoloLoss loss = cnn::yolo_loss(outputs, targets, yolo);
                model.backward(std::move(loss.gradient));
                adam.step(parameters);
                //! [training_step]
                if (!std::isfinite(loss.total)) {
                    throw cnn::TrainingDiverged(fmt::format("the YOLO loss became {} at epoch {}: try a "
                                                            "learning rate 10 times smaller", loss.total, epoch));
                }
                const auto count = static_cast<double>(batch.size());
                sums.coordinates += loss.coordinates * count;
                sums.object += loss.object * count;
                sums.no_object += loss.no_object * count;
                sums.classes += loss.classes * count;
                unassigned += targets.unassigned;
            }
        });
        const auto scenes = static_cast<double>(budget.train_scenes);
        const double total = (sums.coordinates + sums.object + sums.no_object + sums.classes) / scenes;
        const double val_loss = validation_loss(model, data.validation, yolo);
        const double val_map = evaluate(detect(model, data.validation, data.validation.items.size(), yolo, min_score),
                                        data.validation).mean;
        curves.epoch.push_back(static_cast<double>(epoch));
        curves.coordinates.push_back(sums.coordinates / scenes);
        curves.object.push_back(sums.object / scenes);
        curves.no_object.push_back(sums.no_object / scenes);
        curves.classes.push_back(sums.classes / scenes);
        curves.train.push_back(total);
        curves.validation.push_back(val_loss);
        curves.map.push_back(val_map);
        text.line(fmt::format("{:5}  {:6.3f}  {:6.3f}  {:6.3f}  {:7.3f}  {:6.3f} | {:8.3f}  {:11.4f} | {:10}  {:4.0f} s",
                              epoch, curves.coordinates.back(), curves.object.back(), curves.no_object.back(),
                              curves.classes.back(), total, val_loss, val_map, unassigned, seconds));
    }
    text.line(fmt::format("training steps: {:.0f} s, {:.0f} scenes/s", seconds,
                          static_cast<double>(budget.epochs * budget.train_scenes) / seconds));
    text.save();
    cnn::save_weights(model.weights(), out / "ch10_detector_weights");
    return model;
}

void learning_curves(const Curves& curves, const fs::path& out) {
    if (curves.epoch.empty()) {
        return;  // weights were loaded: nothing was trained here
    }
    cnn::LinePlot loss;
    loss.title = "The detector's loss, term by term (training scenes) and in all (validation)";
    loss.x_label = "epoch";
    loss.y_label = "loss per scene";
    loss.series = {{"coordinates", curves.epoch, curves.coordinates},
                   {"object", curves.epoch, curves.object},
                   {"no object", curves.epoch, curves.no_object},
                   {"classes", curves.epoch, curves.classes},
                   {"total, training", curves.epoch, curves.train},
                   {"total, validation", curves.epoch, curves.validation}};
    cnn::save_line_plot(loss, out / "ch10_loss.png");
    cnn::LinePlot map;
    map.title = "Validation mAP@0.5 after every epoch";
    map.x_label = "epoch";
    map.y_label = "mAP@0.5";
    map.series = {{"validation scenes", curves.epoch, curves.map}};
    map.y_range = {0.0, 1.0};
    cnn::save_line_plot(map, out / "ch10_validation_map.png");
}

// ---------------------------------------------------------------------------------------------
// 4. Decoding
// ---------------------------------------------------------------------------------------------

void decoding(cnn::Sequential& model, const Data& data, const cnn::YoloOptions& yolo, const fs::path& out) {
    cnn::Transcript text(out / "ch10_decoding.txt");
    const Tensor4 outputs = model.forward(cnn::take_examples(data.test.images, {0}), false, false);
    //! [decoding]
    const std::vector<Detection> all = cnn::yolo_detections(outputs, 0, yolo, 0.0f);  // S * S * B
    const std::vector<Detection> confident = cnn::above_threshold(all, picture_score);
    const std::vector<Detection> kept = cnn::non_max_suppression(confident, nms_iou);
    //! [decoding]
    text.line(fmt::format("test scene 0: {} true items; the detector's {}x{}x{} = {} boxes", data.test.items[0].size(),
                          yolo.grid, yolo.grid, yolo.boxes, all.size()));
    text.line(fmt::format("score >= {}: {} boxes; after non-maximum suppression at IoU {}: {}", picture_score,
                          confident.size(), nms_iou, kept.size()));
    for (const Detection& d : kept) {
        text.line(fmt::format("  {:<12} score {:.3f}  box ({:.1f}, {:.1f}, {:.1f}, {:.1f})", class_name(d.label), d.score,
                              d.box.x_min, d.box.y_min, d.box.x_max, d.box.y_max));
    }
    text.save();
    std::vector<Detection> strongest = cnn::above_threshold(all, 0.02f);
    cnn::save_image_grid({"Decoding test scene 0",
                          {picture(data.test, 0, strongest, "every box scoring 0.02 or more"),
                           picture(data.test, 0, confident, fmt::format("score >= {}", picture_score)),
                           picture(data.test, 0, kept, "after non-maximum suppression")},
                          3, std::nullopt, false, 300},
                         out / "ch10_decoding.png");
}

// ---------------------------------------------------------------------------------------------
// 5. Evaluation
// ---------------------------------------------------------------------------------------------

struct Evaluated {
    std::vector<std::vector<Detection>> found;  // every test scene, after NMS
    double mean_ap = 0.0;
};

Evaluated evaluation(cnn::Sequential& model, const Data& data, const Baseline& baseline,
                     const cnn::YoloOptions& yolo, const fs::path& out) {
    Evaluated result;
    const std::size_t count = data.test.items.size();
    const double seconds = cnn::median_seconds(3, [&] { result.found = detect(model, data.test, count, yolo, min_score); });
    //! [evaluate]
    const std::vector<cnn::ScoredBox> detections = all_detections(result.found);
    const std::vector<cnn::TruthBox> truths = all_truths(data.test, count);
    const cnn::MeanAveragePrecision map = cnn::mean_average_precision(
        detections, truths, cnn::dataset_class_count, 0.5f, cnn::ApMethod::all_points);
    //! [evaluate]
    const cnn::MeanAveragePrecision map11 = cnn::mean_average_precision(
        detections, truths, cnn::dataset_class_count, 0.5f, cnn::ApMethod::eleven_points);
    result.mean_ap = map.mean;
    cnn::Transcript text(out / "ch10_average_precision.txt");
    text.line(fmt::format("{} test scenes, {} true items, {} detections (score >= {}, after NMS at IoU {})",
                          count, truths.size(), detections.size(), min_score, nms_iou));
    text.line("class         items   AP (all points)   AP (11 points)");
    cnn::LinePlot curves;
    curves.title = "Precision-recall on the test scenes, IoU >= 0.5";
    curves.x_label = "recall";
    curves.y_label = "precision";
    for (std::size_t c = 0; c < cnn::dataset_class_count; ++c) {
        text.line(fmt::format("{:<12}  {:5}   {:15.4f}   {:14.4f}", class_name(c), map.truths_per_class[c],
                              map.per_class[c], map11.per_class[c]));
        const cnn::PrecisionRecall pr = cnn::precision_recall(detections, truths, c, 0.5f);
        if (!pr.recall.empty()) {
            curves.series.push_back({class_name(c), pr.recall, pr.precision});
        }
    }
    text.line(fmt::format("mAP@0.5       {:5}   {:15.4f}   {:14.4f}", truths.size(), map.mean, map11.mean));
    text.save();
    curves.points = false;
    curves.y_range = {0.0, 1.05};
    if (curves.series.empty()) {  // a detector that found nothing at all
        curves.series.push_back({"no detection", {0.0}, {0.0}});
    }
    cnn::save_line_plot(curves, out / "ch10_precision_recall.png");
    // Speed and quality beside the sliding window, on the scenes the window saw.
    const std::size_t seen = baseline.found.size();
    if (seen == 0) {
        return result;  // section 1 did not run
    }
    cnn::Transcript speed(out / "ch10_speed.txt");
    const std::vector<std::vector<Detection>> same(result.found.begin(), result.found.begin() + static_cast<std::ptrdiff_t>(seen));
    speed.line(fmt::format("on the first {} test scenes, {} threads:", seen, cnn::thread_count()));
    speed.line(fmt::format("  sliding window  {:8.1f} scenes/s  mAP@0.5 {:.4f}", static_cast<double>(seen) / baseline.seconds,
                           evaluate(baseline.found, data.test).mean));
    speed.line(fmt::format("  YOLO detector   {:8.1f} scenes/s  mAP@0.5 {:.4f}   ({} scenes, median of 3 runs)",
                           static_cast<double>(count) / seconds, evaluate(same, data.test).mean, count));
    speed.line(fmt::format("  the detector is {:.0f} times faster", (static_cast<double>(count) / seconds) /
                                                                      (static_cast<double>(seen) / baseline.seconds)));
    speed.save();
    return result;
}

// ---------------------------------------------------------------------------------------------
// 6. Pictures
// ---------------------------------------------------------------------------------------------

// What went wrong in a scene at the picture threshold: 0 when every item is found with its
// class at IoU >= 0.5 and nothing else is claimed.
std::size_t mistakes(const Scenes& scenes, std::size_t n, const std::vector<Detection>& found) {
    std::vector<char> matched(scenes.items[n].size(), 0);
    std::size_t wrong = 0;
    for (const Detection& d : found) {
        bool hit = false;
        for (std::size_t t = 0; t < matched.size(); ++t) {
            const LabelledBox& truth = scenes.items[n][t].truth;
            if (!matched[t] && truth.label == d.label && cnn::intersection_over_union(truth.box, d.box) >= 0.5f) {
                matched[t] = 1;
                hit = true;
                break;
            }
        }
        wrong += hit ? 0 : 1;
    }
    return wrong + static_cast<std::size_t>(std::count(matched.begin(), matched.end(), 0));
}

void pictures(const Data& data, const Evaluated& evaluated, const fs::path& out) {
    const std::size_t count = evaluated.found.size();
    std::vector<std::vector<Detection>> shown(count);
    std::vector<std::size_t> wrong(count), order(count);
    for (std::size_t n = 0; n < count; ++n) {
        shown[n] = cnn::above_threshold(evaluated.found[n], picture_score);
        wrong[n] = mistakes(data.test, n, shown[n]);
    }
    // The scenes in order of their mistakes, fewest first (in scene order among equals).
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return wrong[a] < wrong[b]; });
    const auto gallery = [&](std::size_t begin, std::size_t end) {
        std::vector<cnn::GridImage> images;
        for (std::size_t k = begin; k < end; ++k) {
            const std::size_t n = order[k];
            images.push_back(picture(data.test, n, shown[n],
                                     wrong[n] == 0 ? fmt::format("scene {}", n)
                                                   : fmt::format("scene {}: {} wrong", n, wrong[n])));
        }
        return images;
    };
    const std::size_t shown_each = std::min<std::size_t>(8, count / 2);
    cnn::Transcript text(out / "ch10_pictures.txt");
    text.line(fmt::format("test scenes where every item is found (its class, IoU >= 0.5) and nothing else "
                          "scores {} or more: {} of {}", picture_score,
                          std::count(wrong.begin(), wrong.end(), 0), count));
    text.save();
    cnn::save_image_grid({"The test scenes with the fewest mistakes: detections in orange, true boxes dashed",
                          gallery(0, shown_each), 4, std::nullopt, false, 260},
                         out / "ch10_good.png");
    cnn::save_image_grid({"The test scenes with the most mistakes: misses, wrong classes, loose boxes, false alarms",
                          gallery(count - shown_each, count), 4, std::nullopt, false, 260},
                         out / "ch10_failures.png");
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch10_object_detection",
                         "Chapter 10: object detection: the sliding window, boxes and IoU, a YOLO-style "
                         "detector, decoding, average precision",
                         cnn::ReadsData::yes, cnn::Engines::fast);
    std::size_t epochs = 0, train_scenes = 0;
    std::string weights;
    program.sections(6);
    program.option("--epochs", epochs, "Epochs of the detector (default 20, or 1 with --quick)")
        .within(1, 1000);
    program
        .option("--train-scenes", train_scenes,
                "New training scenes per epoch (default 16000, or 256 with --quick)")
        .within(1, 1000000);
    program
        .option("--weights", weights,
                "The detector's weights from an earlier run (its ch10_detector_weights); "
                "without it the detector trains")
        .existing_folder();
    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        Budget budget;
        if (options.quick) {  // the committed sample: seconds
            budget.items = 384;
            budget.validation_items = 128;
            budget.test_items = 256;
            budget.train_scenes = 256;
            budget.validation_scenes = 32;
            budget.test_scenes = 64;
            budget.epochs = 1;
            budget.baseline_scenes = 4;
            budget.classifier_items = 384;
            budget.classifier_epochs = 1;
        }
        budget.epochs = epochs > 0 ? epochs : budget.epochs;
        budget.train_scenes = train_scenes > 0 ? train_scenes : budget.train_scenes;
        const fs::path& out = options.out;
        const cnn::YoloOptions yolo;  // 96x96 scenes, a 6x6 grid, 2 boxes per cell, 10 classes
        const Data data = load_data(options, budget);
        Baseline baseline;
        if (options.wants(1) || options.wants(5)) {  // section 5 compares the detector with the window
            std::cout << "== 1. Why not a classifier: the sliding window ==\n\n";
            baseline = why_not_a_classifier(data, budget, options.seed, out);
        }
        if (options.wants(2)) {
            std::cout << "\n== 2. Boxes ==\n\n";
            boxes(data, yolo, out);
        }
        if (options.wants(3) || options.wants(4) || options.wants(5) || options.wants(6)) {
            std::cout << "\n== 3. The detector ==\n\n";
            Curves curves;
            cnn::Sequential model = trained_detector(
                data, budget, yolo, weights.empty() ? std::nullopt : std::optional<fs::path>(weights),
                options.seed, out, curves);
            learning_curves(curves, out);
            if (options.wants(4)) {
                std::cout << "\n== 4. Decoding ==\n\n";
                decoding(model, data, yolo, out);
            }
            if (options.wants(5) || options.wants(6)) {
                std::cout << "\n== 5. Evaluation ==\n\n";
                const Evaluated evaluated = evaluation(model, data, baseline, yolo, out);
                if (options.wants(6)) {
                    std::cout << "\n== 6. Pictures ==\n\n";
                    pictures(data, evaluated, out);
                }
            }
        }
        std::cout << "\nplots and tables written to " << out.filename().string() << '\n';
    });
}
