/// \file
/// \ingroup ch11
/// \brief Segmentation networks: the hourglass (encoder-decoder) and the U-Net, which adds skip
/// connections.
///
/// Both take a (1, H, W) image to (K, H, W) logits, one set per pixel:
///
///     96x96  conv 16 ───────────────────────────────────────── concat ─ conv 16 ─ conv 1x1, K
///              │ pool                                           ▲ up 16
///     48x48  conv 32 ─────────────────────── concat ─ conv 32 ──┘
///              │ pool                         ▲ up 32
///     24x24  conv 64 ───── concat ─ conv 64 ──┘
///              │ pool       ▲ up 64
///     12x12  conv 128 ──────┘
///
/// Each row is one size. Every "conv n" is a 3x3 convolution ('same') with n filters, batch
/// normalization and ReLU; "pool" is 2x2 max pooling, down a row; "up n" doubles H and W, up a
/// row, by a 2x2 transposed convolution of stride 2 with n filters or by nearest-neighbour
/// upsampling (which keeps the channels; the 3x3 convolution after it does the rest). "concat"
/// joins the encoder's map of that size (the long arrow, the skip) and the upsampled one, in
/// that order, along the channels; the hourglass has no skips and no concat. The encoder (left)
/// compresses the image into a 12x12 map of 128 channels that says *what* is where, coarsely;
/// the decoder (right) brings it back to full size. Without the skips (the hourglass) the
/// decoder must rebuild every edge from that coarse map. With them (the U-Net, Ronneberger et
/// al., 2015) it concatenates, at each size, the encoder's map of the same size: the detail max
/// pooling threw away comes back through the shortcut.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cnn/model/graph.hpp"

namespace cnn {

/// How the decoder makes its maps larger.
enum class Upsampling {
    transposed,  ///< Conv2DTranspose 2x2, stride 2
    nearest,     ///< UpSampling2D(2), nearest neighbour; the convolution after it does the rest
};

/// The shape of a segmentation network.
struct SegmentationModelOptions {
    std::size_t height = 96;                      ///< H, a multiple of 2^levels
    std::size_t width = 96;                       ///< W, the same
    std::size_t classes = 11;                     ///< K: pixel classes (background and 10 items)
    std::vector<std::size_t> filters{16, 32, 64}; ///< the encoder's channels at each size
    std::size_t bottleneck = 128;                 ///< the channels at the smallest size
    bool skips = true;                            ///< U-Net (true) or hourglass (false)
    Upsampling upsampling = Upsampling::transposed;  ///< how the decoder doubles the size
};

// [segmentation_model]
/// The network of the file's drawing, with `options.filters.size()` levels.
/// \param options sizes, classes, skips and upsampling
/// \param seed the initial weights
/// \return the model: (1, H, W) images in, (K, H, W) logits out
/// \throws std::invalid_argument for no level, a zero size, or H or W not divisible by
///         2^levels
Graph segmentation_model(const SegmentationModelOptions& options, std::uint64_t seed);
// [segmentation_model]

}  // namespace cnn
