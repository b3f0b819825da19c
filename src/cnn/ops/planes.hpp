/// \file
/// \ingroup ch08
/// \brief Planes: the view of an (N, C, H, W) tensor that per-channel loops take.
///
/// Batch normalization (ops/batch_norm.hpp, ops/batch_norm_fast.hpp) works channel by channel
/// over every example: its loops walk the N planes of H·W contiguous values that one channel
/// owns, one plane per example.
#pragma once

#include <cstddef>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// An (N, C, H, W) tensor as N·C planes of H·W contiguous values; the plane of example i and
/// channel c starts at (i·C + c)·H·W.
struct Planes {
    std::size_t n;   ///< N, the examples
    std::size_t c;   ///< C, the channels
    std::size_t hw;  ///< H·W, the values of one plane
    /// The view of `t`'s shape.
    /// \param t a tensor (N, C, H, W)
    explicit Planes(const Tensor4& t) : n(t.shape(0)), c(t.shape(1)), hw(t.shape(2) * t.shape(3)) {}
    /// Where the plane of example i and channel `channel` starts.
    /// \param i the example, below N
    /// \param channel the channel, below C
    /// \return the index of the plane's first value
    std::size_t offset(std::size_t i, std::size_t channel) const { return (i * c + channel) * hw; }
    /// M = N·H·W, the values of one channel.
    /// \return M, as a double for the means
    double count() const { return static_cast<double>(n * hw); }
};

}  // namespace cnn
