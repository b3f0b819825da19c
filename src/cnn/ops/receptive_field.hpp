/// \file
/// \ingroup ch04
/// \brief Receptive-field arithmetic: how much of the input one unit of a deep layer sees.
///
/// Walk a stack of window layers (convolutions, and from \ref chapter05 "chapter 05" pooling) from
/// the input up, keeping three numbers per layer, in input pixels:
/// - the size r of the receptive field: the side of the input square a unit sees;
/// - the jump j: how far apart, in the input, two neighbouring units of this layer are;
/// - the start: the input coordinate of the centre of the first unit's field.
///
/// A layer with kernel k, stride s and padding p (before) turns (r, j, start) into
/// \f[ r' = r + (k - 1)\,j, \qquad j' = j\,s, \qquad
///     \mathit{start}' = \mathit{start} + \left(\frac{k - 1}{2} - p\right) j. \f]
/// The input itself is r = 1, j = 1, start = 0. Two 3x3 layers of stride 1 give
/// r = 1 + 2 + 2 = 5: the 5x5 of Prince's Understanding Deep Learning (chapter 10). A stride
/// multiplies every later growth.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cnn {

/// One layer of the stack, along one axis.
struct WindowLayer {
    std::string name;        ///< for the table, e.g. "conv1"
    std::size_t kernel = 1;  ///< k: the window's size along the axis, at least 1
    std::size_t stride = 1;  ///< s: how far the window moves, at least 1
    std::size_t padding = 0;  ///< rows added before (top or left)
};

/// The receptive field after a layer.
struct ReceptiveField {
    std::string name;      ///< the layer's name; "input" for the input
    std::size_t size = 1;  ///< r: side of the input square one unit sees
    std::size_t jump = 1;  ///< j: input distance between neighbouring units
    double start = 0.0;    ///< input coordinate of the centre of unit 0's field
};

/// The field after each layer of `stack`, in order, starting with the input itself.
/// \param stack the layers, from the input up
/// \return stack.size() + 1 fields, the input's (size 1, jump 1, start 0) first
/// \throws std::invalid_argument for a kernel or stride of 0
std::vector<ReceptiveField> receptive_fields(const std::vector<WindowLayer>& stack);

}  // namespace cnn
