#include "cnn/fast/panel_product.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace cnn {

namespace {

// 16 floats used as one number (GCC's and Clang's vector extension, as in winograd.cpp): one
// AVX-512 register, or two AVX2 ones. A panel's row is two of them. `sum += a * b` on them
// compiles to one fused multiply-add per register.
typedef float Vector __attribute__((vector_size(16 * sizeof(float))));
// The same 16 floats read from or written to memory anywhere a float may lie.
typedef float Unaligned __attribute__((vector_size(16 * sizeof(float)), aligned(alignof(float)),
                                       may_alias));
constexpr std::size_t vector_floats = sizeof(Vector) / sizeof(float);
static_assert(panel_columns == 2 * vector_floats, "a panel's row is two vectors");

// (By reference: a function returning a Vector would change its calling convention between
// AVX-512 and AVX2 builds, which GCC warns of.)
void load(Vector& v, const float* from) {
    v = *reinterpret_cast<const Unaligned*>(from);
}

void store(const Vector& v, float* to) {
    *reinterpret_cast<Unaligned*>(to) = v;
}

// sums += beta times the 32 floats from `from` on.
void add_scaled(Vector (&sums)[2], float beta, const float* from) {
    Vector c0, c1;
    load(c0, from);
    load(c1, from + vector_floats);
    sums[0] += beta * c0;
    sums[1] += beta * c1;
}

// C's rows per kernel call: as many as the vector registers hold two sums of, with three
// registers left for the panel's row and the broadcast value of A.
#if defined(__AVX512F__)
constexpr std::size_t panel_rows = 14;  // 28 of 32 registers
#else
constexpr std::size_t panel_rows = 3;  // 12 of AVX2's 16 registers (each Vector is two)
#endif

// C's rows [0, R) and one panel's columns [0, width) (width <= 32): each a sum over k of A's
// row times the panel, then C = beta·C + sums. A's value (r, p) is a[r·step + p], or, when
// `Transposed`, a[p·step + r]: the kernel's R rows of A^T side by side.
template <std::size_t R, bool Transposed>
void kernel(const float* a, std::size_t step, std::size_t k, const float* panel, float beta,
            float* c, std::size_t ldc, std::size_t width) {
    //! [panel_kernel]
    Vector sums[R][2];
    for (std::size_t r = 0; r < R; ++r) {
        sums[r][0] = sums[r][1] = Vector{};
    }
    for (std::size_t p = 0; p < k; ++p) {
        Vector b0, b1;
        load(b0, panel + panel_columns * p);
        load(b1, panel + panel_columns * p + vector_floats);
        for (std::size_t r = 0; r < R; ++r) {
            const float value = Transposed ? a[p * step + r] : a[r * step + p];
            const Vector ar = value - Vector{};  // A's (r, p) in every lane
            sums[r][0] += ar * b0;
            sums[r][1] += ar * b1;
        }
    }
    //! [panel_kernel]
    for (std::size_t r = 0; r < R; ++r) {
        float* row = c + r * ldc;
        if (width == panel_columns) {
            if (beta != 0.0f) {
                add_scaled(sums[r], beta, row);
            }
            store(sums[r][0], row);
            store(sums[r][1], row + vector_floats);
        } else {  // the last panel of a C whose columns are not a multiple of 32
            float all[panel_columns] = {};
            if (beta != 0.0f) {
                std::memcpy(all, row, width * sizeof(float));
                add_scaled(sums[r], beta, all);
            }
            store(sums[r][0], all);
            store(sums[r][1], all + vector_floats);
            std::memcpy(row, all, width * sizeof(float));
        }
    }
}

}  // namespace

void pack_panels(std::size_t rows, std::size_t cols, const float* b, float* panels) {
    std::fill_n(panels, panel_floats(rows, cols), 0.0f);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t col = 0; col < cols; ++col) {
            panels[panel_index(rows, r, col)] = b[r * cols + col];
        }
    }
}

//! [multiply_panels]
void multiply_panels(Op op_a, std::size_t t, std::size_t n, std::size_t k, const float* a,
                     const float* panels, float beta, float* c) {
    // One block of C's rows against every panel of B in turn: the block's rows of A
    // (panel_rows·k floats) stay in the first-level cache, and each panel is one sequential run.
    const bool transposed = op_a == Op::transpose;
    const std::size_t step = transposed ? t : k;  // between A's rows (A^T's, when transposed)
    const auto block = [&](auto rows, std::size_t row) {
        constexpr std::size_t R = decltype(rows)::value;
        const float* a_rows = a + row * (transposed ? 1 : k);
        for (std::size_t col = 0; col < n; col += panel_columns) {
            const std::size_t width = std::min(panel_columns, n - col);
            float* c_block = c + row * n + col;
            if (transposed) {
                kernel<R, true>(a_rows, step, k, panels + col * k, beta, c_block, n, width);
            } else {
                kernel<R, false>(a_rows, step, k, panels + col * k, beta, c_block, n, width);
            }
        }
    };
    std::size_t row = 0;
    for (; row + panel_rows <= t; row += panel_rows) {
        block(std::integral_constant<std::size_t, panel_rows>{}, row);
    }
    for (; row + 4 <= t; row += 4) {  // the rows left: 4 at a time, then one by one
        block(std::integral_constant<std::size_t, 4>{}, row);
    }
    for (; row < t; ++row) {
        block(std::integral_constant<std::size_t, 1>{}, row);
    }
}
//! [multiply_panels]

}  // namespace cnn
