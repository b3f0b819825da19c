/// \file
/// \ingroup ch02
/// \brief Convolution as a loop you can read: one channel, one filter, the window sliding by one.
///
/// A filter (kernel) `k` of shape (FH, FW) slides over an input `x` of shape (H, W). At each
/// position (i, j) where it fits, the window of `x` under it is multiplied element by element
/// with `k` and the products are summed (one multiply-accumulate per weight); the bias is then
/// added once:
/// \f[ y_{ij} = \sum_{u=0}^{FH-1} \sum_{v=0}^{FW-1} x_{i+u,\,j+v}\, k_{uv} + b,
///     \qquad 0 \le i < OH = H - FH + 1, \quad 0 \le j < OW = W - FW + 1. \f]
/// This is *cross-correlation*. The convolution of mathematics flips the kernel first,
/// \f$y_{ij} = \sum_{u,v} x_{i+u,\,j+v}\, k_{FH-1-u,\,FW-1-v}\f$. A network learns its kernels, so
/// it would simply learn them flipped: deep-learning libraries compute cross-correlation and
/// still call it convolution, and so does this book from \ref chapter03 "chapter 03" on.
///
/// These loops are the reference every faster convolution in the book is tested against.
/// Padding and stride come in \ref chapter03 "chapter 03", channels and batches in
/// \ref chapter04 "chapter 04".
#pragma once

#include "cnn/tensor/tensor.hpp"

namespace cnn {

// [correlate2d_forward]
/// Cross-correlation, forward. x is (H, W), k is (FH, FW) with FH <= H and FW <= W;
/// returns y (OH, OW) = (H - FH + 1, W - FW + 1), with `bias` added to every output.
/// \param x the input (H, W)
/// \param k the kernel (FH, FW), 1 <= FH <= H and 1 <= FW <= W
/// \param bias added to every output
/// \return y (H - FH + 1, W - FW + 1)
/// \throws std::invalid_argument for a kernel empty or larger than x
Tensor2 correlate2d_forward(const Tensor2& x, const Tensor2& k, float bias = 0.0f);
// [correlate2d_forward]

// [correlate2d_backward]
/// Cross-correlation, backward. dy is (OH, OW), the gradient of the loss with respect to y;
/// x (H, W) and k (FH, FW) are the forward pass's inputs. Each output y(i, j) used
/// x(i + u, j + v) * k(u, v) for every (u, v), so its gradient flows back along the same pairs:
/// accumulates `dk(u, v) += sum_ij dy(i, j) x(i + u, j + v)` and `db += sum_ij dy(i, j)`,
/// and returns dx (H, W) with `dx(i + u, j + v) = sum over the windows that covered it of
/// dy(i, j) k(u, v)`.
/// \param dy the gradient of y (OH, OW)
/// \param x the forward pass's input (H, W)
/// \param k the kernel (FH, FW)
/// \param dk the kernel's gradient (FH, FW), added to
/// \param db the bias's gradient, added to
/// \return dx (H, W)
/// \throws std::invalid_argument when the shapes do not fit together
Tensor2 correlate2d_backward(const Tensor2& dy, const Tensor2& x, const Tensor2& k, Tensor2& dk,
                             float& db);
// [correlate2d_backward]

/// The kernel turned by 180 degrees: `flip2d(k)(u, v) = k(FH - 1 - u, FW - 1 - v)`.
/// \param k a kernel (FH, FW)
/// \return the flipped kernel (FH, FW)
Tensor2 flip2d(const Tensor2& k);

/// True convolution: cross-correlation with the flipped kernel. Shapes as correlate2d_forward.
/// \param x the input (H, W)
/// \param k the kernel (FH, FW), 1 <= FH <= H and 1 <= FW <= W
/// \param bias added to every output
/// \return y (H - FH + 1, W - FW + 1)
/// \throws std::invalid_argument for a kernel empty or larger than x
Tensor2 convolve2d(const Tensor2& x, const Tensor2& k, float bias = 0.0f);

}  // namespace cnn
