#include "cnn/model/metrics.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

Labels predicted_classes(const Tensor2& scores) {
    Labels predicted(scores.shape(0));
    for (std::size_t n = 0; n < scores.shape(0); ++n) {
        std::size_t best = 0;
        for (std::size_t k = 1; k < scores.shape(1); ++k) {
            if (scores(n, k) > scores(n, best)) {
                best = k;
            }
        }
        predicted[n] = best;
    }
    return predicted;
}

double accuracy(const Tensor2& scores, const Labels& labels) {
    if (labels.size() != scores.shape(0)) {
        throw std::invalid_argument("accuracy: " + std::to_string(labels.size()) +
                                    " labels for scores " + shape_to_string(scores.shape()));
    }
    if (labels.empty()) {
        return 0.0;
    }
    const Labels predicted = predicted_classes(scores);
    std::size_t correct = 0;
    for (std::size_t n = 0; n < labels.size(); ++n) {
        correct += predicted[n] == labels[n] ? 1 : 0;
    }
    return static_cast<double>(correct) / static_cast<double>(labels.size());
}

}  // namespace cnn
