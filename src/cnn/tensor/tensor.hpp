/// \file
/// \ingroup ch01
/// \brief The one tensor type of the book, by rank, and small shape helpers.
///
/// Every tensor in cnn-steps holds `float`s in row-major order. The letters used for shapes
/// throughout the book come from Saito's Deep Learning from Scratch: a batch of images is
/// `(N, C, H, W)` (count, channels, height, width), a bank of filters is `(FN, C, FH, FW)`, and a
/// batch of feature vectors, as a Dense layer sees it, is `(N, D)`.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

/// Everything cnn-steps defines: the library in src/cnn that the chapters build, and the
/// support code in src/support that their programs run on. Each header belongs to the group of
/// the chapter that introduces it.
namespace cnn {

using Tensor1 = xt::xtensor<float, 1>;  ///< a vector, e.g. a bias `(M)`
using Tensor2 = xt::xtensor<float, 2>;  ///< a matrix, e.g. a batch of features `(N, D)`
using Tensor3 = xt::xtensor<float, 3>;  ///< e.g. one image `(C, H, W)`
using Tensor4 = xt::xtensor<float, 4>;  ///< e.g. a batch of images `(N, C, H, W)`

/// Class labels, one per example: `labels[n]` is the class index of example n.
using Labels = std::vector<std::size_t>;

/// Formats a shape as the book prints it, e.g. `(64, 1, 28, 28)`.
/// \tparam Shape any range of integers (an xtensor shape, std::array, std::vector)
/// \param shape the extents, outermost first
/// \return the extents in parentheses, separated by ", "
template <class Shape>
std::string shape_to_string(const Shape& shape) {
    std::ostringstream os;
    os << '(';
    bool first = true;
    for (auto extent : shape) {
        os << (first ? "" : ", ") << extent;
        first = false;
    }
    os << ')';
    return os.str();
}

/// The same values under another shape, without copying them: `x`'s storage moves into the
/// result. `shape` must hold as many values as x (std::invalid_argument otherwise). Layers use
/// it to pass a batch of vectors (N, D, 1, 1) to the matrix code of \ref chapter01 "chapter 01" as
/// (N, D), and back, for free.
/// \tparam To the result's rank
/// \tparam From x's rank
/// \param x the tensor, left empty (its storage moves)
/// \param shape the new shape, as many values as x
/// \return x's values under `shape`, row-major
template <std::size_t To, std::size_t From>
xt::xtensor<float, To> reshaped(xt::xtensor<float, From>&& x, const std::array<std::size_t, To>& shape) {
    std::size_t size = 1;
    for (std::size_t extent : shape) {
        size *= extent;
    }
    if (size != x.size()) {
        throw std::invalid_argument("reshaped: cannot view " + std::to_string(x.size()) +
                                    " values as " + shape_to_string(shape));
    }
    typename xt::xtensor<float, To>::inner_shape_type new_shape;
    std::copy(shape.begin(), shape.end(), new_shape.begin());
    typename xt::xtensor<float, To>::inner_strides_type strides;
    xt::compute_strides(new_shape, xt::layout_type::row_major, strides);
    return xt::xtensor<float, To>(std::move(x.storage()), std::move(new_shape), std::move(strides));
}

/// A count as the book prints it, with thousands separators: 1413834 -> "1,413,834".
/// \param n the count
/// \return its digits in groups of three
std::string thousands(std::size_t n);

/// A large amount with an SI prefix and three significant digits, for tables of FLOPs:
/// 211400000 -> "211M", 1135256096 -> "1.14G", 0 -> "0".
/// \param value the amount
/// \return three significant digits and a prefix (k, M, G, T or P) when it is 1000 or more
std::string si_prefixed(double value);


}  // namespace cnn
