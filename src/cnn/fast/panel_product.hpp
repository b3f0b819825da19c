/// \file
/// \ingroup ch07
/// \brief The matrix product at the heart of the Winograd engine, C = A B, with B stored in
/// panels of 32 columns: no packing, no clearing, and one small kernel (a *micro-kernel*) that
/// keeps a block of C in vector registers.
///
/// A BLAS sgemm call (tensor/gemm.hpp) works for any matrices, so it first copies ("packs")
/// both into the order its kernel reads, and with beta = 0 clears C before it adds into it.
/// In the Winograd engine (winograd.hpp) the right side of every product is written by one of
/// the engine's own transforms (the filters U, or E for dW), so its order is ours to choose:
/// the transform writes it straight into the order the kernel reads. So this product packs
/// nothing and clears nothing; it is what is left of an sgemm when the copies are taken out.
///
/// **B in panels.** B (k, n) is stored as ceil(n / 32) panels, each (k, 32): panel p holds
/// columns [32·p, 32·p + 32), one row of 32 after the other, zeros past column n. A kernel
/// that walks down the rows of one panel reads one sequential run of memory (without AVX-512,
/// where a kernel call takes half a panel's columns, 64 of every 128 bytes). (The columns past
/// n only reach sums that are never stored; zeros there keep NaN or denormal values, which
/// could slow the arithmetic, out of them.)
///
/// **The kernel.** C's rows are taken panel_rows at a time, and the columns two vectors at a
/// time: with AVX-512, 14 rows by one panel's 32 columns (28 of its 32 registers of 16 floats);
/// with AVX2, 6 rows by half a panel's, 16 columns (12 of its 16 registers of 8 floats). These
/// sums stay in vector registers for the whole sum over k: each step loads two vectors of one
/// row of the panel, and for each of C's rows broadcasts one value of A into a vector and adds
/// A·B with a fused multiply-add. Only then are the sums written to C, once. A (t, k) is read as
/// stored: one block of rows (panel_rows·k floats, 7 KB for k = 128 and 14 rows) stays in the
/// first-level cache while every panel of B passes by it, each panel one sequential run.
///
/// Each value of C is one sum over k in order, the way the reference loops add, so the result
/// does not depend on the threads or on where the row blocks fall.
///
/// Like the tile transforms, the kernel is written on GCC's vector extension (a type of one
/// register's worth of floats that the compiler keeps in registers), not on one instruction
/// set's intrinsics: the same source compiles for AVX-512 and AVX2, and only the vector's width
/// (16 or 8 floats) and panel_rows change between them. (The first AVX2 kernel took 2 rows by a
/// whole panel, four vectors: 8 sums, and six loads for every eight multiply-adds. 6 rows by
/// two vectors keep 12 sums, with eight loads for twelve: 12-30% faster on the products of the
/// seed model, on an AMD EPYC without AVX-512.)
#pragma once

#include <cstddef>

#include "cnn/tensor/gemm.hpp"  // Op

namespace cnn {

/// Columns of one panel of B: two vectors of 16 floats, or four of 8.
constexpr std::size_t panel_columns = 32;

/// Floats that B (rows, cols) takes in panels: rows times cols rounded up to a whole panel.
/// \param rows B's rows (k)
/// \param cols B's columns (n)
/// \return rows·32·ceil(cols / 32)
constexpr std::size_t panel_floats(std::size_t rows, std::size_t cols) {
    return rows * ((cols + panel_columns - 1) / panel_columns) * panel_columns;
}

/// Where B's value (r, col) lies in its panels: panel col / 32, row r, place col % 32.
/// \param rows B's rows
/// \param r the value's row
/// \param col the value's column
/// \return its index in the panels
constexpr std::size_t panel_index(std::size_t rows, std::size_t r, std::size_t col) {
    return (col / panel_columns) * rows * panel_columns + r * panel_columns + col % panel_columns;
}

/// B (rows, cols), row-major, copied into panels, zeros past its last column.
/// \param rows B's rows
/// \param cols B's columns
/// \param b B, row-major
/// \param panels where the panels go: panel_floats(rows, cols) floats
void pack_panels(std::size_t rows, std::size_t cols, const float* b, float* panels);

/// C (t, n) = beta·C + op(A) B, with op(A) (t, k) and B (k, n) in panels (pack_panels()). A is
/// stored row-major as (t, k), or for Op::transpose as its transpose (k, t); C is row-major,
/// its rows n floats apart. With beta = 0, C is written and never read: no clearing needed.
/// \param op_a Op::none, or Op::transpose for A stored as A^T
/// \param t C's rows, op(A)'s rows
/// \param n C's columns
/// \param k op(A)'s columns, B's rows
/// \param a A as stored
/// \param panels B in panels
/// \param beta what C's values are multiplied by before the product is added; 0 ignores them
/// \param c C (t, n)
void multiply_panels(Op op_a, std::size_t t, std::size_t n, std::size_t k, const float* a,
                     const float* panels, float beta, float* c);

}  // namespace cnn
