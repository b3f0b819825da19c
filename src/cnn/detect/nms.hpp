/// \file
/// \ingroup ch10
/// \brief Detections, the confidence threshold and greedy non-maximum suppression.
///
/// A single-shot detector predicts a box in every cell of its grid, and an object usually
/// lights up several neighbouring cells: the raw output holds many boxes, most of them weak,
/// several of them on the same object. Two steps turn it into an answer:
///
/// 1. **The confidence threshold** (above_threshold()) drops the boxes the network itself
///    hardly believes in.
/// 2. **Non-maximum suppression** (non_max_suppression()) keeps, of boxes that overlap
///    strongly, only the most confident one. Greedily: take the best remaining box, keep it,
///    drop every later box whose IoU with it exceeds a threshold, repeat. A box that overlaps
///    only a box that was itself dropped survives: it may be a second object.
///
/// Usually the suppression is per class: a bag held by a person overlaps the person, and
/// neither should remove the other. Class-agnostic suppression (`per_class = false`) removes
/// overlapping boxes whatever their classes, for a detector that puts two labels on one object.
#pragma once

#include <cstddef>
#include <vector>

#include "cnn/detect/boxes.hpp"

namespace cnn {

/// One object a detector claims to see: where, what, and how sure it is.
struct Detection {
    Box box;                ///< where, in the image's pixel coordinates
    std::size_t label = 0;  ///< the class, 0 to K - 1
    float score = 0;        ///< the confidence: a larger score is a surer detection
};

/// Greedy non-maximum suppression. The detections are sorted by score, highest first (a
/// stable sort: equal scores keep their input order); each is then kept unless its IoU with
/// a detection already kept (of the same label when `per_class`, of any label otherwise) is
/// greater than `iou_threshold`. A detection whose IoU equals the threshold is kept.
/// \param detections any detections, in any order
/// \param iou_threshold in [0, 1], 0.5 being common: at 1 nothing is dropped (no IoU exceeds
///        1), at 0 every detection that overlaps a kept one at all
/// \param per_class suppress only within a class (true) or across classes (false)
/// \return the detections kept, highest score first
/// \throws std::invalid_argument for a threshold outside [0, 1] (or NaN) or a NaN score
std::vector<Detection> non_max_suppression(std::vector<Detection> detections, float iou_threshold,
                                           bool per_class = true);

/// The confidence threshold: the detections whose score is at least `min_score`, in their
/// input order.
/// \param detections any detections
/// \param min_score the lowest score kept
/// \return the detections with score >= min_score
/// \throws std::invalid_argument for a NaN min_score or a NaN score
std::vector<Detection> above_threshold(std::vector<Detection> detections, float min_score);

}  // namespace cnn
