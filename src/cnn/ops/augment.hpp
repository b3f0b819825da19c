/// \file
/// \ingroup ch08
/// \brief Data augmentation's arithmetic: mirror, shift or crop each image of a batch.
///
/// These functions do what the augmentation layers (layers/augmentation.hpp) drew: they take
/// one decision per image (flip it or not, shift it by how much, crop which window) and apply
/// it. Keeping the draw out of them lets a test check each one by hand.
///
/// Each is a linear map that only moves pixels, or drops them: every output pixel is one
/// input pixel or 0. Its backward pass is its transpose, the same moves run the other way:
/// each gradient value goes back to the input pixel it came from, and an input pixel that
/// reached no output (shifted off the edge, outside the crop window) gets 0. For a linear map
/// y = A x that is the whole gradient: dx = A^T dy.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Which mirror images of one image to take.
struct Flip {
    bool left_right = false;  ///< reverse the columns (Keras's "horizontal" flip)
    bool up_down = false;     ///< reverse the rows (Keras's "vertical" flip)
};

/// x is (N, C, H, W) and flips has N entries; returns y (N, C, H, W) with
/// y(n, c, i, j) = x(n, c, i', j'), where i' = H-1-i if flips[n].up_down (else i) and
/// j' = W-1-j if flips[n].left_right (else j).
/// \param x the images (N, C, H, W)
/// \param flips one per image
/// \return y (N, C, H, W)
/// \throws std::invalid_argument unless there is one flip per image
Tensor4 flip_forward(const Tensor4& x, const std::vector<Flip>& flips);

/// dy is (N, C, H, W); returns dx (N, C, H, W): dy flipped back. A flip undoes itself, so
/// this is the same flip again.
/// \param dy the gradient of y (N, C, H, W)
/// \param flips the forward pass's, one per image
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument unless there is one flip per image
Tensor4 flip_backward(const Tensor4& dy, const std::vector<Flip>& flips);

/// How far one image moves, in whole pixels.
struct Shift {
    std::ptrdiff_t down = 0;   ///< rows down; negative moves the picture up
    std::ptrdiff_t right = 0;  ///< columns right; negative moves it left
};

/// x is (N, C, H, W) and shifts has N entries; returns y (N, C, H, W) with
/// y(n, c, i, j) = x(n, c, i - down, j - right) where that pixel exists and 0 where it does
/// not: what moves past the edge is lost, the uncovered border is 0 (Keras's
/// fill_mode="constant" with fill_value 0). A shift of H rows or more leaves nothing.
/// \param x the images (N, C, H, W)
/// \param shifts one per image
/// \return y (N, C, H, W)
/// \throws std::invalid_argument unless there is one shift per image
Tensor4 translate_forward(const Tensor4& x, const std::vector<Shift>& shifts);

/// dy is (N, C, H, W); returns dx (N, C, H, W) with dx(n, c, i, j) = dy(n, c, i + down,
/// j + right) where that exists, else 0 (the input pixel fell off the edge and reached no
/// output). That is the opposite shift: translate_forward(dy, -shifts).
/// \param dy the gradient of y (N, C, H, W)
/// \param shifts the forward pass's, one per image
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument unless there is one shift per image
Tensor4 translate_backward(const Tensor4& dy, const std::vector<Shift>& shifts);

/// The top-left pixel of a crop window in one image.
struct Corner {
    std::size_t top = 0;   ///< the window's first row
    std::size_t left = 0;  ///< the window's first column
};

/// x is (N, C, H, W) and corners has N entries, each window of OH rows and OW columns
/// inside its image (top + OH <= H, left + OW <= W); returns y (N, C, OH, OW) with
/// y(n, c, i, j) = x(n, c, top + i, left + j).
/// \param x the images (N, C, H, W)
/// \param oh OH, the window's rows
/// \param ow OW, the window's columns
/// \param corners one per image
/// \return y (N, C, OH, OW)
/// \throws std::invalid_argument unless there is one corner per image and every window lies
///         inside its image
Tensor4 crop_forward(const Tensor4& x, std::size_t oh, std::size_t ow,
                     const std::vector<Corner>& corners);

/// dy is (N, C, OH, OW); returns dx of x_shape (N, C, H, W): zeros, with each image's dy
/// written back into its window.
/// \param dy the gradient of y (N, C, OH, OW)
/// \param x_shape the forward pass's input shape (N, C, H, W)
/// \param corners the forward pass's, one per image
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument when dy, x_shape and corners do not belong together
Tensor4 crop_backward(const Tensor4& dy, const std::array<std::size_t, 4>& x_shape,
                      const std::vector<Corner>& corners);

/// The corner of the centred OH x OW window in an H x W image: ((H - OH) / 2, (W - OW) / 2),
/// rounded down. When H - OH is odd the window sits half a pixel above the centre: the one
/// row left over goes below it, and the one column left over to its right (where Keras's
/// CenterCrop puts them). Requires OH <= H and OW <= W.
/// \param h H, the image's rows
/// \param w W, the image's columns
/// \param oh OH, the window's rows
/// \param ow OW, the window's columns
/// \return the window's top-left pixel
/// \throws std::invalid_argument for a window larger than the image
Corner centred_corner(std::size_t h, std::size_t w, std::size_t oh, std::size_t ow);

}  // namespace cnn
