#include "cnn/detect/nms.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace cnn {

namespace {

/// Throws for the first detection whose score is NaN: it cannot be ordered.
void expect_scores(const char* where, const std::vector<Detection>& detections) {
    for (std::size_t i = 0; i < detections.size(); ++i) {
        if (std::isnan(detections[i].score)) {
            throw std::invalid_argument(fmt::format(
                "{}: expected a score that is a number, got NaN in detection {} (label {})",
                where, i, detections[i].label));
        }
    }
}

}  // namespace

//! [non_max_suppression]
std::vector<Detection> non_max_suppression(std::vector<Detection> detections, float iou_threshold,
                                           bool per_class) {
    if (!(iou_threshold >= 0 && iou_threshold <= 1)) {  // also refuses NaN
        throw std::invalid_argument(fmt::format(
            "non_max_suppression: expected an IoU threshold in [0, 1], got {}", iou_threshold));
    }
    expect_scores("non_max_suppression", detections);
    std::stable_sort(detections.begin(), detections.end(),
                     [](const Detection& a, const Detection& b) { return a.score > b.score; });
    std::vector<Detection> kept;
    for (const Detection& candidate : detections) {
        // Only a kept detection suppresses: one that was itself dropped does not.
        const bool suppressed =
            std::any_of(kept.begin(), kept.end(), [&](const Detection& better) {
                return (!per_class || better.label == candidate.label) &&
                       intersection_over_union(better.box, candidate.box) > iou_threshold;
            });
        if (!suppressed) {
            kept.push_back(candidate);
        }
    }
    return kept;
}
//! [non_max_suppression]

std::vector<Detection> above_threshold(std::vector<Detection> detections, float min_score) {
    if (std::isnan(min_score)) {
        throw std::invalid_argument("above_threshold: expected a minimum score that is a number, "
                                    "got NaN");
    }
    expect_scores("above_threshold", detections);
    detections.erase(std::remove_if(detections.begin(), detections.end(),
                                    [&](const Detection& d) { return !(d.score >= min_score); }),
                     detections.end());
    return detections;
}

}  // namespace cnn
