/// \file
/// \ingroup ch11
/// \brief How good a segmentation is: pixel accuracy, the IoU of every class, mean IoU, and the
/// confusion matrix of pixel classes.
///
/// Pixel accuracy alone flatters a model when one class covers most pixels: on chapter 10's
/// scenes the background is most of every image, and a network that answers "background"
/// everywhere is right on most pixels. The intersection over union of each class (the IoU of
/// chapter 10's boxes, counted in pixels) does not: for class c,
/// \f[ \mathrm{IoU}_c = \frac{TP_c}{TP_c + FP_c + FN_c}, \f]
/// the pixels labelled c in both masks over the pixels labelled c in either. The mean IoU
/// averages it over the classes.
#pragma once

#include <cstddef>
#include <vector>

#include "cnn/segment/masks.hpp"

namespace cnn {

/// The scores of predicted masks against true ones.
struct SegmentationScores {
    /// confusion[t][p]: the pixels of true class t predicted as class p.
    std::vector<std::vector<std::size_t>> confusion;
    double pixel_accuracy = 0.0;  ///< the fraction of pixels whose class is right
    /// The IoU of each class; 0 for a class that is in neither mask (see `present`).
    std::vector<double> iou;
    std::vector<bool> present;    ///< whether class c is in either mask (its IoU is defined)
    double mean_iou = 0.0;        ///< the mean of iou over the present classes
};

// [segmentation_scores]
/// Compares `predicted` with `truth` pixel by pixel.
/// \param truth the true classes (N, H, W)
/// \param predicted the predicted classes, the same shape
/// \param classes K, the number of pixel classes; every value must be below it
/// \return the confusion matrix, pixel accuracy, IoU per class and mean IoU
/// \throws std::invalid_argument for masks of different shapes or a class >= K
SegmentationScores segmentation_scores(const Masks& truth, const Masks& predicted, std::size_t classes);
// [segmentation_scores]

}  // namespace cnn
