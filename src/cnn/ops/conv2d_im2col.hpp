/// \file
/// \ingroup ch04
/// \brief The same convolution as conv2d_naive.hpp, as im2col plus one matrix product per image.
///
/// Forward, for each image n: im2col turns its windows into a matrix cols (C·FH·FW, OH·OW), and
/// one product with the filters seen as a (FN, C·FH·FW) matrix gives its output (FN, OH·OW).
/// Backward, for each image: with dy_n (FN, OH·OW),
/// \f[ dW \mathrel{+}= dy_n\, \mathrm{cols}_n^\top, \qquad
///     d\mathrm{cols}_n = W^\top dy_n, \qquad dx_n = \mathrm{col2im}(d\mathrm{cols}_n), \f]
/// the same three products as a Dense layer's, with col2im summing each pixel's share.
///
/// The products run in OpenBLAS (cblas_sgemm), which is blocked for the caches and vectorised,
/// and that is where the speed comes from. Working image by image keeps the NCHW layout: the
/// product's result is already image n's (FN, OH, OW) block, with no transpose afterwards.
#pragma once

#include <array>
#include <cstddef>

#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Forward. x is (N, C, H, W), w is (FN, C, FH, FW), b is (FN); returns y (N, FN, OH, OW),
/// equal to conv2d_naive_forward() up to float rounding.
/// \param x the input (N, C, H, W)
/// \param w the filters (FN, C, FH, FW)
/// \param b the biases (FN)
/// \param geometry strides, padding and size policy
/// \return y (N, FN, OH, OW)
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
Tensor4 conv2d_im2col_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                              const Conv2DGeometry& geometry);

/// Backward. dy is (N, FN, OH, OW); accumulates dw (FN, C, FH, FW) and db (FN); returns
/// dx (N, C, H, W). Equal to conv2d_naive_backward() up to float rounding.
/// \param dy the gradient of y (N, FN, OH, OW)
/// \param x the forward pass's input (N, C, H, W)
/// \param w the filters (FN, C, FH, FW)
/// \param geometry the forward pass's
/// \param dw the filters' gradient (FN, C, FH, FW), added to
/// \param db the biases' gradient (FN), added to
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
Tensor4 conv2d_im2col_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& w,
                               const Conv2DGeometry& geometry, Tensor4& dw, Tensor1& db);

/// The input gradient alone: what conv2d_im2col_backward() returns, without the filters' and
/// biases' gradients. It needs only x's shape: per image one product W^T dy_n and col2im.
/// \param dy the gradient of y (N, FN, OH, OW)
/// \param w the filters (FN, C, FH, FW)
/// \param x_shape the shape (N, C, H, W) of the forward pass's input
/// \param geometry the forward pass's
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
Tensor4 conv2d_im2col_backward_input(const Tensor4& dy, const Tensor4& w,
                                     const std::array<std::size_t, 4>& x_shape,
                                     const Conv2DGeometry& geometry);

/// The filters' and biases' gradients alone: what conv2d_im2col_backward() accumulates, without
/// dx. Per image im2col and one product dy_n cols^T.
/// \param dy the gradient of y (N, FN, OH, OW)
/// \param x the forward pass's input (N, C, H, W)
/// \param w the filters (FN, C, FH, FW)
/// \param geometry the forward pass's
/// \param dw the filters' gradient (FN, C, FH, FW), added to
/// \param db the biases' gradient (FN), added to
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
void conv2d_im2col_backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4& w,
                                    const Conv2DGeometry& geometry, Tensor4& dw, Tensor1& db);

}  // namespace cnn
