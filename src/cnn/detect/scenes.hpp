/// \file
/// \ingroup ch10
/// \brief Scenes for object detection: Fashion-MNIST items scattered on a black canvas, with
/// the true box and class of every item.
///
/// Debian ships no detection data set, so chapter 10 makes one that anyone can regenerate
/// bit for bit: each scene is a square canvas with one to four items, each item a
/// Fashion-MNIST image scaled to a random size and pasted at a random position. What a
/// detector must learn is then known exactly: the box around each item's ink and its class.
///
/// How a scene is drawn, for scene s of make_scenes() with a generator seeded by `seed`:
/// 1. the number of items, uniform in [min_items, max_items];
/// 2. for each item: a source image, uniform over `items`; a side, uniform in
///    [min_side, max_side] pixels, to which the 28x28 image is scaled (bilinear, pixel centres
///    aligned); a position, uniform over the places where the scaled image lies inside the
///    canvas. The item's box is the smallest rectangle holding every pixel of the scaled image
///    brighter than `ink`. A position whose box overlaps an earlier item's box with an
///    intersection over union above `max_overlap` is drawn again, up to 100 times; after that
///    the scene keeps the items it has.
/// 3. The canvas is the pixelwise maximum of the pasted items: bright clothes on black, where
///    two items overlap the brighter pixel shows.
///
/// Chapter 11 (segmentation) labels each pixel from the same placements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cnn/detect/boxes.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// What a detector must find: a box and its class.
struct LabelledBox {
    Box box;                ///< in the scene's pixels
    std::size_t label = 0;  ///< the class index
};

/// One item of a scene: where it came from and where it went.
struct SceneItem {
    LabelledBox truth;        ///< the box around its ink, and its class
    std::size_t source = 0;   ///< its index in the `items` make_scenes() was given
    std::size_t top = 0;      ///< the row of the canvas where the scaled image's first row lies
    std::size_t left = 0;     ///< the column of its first column
    std::size_t side = 0;     ///< the scaled image's height and width, in pixels
};

/// How scenes are drawn.
struct SceneOptions {
    std::size_t size = 96;       ///< the canvas's height and width, in pixels
    std::size_t min_items = 1;   ///< the fewest items in a scene, at least 1
    std::size_t max_items = 4;   ///< the most, at least min_items
    std::size_t min_side = 24;   ///< the smallest side an item is scaled to, at least 8
    std::size_t max_side = 44;   ///< the largest, at least min_side and at most `size`
    float max_overlap = 0.2f;    ///< the largest IoU allowed between two items' boxes, in [0, 1]
    float ink = 0.2f;            ///< the brightness above which a pixel is part of an item
};

/// A set of scenes: the images and, for each, its items.
struct Scenes {
    Tensor4 images;                             ///< (N, 1, size, size), values in [0, 1]
    std::vector<std::vector<SceneItem>> items;  ///< N lists, one per scene
    /// The true boxes of scene n, what a detector is trained and judged on.
    /// \param n the scene, below the number of scenes
    /// \return its items' boxes and classes, in the order they were placed
    std::vector<LabelledBox> truths(std::size_t n) const;
};

// [make_scenes]
/// `count` scenes drawn from `items` (M, 1, 28, 28) and their `labels`, deterministic in `seed`.
/// \param items the images to scatter, values in [0, 1]; at least one
/// \param labels one class per image
/// \param count how many scenes
/// \param options the canvas and how items are placed
/// \param seed decides every choice; the same seed gives the same scenes
/// \return the scenes
/// \throws std::invalid_argument for options out of range, no items, or labels and items of
///         different lengths
Scenes make_scenes(const Tensor4& items, const Labels& labels, std::size_t count,
                   const SceneOptions& options, std::uint64_t seed);
// [make_scenes]

/// `image` (H, W) scaled to (height, width) by bilinear interpolation, pixel centres aligned:
/// output pixel (i, j) samples the input at ((i + 0.5) H / height - 0.5, (j + 0.5) W / width
/// - 0.5), clamped to the image.
/// \param image the image, at least 1x1
/// \param height the result's height, at least 1
/// \param width the result's width, at least 1
/// \return the scaled image
/// \throws std::invalid_argument for an empty image or a zero size
Tensor2 resize_bilinear(const Tensor2& image, std::size_t height, std::size_t width);

/// The smallest box holding every pixel of `image` brighter than `ink`, in its pixel
/// coordinates (a pixel (r, c) covers [c, c + 1) x [r, r + 1)); an all-zero box when none is.
/// \param image (H, W)
/// \param ink the threshold
/// \return the box
Box ink_box(const Tensor2& image, float ink);

}  // namespace cnn
