/// \file
/// \ingroup ch01
/// \brief Softmax and cross-entropy, fused into one numerically stable operation.
///
/// A classifier's last layer produces K scores ("logits") per example. Softmax turns them into
/// probabilities, \f$p_k = e^{z_k} / \sum_j e^{z_j}\f$, and the cross-entropy loss of the true
/// class \f$t\f$ is \f$-\log p_t\f$. Computed naively, \f$e^{z}\f$ overflows for a logit of 89
/// in float. Subtracting the row maximum \f$m\f$ first changes nothing mathematically and
/// keeps every exponent \f$\le 0\f$:
/// \f[ -\log p_t = \log \sum_j e^{z_j - m} - (z_t - m). \f]
/// Fusing the two also makes the gradient simple: \f$\partial L / \partial z = p - \mathrm{onehot}(t)\f$,
/// averaged over the batch.
#pragma once

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// What the forward pass returns: the mean loss and the probabilities backward needs.
struct SoftmaxCrossEntropy {
    double loss = 0.0;  ///< mean of -log p[n, labels[n]] over the batch
    Tensor2 probs;      ///< softmax of the logits, (N, K)
};

/// Row-wise softmax, stable for any finite logits. logits is (N, K); returns (N, K).
/// \param logits the scores (N, K)
/// \return the probabilities (N, K), each row summing to 1
Tensor2 softmax(const Tensor2& logits);

// [softmax_cross_entropy]
/// Forward: logits is (N, K), labels has N class indices in [0, K).
/// \param logits the scores (N, K)
/// \param labels N class indices, each in [0, K)
/// \return the mean loss, in nats, and the probabilities (N, K)
/// \throws std::invalid_argument for another number of labels or a label >= K
SoftmaxCrossEntropy softmax_cross_entropy_forward(const Tensor2& logits, const Labels& labels);

/// Backward: probs is (N, K) from the forward pass; returns dL/dlogits = (probs - onehot) / N.
/// \param probs the forward pass's probabilities (N, K)
/// \param labels the forward pass's labels
/// \return the gradient with respect to the logits (N, K)
/// \throws std::invalid_argument for another number of labels or a label >= K
Tensor2 softmax_cross_entropy_backward(const Tensor2& probs, const Labels& labels);
// [softmax_cross_entropy]

}  // namespace cnn
