#include "cnn/segment/scores.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

SegmentationScores segmentation_scores(const Masks& truth, const Masks& predicted, std::size_t classes) {
    if (truth.shape() != predicted.shape()) {
        throw std::invalid_argument("segmentation_scores: true masks " + shape_to_string(truth.shape()) +
                                    " but predicted masks " + shape_to_string(predicted.shape()));
    }
    SegmentationScores scores;
    scores.confusion.assign(classes, std::vector<std::size_t>(classes, 0));
    for (std::size_t i = 0; i < truth.size(); ++i) {
        const std::size_t t = truth.flat(i), p = predicted.flat(i);
        if (t >= classes || p >= classes) {
            throw std::invalid_argument("segmentation_scores: pixel " + std::to_string(i) + " has class " +
                                        std::to_string(t >= classes ? t : p) + " in the " +
                                        (t >= classes ? "true" : "predicted") + " mask, expected one below " +
                                        std::to_string(classes));
        }
        ++scores.confusion[t][p];
    }
    std::size_t right = 0, present = 0;
    scores.iou.assign(classes, 0.0);
    scores.present.assign(classes, false);
    //! [segmentation_iou]
    for (std::size_t c = 0; c < classes; ++c) {
        right += scores.confusion[c][c];
        std::size_t predicted_c = 0, true_c = 0;  // the column and row sums
        for (std::size_t k = 0; k < classes; ++k) {
            predicted_c += scores.confusion[k][c];
            true_c += scores.confusion[c][k];
        }
        const std::size_t either = true_c + predicted_c - scores.confusion[c][c];  // TP + FP + FN
        if (either > 0) {
            scores.present[c] = true;
            scores.iou[c] = static_cast<double>(scores.confusion[c][c]) / static_cast<double>(either);
            scores.mean_iou += scores.iou[c];
            ++present;
        }
    }
    //! [segmentation_iou]
    scores.pixel_accuracy = truth.size() == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(truth.size());
    scores.mean_iou = present == 0 ? 0.0 : scores.mean_iou / static_cast<double>(present);
    return scores;
}

}  // namespace cnn
