/// \file
/// \ingroup ch01
/// \brief Mini-batches: which examples each training step sees.
///
/// One step of stochastic gradient descent uses a small batch of examples, not the whole
/// training set. Shuffling the order every epoch keeps consecutive batches from being alike
/// (Fashion-MNIST's files are not sorted by class, but many data sets are).
#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Splits the indices 0 .. n-1 into batches of `batch_size` (the last one may be smaller),
/// in a fresh random order drawn from `rng`.
/// \param n the number of examples
/// \param batch_size the examples per batch, at least 1
/// \param rng draws the order
/// \return ceil(n / batch_size) lists of indices, every index once
/// \throws std::invalid_argument for a batch_size of 0
std::vector<std::vector<std::size_t>> shuffled_batches(std::size_t n, std::size_t batch_size,
                                                       Rng& rng);

/// The same split in the original order, for evaluation.
/// \param n the number of examples
/// \param batch_size the examples per batch, at least 1
/// \return ceil(n / batch_size) lists of consecutive indices
/// \throws std::invalid_argument for a batch_size of 0
std::vector<std::vector<std::size_t>> ordered_batches(std::size_t n, std::size_t batch_size);

/// Examples `indices` of x (N, ...), in that order: (indices.size(), ...). Images (Tensor4)
/// and, in \ref chapter11 "chapter 11", their masks (one class per pixel) alike.
/// \tparam T the value type
/// \tparam Rank the number of axes, the first one the examples'
/// \param x the examples (N, ...)
/// \param indices which examples, each below N
/// \return a copy of them, (indices.size(), ...)
/// \throws std::out_of_range for an index >= N
template <class T, std::size_t Rank>
xt::xtensor<T, Rank> take_examples(const xt::xtensor<T, Rank>& x,
                                   const std::vector<std::size_t>& indices) {
    auto shape = x.shape();
    const std::size_t per = x.size() / std::max<std::size_t>(1, shape[0]);
    shape[0] = indices.size();
    xt::xtensor<T, Rank> out = xt::xtensor<T, Rank>::from_shape(shape);
    for (std::size_t i = 0; i < indices.size(); ++i) {
        if (indices[i] >= x.shape(0)) {
            throw std::out_of_range("take_examples: index " + std::to_string(indices[i]) +
                                    " is outside " + shape_to_string(x.shape()));
        }
        std::copy_n(x.data() + indices[i] * per, per, out.data() + i * per);
    }
    return out;
}

/// Labels `indices` of y, in that order.
/// \param y the labels
/// \param indices which labels, each below y.size()
/// \return a copy of them
/// \throws std::out_of_range for an index >= y.size()
Labels take_labels(const Labels& y, const std::vector<std::size_t>& indices);

}  // namespace cnn
