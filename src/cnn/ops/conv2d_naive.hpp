/// \file
/// \ingroup ch04
/// \brief Convolution over channels, filters and a batch, as plain loops: the reference.
///
/// The input is a batch of N images of C channels, (N, C, H, W). A filter now has one 2-D
/// kernel per input channel, (C, FH, FW): each channel is cross-correlated with its own kernel
/// and the C results are summed into one map, plus the filter's bias. FN filters,
/// (FN, C, FH, FW), give FN maps, and the bias is one number per filter, broadcast over the map
/// as if it were (FN, 1, 1):
/// \f[ y_{n,f,i,j} = b_f + \sum_{c=0}^{C-1} \sum_{u=0}^{FH-1} \sum_{v=0}^{FW-1}
///     x^{pad}_{n,\,c,\; i S_r + u,\; j S_c + v}\; w_{f,c,u,v}. \f]
/// The result is (N, FN, OH, OW): the same 4-D form as the input, so it can be the next
/// layer's input. Padding is virtual here: a position outside the input reads as 0.
///
/// These loops are slow and never change: conv2d_im2col.hpp computes the same thing fast, and
/// the tests hold it to these loops.
#pragma once

#include <array>
#include <cstddef>

#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The output shape (N, FN, OH, OW) for input shape (N, C, H, W) and filters (FN, C, FH, FW);
/// throws GeometryError (explained) or std::invalid_argument when they do not fit together.
/// \param x the input (N, C, H, W)
/// \param w the filters (FN, C, FH, FW)
/// \param geometry strides, padding and size policy
/// \return (N, FN, OH, OW)
std::array<std::size_t, 4> conv2d_output_shape(const Tensor4& x, const Tensor4& w,
                                               const Conv2DGeometry& geometry);

// [conv2d_naive_forward]
/// Forward. x is (N, C, H, W), w is (FN, C, FH, FW), b is (FN); returns y (N, FN, OH, OW).
/// \param x the input (N, C, H, W)
/// \param w the filters (FN, C, FH, FW)
/// \param b the biases (FN)
/// \param geometry strides, padding and size policy
/// \return y (N, FN, OH, OW)
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
Tensor4 conv2d_naive_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                             const Conv2DGeometry& geometry);
// [conv2d_naive_forward]

/// Backward. dy is (N, FN, OH, OW); x and w as in the forward pass. Accumulates dw
/// (FN, C, FH, FW) and db (FN); returns dx (N, C, H, W).
/// \param dy the gradient of y (N, FN, OH, OW)
/// \param x the forward pass's input (N, C, H, W)
/// \param w the filters (FN, C, FH, FW)
/// \param geometry the forward pass's
/// \param dw the filters' gradient (FN, C, FH, FW), added to
/// \param db the biases' gradient (FN), added to
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
Tensor4 conv2d_naive_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& w,
                              const Conv2DGeometry& geometry, Tensor4& dw, Tensor1& db);

}  // namespace cnn
