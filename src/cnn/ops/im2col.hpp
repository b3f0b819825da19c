/// \file
/// \ingroup ch04
/// \brief im2col and col2im: turning convolution into one matrix product, and back.
///
/// For one image (C, H, W), im2col copies every window the filters will see into a column of a
/// matrix. Row r = (c, u, v) of the matrix holds channel c, kernel row u, kernel column v;
/// column p = (i, j) holds the window at output position (i, j):
/// \f[ \mathrm{cols}[(c\,FH + u)\,FW + v,\; i\,OW + j] = x^{pad}_{c,\; i S_r + u,\; j S_c + v}. \f]
/// The filters (FN, C, FH, FW), read row by row, already are a matrix of shape
/// (FN, C·FH·FW) whose row f lists filter f's weights in the same (c, u, v) order. So one
/// matrix product computes every multiply-add of the convolution at once:
/// \f[ y_n = W\,\mathrm{cols}_n, \qquad (FN, OH \cdot OW) = (FN, C\,FH\,FW) \times (C\,FH\,FW, OH \cdot OW), \f]
/// which, read row by row, is image n's output (FN, OH, OW).
///
/// col2im goes the other way for the backward pass: each entry of a (C·FH·FW, OH·OW) matrix of
/// gradients is *added* to the input pixel it was copied from. Windows overlap, so one pixel
/// appears in several columns and must collect the gradient from all of them: assignment would
/// keep only the last.
#pragma once

#include <cstddef>

#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The shape (C·FH·FW, OH·OW) of im2col's matrix for images of x (N, C, H, W).
/// \param x the images (N, C, H, W)
/// \param fh FH, the filters' height
/// \param fw FW, the filters' width
/// \param geometry strides, padding and size policy
/// \return (C·FH·FW, OH·OW)
/// \throws GeometryError when the window does not fit
std::array<std::size_t, 2> im2col_shape(const Tensor4& x, std::size_t fh, std::size_t fw,
                                        const Conv2DGeometry& geometry);

// [im2col]
/// Copies the windows of image n of x (N, C, H, W) into cols, which must have im2col_shape();
/// positions in the padding give 0.
void im2col(const Tensor4& x, std::size_t n, std::size_t fh, std::size_t fw,
            const Conv2DGeometry& geometry, Tensor2& cols);

/// Adds every entry of cols (C·FH·FW, OH·OW) to the pixel of image n of dx (N, C, H, W) it
/// stands for; entries that stand for padding are dropped.
void col2im(const Tensor2& cols, std::size_t n, std::size_t fh, std::size_t fw,
            const Conv2DGeometry& geometry, Tensor4& dx);
// [im2col]

// The parameters of the declarations a chapter page quotes, kept out of the quoted lines.
// clang-format off
/// \fn void im2col(const Tensor4& x, std::size_t n, std::size_t fh, std::size_t fw, const Conv2DGeometry& geometry, Tensor2& cols)
/// \param x the images (N, C, H, W)
/// \param n which image, below N
/// \param fh FH, the filters' height
/// \param fw FW, the filters' width
/// \param geometry strides, padding and size policy
/// \param cols the matrix (C·FH·FW, OH·OW), overwritten
/// \throws std::out_of_range for n >= N
/// \throws std::invalid_argument when cols does not have im2col_shape()
///
/// \fn void col2im(const Tensor2& cols, std::size_t n, std::size_t fh, std::size_t fw, const Conv2DGeometry& geometry, Tensor4& dx)
/// \param cols gradients (C·FH·FW, OH·OW), one per entry of im2col's matrix
/// \param n which image, below N
/// \param fh FH, the filters' height
/// \param fw FW, the filters' width
/// \param geometry the forward pass's
/// \param dx the gradient of the images (N, C, H, W), image n added to
/// \throws std::out_of_range for n >= N
/// \throws std::invalid_argument when cols does not have im2col_shape()
// clang-format on

}  // namespace cnn
