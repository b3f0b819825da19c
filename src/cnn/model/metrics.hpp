/// \file
/// \ingroup ch01
/// \brief Turning scores into predictions, and counting how many are right.
#pragma once

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The class with the highest score in each row of scores (N, K); ties go to the lower index.
/// \param scores (N, K), logits or probabilities
/// \return N class indices, each in [0, K)
Labels predicted_classes(const Tensor2& scores);

/// Fraction of rows of scores (N, K) whose highest score is at the true label; 0 when N = 0.
/// \param scores (N, K), logits or probabilities
/// \param labels N class indices
/// \return the fraction, in [0, 1]
/// \throws std::invalid_argument for another number of labels
double accuracy(const Tensor2& scores, const Labels& labels);

}  // namespace cnn
