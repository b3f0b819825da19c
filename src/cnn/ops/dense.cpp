#include "cnn/ops/dense.hpp"

#include <stdexcept>

#include "cnn/tensor/gemm.hpp"

namespace cnn {

namespace {

void expect_dense_shapes(const char* where, const Tensor2& x, const Tensor2& w, const Tensor1& b) {
    if (x.shape(1) != w.shape(0) || b.shape(0) != w.shape(1)) {
        throw std::invalid_argument(std::string(where) + ": expected x (N, D), w (D, M), b (M); got x " +
                                    shape_to_string(x.shape()) + ", w " +
                                    shape_to_string(w.shape()) + ", b " +
                                    shape_to_string(b.shape()));
    }
}

}  // namespace

//! [dense_forward]
Tensor2 dense_forward(const Tensor2& x, const Tensor2& w, const Tensor1& b) {
    // x is (N, D), w is (D, M), b is (M); y is (N, M).
    expect_dense_shapes("dense_forward", x, w, b);
    const std::size_t n = x.shape(0);
    const std::size_t m = w.shape(1);
    Tensor2 y = Tensor2::from_shape({n, m});
    // Start every row at the bias, then add x w on top of it (beta = 1).
    for (std::size_t i = 0; i < n; ++i) {
        std::copy(b.begin(), b.end(), y.begin() + static_cast<std::ptrdiff_t>(i * m));
    }
    gemm(x, Op::none, w, Op::none, y, 1.0f);
    return y;
}
//! [dense_forward]

Tensor2 dense_backward(const Tensor2& dy, const Tensor2& x, const Tensor2& w, Tensor2& dw,
                       Tensor1& db) {
    // dy is (N, M), x is (N, D), w and dw are (D, M), db is (M); dx is (N, D).
    expect_dense_shapes("dense_backward", x, w, db);
    if (dy.shape(0) != x.shape(0) || dy.shape(1) != w.shape(1) || dw.shape() != w.shape()) {
        throw std::invalid_argument("dense_backward: expected dy (N, M) and dw (D, M) for x " +
                                    shape_to_string(x.shape()) + " and w " +
                                    shape_to_string(w.shape()) + "; got dy " +
                                    shape_to_string(dy.shape()) + ", dw " +
                                    shape_to_string(dw.shape()));
    }
    //! [dense_backward]
    gemm(x, Op::transpose, dy, Op::none, dw, 1.0f);  // dw (D, M) += x^T (D, N) dy (N, M)
    const std::size_t n = dy.shape(0);
    const std::size_t m = dy.shape(1);
    for (std::size_t i = 0; i < n; ++i) {  // db (M) += column sums of dy
        for (std::size_t j = 0; j < m; ++j) {
            db(j) += dy(i, j);
        }
    }
    Tensor2 dx = Tensor2::from_shape({n, x.shape(1)});
    gemm(dy, Op::none, w, Op::transpose, dx);  // dx (N, D) = dy (N, M) w^T (M, D)
    return dx;
    //! [dense_backward]
}

}  // namespace cnn
