/// \file
/// \ingroup ch01
/// \brief Matrix product through BLAS (OpenBLAS, via xtensor-blas), with its shapes checked.
///
/// Dense layers, and from \ref chapter04 "chapter 04" the im2col convolution, spend nearly all
/// their time in one operation:
/// \f$C \leftarrow \operatorname{op}(A)\,\operatorname{op}(B) + \beta C\f$, where op transposes its
/// argument or leaves it alone. BLAS computes it far faster than a loop nest can, and reads a
/// transposed operand in place, without copying it.
#pragma once

#include <cstddef>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Whether gemm() reads an operand as it is or transposed.
enum class Op { none, transpose };

/// `c = op_a(a) * op_b(b) + beta * c`.
///
/// With op(a) of shape `(M, K)` and op(b) of shape `(K, N)`, `c` must already be `(M, N)`.
/// `beta = 0` overwrites `c`; `beta = 1` accumulates into it (what gradients want).
/// Throws std::invalid_argument naming the three shapes when they do not fit together.
/// \param a the first matrix
/// \param op_a whether to read a transposed
/// \param b the second matrix
/// \param op_b whether to read b transposed
/// \param c the result (M, N), overwritten or added to
/// \param beta the weight of c's old values: 0 overwrites c, 1 adds to it
void gemm(const Tensor2& a, Op op_a, const Tensor2& b, Op op_b, Tensor2& c, float beta = 0.0f);

/// The same product on row-major blocks inside larger tensors, such as one image's (FN, OH·OW)
/// slice of a batch: op(a) is (m, k), op(b) is (k, n), c is (m, n), all without gaps between
/// rows. Nothing is checked: the caller owns the sizes. Empty products are handled as above.
/// \param op_a whether to read a transposed
/// \param op_b whether to read b transposed
/// \param m rows of op(a) and c
/// \param n columns of op(b) and c
/// \param k columns of op(a), rows of op(b)
/// \param a the first block, m·k floats
/// \param b the second block, k·n floats
/// \param beta the weight of c's old values: 0 overwrites c, 1 adds to it
/// \param c the result, m·n floats, overwritten or added to
void gemm(Op op_a, Op op_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
          const float* b, float beta, float* c);

/// How many threads OpenBLAS uses for each product (by default one per core, or
/// `$OPENBLAS_NUM_THREADS`). With one thread every product sums in the same order on every
/// run, so training repeats bit for bit; with more, OpenBLAS may split a product differently
/// from run to run, and float sums in another order round differently.
/// \return OpenBLAS's thread count
int blas_threads();
/// Sets the number of OpenBLAS threads for every later product (at least 1).
/// \param threads the count, at least 1
/// \throws std::invalid_argument for a count below 1
void set_blas_threads(int threads);
/// True for OpenBLAS's OpenMP build (Debian's libopenblas0-openmp), whose thread count is
/// OpenMP's own; false for the pthreads and serial builds.
/// \return true for the OpenMP build
bool blas_uses_openmp();

}  // namespace cnn
