/// \file
/// \ingroup ch11
/// \brief The transposed convolution: a convolution's backward pass with respect to its input,
/// run as a forward pass, which makes images larger.
///
/// A convolution with stride S maps a large input z (N, C_out, H_out, W_out) to a small output
/// (N, C_in, H, W). Its backward pass sends a gradient the other way: from (N, C_in, H, W) back
/// to (N, C_out, H_out, W_out), every output value spreading its share through the same
/// filters onto the FH x FW pixels its window covered (col2im, ops/im2col.hpp). The transposed
/// convolution *is* that backward pass, with the gradient replaced by an image x:
/// \f[ y = \frac{\partial}{\partial z} \langle \mathrm{conv}(z),\, x \rangle
///       = \mathrm{conv}^\top x, \qquad
///     y_{n,o,p,q} = b_o + \sum_{c=0}^{C_{in}-1} \sum_{i,j\,:\; iS_r + u - P_{top} = p,\;
///       jS_c + v - P_{left} = q} x_{n,c,i,j}\; w_{c,o,u,v}. \f]
/// Each input pixel stamps its kernel, scaled by its value, onto the output, S pixels to the
/// right of its neighbour's stamp; where stamps overlap they add up. Nothing here is new
/// arithmetic: conv2d_transpose_forward() calls \ref chapter04 "chapter 04's"
/// conv2d_im2col_backward_input(), the input half of its backward pass.
///
/// **The filters.** w (C_in, C_out, FH, FW) is the filter bank of that convolution, whose FN
/// filters are the C_in channels of x and whose C channels are the C_out channels of y. It is
/// also PyTorch's ConvTranspose2d weight layout, (in, out, kh, kw). Keras's Conv2DTranspose keeps
/// its kernel as (kh, kw, out, in), which is the same convolution's kernel in Keras's own
/// (kh, kw, C, FN) layout: w[c][o][u][v] here is kernel[u][v][o][c] there.
///
/// **The backward pass.** Transposing twice gives the convolution back:
/// - dx = conv(dy): the convolution's forward pass on dy (N, C_out, H_out, W_out), same filters
///   and geometry, without bias;
/// - dW = the convolution's weight gradient with the roles swapped: its input is dy, the
///   gradient arriving at its output is x;
/// - db = the sum of dy over N, H_out and W_out.
///
/// **The geometry** is the convolution's (Conv2DGeometry: strides and padding), plus the size
/// (H_out, W_out) of the convolution's input, which a transposed convolution must be told:
/// with stride S, S input sizes give the same conv output (the windows round down), so the
/// output size does not follow from the input size alone. Keras decides it by
/// conv_transpose_output_size(), and pads as it would pad the forward convolution of
/// (H_out, W_out) (Conv2DGeometry::keras(): for 'same', asymmetric when the total is odd).
///
/// **What it costs.** The input gradient of a convolution does not depend on the
/// convolution's input z, only on its shape, and the weight gradient does not need dx: the
/// convolution's code offers each half alone (conv2d_im2col_backward_input() and
/// conv2d_im2col_backward_weights()). The forward pass is one matrix product per image
/// (W^T x_n, then col2im), the backward pass two (the convolution of dy, and dW), as for a
/// convolution: building on the convolution's own code, as the chapter teaches, costs nothing.
#pragma once

#include <array>
#include <cstddef>

#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

// [conv_transpose_output_size]
/// The output size of a Keras Conv2DTranspose along one axis, Keras's `deconv_output_length`
/// with `output_padding=None`: 'valid' gives \f$H_{out} = H S + \max(FH - S, 0)\f$
/// (\f$(H - 1) S + FH\f$ when \f$FH \ge S\f$), 'same' gives \f$H_{out} = H S\f$.
///
/// It is \ref chapter03 "chapter 03's" formula read backwards. A convolution maps
/// \f$in \to out = (in + P - k) / S + 1\f$; its transpose maps \f$out\f$ back to
/// \f$in = (out - 1) S + k - P\f$, with \f$P = P_{before} + P_{after}\f$. 'valid' has P = 0;
/// 'same' has \f$P = \max(k - S, 0)\f$, and both give the sizes above when \f$k \ge S\f$.
/// When FH < S the windows do not touch and the formula gives \f$(H - 1) S + FH\f$; Keras
/// still makes \f$H S\f$, and the last \f$S - FH\f$ rows, covered by no window, are zeros
/// (plus the bias).
std::size_t conv_transpose_output_size(PaddingMode mode, std::size_t input, std::size_t kernel,
                                       std::size_t stride);
// [conv_transpose_output_size]

// The parameters of the declaration a chapter page quotes, kept out of the quoted lines.
// clang-format off
/// \fn std::size_t conv_transpose_output_size(PaddingMode mode, std::size_t input, std::size_t kernel, std::size_t stride)
/// \param mode valid or same
/// \param input H, the transposed convolution's input size along the axis
/// \param kernel FH, the kernel's size
/// \param stride S
/// \return H_out
/// \throws GeometryError when input, kernel or stride is 0
// clang-format on

/// A transposed convolution's geometry: the convolution it transposes, which maps
/// (H_out, W_out) to (H, W), and the size (H_out, W_out) it produces.
struct Conv2DTransposeGeometry {
    std::size_t out_rows = 0;  ///< H_out: the transposed output's height, the convolution's input's
    std::size_t out_cols = 0;  ///< W_out: the transposed output's width
    Conv2DGeometry conv;       ///< strides and padding of the convolution (H_out, W_out) -> (H, W)

    /// Keras's Conv2DTranspose geometry for an input (h, w): output size by
    /// conv_transpose_output_size(), and the padding Keras gives the forward convolution of
    /// that size (Conv2DGeometry::keras() on (H_out, W_out)).
    /// \param mode valid or same
    /// \param h the transposed convolution's input height H
    /// \param w its input width W
    /// \param fh the kernel's height FH
    /// \param fw the kernel's width FW
    /// \param sr the stride along H
    /// \param sc the stride along W
    /// \return (H_out, W_out) and the convolution's geometry
    /// \throws GeometryError when a size or stride is 0
    static Conv2DTransposeGeometry keras(PaddingMode mode, std::size_t h, std::size_t w,
                                         std::size_t fh, std::size_t fw, std::size_t sr,
                                         std::size_t sc);
};

/// The output shape (N, C_out, H_out, W_out) for x (N, C_in, H, W) and w (C_in, C_out, FH, FW),
/// after checking that the convolution of the geometry maps (H_out, W_out) to exactly (H, W).
/// \param x the input (N, C_in, H, W)
/// \param w the filters (C_in, C_out, FH, FW)
/// \param geometry the output size and the convolution's strides and padding
/// \return (N, C_out, H_out, W_out)
/// \throws std::invalid_argument (or GeometryError) naming the shapes when they do not fit
std::array<std::size_t, 4> conv2d_transpose_output_shape(const Tensor4& x, const Tensor4& w,
                                                         const Conv2DTransposeGeometry& geometry);

// [conv2d_transpose_forward]
/// Forward. x is (N, C_in, H, W), w is (C_in, C_out, FH, FW), b is (C_out); returns
/// y (N, C_out, H_out, W_out): the input gradient of the convolution of the geometry, at x,
/// plus the bias.
/// \param x the input (N, C_in, H, W)
/// \param w the filters (C_in, C_out, FH, FW)
/// \param b the biases (C_out)
/// \param geometry the output size and the convolution's strides and padding
/// \return y (N, C_out, H_out, W_out)
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
Tensor4 conv2d_transpose_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                 const Conv2DTransposeGeometry& geometry);
// [conv2d_transpose_forward]

/// Backward. dy is (N, C_out, H_out, W_out); x and w as in the forward pass. Accumulates dw
/// (C_in, C_out, FH, FW) and db (C_out); returns dx (N, C_in, H, W), the convolution's forward
/// pass on dy.
/// \param dy the gradient of y (N, C_out, H_out, W_out)
/// \param x the forward pass's input (N, C_in, H, W)
/// \param w the filters (C_in, C_out, FH, FW)
/// \param geometry the forward pass's
/// \param dw the filters' gradient (C_in, C_out, FH, FW), added to
/// \param db the biases' gradient (C_out), added to
/// \return dx (N, C_in, H, W)
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
Tensor4 conv2d_transpose_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& w,
                                  const Conv2DTransposeGeometry& geometry, Tensor4& dw,
                                  Tensor1& db);

/// Adds b (C) to every value of channel c of y (N, C, H, W): a bias broadcast as (C, 1, 1).
/// \param y the values (N, C, H, W), changed in place
/// \param b one bias per channel (C)
/// \throws std::invalid_argument when b does not have C values
void add_channel_bias(Tensor4& y, const Tensor1& b);

/// Adds to db (C) the sum of dy (N, C, H, W) over N, H and W: the gradient of a bias broadcast
/// as (C, 1, 1).
/// \param dy the gradient of the values (N, C, H, W)
/// \param db the biases' gradient (C), added to
/// \throws std::invalid_argument when db does not have C values
void accumulate_channel_bias_gradient(const Tensor4& dy, Tensor1& db);

}  // namespace cnn
