// Chapter 11: semantic segmentation. A class for every pixel of chapter 10's scenes, by a
// network that first makes the image smaller and then large again.
//
//   1. Making images larger: nearest and bilinear upsampling, the transposed convolution
//      worked out by hand and shown to be a convolution's backward pass, its output size
//      beside chapter 03's formula, and its checkerboard artefacts.
//   2. The encoder-decoder: the hourglass and the U-Net, trained on new scenes every epoch
//      with a softmax cross-entropy at every pixel, and their learning curves.
//   3. Evaluation: pixel accuracy, IoU per class, mean IoU and the confusion matrix of pixel
//      classes, with and without the skips; test scenes, their true masks and both networks'
//      masks in one colour legend. (It needs the trained networks: --only 3 trains them too.)
//
// Run: ch11_semantic_segmentation [--quick] [--out DIR] [--seed N] [--data DIR] [--only N]
//                                 [--epochs N] [--train-scenes N]

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "cnn/detect/scenes.hpp"
#include "cnn/model/batches.hpp"
#include "cnn/model/schedule.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "cnn/ops/conv2d_transpose.hpp"
#include "cnn/ops/geometry.hpp"
#include "cnn/ops/pooling.hpp"
#include "cnn/ops/upsample.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/segment/masks.hpp"
#include "cnn/segment/models.hpp"
#include "cnn/segment/pixel_loss.hpp"
#include "cnn/segment/scores.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"
#include "support/app/program.hpp"
#include "support/app/timing.hpp"
#include "support/io/dataset.hpp"
#include "support/plot/number_grid.hpp"
#include "support/plot/plot.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::Masks;
using cnn::Scenes;
using cnn::Tensor2;
using cnn::Tensor4;

// ---------------------------------------------------------------------------------------------
// 1. Making images larger
// ---------------------------------------------------------------------------------------------

Tensor4 one_map(const Tensor2& m) {
    Tensor4 x = Tensor4::from_shape({1, 1, m.shape(0), m.shape(1)});
    xt::view(x, 0, 0) = m;
    return x;
}

Tensor2 map_of(const Tensor4& x) { return xt::view(x, 0, 0); }

void upsampling(const cnn::Examples& test, const fs::path& out) {
    cnn::Transcript text(out / "ch11_upsampling.txt");
    const Tensor4 x = one_map(Tensor2{{1, 2}, {3, 4}});
    //! [upsampling_by_hand]
    const Tensor4 nearest = cnn::upsample_nearest_forward(x, {2, 2});
    const Tensor4 bilinear = cnn::upsample_bilinear_forward(x, {2, 2});
    //! [upsampling_by_hand]
    text.line("x (2x2):");
    text.line(cnn::matrix_to_text(map_of(x), 0, 5));
    text.line("nearest, 2x (4x4): every value copied into a 2x2 block");
    text.line(cnn::matrix_to_text(map_of(nearest), 0, 5));
    text.line("bilinear, 2x (4x4): output pixel i samples x at (i + 0.5) / 2 - 0.5, clamped to the edges");
    text.line(cnn::matrix_to_text(map_of(bilinear), 2, 6));
    // A test image halved by chapter 05's 2x2 average pooling, then made full size again both ways.
    const Tensor2 image = xt::view(test.x, 0, 0);
    cnn::Pool2DWindow two_by_two;
    two_by_two.geometry.stride_rows = two_by_two.geometry.stride_cols = 2;
    const Tensor2 half = map_of(cnn::average_pool2d_forward(one_map(image), two_by_two));  // 14x14
    const Tensor2 back_nearest = map_of(cnn::upsample_nearest_forward(one_map(half), {2, 2}));
    const Tensor2 back_bilinear = map_of(cnn::upsample_bilinear_forward(one_map(half), {2, 2}));
    const auto error = [&](const Tensor2& m) { return static_cast<double>(xt::mean(xt::abs(m - image))()); };
    text.line(fmt::format("test image 0 averaged down to 14x14 and made 28x28 again: mean |error| "
                          "nearest {:.4f}, bilinear {:.4f}", error(back_nearest), error(back_bilinear)));
    text.save();
    cnn::save_image_grid({"Making an image larger: 14x14 back to 28x28",
                          {{image, "test image 0 (28x28)"},
                           {half, "2x2 averages (14x14)"},
                           {back_nearest, "nearest, 2x"},
                           {back_bilinear, "bilinear, 2x"}},
                          4, std::pair<double, double>{0.0, 1.0}, false, 200},
                         out / "ch11_upsampling.png");
}

void transposed_convolution(const fs::path& out) {
    cnn::Transcript text(out / "ch11_transpose.txt");
    const Tensor4 x = one_map(Tensor2{{1, 2}, {3, 4}});
    const Tensor4 w = xt::ones<float>({1, 1, 3, 3});
    const cnn::Tensor1 b = xt::zeros<float>({1});
    //! [transpose_by_hand]
    // Each input pixel stamps the kernel, times its value, into the output, `stride` apart.
    const auto valid = cnn::Conv2DTransposeGeometry::keras(cnn::PaddingMode::valid, 2, 2, 3, 3, 2, 2);
    const auto same = cnn::Conv2DTransposeGeometry::keras(cnn::PaddingMode::same, 2, 2, 3, 3, 2, 2);
    const Tensor4 y_valid = cnn::conv2d_transpose_forward(x, w, b, valid);  // (1, 1, 5, 5)
    const Tensor4 y_same = cnn::conv2d_transpose_forward(x, w, b, same);    // (1, 1, 4, 4)
    //! [transpose_by_hand]
    text.line("x = [[1, 2], [3, 4]], a 3x3 kernel of ones, stride 2");
    text.line("'valid', (2 - 1) * 2 + 3 = 5: where two stamps overlap, they add");
    text.line(cnn::matrix_to_text(map_of(y_valid), 0, 4));
    text.line("'same', 2 * 2 = 4: the same stamps, the last row and column cut off");
    text.line(cnn::matrix_to_text(map_of(y_same), 0, 4));
    // The equality the chapter rests on, on random numbers: the transposed convolution of x is
    // the input gradient of the convolution it transposes, evaluated at dy = x.
    cnn::Rng rng(3);
    Tensor4 r = Tensor4::from_shape({2, 3, 5, 5}), k = Tensor4::from_shape({3, 2, 3, 3});
    std::generate(r.begin(), r.end(), [&] { return rng.normal(); });
    std::generate(k.begin(), k.end(), [&] { return rng.normal(); });
    //! [transpose_is_backward]
    const auto g = cnn::Conv2DTransposeGeometry::keras(cnn::PaddingMode::same, 5, 5, 3, 3, 2, 2);
    const Tensor4 transposed = cnn::conv2d_transpose_forward(r, k, xt::zeros<float>({2}), g);
    // The convolution (2, 2, 10, 10) -> (2, 3, 5, 5) with filters k, backwards from dy = r:
    Tensor4 dk = xt::zeros<float>(k.shape());
    cnn::Tensor1 db = xt::zeros<float>({3});
    const Tensor4 dx = cnn::conv2d_naive_backward(r, xt::zeros<float>({2, 2, 10, 10}), k, g.conv, dk, db);
    //! [transpose_is_backward]
    text.line(fmt::format("random x (2, 3, 5, 5), kernel 3x3, stride 2, 'same': transposed output {};",
                          cnn::shape_to_string(transposed.shape())));
    text.line(fmt::format("  the convolution's input gradient at dy = x: {}; largest difference {:.2g}",
                          cnn::shape_to_string(dx.shape()), static_cast<double>(xt::amax(xt::abs(transposed - dx))())));
    text.save();

    cnn::Transcript sizes(out / "ch11_sizes.txt");
    // Keras's output size beside chapter 03's formula read backwards, (H - 1) S + FH - 2P, where
    // 2P is the total padding of the convolution the layer transposes; then that convolution
    // applied to the output, which gives H back.
    sizes.line("    H  FH   S  padding  2P | (H-1)S+FH-2P | Keras's output | the convolution of that size gives");
    const auto size_row = [&](cnn::PaddingMode mode, std::size_t input, std::size_t kernel, std::size_t stride) {
        const std::size_t up = cnn::conv_transpose_output_size(mode, input, kernel, stride);
        const cnn::Conv2DGeometry conv = cnn::Conv2DGeometry::keras(mode, up, up, kernel, kernel, stride, stride);
        const std::size_t padding = conv.pad_rows.before + conv.pad_rows.after;
        const std::size_t formula = (input - 1) * stride + kernel - padding;
        const std::size_t down = cnn::conv_output_size({up, kernel, stride, conv.pad_rows}, conv.policy);
        sizes.line(fmt::format("{:5} {:3} {:3}  {:<7} {:3} | {:12} | {:14} | {}", input, kernel, stride,
                               mode == cnn::PaddingMode::valid ? "valid" : "same", padding, formula, up, down));
    };
    for (const auto mode : {cnn::PaddingMode::valid, cnn::PaddingMode::same}) {
        for (const std::size_t input : {5, 6}) {
            for (const std::size_t kernel : {2, 3, 4}) {
                for (const std::size_t stride : {1, 2}) {
                    size_row(mode, input, kernel, stride);
                }
            }
        }
    }
    // A kernel smaller than the stride: Keras makes H S, S - FH more than the formula.
    size_row(cnn::PaddingMode::valid, 5, 1, 2);
    size_row(cnn::PaddingMode::same, 5, 1, 2);
    // The other order, the convolution first, does not always give the size back.
    sizes.line("");
    sizes.line("the other order: a convolution, then the transposed convolution of the same kernel and stride");
    sizes.line("    H  FH   S  padding | convolution | transposed");
    for (const auto mode : {cnn::PaddingMode::valid, cnn::PaddingMode::same}) {
        for (const std::size_t input : {10, 11}) {
            const std::size_t kernel = mode == cnn::PaddingMode::valid ? 2 : 3, stride = 2;
            const cnn::Conv2DGeometry conv = cnn::Conv2DGeometry::keras(mode, input, input, kernel, kernel, stride, stride);
            const std::size_t down = cnn::conv_output_size({input, kernel, stride, conv.pad_rows}, conv.policy);
            const std::size_t up = cnn::conv_transpose_output_size(mode, down, kernel, stride);
            sizes.line(fmt::format("{:5} {:3} {:3}  {:<7} | {:11} | {}", input, kernel, stride,
                                   mode == cnn::PaddingMode::valid ? "valid" : "same", down, up));
        }
    }
    sizes.save();

    // Checkerboard artefacts: a constant input, a kernel of ones.
    const Tensor4 flat = xt::ones<float>({1, 1, 8, 8});
    const auto g2 = cnn::Conv2DTransposeGeometry::keras(cnn::PaddingMode::same, 8, 8, 3, 3, 2, 2);
    //! [checkerboard]
    const Tensor4 stamped = cnn::conv2d_transpose_forward(flat, w, b, g2);  // overlaps 1, 2 or 4 times
    const Tensor4 upsampled = cnn::upsample_nearest_forward(flat, {2, 2});
    const Tensor4 smoothed = cnn::conv2d_naive_forward(
        upsampled, w, b, cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 16, 16, 3, 3, 1, 1));
    //! [checkerboard]
    cnn::save_image_grid({"A constant 8x8 input made 16x16 with a kernel of ones",
                          {{map_of(stamped), "transposed convolution 3x3, stride 2"},
                           {map_of(smoothed), "nearest upsampling, then convolution 3x3"}},
                          2, std::pair<double, double>{0.0, 9.0}, false, 300},
                         out / "ch11_checkerboard.png");
}

// ---------------------------------------------------------------------------------------------
// 2. The encoder-decoder
// ---------------------------------------------------------------------------------------------

struct Budget {
    std::size_t items = 0;
    std::size_t validation_items = 2000;
    std::size_t test_items = 10000;
    std::size_t train_scenes = 4000;  // new ones every epoch
    std::size_t validation_scenes = 200;
    std::size_t test_scenes = 500;
    std::size_t epochs = 10;
    std::size_t batch = 32;
};

constexpr std::uint64_t test_scene_seed = 2026;  // chapter 10's test scenes
const cnn::SceneOptions scene_options{};
constexpr std::size_t pixel_classes = 11;  // background and the ten items

struct Data {
    cnn::TrainingData items;
    Scenes validation, test;
    Masks validation_masks, test_masks;
};

Data load_data(const cnn::ProgramOptions& options, const Budget& budget) {
    const fs::path dir = cnn::find_data_directory(options.data, options.quick);
    Data data{cnn::load_training_data(dir, budget.items, budget.validation_items, budget.test_items), {}, {}, {}, {}};
    data.validation = cnn::make_scenes(data.items.validation.x, data.items.validation.y, budget.validation_scenes,
                                       scene_options, options.seed + 1);
    data.test = cnn::make_scenes(data.items.test.x, data.items.test.y, budget.test_scenes, scene_options,
                                 test_scene_seed);
    data.validation_masks = cnn::scene_masks(data.validation, data.items.validation.x, scene_options.ink);
    data.test_masks = cnn::scene_masks(data.test, data.items.test.x, scene_options.ink);
    std::cout << fmt::format("data: {} ({} training items, {} validation items, {} test items)\n\n",
                             dir.string(), data.items.train.y.size(), data.items.validation.y.size(),
                             data.items.test.y.size());
    return data;
}

// Every scene's predicted mask, the network in inference mode.
Masks predict_masks(cnn::Graph& model, const Scenes& scenes) {
    const std::size_t count = scenes.images.shape(0);
    Masks all = Masks::from_shape({count, scenes.images.shape(2), scenes.images.shape(3)});
    for (std::size_t begin = 0; begin < count; begin += 100) {
        const std::size_t end = std::min(count, begin + 100);
        const Tensor4 logits = model.forward(
            xt::view(scenes.images, xt::range(begin, end), xt::all(), xt::all(), xt::all()), false, false);
        xt::view(all, xt::range(begin, end)) = cnn::predicted_masks(logits);
    }
    return all;
}

struct Trained {
    std::string name;
    cnn::Graph model;
    std::vector<double> epochs, loss, validation_iou;
    double seconds = 0.0;
};

Trained train(const std::string& name, bool skips, const Data& data, const Budget& budget, std::uint64_t seed,
              cnn::Transcript& text) {
    cnn::SegmentationModelOptions shape;
    shape.skips = skips;
    Trained t{name, cnn::segmentation_model(shape, seed), {}, {}, {}, 0.0};
    cnn::Adam adam;
    const std::vector<cnn::Parameter> parameters = t.model.parameters();
    const cnn::Schedule rate = cnn::step_decay(1e-3f, {budget.epochs - budget.epochs / 4 + 1});
    text.line(fmt::format("{}: {} parameters", name, cnn::thousands(t.model.parameter_count())));
    for (std::size_t epoch = 1; epoch <= budget.epochs; ++epoch) {
        const Scenes train = cnn::make_scenes(data.items.train.x, data.items.train.y, budget.train_scenes,
                                              scene_options, seed * 1000 + 100 + epoch);
        const Masks masks = cnn::scene_masks(train, data.items.train.x, scene_options.ink);
        adam.set_learning_rate(rate(epoch));
        cnn::Rng rng(seed + epoch);
        double sum = 0.0;
        t.seconds += cnn::seconds_of([&] {
            for (const std::vector<std::size_t>& batch : cnn::shuffled_batches(budget.train_scenes, budget.batch, rng)) {
                const Masks truth = cnn::take_examples(masks, batch);
                //! [training_step]
                cnn::zero_gradients(parameters);
                const Tensor4 logits = t.model.forward(cnn::take_examples(train.images, batch), true, false);
                cnn::PixelLoss loss = cnn::pixel_cross_entropy(logits, truth);
                t.model.backward(std::move(loss.gradient));
                adam.step(parameters);
                //! [training_step]
                if (!std::isfinite(loss.loss)) {
                    throw cnn::TrainingDiverged(fmt::format("{}: the loss became {} at epoch {}", name, loss.loss, epoch));
                }
                sum += loss.loss * static_cast<double>(batch.size());
            }
        });
        const cnn::SegmentationScores val =
            cnn::segmentation_scores(data.validation_masks, predict_masks(t.model, data.validation), pixel_classes);
        t.epochs.push_back(static_cast<double>(epoch));
        t.loss.push_back(sum / static_cast<double>(budget.train_scenes));
        t.validation_iou.push_back(val.mean_iou);
        text.line(fmt::format("  epoch {:2}: loss {:.4f}  validation: pixel accuracy {:.4f}, mean IoU {:.4f}  ({:.0f} s)",
                              epoch, t.loss.back(), val.pixel_accuracy, val.mean_iou, t.seconds));
    }
    return t;
}

// Section 2's pictures: the learning curves of both networks.
void learning_curves(const std::vector<Trained>& models, const fs::path& out) {
    cnn::LinePlot loss;
    loss.title = "Training loss: softmax cross-entropy per pixel";
    loss.x_label = "epoch";
    loss.y_label = "loss";
    cnn::LinePlot iou;
    iou.title = "Validation mean IoU after every epoch";
    iou.x_label = "epoch";
    iou.y_label = "mean IoU";
    iou.y_range = {0.0, 1.0};
    for (const Trained& t : models) {
        loss.series.push_back({t.name, t.epochs, t.loss});
        iou.series.push_back({t.name, t.epochs, t.validation_iou});
    }
    cnn::save_line_plot(loss, out / "ch11_loss.png");
    cnn::save_line_plot(iou, out / "ch11_validation_iou.png");
}

// ---------------------------------------------------------------------------------------------
// 3. Evaluation
// ---------------------------------------------------------------------------------------------

std::string pixel_class_name(std::size_t k) {
    return k == 0 ? "background" : cnn::fashion_mnist_class_names().at(k - 1);
}

// Black for the background, then a colour for each item class.
const std::vector<std::string> class_colours{"#000000", "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00",
                                             "#56b4e9", "#f0e442", "#8c564b", "#ffffff", "#e41a1c"};

Tensor2 as_map(const Masks& masks, std::size_t n) { return xt::cast<float>(xt::view(masks, n)); }

void evaluation(std::vector<Trained>& models, const Data& data, const fs::path& out) {
    cnn::Transcript text(out / "ch11_scores.txt");
    std::vector<cnn::SegmentationScores> scores;
    std::vector<Masks> predicted;
    for (Trained& t : models) {
        predicted.push_back(predict_masks(t.model, data.test));
        scores.push_back(cnn::segmentation_scores(data.test_masks, predicted.back(), pixel_classes));
    }
    text.line(fmt::format("{} test scenes, IoU per pixel class:", data.test.items.size()));
    std::string header = fmt::format("{:<12}", "class");
    for (const Trained& t : models) {
        header += fmt::format(" {:>10}", t.name);
    }
    text.line(header);
    for (std::size_t c = 0; c < pixel_classes; ++c) {
        std::string row = fmt::format("{:<12}", pixel_class_name(c));
        for (const cnn::SegmentationScores& s : scores) {
            row += fmt::format(" {:10.4f}", s.iou[c]);
        }
        text.line(row);
    }
    std::string mean = fmt::format("{:<12}", "mean IoU"), accuracy = fmt::format("{:<12}", "pixel acc.");
    for (const cnn::SegmentationScores& s : scores) {
        mean += fmt::format(" {:10.4f}", s.mean_iou);
        accuracy += fmt::format(" {:10.4f}", s.pixel_accuracy);
    }
    text.line(mean);
    text.line(accuracy);
    // What pixel accuracy gives for nothing: "background" everywhere.
    const cnn::SegmentationScores none =
        cnn::segmentation_scores(data.test_masks, xt::zeros_like(data.test_masks), pixel_classes);
    text.line(fmt::format("answering \"background\" at every pixel: pixel accuracy {:.4f}, mean IoU {:.4f}",
                          none.pixel_accuracy, none.mean_iou));
    text.save();
    // The confusion matrix of the last model (the U-Net), each row as fractions of its pixels.
    const cnn::SegmentationScores& last = scores.back();
    Tensor2 rows = xt::zeros<float>({pixel_classes, pixel_classes});
    for (std::size_t t = 0; t < pixel_classes; ++t) {
        double total = 0;
        for (std::size_t p = 0; p < pixel_classes; ++p) {
            total += static_cast<double>(last.confusion[t][p]);
        }
        for (std::size_t p = 0; p < pixel_classes; ++p) {
            rows(t, p) = total > 0 ? static_cast<float>(static_cast<double>(last.confusion[t][p]) / total) : 0.0f;
        }
    }
    cnn::NumberGridFigure confusion;
    confusion.title = fmt::format("{}: the pixels of each true class (rows) by predicted class (columns)",
                                  models.back().name);
    std::string classes;  // "0 background, 1 T-shirt/top, ...": the rows' and columns' names
    for (std::size_t c = 0; c < pixel_classes; ++c) {
        classes += fmt::format("{}{} {}", c == 0 ? "" : ", ", c, pixel_class_name(c));
    }
    confusion.grids = {{rows, classes, {}}};
    confusion.decimals = 2;
    confusion.cell_pixels = 46;
    cnn::save_number_grids(confusion, out / "ch11_confusion.png");
    // Pictures: scenes, true masks, and each model's masks.
    std::vector<cnn::GridImage> images;
    for (std::size_t n = 0; n < std::min<std::size_t>(4, data.test.items.size()); ++n) {
        images.push_back({xt::view(data.test.images, n, 0), fmt::format("test scene {}", n)});
        cnn::GridImage truth{as_map(data.test_masks, n), "true mask"};
        truth.categories = class_colours;
        images.push_back(truth);
        for (std::size_t m = 0; m < models.size(); ++m) {
            cnn::GridImage mask{as_map(predicted[m], n), models[m].name};
            mask.categories = class_colours;
            images.push_back(mask);
        }
    }
    cnn::save_image_grid({"Test scenes, their true masks, and the masks the networks predict", images,
                          2 + models.size(), std::nullopt, false, 212},
                         out / "ch11_masks.png");
    // The legend: one cell per class, in its colour.
    std::vector<cnn::GridImage> legend;
    for (std::size_t c = 0; c < pixel_classes; ++c) {
        cnn::GridImage cell{Tensor2{{static_cast<float>(c)}}, pixel_class_name(c)};
        cell.categories = class_colours;
        legend.push_back(cell);
    }
    cnn::save_image_grid({"", legend, pixel_classes, std::nullopt, false, 80}, out / "ch11_legend.png");
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch11_semantic_segmentation",
                         "Chapter 11: semantic segmentation: upsampling, the transposed convolution, "
                         "the hourglass and the U-Net, pixel accuracy and mean IoU",
                         cnn::ReadsData::yes, cnn::Engines::fast);
    program.sections(3);
    std::size_t epochs = 0, train_scenes = 0;
    program.option("--epochs", epochs, "Epochs of each network (default 10, or 1 with --quick)")
        .within(1, 1000);
    program
        .option("--train-scenes", train_scenes,
                "New training scenes per epoch (default 4000, or 64 with --quick)")
        .within(1, 1000000);
    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        Budget budget;
        if (options.quick) {
            budget.items = 384;
            budget.validation_items = 128;
            budget.test_items = 256;
            budget.train_scenes = 64;
            budget.validation_scenes = 16;
            budget.test_scenes = 32;
            budget.epochs = 1;
        }
        budget.epochs = epochs > 0 ? epochs : budget.epochs;
        budget.train_scenes = train_scenes > 0 ? train_scenes : budget.train_scenes;
        const fs::path& out = options.out;
        const Data data = load_data(options, budget);
        if (options.wants(1)) {
            std::cout << "== 1. Making images larger ==\n\n";
            upsampling(data.items.test, out);
            transposed_convolution(out);
        }
        if (options.wants(2) || options.wants(3)) {
            std::cout << "\n== 2. The encoder-decoder ==\n\n";
            cnn::Transcript text(out / "ch11_training.txt");
            text.line(fmt::format("{} epoch{} of {} new training scenes each, batch {}, Adam at 0.001{}", budget.epochs,
                                  budget.epochs == 1 ? "" : "s",
                                  budget.train_scenes, budget.batch,
                                  budget.epochs / 4 == 0 ? std::string()
                                                         : fmt::format(", 10 times less for the last {}", budget.epochs / 4)));
            std::vector<Trained> models;
            models.push_back(train("hourglass", false, data, budget, options.seed, text));
            models.push_back(train("U-Net", true, data, budget, options.seed, text));
            text.save();
            learning_curves(models, out);
            if (options.wants(3)) {
                std::cout << "\n== 3. Evaluation and pictures ==\n\n";
                evaluation(models, data, out);
            }
        }
        std::cout << "\nplots and tables written to " << out.filename().string() << '\n';
    });
}
