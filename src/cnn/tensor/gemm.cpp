#include "cnn/tensor/gemm.hpp"

#include <stdexcept>
#include <string>

#include <xtensor-blas/xblas.hpp>

// OpenBLAS's thread controls, as its cblas.h declares them. That header cannot be included
// here: xtensor-blas brings its own declarations of the CBLAS enums, which clash with it.
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
int openblas_get_parallel(void);
}

namespace cnn {

void gemm(const Tensor2& a, Op op_a, const Tensor2& b, Op op_b, Tensor2& c, float beta) {
    const bool ta = op_a == Op::transpose;
    const bool tb = op_b == Op::transpose;
    const std::size_t m = ta ? a.shape(1) : a.shape(0);
    const std::size_t k = ta ? a.shape(0) : a.shape(1);
    const std::size_t kb = tb ? b.shape(1) : b.shape(0);
    const std::size_t n = tb ? b.shape(0) : b.shape(1);
    if (k != kb || c.shape(0) != m || c.shape(1) != n) {
        throw std::invalid_argument(
            "gemm: op(a) " + std::string(ta ? "= a^T " : "= a ") + "is (" + std::to_string(m) +
            ", " + std::to_string(k) + "), op(b) " + (tb ? "= b^T " : "= b ") + "is (" +
            std::to_string(kb) + ", " + std::to_string(n) + "), c is " +
            shape_to_string(c.shape()) + "; expected op(a) (M, K), op(b) (K, N), c (M, N)");
    }
    if (m == 0 || n == 0) {
        return;
    }
    if (k == 0) {  // an empty sum: BLAS may not touch c, so do its job here
        if (beta == 0.0f) {
            c.fill(0.0f);  // c may hold anything, even NaN, which 0 * c would keep
        } else {
            c *= beta;
        }
        return;
    }
    xt::blas::gemm(a, b, c, ta, tb, 1.0f, beta);
}

void gemm(Op op_a, Op op_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
          const float* b, float beta, float* c) {
    if (m == 0 || n == 0) {
        return;
    }
    if (k == 0) {  // an empty sum, as in the checked gemm() above
        for (std::size_t i = 0; i < m * n; ++i) {
            c[i] = beta == 0.0f ? 0.0f : beta * c[i];
        }
        return;
    }
    const bool ta = op_a == Op::transpose;
    const bool tb = op_b == Op::transpose;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                static_cast<CBLAS_INT>(m), static_cast<CBLAS_INT>(n), static_cast<CBLAS_INT>(k), 1.0f, a,
                static_cast<CBLAS_INT>(ta ? m : k), b, static_cast<CBLAS_INT>(tb ? k : n), beta, c,
                static_cast<CBLAS_INT>(n));
}

int blas_threads() { return openblas_get_num_threads(); }

bool blas_uses_openmp() { return openblas_get_parallel() == 2; }

void set_blas_threads(int threads) {
    if (threads < 1) {
        throw std::invalid_argument("set_blas_threads: expected at least 1 thread, got " +
                                    std::to_string(threads));
    }
    openblas_set_num_threads(threads);
}

}  // namespace cnn
