/// \file
/// \ingroup ch05
/// \brief Pooling layers: MaxPooling2D, AveragePooling2D and GlobalAveragePooling2D.
///
/// Pooling layers have a window size, a stride and a padding, and no weights at all: they
/// combine their inputs with a fixed rule (max or mean), so there is nothing to learn and
/// parameter_count() is 0. As in Keras, the stride defaults to the window size, so windows
/// tile the input without overlapping: MaxPooling2D(2) halves each side.
///
/// Since chapter 07, MaxPooling2D runs pooling_fast.hpp: the loops of pooling.hpp split between
/// threads over the batch, with the same results bit for bit.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "cnn/conv/pooling.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Hyperparameters of a pooling layer, named as in Keras.
struct PoolingOptions {
    std::size_t pool_rows = 2;                 ///< window height
    std::size_t pool_cols = 2;                 ///< window width
    std::size_t stride_rows = 0;               ///< 0: the window height (Keras's strides=None)
    std::size_t stride_cols = 0;               ///< 0: the window width
    PaddingMode padding = PaddingMode::valid;  ///< 'valid' or 'same'
    std::string name = "pooling";
};

/// The window, strides and padding `options` give on an input of h rows and w columns.
Pool2dOptions pool2d_options(const PoolingOptions& options, std::size_t h, std::size_t w);

/// Max pooling: each window replaced by its largest value.
class MaxPooling2D {
public:
    explicit MaxPooling2D(const PoolingOptions& options = {}) : options_(options) {}
    /// x is (N, C, H, W); returns (N, C, OH, OW) and remembers each window's winner.
    Tensor4 forward(const Tensor4& x);
    /// dy is (N, C, OH, OW); returns dx (N, C, H, W): the gradient goes to the winners.
    Tensor4 backward(const Tensor4& dy) const;
    /// Pooling has no weights.
    std::size_t parameter_count() const { return 0; }
    const PoolingOptions& options() const { return options_; }

private:
    PoolingOptions options_;
    std::vector<std::size_t> winner_;
    std::array<std::size_t, 4> x_shape_{};
};

/// Average pooling: each window replaced by the mean of its values.
class AveragePooling2D {
public:
    explicit AveragePooling2D(const PoolingOptions& options = {}) : options_(options) {}
    /// x is (N, C, H, W); returns (N, C, OH, OW).
    Tensor4 forward(const Tensor4& x);
    /// dy is (N, C, OH, OW); returns dx (N, C, H, W): each gradient shared by its window.
    Tensor4 backward(const Tensor4& dy) const;
    std::size_t parameter_count() const { return 0; }
    const PoolingOptions& options() const { return options_; }

private:
    PoolingOptions options_;
    std::array<std::size_t, 4> x_shape_{};
};

/// Global average pooling: each whole map replaced by its mean, (N, C, H, W) -> (N, C).
class GlobalAveragePooling2D {
public:
    Tensor2 forward(const Tensor4& x);
    Tensor4 backward(const Tensor2& dy) const;
    std::size_t parameter_count() const { return 0; }

private:
    std::array<std::size_t, 4> x_shape_{};
};

}  // namespace cnn
