#include "cnn/ops/conv2d_transpose.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "cnn/ops/conv2d_im2col.hpp"

namespace cnn {

std::size_t conv_transpose_output_size(PaddingMode mode, std::size_t input, std::size_t kernel,
                                       std::size_t stride) {
    if (input == 0 || kernel == 0 || stride == 0) {
        throw GeometryError(fmt::format("conv_transpose_output_size: expected input, kernel and "
                                        "stride >= 1, got input {}, kernel {} and stride {}",
                                        input, kernel, stride));
    }
    if (mode == PaddingMode::same) {
        return input * stride;
    }
    return input * stride + (kernel > stride ? kernel - stride : 0);  // + max(FH - S, 0)
}

Conv2DTransposeGeometry Conv2DTransposeGeometry::keras(PaddingMode mode, std::size_t h,
                                                       std::size_t w, std::size_t fh,
                                                       std::size_t fw, std::size_t sr,
                                                       std::size_t sc) {
    Conv2DTransposeGeometry g;
    g.out_rows = conv_transpose_output_size(mode, h, fh, sr);
    g.out_cols = conv_transpose_output_size(mode, w, fw, sc);
    g.conv = Conv2DGeometry::keras(mode, g.out_rows, g.out_cols, fh, fw, sr, sc);
    return g;
}

std::array<std::size_t, 4> conv2d_transpose_output_shape(const Tensor4& x, const Tensor4& w,
                                                         const Conv2DTransposeGeometry& g) {
    if (x.shape(1) != w.shape(0)) {
        throw std::invalid_argument(
            "conv2d_transpose: the input " + shape_to_string(x.shape()) + " has " +
            std::to_string(x.shape(1)) + " channels but the filters " + shape_to_string(w.shape()) +
            " expect " + std::to_string(w.shape(0)) +
            " (x is (N, C_in, H, W), w is (C_in, C_out, FH, FW))");
    }
    const Conv2DGeometry& c = g.conv;
    // The convolution this one transposes runs from (H_out, W_out) to (H, W): it must land
    // exactly on x's size.
    const std::size_t h = conv_output_size({g.out_rows, w.shape(2), c.stride_rows, c.pad_rows},
                                           SizePolicy::floor);
    const std::size_t wd = conv_output_size({g.out_cols, w.shape(3), c.stride_cols, c.pad_cols},
                                            SizePolicy::floor);
    if (h != x.shape(2) || wd != x.shape(3)) {
        throw std::invalid_argument(fmt::format(
            "conv2d_transpose: the convolution it transposes maps an output size (H_out, W_out) "
            "= ({}, {}) to ({}, {}) with kernel {}x{}, strides {}x{} and padding {}+{}, {}+{}, "
            "but the input x {} has (H, W) = ({}, {})",
            g.out_rows, g.out_cols, h, wd, w.shape(2), w.shape(3), c.stride_rows, c.stride_cols,
            c.pad_rows.before, c.pad_rows.after, c.pad_cols.before, c.pad_cols.after,
            shape_to_string(x.shape()), x.shape(2), x.shape(3)));
    }
    return {x.shape(0), w.shape(1), g.out_rows, g.out_cols};
}

void add_channel_bias(Tensor4& y, const Tensor1& b) {
    // y is (N, C, H, W), b is (C).
    if (b.shape(0) != y.shape(1)) {
        throw std::invalid_argument("add_channel_bias: expected one bias per channel of " +
                                    shape_to_string(y.shape()) + ", (" +
                                    std::to_string(y.shape(1)) + "), got " +
                                    shape_to_string(b.shape()));
    }
    const std::size_t plane = y.shape(2) * y.shape(3);
    float* p = y.data();
    for (std::size_t n = 0; n < y.shape(0); ++n) {
        for (std::size_t c = 0; c < y.shape(1); ++c, p += plane) {
            std::for_each(p, p + plane, [bias = b(c)](float& v) { v += bias; });
        }
    }
}

void accumulate_channel_bias_gradient(const Tensor4& dy, Tensor1& db) {
    // dy is (N, C, H, W), db is (C).
    if (db.shape(0) != dy.shape(1)) {
        throw std::invalid_argument("bias gradient: expected one value per channel of " +
                                    shape_to_string(dy.shape()) + ", (" +
                                    std::to_string(dy.shape(1)) + "), got " +
                                    shape_to_string(db.shape()));
    }
    const std::size_t plane = dy.shape(2) * dy.shape(3);
    const float* p = dy.data();
    for (std::size_t n = 0; n < dy.shape(0); ++n) {
        for (std::size_t c = 0; c < dy.shape(1); ++c, p += plane) {
            db(c) += std::accumulate(p, p + plane, 0.0f);
        }
    }
}

Tensor4 conv2d_transpose_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                 const Conv2DTransposeGeometry& g) {
    // x is (N, C_in, H, W), w is (C_in, C_out, FH, FW), b is (C_out); y is (N, C_out, H_out, W_out).
    const std::array<std::size_t, 4> y_shape = conv2d_transpose_output_shape(x, w, g);
    if (b.shape(0) != w.shape(1)) {
        throw std::invalid_argument("conv2d_transpose: expected one bias per output channel, (" +
                                    std::to_string(w.shape(1)) + "), got " +
                                    shape_to_string(b.shape()));
    }
    //! [conv2d_transpose]
    // The convolution from z (N, C_out, H_out, W_out) to (N, C_in, H, W), with filters w
    // (FN = C_in, C = C_out, FH, FW). Its input gradient at dy = x is y. That gradient does not
    // depend on z, only on its shape.
    Tensor4 y = conv2d_im2col_backward_input(x, w, y_shape, g.conv);
    add_channel_bias(y, b);
    //! [conv2d_transpose]
    return y;
}

Tensor4 conv2d_transpose_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& w,
                                  const Conv2DTransposeGeometry& g, Tensor4& dw, Tensor1& db) {
    // dy is (N, C_out, H_out, W_out), x is (N, C_in, H, W), w and dw are (C_in, C_out, FH, FW),
    // db is (C_out); dx is (N, C_in, H, W).
    const std::array<std::size_t, 4> y_shape = conv2d_transpose_output_shape(x, w, g);
    if (!std::equal(y_shape.begin(), y_shape.end(), dy.shape().begin()) ||
        dw.shape() != w.shape() || db.shape(0) != w.shape(1)) {
        throw std::invalid_argument("conv2d_transpose backward: expected dy " +
                                    shape_to_string(y_shape) + ", dw like w " +
                                    shape_to_string(w.shape()) + " and db (" +
                                    std::to_string(w.shape(1)) + "), got dy " +
                                    shape_to_string(dy.shape()) + ", dw " +
                                    shape_to_string(dw.shape()) + " and db " +
                                    shape_to_string(db.shape()));
    }
    //! [conv2d_transpose_backward]
    // dx: the convolution's forward pass on dy, without bias.
    const Tensor1 no_bias = xt::zeros<float>({w.shape(0)});
    Tensor4 dx = conv2d_im2col_forward(dy, w, no_bias, g.conv);
    // dW: the convolution's weight gradient, its input being dy and the gradient at its output
    // x. (Its bias gradient, the sum of x, belongs to no parameter here.)
    Tensor1 unused_db = xt::zeros<float>({w.shape(0)});
    conv2d_im2col_backward_weights(x, dy, w, g.conv, dw, unused_db);
    // db: the bias was added to every output position.
    accumulate_channel_bias_gradient(dy, db);
    //! [conv2d_transpose_backward]
    return dx;
}

}  // namespace cnn
