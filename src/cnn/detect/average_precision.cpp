#include "cnn/detect/average_precision.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

namespace cnn {

namespace {

void expect_iou_threshold(const char* where, float iou_threshold) {
    if (!(iou_threshold > 0 && iou_threshold <= 1)) {  // also refuses NaN
        throw std::invalid_argument(fmt::format(
            "{}: expected an IoU threshold in (0, 1], got {}", where, iou_threshold));
    }
}

void expect_scores(const char* where, const std::vector<ScoredBox>& detections) {
    for (std::size_t i = 0; i < detections.size(); ++i) {
        if (std::isnan(detections[i].detection.score)) {
            throw std::invalid_argument(fmt::format(
                "{}: expected a score that is a number, got NaN in detection {} (image {}, "
                "label {})",
                where, i, detections[i].image, detections[i].detection.label));
        }
    }
}

}  // namespace

PrecisionRecall precision_recall(const std::vector<ScoredBox>& detections,
                                 const std::vector<TruthBox>& truths, std::size_t label,
                                 float iou_threshold) {
    expect_iou_threshold("precision_recall", iou_threshold);
    expect_scores("precision_recall", detections);
    PrecisionRecall curve;
    curve.label = label;

    // The truths of this class, by image: the only ones a detection of this class can match.
    std::map<std::size_t, std::vector<std::size_t>> truths_in_image;
    for (std::size_t t = 0; t < truths.size(); ++t) {
        if (truths[t].label == label) {
            truths_in_image[truths[t].image].push_back(t);
            ++curve.truths;
        }
    }
    // The detections of this class, highest score first; equal scores keep their order.
    std::vector<const ScoredBox*> ranked;
    for (const ScoredBox& d : detections) {
        if (d.detection.label == label) {
            ranked.push_back(&d);
        }
    }
    std::stable_sort(ranked.begin(), ranked.end(), [](const ScoredBox* a, const ScoredBox* b) {
        return a->detection.score > b->detection.score;
    });

    std::vector<bool> matched(truths.size(), false);
    std::size_t true_positives = 0;
    for (const ScoredBox* d : ranked) {
        // The truth of the same image and class with the highest IoU (the first on a tie).
        bool found = false;
        std::size_t best = 0;
        float best_iou = 0;
        const auto in_image = truths_in_image.find(d->image);
        if (in_image != truths_in_image.end()) {
            for (std::size_t t : in_image->second) {
                const float iou = intersection_over_union(d->detection.box, truths[t].box);
                if (!found || iou > best_iou) {
                    found = true;
                    best = t;
                    best_iou = iou;
                }
            }
        }
        // A TP only if that truth overlaps enough and is still free: a second detection of an
        // object already found is a duplicate, a false positive.
        const bool hit = found && best_iou >= iou_threshold && !matched[best];
        if (hit) {
            matched[best] = true;
            ++true_positives;
        }
        const auto seen = static_cast<double>(curve.score.size() + 1);
        curve.score.push_back(d->detection.score);
        curve.true_positive.push_back(hit);
        curve.precision.push_back(static_cast<double>(true_positives) / seen);
        curve.recall.push_back(curve.truths == 0 ? 0.0
                                                 : static_cast<double>(true_positives) /
                                                       static_cast<double>(curve.truths));
    }
    return curve;
}

double average_precision(const PrecisionRecall& curve, ApMethod method) {
    const std::size_t n = curve.precision.size();
    if (curve.recall.size() != n || curve.score.size() != n || curve.true_positive.size() != n) {
        throw std::invalid_argument(fmt::format(
            "average_precision: expected one score, true_positive, precision and recall per "
            "detection, got {}, {}, {} and {} of them (class {})",
            curve.score.size(), curve.true_positive.size(), n, curve.recall.size(), curve.label));
    }
    if (curve.truths == 0) {
        return 0.0;  // nothing to find: no recall, no area (mean_average_precision skips it)
    }
    if (method == ApMethod::eleven_points) {
        // VOC 2007: at r = 0, 0.1, ..., 1, the best precision reached at a recall >= r.
        double sum = 0;
        for (int k = 0; k <= 10; ++k) {
            const double r = k / 10.0;
            double best = 0;
            for (std::size_t i = 0; i < n; ++i) {
                if (curve.recall[i] >= r) {
                    best = std::max(best, curve.precision[i]);
                }
            }
            sum += best;
        }
        return sum / 11;
    }
    //! [all_points]
    // VOC 2010+: make precision non-increasing from the right (each point takes the best
    // precision at its recall or any higher one), then add up the steps' areas where recall grows.
    std::vector<double> envelope = curve.precision;
    for (std::size_t i = n; i-- > 1;) {
        envelope[i - 1] = std::max(envelope[i - 1], envelope[i]);
    }
    double area = 0, previous_recall = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (curve.recall[i] != previous_recall) {
            area += (curve.recall[i] - previous_recall) * envelope[i];
            previous_recall = curve.recall[i];
        }
    }
    return area;
    //! [all_points]
}

MeanAveragePrecision mean_average_precision(const std::vector<ScoredBox>& detections,
                                            const std::vector<TruthBox>& truths,
                                            std::size_t classes, float iou_threshold,
                                            ApMethod method) {
    if (classes == 0) {
        throw std::invalid_argument("mean_average_precision: expected at least 1 class, got 0");
    }
    expect_iou_threshold("mean_average_precision", iou_threshold);
    expect_scores("mean_average_precision", detections);
    for (std::size_t i = 0; i < detections.size(); ++i) {
        if (detections[i].detection.label >= classes) {
            throw std::invalid_argument(fmt::format(
                "mean_average_precision: expected labels below {} (the number of classes), got "
                "label {} in detection {} (image {})",
                classes, detections[i].detection.label, i, detections[i].image));
        }
    }
    for (std::size_t t = 0; t < truths.size(); ++t) {
        if (truths[t].label >= classes) {
            throw std::invalid_argument(fmt::format(
                "mean_average_precision: expected labels below {} (the number of classes), got "
                "label {} in truth {} (image {})",
                classes, truths[t].label, t, truths[t].image));
        }
    }
    MeanAveragePrecision result;
    double sum = 0;
    std::size_t counted = 0;
    for (std::size_t k = 0; k < classes; ++k) {
        const PrecisionRecall curve = precision_recall(detections, truths, k, iou_threshold);
        result.per_class.push_back(average_precision(curve, method));
        result.truths_per_class.push_back(curve.truths);
        if (curve.truths > 0) {  // a class with nothing to find stays out of the mean
            sum += result.per_class.back();
            ++counted;
        }
    }
    result.mean = counted == 0 ? 0.0 : sum / static_cast<double>(counted);
    return result;
}

}  // namespace cnn
