/// \file
/// \ingroup ch11
/// \brief Upsampling, forward and backward: making each map fh times taller and fw times wider.
///
/// A segmentation network shrinks its input (pooling, strided convolutions) to see more of it,
/// then must grow it back: one class for every pixel of the input. Upsampling is the simplest
/// way back, and, like pooling, it has no weights. Channels stay separate: (N, C, H, W)
/// becomes (N, C, H·fh, W·fw) for integer factors fh (rows) and fw (columns).
///
/// - **Nearest**: every input value is copied into an fh x fw block,
///   y[n, c, i, j] = x[n, c, i / fh, j / fw] (integer division). Its backward pass sums each
///   fh x fw block of dy back into the one value it came from.
/// - **Bilinear**: output row i looks at the input at position (i + 0.5) / fh - 0.5, the
///   centre of output pixel i measured in input pixels ("half-pixel centres"), clamped to
///   [0, H - 1], and blends the two input rows on either side of it by how close it lies to
///   each; columns the same, independently. This is Keras's
///   `UpSampling2D(interpolation="bilinear")`, which calls TensorFlow 2's
///   `tf.image.resize(method="bilinear")`, and PyTorch's
///   `nn.Upsample(mode="bilinear", align_corners=False)`. Each output is a weighted sum of (at
///   most) four inputs, so the backward pass sends each dy value back to those four with the
///   same weights: it is the adjoint (the transpose) of the forward pass.
///
/// The blend along one axis is computed once (bilinear_taps()) and used by both passes.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// How much larger upsampling makes each map: integer factors, at least 1 each.
struct UpsampleFactors {
    std::size_t rows = 2;  ///< fh: every input row becomes fh output rows
    std::size_t cols = 2;  ///< fw: every input column becomes fw output columns
};

/// The shape (N, C, H·fh, W·fw) of upsampling an input of shape (N, C, H, W).
/// \param x_shape the input's shape (N, C, H, W)
/// \param factors fh and fw
/// \return (N, C, H·fh, W·fw)
/// \throws std::invalid_argument for a factor of 0
std::array<std::size_t, 4> upsampled_shape(const std::array<std::size_t, 4>& x_shape,
                                           const UpsampleFactors& factors);

// [upsample_nearest]
/// Nearest-neighbour upsampling, forward. x is (N, C, H, W); returns y (N, C, H·fh, W·fw)
/// with y[n, c, i, j] = x[n, c, i / fh, j / fw].
Tensor4 upsample_nearest_forward(const Tensor4& x, const UpsampleFactors& factors);

/// Nearest-neighbour upsampling, backward. dy is (N, C, H·fh, W·fw); returns dx (N, C, H, W),
/// each value the sum of the fh x fw block of dy it was copied into.
Tensor4 upsample_nearest_backward(const Tensor4& dy, const UpsampleFactors& factors);
// [upsample_nearest]

/// One output row (or column) of bilinear upsampling: the two input rows it blends and
/// their weights, y = weight_low·x[low] + weight_high·x[high], the weights summing to 1.
struct BilinearTap {
    std::size_t low = 0;      ///< the input row at or above the sampling position
    std::size_t high = 0;     ///< the next row, or `low` itself at the last row
    float weight_low = 1.0f;  ///< 1 - (position - low)
    float weight_high = 0.0f; ///< position - low, the distance from row `low`
};

// [bilinear_taps]
/// Where the `size · factor` outputs along one axis sample an input of `size` values: output i
/// at position (i + 0.5) / factor - 0.5, clamped to [0, size - 1], between rows
/// floor(position) and the one after it.
std::vector<BilinearTap> bilinear_taps(std::size_t size, std::size_t factor);
// [bilinear_taps]

// [upsample_bilinear]
/// Bilinear upsampling, forward. x is (N, C, H, W); returns y (N, C, H·fh, W·fw): along the
/// rows the taps of bilinear_taps(H, fh), along the columns those of bilinear_taps(W, fw).
Tensor4 upsample_bilinear_forward(const Tensor4& x, const UpsampleFactors& factors);

/// Bilinear upsampling, backward. dy is (N, C, H·fh, W·fw); returns dx (N, C, H, W): each dy
/// value added to the (at most) four inputs its output blended, with the same weights.
Tensor4 upsample_bilinear_backward(const Tensor4& dy, const UpsampleFactors& factors);
// [upsample_bilinear]

// The parameters of the declarations a chapter page quotes, kept out of the quoted lines.
// clang-format off
/// \fn Tensor4 upsample_nearest_forward(const Tensor4& x, const UpsampleFactors& factors)
/// \param x the input (N, C, H, W)
/// \param factors fh and fw, at least 1 each
/// \return y (N, C, H·fh, W·fw)
/// \throws std::invalid_argument for a factor of 0
///
/// \fn Tensor4 upsample_nearest_backward(const Tensor4& dy, const UpsampleFactors& factors)
/// \param dy the gradient of y (N, C, H·fh, W·fw)
/// \param factors the forward pass's fh and fw
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument for a factor of 0, or when dy's height and width are not
///         multiples of fh and fw
///
/// \fn std::vector<BilinearTap> bilinear_taps(std::size_t size, std::size_t factor)
/// \param size the input's length along the axis (H or W)
/// \param factor the upsampling factor along it (fh or fw), at least 1
/// \return one tap per output, size · factor of them (none for an empty axis)
/// \throws std::invalid_argument for a factor of 0
///
/// \fn Tensor4 upsample_bilinear_forward(const Tensor4& x, const UpsampleFactors& factors)
/// \param x the input (N, C, H, W)
/// \param factors fh and fw, at least 1 each
/// \return y (N, C, H·fh, W·fw)
/// \throws std::invalid_argument for a factor of 0
///
/// \fn Tensor4 upsample_bilinear_backward(const Tensor4& dy, const UpsampleFactors& factors)
/// \param dy the gradient of y (N, C, H·fh, W·fw)
/// \param factors the forward pass's fh and fw
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument for a factor of 0, or when dy's height and width are not
///         multiples of fh and fw
// clang-format on

}  // namespace cnn
