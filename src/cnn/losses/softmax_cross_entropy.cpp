#include "cnn/losses/softmax_cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace cnn {

namespace {

void expect_labels(const char* where, const Tensor2& scores, const Labels& labels) {
    if (labels.size() != scores.shape(0)) {
        throw std::invalid_argument(std::string(where) + ": expected one label per row of " +
                                    shape_to_string(scores.shape()) + ", got " +
                                    std::to_string(labels.size()) + " labels");
    }
    for (std::size_t n = 0; n < labels.size(); ++n) {
        if (labels[n] >= scores.shape(1)) {
            throw std::invalid_argument(std::string(where) + ": label " +
                                        std::to_string(labels[n]) + " at row " +
                                        std::to_string(n) + " is not a class in [0, " +
                                        std::to_string(scores.shape(1)) + ")");
        }
    }
}

/// The largest logit of row n: subtracting it keeps every exponent <= 0.
float row_max(const Tensor2& logits, std::size_t n) {
    float m = logits(n, 0);
    for (std::size_t j = 1; j < logits.shape(1); ++j) {
        m = std::max(m, logits(n, j));
    }
    return m;
}

}  // namespace

Tensor2 softmax(const Tensor2& logits) {
    const std::size_t n_rows = logits.shape(0);
    const std::size_t k = logits.shape(1);
    Tensor2 probs = Tensor2::from_shape(logits.shape());
    for (std::size_t n = 0; n < n_rows; ++n) {
        const float m = row_max(logits, n);
        double sum = 0.0;
        for (std::size_t j = 0; j < k; ++j) {
            const float e = std::exp(logits(n, j) - m);  // <= 1: cannot overflow
            probs(n, j) = e;
            sum += e;
        }
        const float inv = static_cast<float>(1.0 / sum);  // sum >= 1: the max term is e^0
        for (std::size_t j = 0; j < k; ++j) {
            probs(n, j) *= inv;
        }
    }
    return probs;
}

//! [softmax_cross_entropy_forward]
SoftmaxCrossEntropy softmax_cross_entropy_forward(const Tensor2& logits, const Labels& labels) {
    expect_labels("softmax_cross_entropy_forward", logits, labels);
    SoftmaxCrossEntropy result;
    result.probs = softmax(logits);
    const std::size_t n_rows = logits.shape(0);
    const std::size_t k = logits.shape(1);
    double total = 0.0;
    for (std::size_t n = 0; n < n_rows; ++n) {
        // -log p_t = log(sum_j e^(z_j - m)) - (z_t - m), in double for the sum.
        const double m = row_max(logits, n);
        double sum = 0.0;
        for (std::size_t j = 0; j < k; ++j) {
            sum += std::exp(static_cast<double>(logits(n, j)) - m);
        }
        total += std::log(sum) - (static_cast<double>(logits(n, labels[n])) - m);
    }
    result.loss = n_rows == 0 ? 0.0 : total / static_cast<double>(n_rows);
    return result;
}
//! [softmax_cross_entropy_forward]

//! [softmax_cross_entropy_backward]
Tensor2 softmax_cross_entropy_backward(const Tensor2& probs, const Labels& labels) {
    expect_labels("softmax_cross_entropy_backward", probs, labels);
    const std::size_t n_rows = probs.shape(0);
    const float inv_n = n_rows == 0 ? 0.0f : 1.0f / static_cast<float>(n_rows);
    Tensor2 dlogits = probs * inv_n;
    for (std::size_t n = 0; n < n_rows; ++n) {
        dlogits(n, labels[n]) -= inv_n;
    }
    return dlogits;
}
//! [softmax_cross_entropy_backward]

}  // namespace cnn
