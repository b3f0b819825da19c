/// \file
/// \ingroup ch10
/// \brief Precision-recall curves, average precision (AP) and its mean over classes (mAP), as
///        the Pascal VOC challenge measures a detector.
///
/// **Matching.** A detection is right (a true positive, TP) when it lands on an object of its
/// class that no better detection has claimed yet. The VOC devkit's rule, applied to the
/// detections of one class from the highest score down (a stable sort: equal scores keep their
/// input order): among the true boxes of the same image and class, find the one with the
/// highest IoU with the detection (the first of them on a tie). If that IoU is at least the
/// threshold (0.5) and that truth is not matched yet, the detection is a TP and the truth is
/// now matched. Otherwise it is a false positive (FP): it overlaps nothing well enough, or
/// its best truth was already found by a surer detection (a duplicate). The devkit does not
/// fall back to a second-best truth, and neither does this file. Truths never found are the
/// misses: they lower the recall.
///
/// **The curve.** After the first k detections,
/// \f[ \mathrm{precision}_k = \frac{TP_k}{TP_k + FP_k} = \frac{TP_k}{k}, \qquad
///     \mathrm{recall}_k = \frac{TP_k}{\text{number of truths}} \f]
/// Lowering the score threshold walks along the curve: recall only grows, precision wobbles.
///
/// **Average precision** summarises the curve in one number, the area under it after making
/// precision non-increasing (each precision replaced by the largest precision at the same or a
/// higher recall):
/// - ApMethod::all_points (VOC 2010 and later): the exact area under that step curve,
///   \f$\sum_k (r_k - r_{k-1})\, \tilde p_k\f$ over the points where recall changes;
/// - ApMethod::eleven_points (VOC 2007): the mean, over r = 0, 0.1, ..., 1, of the largest
///   precision at a recall >= r (0 when the curve never reaches r).
///
/// **A class without truth boxes** has no recall to speak of: its curve has recall 0
/// everywhere, average_precision() gives 0 for it, and mean_average_precision() leaves it out
/// of the mean (as COCO's evaluation does; the VOC devkit never meets the case, since every
/// VOC class has objects in its test set), so that a class absent from a test set does not
/// pull the mean down. Its detections are all false positives.
#pragma once

#include <cstddef>
#include <vector>

#include "cnn/detect/boxes.hpp"
#include "cnn/detect/nms.hpp"

namespace cnn {

/// An object that is really there: which image, where, what.
struct TruthBox {
    std::size_t image = 0;  ///< the image it is in (any numbering shared with the detections)
    Box box;                ///< where, in that image's pixel coordinates
    std::size_t label = 0;  ///< its class
};

/// A detection and the image it was made on.
struct ScoredBox {
    std::size_t image = 0;  ///< the image (numbered as the TruthBox images)
    Detection detection;    ///< the box, its class and its score
};

/// The precision-recall curve of one class: one point per detection of that class, highest
/// score first. Point k (0-based) describes the first k + 1 detections.
struct PrecisionRecall {
    std::size_t label = 0;   ///< the class
    std::size_t truths = 0;  ///< how many truth boxes the class has, over all images
    std::vector<float> score;         ///< the detections' scores, non-increasing
    std::vector<bool> true_positive;  ///< whether each detection matched a truth
    std::vector<double> precision;    ///< TP / (TP + FP) after each detection
    std::vector<double> recall;       ///< TP / truths after each detection (0 when truths == 0)
};

/// Evaluates the detections of class `label` against the truths by the VOC devkit's matching
/// rule (see the file's description).
/// \param detections every detection, of any class (only those of `label` count)
/// \param truths every truth box, of any class (only those of `label` count)
/// \param label the class evaluated
/// \param iou_threshold the IoU a detection needs with its truth to be a TP, in (0, 1]:
///        0 is refused, since with ">=" it would let a box match a truth it misses entirely
/// \return the curve, one point per detection of `label`
/// \throws std::invalid_argument for a threshold outside (0, 1] or a NaN score
PrecisionRecall precision_recall(const std::vector<ScoredBox>& detections,
                                 const std::vector<TruthBox>& truths, std::size_t label,
                                 float iou_threshold = 0.5f);

/// How average_precision() measures the area under a precision-recall curve.
enum class ApMethod {
    all_points,    ///< VOC 2010 and later: the exact area under the non-increasing curve
    eleven_points  ///< VOC 2007: the mean of the non-increasing curve at recall 0, 0.1, ..., 1
};

/// The average precision of a curve (see the file's description): in [0, 1], 1 for a detector
/// that finds every object before its first false positive, 0 for one that finds none or for a
/// class without truths (curve.truths == 0).
/// \param curve a curve from precision_recall()
/// \param method all points (VOC 2010+) or eleven points (VOC 2007)
/// \return the area under the curve
/// \throws std::invalid_argument when the curve's vectors have different lengths
double average_precision(const PrecisionRecall& curve, ApMethod method = ApMethod::all_points);

/// Average precision of every class and their mean.
struct MeanAveragePrecision {
    std::vector<double> per_class;  ///< AP of class k at k; 0 for a class without truths
    std::vector<std::size_t> truths_per_class;  ///< the truth boxes of class k, over all images
    /// The mean of per_class over the classes with at least one truth box; 0 when no class has
    /// one.
    double mean = 0;
};

/// mAP: average_precision() of every class 0 .. classes - 1, and their mean over the classes
/// that have at least one truth box.
/// \param detections every detection, of every image and class
/// \param truths every truth box, of every image and class
/// \param classes K, the number of classes, at least 1
/// \param iou_threshold the IoU a detection needs with its truth to be a TP, in (0, 1]
/// \param method all points (VOC 2010+) or eleven points (VOC 2007)
/// \return AP per class, the truths per class, and mAP
/// \throws std::invalid_argument when classes is 0, a detection's or truth's label is not
///         below classes, the threshold is outside (0, 1], or a score is NaN
MeanAveragePrecision mean_average_precision(const std::vector<ScoredBox>& detections,
                                            const std::vector<TruthBox>& truths,
                                            std::size_t classes, float iou_threshold = 0.5f,
                                            ApMethod method = ApMethod::all_points);

}  // namespace cnn
