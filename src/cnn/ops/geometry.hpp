/// \file
/// \ingroup ch03
/// \brief The output-size formula, 'valid' and 'same' padding, and the words that explain them.
///
/// A window of size FH slides over an input of size H padded with P rows on each side, moving
/// S rows at a time. It fits at positions 0, S, 2S, ... as long as it stays inside the padded
/// input, which gives
/// \f[ OH = \frac{H + 2P - FH}{S} + 1 \f]
/// (and the same for widths). With different padding before and after, \f$2P\f$ becomes
/// \f$P_{before} + P_{after}\f$. When \f$H + 2P - FH\f$ is not a multiple of \f$S\f$ the windows
/// do not tile the input. Deep Learning from Scratch (Saito) asks for an error then (SizePolicy::strict); PyTorch
/// and Keras round down and ignore the rows the last window cannot reach (SizePolicy::floor).
///
/// Keras and TensorFlow name two paddings. 'valid' is no padding. 'same' pads just enough that
/// \f$OH = \lceil H / S \rceil\f$ (the same size as the input when S = 1): a total of
/// \f$\max((OH - 1) S + FH - H,\ 0)\f$ rows, half before and the rest, one more when the total
/// is odd, after.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "cnn/tensor/padding.hpp"

namespace cnn {

/// What conv_output_size() does when the windows do not tile the padded input exactly.
enum class SizePolicy {
    strict,  ///< throw GeometryError: Saito's rule
    floor,   ///< round down, leaving the last rows unused: what PyTorch and Keras do
};

/// Keras/TensorFlow's names for a padding.
enum class PaddingMode {
    valid,  ///< no padding
    same,   ///< OH = ceil(H / S); asymmetric when the total padding is odd
};

/// Impossible or (under SizePolicy::strict) inexact geometry. The message gives the formula
/// with the numbers filled in.
class GeometryError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// One axis of a window sliding over an input: sizes, stride and padding.
struct AxisGeometry {
    std::size_t input = 0;    ///< H: the input's size along this axis
    std::size_t kernel = 0;   ///< FH: the window's size
    std::size_t stride = 1;   ///< S: how far the window moves
    AxisPadding padding;      ///< P before and after
};

// [conv_output_size]
/// OH = (H + P_before + P_after - FH) / S + 1. Throws GeometryError, with the formula and its
/// numbers, when S = 0, when the window is larger than the padded input, or (strict) when the
/// division is not exact.
std::size_t conv_output_size(const AxisGeometry& axis, SizePolicy policy = SizePolicy::strict);
// [conv_output_size]

/// The computation of conv_output_size() in words and numbers, e.g.
/// `OH = (H + 2P - FH) / S + 1 = (28 + 2*2 - 5) / 3 + 1 = 27 / 3 + 1 = 10`. Under
/// SizePolicy::floor an inexact division is shown as floor(...) followed by how many rows at the
/// end are ignored. `axis_name` is "H" (rows) or "W" (columns): it names the letters used.
/// Never throws for S = 0 or an oversized window: it explains what is wrong instead.
/// \param axis the input, window, stride and padding along the axis
/// \param policy what an inexact division does
/// \param axis_name "H" or "W"
/// \return the explanation, one line
std::string explain_output_size(const AxisGeometry& axis, SizePolicy policy,
                                const std::string& axis_name = "H");

/// Reads Keras's padding names: "valid" or "same"; anything else is an error.
/// \param mode the padding's name
/// \return the padding it names
/// \throws std::invalid_argument for any other name
PaddingMode parse_padding(const std::string& mode);

// [keras_padding]
/// The padding Keras/TensorFlow use for `mode` on one axis: none for 'valid'; for 'same', a
/// total of max((ceil(H / S) - 1) S + FH - H, 0), split with the extra one after.
AxisPadding keras_padding(PaddingMode mode, std::size_t input, std::size_t kernel,
                          std::size_t stride);
// [keras_padding]

// The parameters of the declarations a chapter page quotes, kept out of the quoted lines.
// clang-format off
/// \fn std::size_t conv_output_size(const AxisGeometry& axis, SizePolicy policy)
/// \param axis the input, window, stride and padding along the axis
/// \param policy strict (Saito's rule) or floor (Keras's and PyTorch's)
/// \return OH, at least 1
/// \throws GeometryError as above
///
/// \fn AxisPadding keras_padding(PaddingMode mode, std::size_t input, std::size_t kernel, std::size_t stride)
/// \param mode valid or same
/// \param input H, the input's size along the axis
/// \param kernel FH, the window's size
/// \param stride S
/// \return the padding before and after
/// \throws GeometryError when input, kernel or stride is 0
// clang-format on

/// Stride and padding of a 2-D window, per axis: the options of every strided operation.
struct Conv2DGeometry {
    std::size_t stride_rows = 1;             ///< S along H
    std::size_t stride_cols = 1;             ///< S along W
    AxisPadding pad_rows;                    ///< top, bottom
    AxisPadding pad_cols;                    ///< left, right
    SizePolicy policy = SizePolicy::floor;   ///< what an inexact division does

    /// The geometry of `mode` for an input (h, w), kernel (fh, fw) and strides (sr, sc).
    /// \param mode valid or same
    /// \param h the input's height H
    /// \param w the input's width W
    /// \param fh the window's height FH
    /// \param fw the window's width FW
    /// \param sr the stride along H
    /// \param sc the stride along W
    /// \return strides, keras_padding() on each axis, and SizePolicy::floor
    /// \throws GeometryError when a size or stride is 0
    static Conv2DGeometry keras(PaddingMode mode, std::size_t h, std::size_t w, std::size_t fh,
                                std::size_t fw, std::size_t sr, std::size_t sc);
};

}  // namespace cnn
