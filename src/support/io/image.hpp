/// \file
/// \ingroup support
/// \brief Reading a photograph (PNG, JPEG, ...) as a grey or a colour image, through stb_image.
#pragma once

#include <cstddef>
#include <filesystem>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The photograph chapters 02 and 09 read by default: "Friends" by Aitzol Berasategi (2018),
/// CC-BY-4.0, shipped by Debian's lomiri-wallpapers-16.04 package (which `make` installs).
inline constexpr const char* debian_photo = "/usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg";

/// Reads the image file `file` (any format stb_image reads: PNG, JPEG, BMP, GIF, ...) as one
/// grey channel: a tensor (H, W) of values in [0, 1], row 0 at the top. Colour images are
/// turned grey by stb_image's luma weights. When the longer side exceeds `max_side` (0: no
/// limit), the image is shrunk by the smallest whole factor f that brings it within the limit,
/// each output pixel the mean of an f x f block (a partial block at the edge is dropped).
/// Throws DataError naming the file and stb_image's reason when it cannot be read.
/// \param file the image file
/// \param max_side the longest side wanted, in pixels; 0 for the file's size
/// \return (H, W), values in [0, 1]
Tensor2 load_grayscale_image(const std::filesystem::path& file, std::size_t max_side = 0);

/// Reads the image file `file` as three channels, red, green and blue: a tensor (3, H, W) of
/// values in [0, 1], each channel's plane together as the convolutions read it (a grey file
/// gives three equal planes). Shrinks as load_grayscale_image() does, each channel on its own;
/// throws DataError as it does.
/// \param file the image file
/// \param max_side the longest side wanted, in pixels; 0 for the file's size
/// \return (3, H, W), values in [0, 1]
Tensor3 load_rgb_image(const std::filesystem::path& file, std::size_t max_side = 0);

}  // namespace cnn
