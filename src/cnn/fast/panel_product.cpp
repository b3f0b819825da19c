#include "cnn/fast/panel_product.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace cnn {

namespace {

// A register's worth of floats used as one number (GCC's and Clang's vector extension, as in
// winograd.cpp): 16 floats, one AVX-512 register, or 8, one AVX2 register. (A 16-float type on
// AVX2 would be two registers, which GCC handles through memory.) `sum += a * b` on them
// compiles to one fused multiply-add.
#if defined(__AVX512F__)
constexpr std::size_t vector_floats = 16;
#else
constexpr std::size_t vector_floats = 8;
#endif
typedef float Vector __attribute__((vector_size(vector_floats * sizeof(float))));
// The same floats read from or written to memory anywhere a float may lie.
typedef float Unaligned
    __attribute__((vector_size(vector_floats * sizeof(float)), aligned(alignof(float)), may_alias));
// One kernel call sums two vectors' worth of C's columns: a whole panel (32) with AVX-512, half
// of one (16) without, where a panel's row would be four registers.
constexpr std::size_t row_vectors = 2;
constexpr std::size_t kernel_columns = row_vectors * vector_floats;  // 32 or 16
static_assert(panel_columns % kernel_columns == 0, "a panel is whole kernel calls wide");

// C's rows per kernel call: as many as the vector registers hold a row of sums of, with room
// left for the panel's row (two vectors) and the broadcast value of A. Each value of the
// panel loaded is used panel_rows times, each broadcast value of A twice.
#if defined(__AVX512F__)
constexpr std::size_t panel_rows = 14;  // 28 of the 32 registers; 2 for B's row, 1 for A
#else
constexpr std::size_t panel_rows = 6;  // 12 of the 16 registers; 2 for B's row, 1 for A
// (Why not 2 rows by a whole panel's four vectors: panel_product.hpp.)
#endif

// (By reference: a function returning a Vector would change its calling convention with the
// instruction set, which GCC warns of.)
void load(Vector& v, const float* from) {
    v = *reinterpret_cast<const Unaligned*>(from);
}

void store(const Vector& v, float* to) {
    *reinterpret_cast<Unaligned*>(to) = v;
}

// One row of a kernel call's sums (kernel_columns of them): sums += beta times the floats from
// `from` on, or stored to `to`.
void add_scaled(Vector (&sums)[row_vectors], float beta, const float* from) {
    for (std::size_t v = 0; v < row_vectors; ++v) {
        Vector c;
        load(c, from + v * vector_floats);
        sums[v] += beta * c;
    }
}

void store_row(const Vector (&sums)[row_vectors], float* to) {
    for (std::size_t v = 0; v < row_vectors; ++v) {
        store(sums[v], to + v * vector_floats);
    }
}

// C's rows [0, R) and columns [0, width) (width <= kernel_columns) of the panel that `panel`
// points into (its rows are panel_columns apart): each a sum over k of A's row times the
// panel, then C = beta·C + sums. A's value (r, p) is a[r·step + p], or, when
// `Transposed`, a[p·step + r]: the kernel's R rows of A^T side by side.
//! [panel_kernel]
template <std::size_t R, bool Transposed>
void kernel(const float* a, std::size_t step, std::size_t k, const float* panel, float beta,
            float* c, std::size_t ldc, std::size_t width) {
    Vector sums[R][row_vectors];
    for (std::size_t r = 0; r < R; ++r) {
        for (std::size_t v = 0; v < row_vectors; ++v) {
            sums[r][v] = Vector{};
        }
    }
    for (std::size_t p = 0; p < k; ++p) {
        Vector b[row_vectors];  // row p of the panel
        for (std::size_t v = 0; v < row_vectors; ++v) {
            load(b[v], panel + panel_columns * p + v * vector_floats);
        }
        for (std::size_t r = 0; r < R; ++r) {
            const float value = Transposed ? a[p * step + r] : a[r * step + p];
            const Vector ar = value - Vector{};  // in every lane (minus keeps -0.0 as it is)
            for (std::size_t v = 0; v < row_vectors; ++v) {
                sums[r][v] += ar * b[v];
            }
        }
    }
    //! [panel_kernel]
    for (std::size_t r = 0; r < R; ++r) {
        float* row = c + r * ldc;
        if (width == kernel_columns) {
            if (beta != 0.0f) {
                add_scaled(sums[r], beta, row);
            }
            store_row(sums[r], row);
        } else {  // the last columns of a C whose columns are not a multiple of kernel_columns
            float all[kernel_columns] = {};
            if (beta != 0.0f) {
                std::memcpy(all, row, width * sizeof(float));
                add_scaled(sums[r], beta, all);
            }
            store_row(sums[r], all);
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
    // One block of C's rows against every panel of B in turn, kernel_columns at a time: the
    // block's rows of A (panel_rows·k floats) stay in the first-level cache, and each panel is
    // one sequential run (read as two halves, each every other 64 bytes, without AVX-512).
    const bool transposed = op_a == Op::transpose;
    const std::size_t step = transposed ? t : k;  // between A's rows (A^T's, when transposed)
    const auto block = [&](auto rows, std::size_t row) {
        constexpr std::size_t R = decltype(rows)::value;
        const float* a_rows = a + row * (transposed ? 1 : k);
        for (std::size_t col = 0; col < n; col += kernel_columns) {
            const std::size_t width = std::min(kernel_columns, n - col);
            float* c_block = c + row * n + col;
            const float* panel = panels + panel_index(k, 0, col);
            if (transposed) {
                kernel<R, true>(a_rows, step, k, panel, beta, c_block, n, width);
            } else {
                kernel<R, false>(a_rows, step, k, panel, beta, c_block, n, width);
            }
        }
    };
    std::size_t row = 0;
    for (; row + panel_rows <= t; row += panel_rows) {
        block(std::integral_constant<std::size_t, panel_rows>{}, row);
    }
    if constexpr (panel_rows > 4) {  // the rows left: 4 at a time, then one by one
        for (; row + 4 <= t; row += 4) {
            block(std::integral_constant<std::size_t, 4>{}, row);
        }
    }
    for (; row < t; ++row) {
        block(std::integral_constant<std::size_t, 1>{}, row);
    }
}
//! [multiply_panels]

}  // namespace cnn
