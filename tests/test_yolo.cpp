#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include <xtensor/xview.hpp>

#include "cnn/detect/yolo.hpp"
#include "test_support.hpp"

using cnn::Box;
using cnn::LabelledBox;
using cnn::Tensor4;
using cnn::YoloOptions;

namespace {

// A 32x32 image, a 2x2 grid of 16-pixel cells, 2 boxes per cell and 3 classes: 13 channels.
YoloOptions small_grid() {
    YoloOptions o;
    o.image_height = 32;
    o.image_width = 32;
    o.grid = 2;
    o.boxes = 2;
    o.classes = 3;
    return o;
}

float logit(float p) { return std::log(p / (1.0f - p)); }

}  // namespace

TEST_CASE("yolo: the channels of a cell, and the box an output of zeros proposes") {
    YoloOptions o;
    CHECK(cnn::yolo_channels(o) == 20);  // 2 * 5 + 10, as in the paper's 7x7x30 for 20 classes
    o = small_grid();
    CHECK(cnn::yolo_channels(o) == 13);
    // Zeros: every sigmoid is 1/2. Cell (1, 0): centre ((0 + 0.5) * 16, (1 + 0.5) * 16) =
    // (8, 24); size (1/2)^2 * 32 = 8 pixels: the box [4, 20, 12, 28].
    const Tensor4 zeros = xt::zeros<float>({1, 13, 2, 2});
    const Box box = cnn::predicted_box(zeros, 0, 1, 0, 1, o);
    CHECK(box.x_min == doctest::Approx(4));
    CHECK(box.y_min == doctest::Approx(20));
    CHECK(box.x_max == doctest::Approx(12));
    CHECK(box.y_max == doctest::Approx(28));
    // Predictor 1 of cell (0, 1) with t_x = logit(0.25), t_w = logit(0.75): centre x =
    // (1 + 0.25) * 16 = 20, width 0.75^2 * 32 = 18; y and h stay 8 and 8.
    Tensor4 outputs = zeros;
    outputs(0, 5, 0, 1) = logit(0.25f);
    outputs(0, 7, 0, 1) = logit(0.75f);
    const Box moved = cnn::predicted_box(outputs, 0, 0, 1, 1, o);
    CHECK(moved.x_min == doctest::Approx(20 - 9));
    CHECK(moved.x_max == doctest::Approx(20 + 9));
    CHECK(moved.y_min == doctest::Approx(4));
    CHECK(moved.y_max == doctest::Approx(12));
}

TEST_CASE("assign_targets: the cell of the centre, the predictor that overlaps most, the larger box on a collision") {
    const YoloOptions o = small_grid();
    Tensor4 outputs = xt::zeros<float>({1, 13, 2, 2});
    // The truth [4, 4, 20, 12]: centre (12, 8) in cell (0, 0) at offsets x = 12/16 = 0.75,
    // y = 8/16 = 0.5; width 16/32 = 0.5, height 8/32 = 0.25.
    // Predictor 0 proposes [4, 4, 12, 12] (zeros): intersection 8 * 8 = 64, union 64 + 128 - 64
    // = 128, IoU 0.5. Predictor 1 is moved to width 0.75^2 * 32 = 18 around x = 8: [-1, 4, 17,
    // 12], intersection 13 * 8 = 104, union 144 + 128 - 104 = 168, IoU 104/168 = 0.6190.
    outputs(0, 7, 0, 0) = logit(0.75f);
    const std::vector<std::vector<LabelledBox>> truths{{{{4, 4, 20, 12}, 2}}};
    const cnn::YoloTargets t = cnn::assign_targets(outputs, truths, o);
    REQUIRE(t.targets.size() == 1);
    const cnn::YoloTarget& target = t.targets[0];
    CHECK(target.row == 0);
    CHECK(target.column == 0);
    CHECK(target.predictor == 1);
    CHECK(target.label == 2);
    CHECK(target.x == doctest::Approx(0.75));
    CHECK(target.y == doctest::Approx(0.5));
    CHECK(target.sqrt_w == doctest::Approx(std::sqrt(0.5)));
    CHECK(target.sqrt_h == doctest::Approx(0.5));
    CHECK(target.confidence == doctest::Approx(104.0 / 168.0));
    CHECK(t.unassigned == 0);
    // Without rescoring the target confidence is 1.
    YoloOptions one = o;
    one.rescore = false;
    CHECK(cnn::assign_targets(outputs, truths, one).targets.at(0).confidence == 1.0f);
    // Two centres in cell (1, 1): the larger box keeps the cell, whichever comes first.
    const LabelledBox small{{18, 18, 24, 24}, 0}, large{{16, 16, 30, 30}, 1};
    for (const auto& boxes : {std::vector<LabelledBox>{small, large}, std::vector<LabelledBox>{large, small}}) {
        const cnn::YoloTargets both = cnn::assign_targets(outputs, {boxes}, o);
        REQUIRE(both.targets.size() == 1);
        CHECK(both.targets[0].label == 1);
        CHECK(both.unassigned == 1);
    }
}

TEST_CASE("assign_targets: outputs of another shape, a class out of range and a centre outside the image are errors") {
    const YoloOptions o = small_grid();
    const Tensor4 outputs = xt::zeros<float>({1, 13, 2, 2});
    CHECK_THROWS_WITH_AS(cnn::assign_targets(xt::zeros<float>({1, 12, 2, 2}), {{}}, o),
                         doctest::Contains("expected outputs (N, 13, 2, 2)"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::assign_targets(outputs, {{}, {}}, o),
                         doctest::Contains("truths for 2"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::assign_targets(outputs, {{{{1, 1, 5, 5}, 3}}}, o),
                         doctest::Contains("class 3"), std::invalid_argument);
    CHECK_THROWS_AS(cnn::assign_targets(outputs, {{{{40, 40, 50, 50}, 0}}}, o), std::invalid_argument);
}

TEST_CASE("yolo_loss: every term of an output of zeros, computed by hand") {
    const YoloOptions o = small_grid();
    const Tensor4 outputs = xt::zeros<float>({1, 13, 2, 2});
    // The truth of the test above, [4, 4, 20, 12], class 2. Both predictors of zeros propose
    // [4, 4, 12, 12], IoU 0.5: predictor 0 is responsible (the first on a tie).
    const cnn::YoloTargets t = cnn::assign_targets(outputs, {{{{4, 4, 20, 12}, 2}}}, o);
    REQUIRE(t.targets.at(0).predictor == 0);
    const cnn::YoloLoss loss = cnn::yolo_loss(outputs, t, o);
    // Coordinates: 5 * [(0.5 - 0.75)^2 + (0.5 - 0.5)^2 + (0.5 - sqrt(0.5))^2 + (0.5 - 0.5)^2]
    //            = 5 * [0.0625 + 0.0428932] = 0.5269661
    CHECK(loss.coordinates == doctest::Approx(5 * (0.0625 + std::pow(0.5 - std::sqrt(0.5), 2))));
    CHECK(loss.coordinates == doctest::Approx(0.5269661).epsilon(1e-6));
    // Object: the confidence 1/2 against the IoU 1/2: 0.
    CHECK(loss.object == doctest::Approx(0.0));
    // No object: the other 2 * 2 * 2 - 1 = 7 predictors, each 0.5 * (1/2)^2: 0.875.
    CHECK(loss.no_object == doctest::Approx(0.875));
    // Classes: softmax of zeros is 1/3 each: (1/3 - 1)^2 + 2 * (1/3)^2 = 6/9.
    CHECK(loss.classes == doctest::Approx(6.0 / 9.0));
    CHECK(loss.total == doctest::Approx(0.5269661 + 0.875 + 6.0 / 9.0).epsilon(1e-6));
    // Without rescoring the confidence must reach 1: (1/2 - 1)^2 = 1/4.
    YoloOptions one = o;
    one.rescore = false;
    CHECK(cnn::yolo_loss(outputs, cnn::assign_targets(outputs, {{{{4, 4, 20, 12}, 2}}}, one), one).object ==
          doctest::Approx(0.25));
    // The mean over the batch: the same image twice gives the same loss.
    const Tensor4 two = xt::zeros<float>({2, 13, 2, 2});
    const cnn::YoloTargets t2 = cnn::assign_targets(two, {{{{4, 4, 20, 12}, 2}}, {{{{4, 4, 20, 12}, 2}}}}, o);
    CHECK(cnn::yolo_loss(two, t2, o).total == doctest::Approx(loss.total));
}

TEST_CASE("yolo_loss: the gradient passes the numerical check, targets fixed, batch and both predictors used") {
    YoloOptions o = small_grid();
    o.grid = 3;
    o.image_height = 48;
    o.image_width = 48;
    cnn::Rng rng(11);
    Tensor4 outputs = cnn::testing::random_tensor<4>({2, 13, 3, 3}, rng);
    const std::vector<std::vector<LabelledBox>> truths{
        {{{2, 3, 20, 14}, 0}, {{30, 25, 47, 46}, 2}},
        {{{10, 10, 40, 38}, 1}},
    };
    for (const bool rescore : {true, false}) {
        o.rescore = rescore;
        const cnn::YoloTargets targets = cnn::assign_targets(outputs, truths, o);
        REQUIRE(targets.targets.size() == 3);
        const cnn::YoloLoss loss = cnn::yolo_loss(outputs, targets, o);
        const Tensor4 analytic = loss.gradient;
        const cnn::GradientCheckResult result = cnn::check_gradient(
            "yolo_loss", [&] { return cnn::yolo_loss(outputs, targets, o).total; }, outputs.data(),
            analytic.data(), outputs.size());
        INFO(result.summary());
        CHECK(result.passed());
        // And the check can fail: a gradient with one class term's sign flipped does not pass.
        Tensor4 wrong = analytic;
        wrong(1, 10, targets.targets[2].row, targets.targets[2].column) *= -1.0f;
        wrong(1, 10, targets.targets[2].row, targets.targets[2].column) += 0.05f;
        CHECK_FALSE(cnn::check_gradient("wrong", [&] { return cnn::yolo_loss(outputs, targets, o).total; },
                                        outputs.data(), wrong.data(), outputs.size())
                        .passed());
    }
}

TEST_CASE("yolo_detections: class-specific confidence, the threshold, and boxes clipped to the image") {
    const YoloOptions o = small_grid();
    // Everything very unsure (t_c = -10) except predictor 1 of cell (1, 1), confidence 0.8,
    // classes 0.1 / 0.7 / 0.2 from logits log(p): score 0.8 * 0.7 = 0.56, label 1. Its box:
    // centre (16 + 0.5 * 16, 16 + 0.5 * 16) = (24, 24), width 0.9^2 * 32 = 25.92, so
    // [11.04, 20.64 .. 36.96] cut at 32 on the right; height 0.5^2 * 32 = 8: [20, 28].
    Tensor4 outputs = xt::zeros<float>({1, 13, 2, 2});
    for (std::size_t b = 0; b < 2; ++b) {
        xt::view(outputs, 0, 5 * b + 4, xt::all(), xt::all()) = -10.0f;
    }
    outputs(0, 9, 1, 1) = logit(0.8f);
    outputs(0, 7, 1, 1) = logit(0.9f);
    outputs(0, 10, 1, 1) = std::log(0.1f);
    outputs(0, 11, 1, 1) = std::log(0.7f);
    outputs(0, 12, 1, 1) = std::log(0.2f);
    const std::vector<cnn::Detection> found = cnn::yolo_detections(outputs, 0, o, 0.5f);
    REQUIRE(found.size() == 1);
    CHECK(found[0].label == 1);
    CHECK(found[0].score == doctest::Approx(0.56));
    CHECK(found[0].box.x_min == doctest::Approx(24 - 12.96));
    CHECK(found[0].box.x_max == doctest::Approx(32));
    CHECK(found[0].box.y_min == doctest::Approx(20));
    CHECK(found[0].box.y_max == doctest::Approx(28));
    // With no threshold every predictor of every cell is a detection.
    CHECK(cnn::yolo_detections(outputs, 0, o, 0.0f).size() == 8);
    CHECK_THROWS_AS(cnn::yolo_detections(outputs, 1, o, 0.5f), std::invalid_argument);
}

TEST_CASE("yolo_model: a 96x96 image becomes a 6x6 grid of 20 numbers, and other sizes are errors") {
    const YoloOptions o;
    cnn::Sequential model = cnn::yolo_model(o, 1);
    model.build();
    CHECK(model.output_shape(model.size() - 1) == cnn::Shape{20, 6, 6});
    cnn::Rng rng(2);
    const Tensor4 out = model.forward(cnn::testing::random_tensor<4>({2, 1, 96, 96}, rng), false, false);
    CHECK(out.shape(0) == 2);
    CHECK(out.shape(1) == 20);
    YoloOptions bad = o;
    bad.image_width = 100;
    CHECK_THROWS_WITH_AS(cnn::yolo_model(bad, 1), doctest::Contains("16 times the grid"),
                         std::invalid_argument);
}
