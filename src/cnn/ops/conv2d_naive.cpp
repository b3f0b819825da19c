#include "cnn/ops/conv2d_naive.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

std::array<std::size_t, 4> conv2d_output_shape(const Tensor4& x, const Tensor4& w,
                                               const Conv2DGeometry& g) {
    if (x.shape(1) != w.shape(1)) {
        throw std::invalid_argument("conv2d: the input " + shape_to_string(x.shape()) + " has " +
                                    std::to_string(x.shape(1)) + " channels but the filters " +
                                    shape_to_string(w.shape()) + " expect " +
                                    std::to_string(w.shape(1)) +
                                    " (x is (N, C, H, W), w is (FN, C, FH, FW))");
    }
    return {x.shape(0), w.shape(0),
            conv_output_size({x.shape(2), w.shape(2), g.stride_rows, g.pad_rows}, g.policy),
            conv_output_size({x.shape(3), w.shape(3), g.stride_cols, g.pad_cols}, g.policy)};
}

namespace {

void expect_bias(const Tensor4& w, const Tensor1& b) {
    if (b.shape(0) != w.shape(0)) {
        throw std::invalid_argument("conv2d: expected one bias per filter, (" +
                                    std::to_string(w.shape(0)) + "), got " +
                                    shape_to_string(b.shape()));
    }
}

}  // namespace

Tensor4 conv2d_naive_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                             const Conv2DGeometry& g) {
    // x is (N, C, H, W), w is (FN, C, FH, FW), b is (FN); y is (N, FN, OH, OW).
    const auto [n_images, n_filters, oh, ow] = conv2d_output_shape(x, w, g);
    expect_bias(w, b);
    const std::size_t channels = x.shape(1), h = x.shape(2), wd = x.shape(3);
    const std::size_t fh = w.shape(2), fw = w.shape(3);
    Tensor4 y = Tensor4::from_shape({n_images, n_filters, oh, ow});
    for (std::size_t n = 0; n < n_images; ++n) {            // every image
        //! [conv2d_naive_window]
        for (std::size_t f = 0; f < n_filters; ++f) {       // every filter: one output map
            for (std::size_t i = 0; i < oh; ++i) {          // every window position
                for (std::size_t j = 0; j < ow; ++j) {
                    float sum = b(f);                        // the bias, once per output
                    for (std::size_t c = 0; c < channels; ++c) {  // summed over channels
                        for (std::size_t u = 0; u < fh; ++u) {
                            // Row in the unpadded input; above the input it wraps to a huge
                            // number, which the bounds test rejects like any row past the end.
                            const std::size_t r = i * g.stride_rows + u - g.pad_rows.before;
                            if (r >= h) {
                                continue;  // padding: reads as zero
                            }
                            for (std::size_t v = 0; v < fw; ++v) {
                                const std::size_t s = j * g.stride_cols + v - g.pad_cols.before;
                                if (s < wd) {
                                    sum += x(n, c, r, s) * w(f, c, u, v);
                                }
                            }
                        }
                    }
                    y(n, f, i, j) = sum;
                }
            }
        }
        //! [conv2d_naive_window]
    }
    return y;
}

Tensor4 conv2d_naive_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& w,
                              const Conv2DGeometry& g, Tensor4& dw, Tensor1& db) {
    // dy is (N, FN, OH, OW), x is (N, C, H, W), w and dw are (FN, C, FH, FW), db is (FN).
    const std::array<std::size_t, 4> out = conv2d_output_shape(x, w, g);
    expect_bias(w, db);
    if (!std::equal(out.begin(), out.end(), dy.shape().begin()) || dw.shape() != w.shape()) {
        throw std::invalid_argument("conv2d backward: expected dy " + shape_to_string(out) +
                                    " and dw like w " + shape_to_string(w.shape()) +
                                    ", got dy " + shape_to_string(dy.shape()) + " and dw " +
                                    shape_to_string(dw.shape()));
    }
    const auto [n_images, n_filters, oh, ow] = out;
    const std::size_t channels = x.shape(1), h = x.shape(2), wd = x.shape(3);
    const std::size_t fh = w.shape(2), fw = w.shape(3);
    Tensor4 dx = xt::zeros<float>(x.shape());
    for (std::size_t n = 0; n < n_images; ++n) {
        //! [conv2d_naive_backward]
        for (std::size_t f = 0; f < n_filters; ++f) {
            for (std::size_t i = 0; i < oh; ++i) {
                for (std::size_t j = 0; j < ow; ++j) {
                    const float grad = dy(n, f, i, j);
                    db(f) += grad;
                    for (std::size_t c = 0; c < channels; ++c) {
                        for (std::size_t u = 0; u < fh; ++u) {
                            const std::size_t r = i * g.stride_rows + u - g.pad_rows.before;
                            if (r >= h) {
                                continue;
                            }
                            for (std::size_t v = 0; v < fw; ++v) {
                                const std::size_t s = j * g.stride_cols + v - g.pad_cols.before;
                                if (s < wd) {
                                    dw(f, c, u, v) += grad * x(n, c, r, s);
                                    dx(n, c, r, s) += grad * w(f, c, u, v);  // windows overlap
                                }
                            }
                        }
                    }
                }
            }
        }
        //! [conv2d_naive_backward]
    }
    return dx;
}

}  // namespace cnn
