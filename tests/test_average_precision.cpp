// Tests of cnn/detect/average_precision.hpp: the VOC matching rule, precision-recall curves and
// average precision on small cases worked out entirely by hand in the comments.
#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>
#include <vector>

#include "cnn/detect/average_precision.hpp"

using cnn::ApMethod;
using cnn::PrecisionRecall;
using cnn::ScoredBox;
using cnn::TruthBox;

namespace {

// The hand case. Truths (class 0 unless said otherwise):
//   image 0: T0 = [0, 0, 10, 10], T1 = [20, 20, 30, 30]
//   image 1: T2 = [10, 10, 20, 20], and T3 = [30, 30, 40, 40] of class 1
// Class 0 has 3 truths over 2 images.
std::vector<TruthBox> hand_truths() {
    return {{0, {0, 0, 10, 10}, 0},
            {0, {20, 20, 30, 30}, 0},
            {1, {10, 10, 20, 20}, 0},
            {1, {30, 30, 40, 40}, 1}};
}

// Detections, given out of order. Of class 0, by score:
//   a 0.9 image 0 [0, 0, 10, 10]: IoU 1 with T0, free: TP (T0 now matched)
//   b 0.8 image 0 [1, 0, 11, 10]: best T0, IoU 90 / (100 + 100 - 90) = 9/11 = 0.82 >= 0.5,
//         but T0 is matched: FP (a duplicate)
//   c 0.7 image 1 [11, 10, 21, 20]: best T2, IoU 9/11 again, free: TP
//   d 0.6 image 1 [30, 30, 40, 40]: the only class-0 truth of image 1 is T2, IoU 0: FP (the
//         class-1 truth T3 it covers exactly does not count)
//   e 0.5 image 0 [20, 20, 30, 24]: best T1, IoU 40 / 100 = 0.4 < 0.5: FP (badly placed)
// T1 is never found (a miss). Of class 1: f 0.3 image 1 [30, 30, 40, 40], IoU 1 with T3: TP.
// Of class 2, which has no truth: g 0.95 image 0 [0, 0, 5, 5]: FP.
std::vector<ScoredBox> hand_detections() {
    return {{1, {{11, 10, 21, 20}, 0, 0.7f}},   // c
            {0, {{20, 20, 30, 24}, 0, 0.5f}},   // e
            {1, {{30, 30, 40, 40}, 1, 0.3f}},   // f
            {0, {{0, 0, 10, 10}, 0, 0.9f}},     // a
            {1, {{30, 30, 40, 40}, 0, 0.6f}},   // d
            {0, {{0, 0, 5, 5}, 2, 0.95f}},      // g
            {0, {{1, 0, 11, 10}, 0, 0.8f}}};    // b
}

}  // namespace

TEST_CASE("precision_recall of the hand case: TP and FP, precision and recall columns") {
    // rank  det  TP?  TP  FP  precision      recall
    //   1    a   TP    1   0  1/1 = 1        1/3
    //   2    b   FP    1   1  1/2            1/3
    //   3    c   TP    2   1  2/3            2/3
    //   4    d   FP    2   2  2/4 = 1/2      2/3
    //   5    e   FP    2   3  2/5            2/3
    const PrecisionRecall curve = cnn::precision_recall(hand_detections(), hand_truths(), 0);
    CHECK(curve.label == 0);
    CHECK(curve.truths == 3);
    CHECK(curve.score == std::vector<float>{0.9f, 0.8f, 0.7f, 0.6f, 0.5f});
    CHECK(curve.true_positive == std::vector<bool>{true, false, true, false, false});
    const std::vector<double> precision = {1.0, 1.0 / 2, 2.0 / 3, 2.0 / 4, 2.0 / 5};
    const std::vector<double> recall = {1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3, 2.0 / 3};
    REQUIRE(curve.precision.size() == 5);
    REQUIRE(curve.recall.size() == 5);
    for (std::size_t k = 0; k < 5; ++k) {
        CAPTURE(k);
        CHECK(curve.precision[k] == doctest::Approx(precision[k]));
        CHECK(curve.recall[k] == doctest::Approx(recall[k]));
    }
}

TEST_CASE("average_precision of the hand case: all points and eleven points differ") {
    // Precision made non-increasing from the right (each the best at its recall or higher):
    //   1, 2/3, 2/3, 1/2, 2/5.
    // All points: recall rises 0 -> 1/3 at rank 1 (precision 1) and 1/3 -> 2/3 at rank 3
    //   (precision 2/3): AP = 1/3 * 1 + 1/3 * 2/3 = 3/9 + 2/9 = 5/9 = 0.5556.
    // Eleven points: r = 0, 0.1, 0.2, 0.3: rank 1 reaches recall 1/3 >= r, best precision 1
    //   (4 values); r = 0.4, 0.5, 0.6: ranks 3-5 reach 2/3, best precision 2/3 (3 values);
    //   r = 0.7 ... 1: no rank reaches r, 0 (4 values).
    //   AP = (4 * 1 + 3 * 2/3) / 11 = 6/11 = 0.5455.
    const PrecisionRecall curve = cnn::precision_recall(hand_detections(), hand_truths(), 0);
    CHECK(cnn::average_precision(curve) == doctest::Approx(5.0 / 9));
    CHECK(cnn::average_precision(curve, ApMethod::all_points) == doctest::Approx(5.0 / 9));
    CHECK(cnn::average_precision(curve, ApMethod::eleven_points) == doctest::Approx(6.0 / 11));
}

TEST_CASE("mean_average_precision of the hand case leaves out the class without truths") {
    // Class 1: f finds T3 first: precision 1 at recall 1, AP 1 both ways. Class 2 has no
    // truth: its AP is 0 and it stays out of the mean. mAP over classes 0 and 1:
    //   all points (5/9 + 1) / 2 = 7/9, eleven points (6/11 + 1) / 2 = 17/22.
    const cnn::MeanAveragePrecision all =
        cnn::mean_average_precision(hand_detections(), hand_truths(), 3);
    REQUIRE(all.per_class.size() == 3);
    CHECK(all.per_class[0] == doctest::Approx(5.0 / 9));
    CHECK(all.per_class[1] == doctest::Approx(1.0));
    CHECK(all.per_class[2] == 0.0);
    CHECK(all.truths_per_class == std::vector<std::size_t>{3, 1, 0});
    CHECK(all.mean == doctest::Approx(7.0 / 9));
    const cnn::MeanAveragePrecision eleven = cnn::mean_average_precision(
        hand_detections(), hand_truths(), 3, 0.5f, ApMethod::eleven_points);
    CHECK(eleven.per_class[0] == doctest::Approx(6.0 / 11));
    CHECK(eleven.mean == doctest::Approx(17.0 / 22));
    // A fourth class with neither truths nor detections changes nothing.
    CHECK(cnn::mean_average_precision(hand_detections(), hand_truths(), 4).mean ==
          doctest::Approx(7.0 / 9));
}

TEST_CASE("precision_recall: a stricter IoU threshold turns a loose hit into a false positive") {
    // At 0.85, c (IoU 9/11 = 0.82 with T2) no longer counts: only a (IoU 1) is a TP.
    // Precision 1, 1/2, 1/3, 1/4, 1/5 at recall 1/3 throughout.
    // All points: 1/3 * 1 = 1/3. Eleven points: r = 0 ... 0.3 give 1, the rest 0: 4/11.
    const PrecisionRecall curve =
        cnn::precision_recall(hand_detections(), hand_truths(), 0, 0.85f);
    CHECK(curve.true_positive == std::vector<bool>{true, false, false, false, false});
    CHECK(cnn::average_precision(curve) == doctest::Approx(1.0 / 3));
    CHECK(cnn::average_precision(curve, ApMethod::eleven_points) == doctest::Approx(4.0 / 11));
}

TEST_CASE("precision_recall: an IoU equal to the threshold is a hit") {
    // Truth [0, 0, 3, 1], detection [1, 0, 4, 1]: common 2, union 3 + 3 - 2 = 4, IoU exactly
    // 0.5 (exact in binary). The devkit's rule is IoU >= threshold: a TP at 0.5, a FP above.
    const std::vector<TruthBox> truths = {{0, {0, 0, 3, 1}, 0}};
    const std::vector<ScoredBox> detections = {{0, {{1, 0, 4, 1}, 0, 0.9f}}};
    CHECK(cnn::precision_recall(detections, truths, 0, 0.5f).true_positive ==
          std::vector<bool>{true});
    CHECK(cnn::precision_recall(detections, truths, 0, 0.51f).true_positive ==
          std::vector<bool>{false});
}

TEST_CASE("average_precision of a perfect detector is 1, even with false positives after it") {
    // Three truths found by the three best detections: precision 1 at recall 1/3, 2/3, 1.
    // A fourth detection on nothing comes last: precision 3/4 at recall 1, which adds no area
    // and does not lower the best precision at any recall.
    const std::vector<TruthBox> truths = {
        {0, {0, 0, 4, 4}, 0}, {0, {10, 10, 14, 14}, 0}, {2, {5, 5, 9, 9}, 0}};
    std::vector<ScoredBox> detections = {{2, {{5, 5, 9, 9}, 0, 0.7f}},
                                         {0, {{0, 0, 4, 4}, 0, 0.9f}},
                                         {0, {{10, 10, 14, 14}, 0, 0.8f}}};
    PrecisionRecall curve = cnn::precision_recall(detections, truths, 0);
    CHECK(curve.true_positive == std::vector<bool>{true, true, true});
    CHECK(cnn::average_precision(curve) == doctest::Approx(1.0));
    CHECK(cnn::average_precision(curve, ApMethod::eleven_points) == doctest::Approx(1.0));
    detections.push_back({1, {{0, 0, 4, 4}, 0, 0.1f}});
    curve = cnn::precision_recall(detections, truths, 0);
    CHECK(curve.precision.back() == doctest::Approx(0.75));
    CHECK(cnn::average_precision(curve) == doctest::Approx(1.0));
    CHECK(cnn::average_precision(curve, ApMethod::eleven_points) == doctest::Approx(1.0));
}

TEST_CASE("average_precision without detections is 0") {
    const PrecisionRecall curve = cnn::precision_recall({}, hand_truths(), 0);
    CHECK(curve.truths == 3);
    CHECK(curve.score.empty());
    CHECK(curve.precision.empty());
    CHECK(cnn::average_precision(curve) == 0.0);
    CHECK(cnn::average_precision(curve, ApMethod::eleven_points) == 0.0);
    CHECK(cnn::mean_average_precision({}, hand_truths(), 2).mean == 0.0);
}

TEST_CASE("precision_recall: a detection on an image without truths is a false positive") {
    // The truth is in image 0; the same box on image 5 finds nothing there.
    const std::vector<TruthBox> truths = {{0, {0, 0, 4, 4}, 0}};
    const PrecisionRecall curve =
        cnn::precision_recall({{5, {{0, 0, 4, 4}, 0, 0.9f}}}, truths, 0);
    CHECK(curve.true_positive == std::vector<bool>{false});
    CHECK(curve.precision == std::vector<double>{0.0});
    CHECK(curve.recall == std::vector<double>{0.0});
    CHECK(cnn::average_precision(curve) == 0.0);
}

TEST_CASE("precision_recall: a duplicate is a false positive, with no fall back to another truth") {
    // Truths A = [0, 0, 10, 10], B = [3, 0, 13, 10] in one image.
    //   d1 0.9 = A exactly: best A (IoU 1; with B 70/130 = 0.54): TP, A matched.
    //   d2 0.8 [1, 0, 11, 10]: IoU with A 90/110 = 0.82, with B 80/120 = 0.67. Its best truth
    //      is A, already matched: FP, although B, still free, overlaps it by more than 0.5.
    //   d3 0.7 = B exactly: best B (IoU 1), free: TP.
    const std::vector<TruthBox> truths = {{0, {0, 0, 10, 10}, 0}, {0, {3, 0, 13, 10}, 0}};
    const std::vector<ScoredBox> detections = {{0, {{0, 0, 10, 10}, 0, 0.9f}},
                                               {0, {{1, 0, 11, 10}, 0, 0.8f}},
                                               {0, {{3, 0, 13, 10}, 0, 0.7f}}};
    const PrecisionRecall curve = cnn::precision_recall(detections, truths, 0);
    CHECK(curve.true_positive == std::vector<bool>{true, false, true});
    // Two detections of one object, equal scores: the earlier in the input is the TP.
    const std::vector<TruthBox> one = {{0, {0, 0, 10, 10}, 0}};
    const ScoredBox p{0, {{0, 0, 10, 10}, 0, 0.8f}}, q{0, {{1, 0, 11, 10}, 0, 0.8f}};
    const PrecisionRecall pq = cnn::precision_recall({p, q}, one, 0);
    CHECK(pq.true_positive == std::vector<bool>{true, false});
    CHECK(pq.score == std::vector<float>{0.8f, 0.8f});
    const PrecisionRecall qp = cnn::precision_recall({q, p}, one, 0);
    CHECK(qp.true_positive == std::vector<bool>{true, false});  // q first now, q is the TP
    CHECK(cnn::average_precision(pq) == doctest::Approx(1.0));
}

TEST_CASE("a class without truth boxes has recall 0 and average precision 0") {
    const PrecisionRecall curve = cnn::precision_recall(hand_detections(), hand_truths(), 2);
    CHECK(curve.truths == 0);
    CHECK(curve.true_positive == std::vector<bool>{false});
    CHECK(curve.precision == std::vector<double>{0.0});
    CHECK(curve.recall == std::vector<double>{0.0});
    CHECK(cnn::average_precision(curve) == 0.0);
    CHECK(cnn::average_precision(curve, ApMethod::eleven_points) == 0.0);
    // No class has a truth: nothing to average, the mean is 0.
    CHECK(cnn::mean_average_precision(hand_detections(), {}, 3).mean == 0.0);
}

TEST_CASE("average precision refuses bad thresholds, NaN scores and labels out of range") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(cnn::precision_recall(hand_detections(), hand_truths(), 0, 0.0f),
                         doctest::Contains("precision_recall: expected an IoU threshold in (0, 1], "
                                           "got 0"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::precision_recall(hand_detections(), hand_truths(), 0, 1.5f),
                    std::invalid_argument);
    CHECK_THROWS_AS(cnn::precision_recall(hand_detections(), hand_truths(), 0, nan),
                    std::invalid_argument);
    std::vector<ScoredBox> with_nan = hand_detections();
    with_nan[3].detection.score = nan;
    CHECK_THROWS_WITH_AS(cnn::precision_recall(with_nan, hand_truths(), 0),
                         doctest::Contains("precision_recall: expected a score that is a number, "
                                           "got NaN in detection 3 (image 0, label 0)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::mean_average_precision(hand_detections(), hand_truths(), 2),
                         doctest::Contains("mean_average_precision: expected labels below 2 (the "
                                           "number of classes), got label 2 in detection 5 "
                                           "(image 0)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::mean_average_precision({}, hand_truths(), 1),
                         doctest::Contains("got label 1 in truth 3 (image 1)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::mean_average_precision({}, {}, 0),
                         doctest::Contains("mean_average_precision: expected at least 1 class, "
                                           "got 0"),
                         std::invalid_argument);
    PrecisionRecall uneven = cnn::precision_recall(hand_detections(), hand_truths(), 0);
    uneven.recall.pop_back();
    CHECK_THROWS_WITH_AS(cnn::average_precision(uneven),
                         doctest::Contains("average_precision: expected one score, true_positive, "
                                           "precision and recall per detection, got 5, 5, 5 and "
                                           "4 of them (class 0)"),
                         std::invalid_argument);
}
