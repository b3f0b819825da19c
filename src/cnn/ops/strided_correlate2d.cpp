#include "cnn/ops/strided_correlate2d.hpp"

#include <stdexcept>
#include <string>

#include "cnn/tensor/padding.hpp"

namespace cnn {

std::array<std::size_t, 2> strided_output_shape(std::size_t h, std::size_t w, std::size_t fh,
                                                std::size_t fw, const Conv2DGeometry& g) {
    return {conv_output_size({h, fh, g.stride_rows, g.pad_rows}, g.policy),
            conv_output_size({w, fw, g.stride_cols, g.pad_cols}, g.policy)};
}

//! [strided_forward]
Tensor2 strided_correlate2d_forward(const Tensor2& x, const Tensor2& k, const Conv2DGeometry& g,
                                    float bias) {
    // x is (H, W), k is (FH, FW); y is (OH, OW).
    const auto [oh, ow] = strided_output_shape(x.shape(0), x.shape(1), k.shape(0), k.shape(1), g);
    const Tensor2 xp = pad2d(x, g.pad_rows, g.pad_cols);  // (H + P_top + P_bottom, ...)
    Tensor2 y = Tensor2::from_shape({oh, ow});
    for (std::size_t i = 0; i < oh; ++i) {
        for (std::size_t j = 0; j < ow; ++j) {
            const std::size_t top = i * g.stride_rows, left = j * g.stride_cols;
            float sum = 0.0f;
            for (std::size_t u = 0; u < k.shape(0); ++u) {
                for (std::size_t v = 0; v < k.shape(1); ++v) {
                    sum += xp(top + u, left + v) * k(u, v);
                }
            }
            y(i, j) = sum + bias;
        }
    }
    return y;
}
//! [strided_forward]

Tensor2 strided_correlate2d_backward(const Tensor2& dy, const Tensor2& x, const Tensor2& k,
                                     const Conv2DGeometry& g, Tensor2& dk, float& db) {
    // dy is (OH, OW), x is (H, W), k and dk are (FH, FW); dx is (H, W).
    const auto [oh, ow] = strided_output_shape(x.shape(0), x.shape(1), k.shape(0), k.shape(1), g);
    if (dy.shape(0) != oh || dy.shape(1) != ow || dk.shape() != k.shape()) {
        throw std::invalid_argument(
            "strided_correlate2d_backward: expected dy (" + std::to_string(oh) + ", " +
            std::to_string(ow) + ") and dk like k " + shape_to_string(k.shape()) + ", got dy " +
            shape_to_string(dy.shape()) + " and dk " + shape_to_string(dk.shape()));
    }
    //! [strided_backward]
    const Tensor2 xp = pad2d(x, g.pad_rows, g.pad_cols);
    Tensor2 dxp = xt::zeros<float>(xp.shape());
    for (std::size_t i = 0; i < oh; ++i) {
        for (std::size_t j = 0; j < ow; ++j) {
            const std::size_t top = i * g.stride_rows, left = j * g.stride_cols;
            const float grad = dy(i, j);
            for (std::size_t u = 0; u < k.shape(0); ++u) {
                for (std::size_t v = 0; v < k.shape(1); ++v) {
                    dk(u, v) += grad * xp(top + u, left + v);
                    dxp(top + u, left + v) += grad * k(u, v);
                }
            }
            db += grad;
        }
    }
    return crop2d(dxp, g.pad_rows, g.pad_cols);  // the padding's share has nowhere to go
    //! [strided_backward]
}

}  // namespace cnn
