// Tests of cnn/detect/nms.hpp: greedy non-maximum suppression and the confidence threshold on
// small hand-made sets of boxes whose IoUs are worked out in the comments.
#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>
#include <vector>

#include "cnn/detect/nms.hpp"

using cnn::Detection;

namespace {

/// The scores of `detections`, in order: what the tests compare.
std::vector<float> scores(const std::vector<Detection>& detections) {
    std::vector<float> s;
    for (const Detection& d : detections) {
        s.push_back(d.score);
    }
    return s;
}

}  // namespace

TEST_CASE("non_max_suppression drops the weaker of two overlapping boxes of one class") {
    // A = [0, 0, 10, 10] and B = [1, 0, 11, 10]: common 9 x 10 = 90, union 100 + 100 - 90 = 110,
    // IoU 9/11 = 0.82 > 0.5. B scores lower: it goes, whatever the input order.
    const Detection a{{0, 0, 10, 10}, 3, 0.9f}, b{{1, 0, 11, 10}, 3, 0.8f};
    const std::vector<Detection> kept = cnn::non_max_suppression({b, a}, 0.5f);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].score == 0.9f);
    CHECK(kept[0].label == 3);
    CHECK(kept[0].box.x_min == 0.0f);
    // Above their IoU, the threshold lets both stay, best first.
    CHECK(scores(cnn::non_max_suppression({b, a}, 0.85f)) == std::vector<float>{0.9f, 0.8f});
}

TEST_CASE("non_max_suppression per class keeps overlapping boxes of different classes") {
    // The same two boxes (IoU 9/11), now a class-0 and a class-1 detection: per class, neither
    // suppresses the other; class-agnostic, the weaker goes.
    const Detection a{{0, 0, 10, 10}, 0, 0.9f}, b{{1, 0, 11, 10}, 1, 0.8f};
    const std::vector<Detection> per_class = cnn::non_max_suppression({b, a}, 0.5f, true);
    REQUIRE(per_class.size() == 2);
    CHECK(per_class[0].label == 0);
    CHECK(per_class[1].label == 1);
    const std::vector<Detection> agnostic = cnn::non_max_suppression({b, a}, 0.5f, false);
    REQUIRE(agnostic.size() == 1);
    CHECK(agnostic[0].label == 0);
}

TEST_CASE("non_max_suppression: a box suppressed itself suppresses nothing") {
    // A chain of boxes 10 wide, 3 apart: A = [0, 0, 10, 10], B = [3, 0, 13, 10],
    // C = [6, 0, 16, 10]. IoU(A, B) = IoU(B, C) = 70 / (100 + 100 - 70) = 7/13 = 0.54 > 0.5, but
    // IoU(A, C) = 40 / 160 = 0.25. A suppresses B; C overlaps only B, which was dropped, so C
    // stays (dropping every box that overlaps any better box would lose it).
    const Detection a{{0, 0, 10, 10}, 0, 0.9f}, b{{3, 0, 13, 10}, 0, 0.8f},
        c{{6, 0, 16, 10}, 0, 0.7f};
    CHECK(scores(cnn::non_max_suppression({c, b, a}, 0.5f)) == std::vector<float>{0.9f, 0.7f});
    // With B the best, it suppresses both neighbours.
    const Detection b_best{{3, 0, 13, 10}, 0, 0.95f};
    CHECK(scores(cnn::non_max_suppression({a, b_best, c}, 0.5f)) == std::vector<float>{0.95f});
}

TEST_CASE("non_max_suppression keeps a box whose IoU equals the threshold") {
    // [0, 0, 3, 1] and [1, 0, 4, 1]: common 2, union 3 + 3 - 2 = 4, IoU exactly 0.5 (exact in
    // binary). The rule drops IoU > threshold: at 0.5 both stay, just below 0.5 one goes.
    const Detection a{{0, 0, 3, 1}, 0, 0.9f}, b{{1, 0, 4, 1}, 0, 0.8f};
    CHECK(cnn::non_max_suppression({a, b}, 0.5f).size() == 2);
    CHECK(cnn::non_max_suppression({a, b}, 0.49f).size() == 1);
    // Boxes that only touch have IoU 0: even threshold 0 keeps both.
    const Detection touching{{3, 0, 5, 1}, 0, 0.7f};
    CHECK(cnn::non_max_suppression({a, touching}, 0.0f).size() == 2);
    // At threshold 1 nothing goes, not even an exact copy (its IoU is 1, not more).
    CHECK(cnn::non_max_suppression({a, a, b}, 1.0f).size() == 3);
}

TEST_CASE("non_max_suppression: on equal scores the earlier detection wins") {
    // Two boxes of equal score with IoU 9/11: the first in the input is kept (a stable sort).
    const Detection first{{0, 0, 10, 10}, 0, 0.7f}, second{{1, 0, 11, 10}, 0, 0.7f};
    const std::vector<Detection> kept = cnn::non_max_suppression({first, second}, 0.5f);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].box.x_min == 0.0f);
    const std::vector<Detection> swapped = cnn::non_max_suppression({second, first}, 0.5f);
    REQUIRE(swapped.size() == 1);
    CHECK(swapped[0].box.x_min == 1.0f);
    // Boxes apart keep their input order among equal scores, after the better ones.
    const Detection p{{0, 0, 1, 1}, 0, 0.5f}, q{{5, 5, 6, 6}, 0, 0.5f}, r{{9, 9, 10, 10}, 0, 0.6f};
    const std::vector<Detection> apart = cnn::non_max_suppression({q, p, r}, 0.5f);
    REQUIRE(apart.size() == 3);
    CHECK(apart[0].box.x_min == 9.0f);
    CHECK(apart[1].box.x_min == 5.0f);
    CHECK(apart[2].box.x_min == 0.0f);
}

TEST_CASE("non_max_suppression returns boxes that do not overlap in descending score") {
    const std::vector<Detection> input = {
        {{0, 0, 1, 1}, 0, 0.2f}, {{2, 2, 3, 3}, 1, 0.9f}, {{4, 4, 5, 5}, 0, 0.5f}};
    CHECK(scores(cnn::non_max_suppression(input, 0.5f)) == std::vector<float>{0.9f, 0.5f, 0.2f});
    CHECK(cnn::non_max_suppression({}, 0.5f).empty());
}

TEST_CASE("non_max_suppression refuses a threshold outside 0 to 1 and a NaN score") {
    const std::vector<Detection> input = {{{0, 0, 1, 1}, 0, 0.5f}};
    CHECK_THROWS_WITH_AS(cnn::non_max_suppression(input, 1.5f),
                         doctest::Contains("non_max_suppression: expected an IoU threshold in "
                                           "[0, 1], got 1.5"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::non_max_suppression(input, -0.1f), std::invalid_argument);
    CHECK_THROWS_AS(cnn::non_max_suppression(input, std::numeric_limits<float>::quiet_NaN()),
                    std::invalid_argument);
    const std::vector<Detection> nan_score = {
        {{0, 0, 1, 1}, 0, 0.5f}, {{0, 0, 1, 1}, 4, std::numeric_limits<float>::quiet_NaN()}};
    CHECK_THROWS_WITH_AS(cnn::non_max_suppression(nan_score, 0.5f),
                         doctest::Contains("non_max_suppression: expected a score that is a "
                                           "number, got NaN in detection 1 (label 4)"),
                         std::invalid_argument);
}

TEST_CASE("above_threshold keeps the scores at or above the minimum, in their order") {
    const std::vector<Detection> input = {{{0, 0, 1, 1}, 0, 0.9f},
                                          {{0, 0, 1, 1}, 1, 0.3f},
                                          {{0, 0, 1, 1}, 2, 0.5f},
                                          {{0, 0, 1, 1}, 3, 0.2f},
                                          {{0, 0, 1, 1}, 4, 0.7f}};
    const std::vector<Detection> kept = cnn::above_threshold(input, 0.5f);
    CHECK(scores(kept) == std::vector<float>{0.9f, 0.5f, 0.7f});  // 0.5 itself stays
    CHECK(kept[1].label == 2);
    CHECK(cnn::above_threshold(input, 0.95f).empty());
    CHECK(cnn::above_threshold(input, 0.0f).size() == 5);
    CHECK(cnn::above_threshold({}, 0.5f).empty());
    CHECK_THROWS_WITH_AS(cnn::above_threshold(input, std::numeric_limits<float>::quiet_NaN()),
                         doctest::Contains("above_threshold: expected a minimum score that is a "
                                           "number, got NaN"),
                         std::invalid_argument);
}
