/// \file
/// \ingroup ch11
/// \brief The UpSampling2D layer: every map made fh times taller and fw times wider.
///
/// Keras's `UpSampling2D(size=(2, 2), interpolation="nearest")`: (C, H, W) becomes
/// (C, H·fh, W·fw), by copying each value into an fh x fw block ("nearest", the default) or
/// by blending neighbouring values ("bilinear", with half-pixel centres, as TensorFlow 2 and
/// PyTorch's `align_corners=False`). Like a pooling layer it has no weights, so
/// parameter_count() is 0 and the summary shows 0 parameters; unlike a max-pooling layer it
/// keeps nothing for its backward pass but the input's shape, because the gradient of a
/// fixed copy or blend does not depend on the values. The arithmetic is ops/upsample.hpp; the
/// layer runs it as ops/upsample_fast.hpp does, map by map, split between threads.
///
/// Keras lays images out channels-last by default; here, as everywhere in this book, they are
/// (C, H, W), and `size` is (rows, columns) as in Keras. Keras 3 also offers "bicubic",
/// "lanczos3" and "lanczos5"; this book stops at the two that segmentation networks use.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "cnn/layers/layer.hpp"
#include "cnn/ops/upsample.hpp"
#include "cnn/ops/upsample_fast.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// How UpSampling2D fills the new pixels, named as Keras names them.
enum class Interpolation {
    nearest,  ///< copy the nearest input value (upsample_nearest_forward())
    bilinear  ///< blend the two nearest rows and columns (upsample_bilinear_forward())
};

/// Reads Keras's names "nearest" and "bilinear"; anything else is an error that lists them.
/// \param name the interpolation's name
/// \return the interpolation it names
/// \throws std::invalid_argument for any other name
Interpolation parse_interpolation(const std::string& name);

/// Everything an UpSampling2D layer can be asked for.
struct UpSampling2DOptions {
    UpsampleFactors size;                                  ///< Keras's size: (rows, columns)
    Interpolation interpolation = Interpolation::nearest;  ///< Keras's default
};

/// Upsampling: (None, C, H, W) -> (None, C, H·fh, W·fw), no weights.
class UpSampling2D : public KerasLayer<UpSampling2D> {
public:
    /// Keras's UpSampling2D(size): each side `size` times larger, nearest by default.
    /// \param size fh = fw, at least 1
    /// \throws std::invalid_argument for a size of 0
    explicit UpSampling2D(std::size_t size = 2);
    /// Keras's UpSampling2D(size=(rows, columns)).
    /// \param rows fh: how many times taller, at least 1
    /// \param columns fw: how many times wider, at least 1
    /// \throws std::invalid_argument for a factor of 0
    explicit UpSampling2D(std::size_t rows, std::size_t columns);
    /// Every option at once.
    /// \param options the factors and the interpolation
    /// \throws std::invalid_argument for a factor of 0
    explicit UpSampling2D(const UpSampling2DOptions& options);
    /// How the new pixels are filled: "nearest" (the default) or "bilinear".
    /// \param name the interpolation's name, as in Keras
    /// \return this layer, for chaining
    /// \throws std::invalid_argument for any other name, listing the known ones
    UpSampling2D& interpolation(const std::string& name);
    /// The options set so far.
    /// \return the factors and the interpolation
    const UpSampling2DOptions& options() const { return options_; }
    std::string type() const override { return "UpSampling2D"; }
    std::string default_name() const override { return "up_sampling2d"; }
    /// Checks that the input is images and returns their upsampled shape.
    /// \param input_shape (C, H, W)
    /// \param rng unused: the layer has no weights
    /// \return (C, H·fh, W·fw)
    /// \throws std::invalid_argument for another rank
    Shape build(const Shape& input_shape, Rng& rng) override;

protected:
    /// x is (N, C, H, W); returns (N, C, H·fh, W·fw) and remembers x's shape.
    /// \param x the input (N, C, H, W)
    /// \param training unused: upsampling is the same in training and inference
    /// \return y (N, C, H·fh, W·fw)
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    /// dy is (N, C, H·fh, W·fw); returns dx (N, C, H, W).
    /// \param dy the gradient of y (N, C, H·fh, W·fw)
    /// \return dx (N, C, H, W)
    /// \throws std::invalid_argument unless dy has the last forward output's shape
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    UpSampling2DOptions options_;
    std::array<std::size_t, 4> x_shape_{};  // the shape of the last forward input
    bool ran_ = false;                      // whether forward() has run
};

}  // namespace cnn
