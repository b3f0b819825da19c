/// \file
/// \ingroup ch03
/// \brief \ref chapter02 "Chapter 02's" cross-correlation with stride and zero padding, per axis.
///
/// The input is framed with zeros first (tensor/padding.hpp); then the window starts at every
/// S-th row and column of the padded input:
/// \f[ y_{ij} = \sum_{u,v} x^{pad}_{i S_r + u,\; j S_c + v}\, k_{uv} + b, \f]
/// with OH and OW from conv_output_size(). With stride 1 and no padding this is exactly
/// correlate2d_forward(), and the tests hold it to that.
#pragma once

#include <array>
#include <cstddef>

#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

// [strided_forward]
/// Forward. x is (H, W), k is (FH, FW); returns y (OH, OW) with OH, OW from
/// conv_output_size() under `geometry` (which throws GeometryError, explained, when the window
/// does not fit or, under SizePolicy::strict, does not tile the padded input).
/// \param x the input (H, W)
/// \param k the kernel (FH, FW)
/// \param geometry strides, padding and size policy
/// \param bias added to every output
/// \return y (OH, OW)
Tensor2 strided_correlate2d_forward(const Tensor2& x, const Tensor2& k,
                                    const Conv2DGeometry& geometry, float bias = 0.0f);
// [strided_forward]

/// Backward. dy is (OH, OW); x (H, W) and k (FH, FW) as in the forward pass. Accumulates
/// dk (FH, FW) and db; returns dx (H, W). Gradient that lands on padding is dropped: padding is
/// not an input.
/// \param dy the gradient of y (OH, OW)
/// \param x the forward pass's input (H, W)
/// \param k the kernel (FH, FW)
/// \param geometry the forward pass's
/// \param dk the kernel's gradient (FH, FW), added to
/// \param db the bias's gradient, added to
/// \return dx (H, W)
/// \throws std::invalid_argument when dy or dk has the wrong shape; GeometryError as the
///         forward pass
Tensor2 strided_correlate2d_backward(const Tensor2& dy, const Tensor2& x, const Tensor2& k,
                                     const Conv2DGeometry& geometry, Tensor2& dk, float& db);

/// The output shape (OH, OW) of a window of shape (FH, FW) on an input of shape (H, W).
/// \param h H
/// \param w W
/// \param fh FH
/// \param fw FW
/// \param geometry strides, padding and size policy
/// \return (OH, OW), from conv_output_size() on each axis
/// \throws GeometryError as conv_output_size()
std::array<std::size_t, 2> strided_output_shape(std::size_t h, std::size_t w, std::size_t fh,
                                                std::size_t fw, const Conv2DGeometry& geometry);

}  // namespace cnn
