#include "cnn/ops/conv2d_im2col.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "cnn/ops/conv2d_naive.hpp"  // conv2d_output_shape
#include "cnn/ops/im2col.hpp"
#include "cnn/tensor/gemm.hpp"

namespace cnn {

namespace {

// The output shape (N, FN, OH, OW), after checking that dy has it, dw has w's shape and db one
// value per filter.
std::array<std::size_t, 4> expect_gradient_shapes(const Tensor4& dy, const Tensor4& x,
                                                  const Tensor4& w, const Conv2DGeometry& g,
                                                  const Tensor4& dw, const Tensor1& db) {
    const std::array<std::size_t, 4> out = conv2d_output_shape(x, w, g);
    if (!std::equal(out.begin(), out.end(), dy.shape().begin()) || dw.shape() != w.shape() ||
        db.shape(0) != w.shape(0)) {
        throw std::invalid_argument("conv2d backward: expected dy " + shape_to_string(out) +
                                    ", dw like w " + shape_to_string(w.shape()) + " and db (" +
                                    std::to_string(w.shape(0)) + "), got dy " +
                                    shape_to_string(dy.shape()) + ", dw " +
                                    shape_to_string(dw.shape()) + " and db " +
                                    shape_to_string(db.shape()));
    }
    return out;
}

}  // namespace

Tensor4 conv2d_im2col_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                              const Conv2DGeometry& g) {
    // x is (N, C, H, W), w is (FN, C, FH, FW), b is (FN); y is (N, FN, OH, OW).
    const auto [n_images, n_filters, oh, ow] = conv2d_output_shape(x, w, g);
    if (b.shape(0) != n_filters) {
        throw std::invalid_argument("conv2d: expected one bias per filter, (" +
                                    std::to_string(n_filters) + "), got " +
                                    shape_to_string(b.shape()));
    }
    //! [conv2d_im2col_forward]
    const std::size_t fh = w.shape(2), fw = w.shape(3);
    const std::size_t k = x.shape(1) * fh * fw, positions = oh * ow;
    Tensor2 cols = Tensor2::from_shape({k, positions});  // reused for every image
    Tensor4 y = Tensor4::from_shape({n_images, n_filters, oh, ow});
    for (std::size_t n = 0; n < n_images; ++n) {
        im2col(x, n, fh, fw, g, cols);
        float* y_n = y.data() + n * n_filters * positions;  // image n's (FN, OH*OW) block
        gemm(Op::none, Op::none, n_filters, positions, k, w.data(), cols.data(), 0.0f, y_n);
        for (std::size_t f = 0; f < n_filters; ++f) {  // the bias, broadcast as (FN, 1, 1)
            for (std::size_t p = 0; p < positions; ++p) {
                y_n[f * positions + p] += b(f);
            }
        }
    }
    return y;
    //! [conv2d_im2col_forward]
}

Tensor4 conv2d_im2col_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& w,
                               const Conv2DGeometry& g, Tensor4& dw, Tensor1& db) {
    // dy is (N, FN, OH, OW), x is (N, C, H, W), w and dw are (FN, C, FH, FW), db is (FN).
    const auto [n_images, n_filters, oh, ow] = expect_gradient_shapes(dy, x, w, g, dw, db);
    //! [conv2d_im2col_backward]
    const std::size_t fh = w.shape(2), fw = w.shape(3);
    const std::size_t k = x.shape(1) * fh * fw, positions = oh * ow;
    Tensor2 cols = Tensor2::from_shape({k, positions});
    Tensor2 dcols = Tensor2::from_shape({k, positions});
    Tensor4 dx = xt::zeros<float>(x.shape());
    for (std::size_t n = 0; n < n_images; ++n) {
        const float* dy_n = dy.data() + n * n_filters * positions;  // (FN, OH*OW)
        im2col(x, n, fh, fw, g, cols);
        // dW += dy_n cols^T, then dcols = W^T dy_n
        gemm(Op::none, Op::transpose, n_filters, k, positions, dy_n, cols.data(), 1.0f, dw.data());
        gemm(Op::transpose, Op::none, k, positions, n_filters, w.data(), dy_n, 0.0f, dcols.data());
        col2im(dcols, n, fh, fw, g, dx);
        for (std::size_t f = 0; f < n_filters; ++f) {
            for (std::size_t p = 0; p < positions; ++p) {
                db(f) += dy_n[f * positions + p];
            }
        }
    }
    return dx;
    //! [conv2d_im2col_backward]
}

Tensor4 conv2d_im2col_backward_input(const Tensor4& dy, const Tensor4& w,
                                     const std::array<std::size_t, 4>& x_shape,
                                     const Conv2DGeometry& g) {
    // dy is (N, FN, OH, OW), w is (FN, C, FH, FW); dx is (N, C, H, W) = x_shape.
    Tensor4 dx = xt::zeros<float>(x_shape);
    const std::array<std::size_t, 4> out = conv2d_output_shape(dx, w, g);  // dx has x's shape
    if (!std::equal(out.begin(), out.end(), dy.shape().begin())) {
        throw std::invalid_argument("conv2d input gradient: expected dy " + shape_to_string(out) +
                                    " for an input " + shape_to_string(x_shape) + " and filters " +
                                    shape_to_string(w.shape()) + ", got dy " +
                                    shape_to_string(dy.shape()));
    }
    const auto [n_images, n_filters, oh, ow] = out;
    const std::size_t fh = w.shape(2), fw = w.shape(3);
    const std::size_t k = x_shape[1] * fh * fw, positions = oh * ow;
    Tensor2 dcols = Tensor2::from_shape({k, positions});
    for (std::size_t n = 0; n < n_images; ++n) {
        const float* dy_n = dy.data() + n * n_filters * positions;  // (FN, OH*OW)
        gemm(Op::transpose, Op::none, k, positions, n_filters, w.data(), dy_n, 0.0f, dcols.data());
        col2im(dcols, n, fh, fw, g, dx);
    }
    return dx;
}

void conv2d_im2col_backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4& w,
                                    const Conv2DGeometry& g, Tensor4& dw, Tensor1& db) {
    // dy is (N, FN, OH, OW), x is (N, C, H, W), w and dw are (FN, C, FH, FW), db is (FN).
    const auto [n_images, n_filters, oh, ow] = expect_gradient_shapes(dy, x, w, g, dw, db);
    const std::size_t fh = w.shape(2), fw = w.shape(3);
    const std::size_t k = x.shape(1) * fh * fw, positions = oh * ow;
    Tensor2 cols = Tensor2::from_shape({k, positions});
    for (std::size_t n = 0; n < n_images; ++n) {
        const float* dy_n = dy.data() + n * n_filters * positions;  // (FN, OH*OW)
        im2col(x, n, fh, fw, g, cols);
        gemm(Op::none, Op::transpose, n_filters, k, positions, dy_n, cols.data(), 1.0f, dw.data());
        for (std::size_t f = 0; f < n_filters; ++f) {
            for (std::size_t p = 0; p < positions; ++p) {
                db(f) += dy_n[f * positions + p];
            }
        }
    }
}

}  // namespace cnn
