#include "cnn/ops/correlate2d.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

namespace {

void expect_kernel_fits(const char* where, const Tensor2& x, const Tensor2& k) {
    if (k.shape(0) == 0 || k.shape(1) == 0 || k.shape(0) > x.shape(0) || k.shape(1) > x.shape(1)) {
        throw std::invalid_argument(std::string(where) + ": expected a kernel (FH, FW) with " +
                                    "1 <= FH <= H and 1 <= FW <= W for the input (H, W) = " +
                                    shape_to_string(x.shape()) + ", got kernel " +
                                    shape_to_string(k.shape()));
    }
}

}  // namespace

//! [correlate2d_forward]
Tensor2 correlate2d_forward(const Tensor2& x, const Tensor2& k, float bias) {
    // x is (H, W), k is (FH, FW); y is (OH, OW) = (H - FH + 1, W - FW + 1).
    expect_kernel_fits("correlate2d_forward", x, k);
    const std::size_t fh = k.shape(0), fw = k.shape(1);
    const std::size_t oh = x.shape(0) - fh + 1, ow = x.shape(1) - fw + 1;
    Tensor2 y = Tensor2::from_shape({oh, ow});
    for (std::size_t i = 0; i < oh; ++i) {          // every window position ...
        for (std::size_t j = 0; j < ow; ++j) {
            float sum = 0.0f;
            for (std::size_t u = 0; u < fh; ++u) {  // ... multiply-accumulate over the kernel
                for (std::size_t v = 0; v < fw; ++v) {
                    sum += x(i + u, j + v) * k(u, v);
                }
            }
            y(i, j) = sum + bias;                   // the bias, once per output
        }
    }
    return y;
}
//! [correlate2d_forward]

Tensor2 correlate2d_backward(const Tensor2& dy, const Tensor2& x, const Tensor2& k, Tensor2& dk,
                             float& db) {
    // dy is (OH, OW), x is (H, W), k and dk are (FH, FW); dx is (H, W).
    expect_kernel_fits("correlate2d_backward", x, k);
    const std::size_t fh = k.shape(0), fw = k.shape(1);
    const std::size_t oh = x.shape(0) - fh + 1, ow = x.shape(1) - fw + 1;
    if (dy.shape(0) != oh || dy.shape(1) != ow || dk.shape() != k.shape()) {
        throw std::invalid_argument("correlate2d_backward: for x " + shape_to_string(x.shape()) +
                                    " and k " + shape_to_string(k.shape()) + " expected dy (" +
                                    std::to_string(oh) + ", " + std::to_string(ow) +
                                    ") and dk like k, got dy " + shape_to_string(dy.shape()) +
                                    " and dk " + shape_to_string(dk.shape()));
    }
    //! [correlate2d_backward]
    Tensor2 dx = xt::zeros<float>(x.shape());
    for (std::size_t i = 0; i < oh; ++i) {
        for (std::size_t j = 0; j < ow; ++j) {
            const float g = dy(i, j);
            for (std::size_t u = 0; u < fh; ++u) {
                for (std::size_t v = 0; v < fw; ++v) {
                    dk(u, v) += g * x(i + u, j + v);  // the weight met this input here
                    dx(i + u, j + v) += g * k(u, v);  // windows overlap: accumulate
                }
            }
            db += g;
        }
    }
    return dx;
    //! [correlate2d_backward]
}

Tensor2 flip2d(const Tensor2& k) {
    const std::size_t fh = k.shape(0), fw = k.shape(1);
    Tensor2 flipped = Tensor2::from_shape(k.shape());
    for (std::size_t u = 0; u < fh; ++u) {
        for (std::size_t v = 0; v < fw; ++v) {
            flipped(u, v) = k(fh - 1 - u, fw - 1 - v);
        }
    }
    return flipped;
}

Tensor2 convolve2d(const Tensor2& x, const Tensor2& k, float bias) {
    return correlate2d_forward(x, flip2d(k), bias);
}

}  // namespace cnn
