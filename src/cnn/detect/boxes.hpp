/// \file
/// \ingroup ch10
/// \brief Bounding boxes: corners, centre and size, YOLO's cell encoding, intersection over union.
///
/// A detector answers "what is where" with one rectangle per object, its bounding box. This
/// file holds the three ways the chapter writes a box down and the one number that compares
/// two boxes.
///
/// **Coordinates.** A Box is in the pixel coordinates of its image: x runs to the right, y
/// runs down, and pixel (row r, column c) covers the square [c, c+1) x [r, r+1). A box around
/// exactly the pixels of rows 2..4 and columns 3..7 is therefore {3, 2, 8, 5}: its width
/// 8 - 3 = 5 is the number of columns it covers. (The Pascal VOC devkit counts the corner
/// pixels themselves and adds 1 to every width and height; this book does not.)
///
/// **Intersection over union.** Two boxes overlap well when their common area is a large part
/// of the area they cover together:
/// \f[ \mathrm{IoU}(A, B) = \frac{|A \cap B|}{|A \cup B|}
///                        = \frac{|A \cap B|}{|A| + |B| - |A \cap B|} \f]
/// 1 for the same box, 0 for boxes that do not overlap or only touch along an edge. It is the
/// rule that says whether a detection found an object (cnn/detect/average_precision.hpp) and
/// whether two detections are the same one (cnn/detect/nms.hpp).
///
/// **YOLO's encoding.** YOLO (Redmon et al., 2016) lays an S x S grid over the image. The cell
/// that holds a box's centre is responsible for it and predicts four numbers: the centre's
/// place inside that cell (x, y, as fractions of a cell) and the box's size (w, h, as fractions
/// of the image). All four are of order 1 whatever the image's size, which suits a network's
/// outputs. GridBox is that encoding; to_grid() and from_grid() convert.
#pragma once

#include <cstddef>

namespace cnn {

/// A rectangle in the pixel coordinates of an image (x to the right, y down; pixel (r, c)
/// covers [c, c+1) x [r, r+1)), given by its corners. A box with x_max <= x_min or
/// y_max <= y_min is empty: its area is 0.
struct Box {
    float x_min = 0;  ///< left edge
    float y_min = 0;  ///< top edge
    float x_max = 0;  ///< right edge
    float y_max = 0;  ///< bottom edge
};

/// The same rectangle given by its centre and its size.
struct CentreSize {
    float x = 0;  ///< the centre's x: (x_min + x_max) / 2
    float y = 0;  ///< the centre's y: (y_min + y_max) / 2
    float w = 0;  ///< the width: x_max - x_min
    float h = 0;  ///< the height: y_max - y_min
};

/// A box as a YOLO grid cell predicts it (see the file's description).
struct GridBox {
    std::size_t row = 0;     ///< the cell's row in the grid, 0 at the top
    std::size_t column = 0;  ///< the cell's column in the grid, 0 at the left
    float x = 0;  ///< the centre's offset from the cell's left edge, in cell widths: [0, 1)
    float y = 0;  ///< the centre's offset from the cell's top edge, in cell heights: [0, 1)
    float w = 0;  ///< the box's width as a fraction of the image's width
    float h = 0;  ///< the box's height as a fraction of the image's height
};

/// The area of `box`, (x_max - x_min)(y_max - y_min), or 0 for an empty box (x_max <= x_min or
/// y_max <= y_min) and for a box with a NaN coordinate.
/// \param box any box
/// \return its area, at least 0
float box_area(const Box& box);

/// The area of the rectangle that `a` and `b` have in common: 0 when they do not overlap,
/// touch only along an edge or at a corner, or one of them is empty.
/// \param a a box
/// \param b another box
/// \return the common area, at least 0
float intersection_area(const Box& a, const Box& b);

/// Intersection over union: |a ∩ b| / (|a| + |b| - |a ∩ b|), in [0, 1] and symmetric in a and
/// b. When the union is 0 (both boxes empty) or not a finite number (a coordinate that is
/// infinite or NaN), the result is 0: never NaN.
/// \param a a box
/// \param b another box
/// \return IoU(a, b)
float intersection_over_union(const Box& a, const Box& b);

/// `box` given by its centre and size.
/// \param box a box given by its corners
/// \return centre ((x_min + x_max) / 2, (y_min + y_max) / 2), size (x_max - x_min, y_max - y_min)
CentreSize to_centre_size(const Box& box);

/// The box with the given centre and size: corners (x - w/2, y - h/2) and (x + w/2, y + h/2).
/// \param centre_size a centre and a size
/// \return the box given by its corners
Box from_centre_size(const CentreSize& centre_size);

/// YOLO's encoding of `box` in an image of image_height x image_width pixels under a grid of
/// grid x grid cells. A cell is image_width / grid pixels wide and image_height / grid high
/// (not necessarily whole numbers); the box's centre (cx, cy) lies in column floor(cx grid / W)
/// and row floor(cy grid / H), except that a centre exactly on the image's right (bottom) edge
/// belongs to the last column (row), where its offset x (y) is then 1. Only the centre must lie
/// in the image: a box may reach beyond the image's edges (w or h may exceed 1).
/// \param box a box with x_min <= x_max and y_min <= y_max, finite coordinates
/// \param image_height H, in pixels, at least 1
/// \param image_width W, in pixels, at least 1
/// \param grid S, the number of cells along each side, at least 1
/// \return the cell that holds the centre, the centre's offset in it, the size in image fractions
/// \throws std::invalid_argument when a size or the grid is 0, the box is inverted or not
///         finite, or its centre lies outside the image [0, W] x [0, H]
GridBox to_grid(const Box& box, std::size_t image_height, std::size_t image_width,
                std::size_t grid);

/// The box that `cell` encodes, in an image of image_height x image_width pixels under a grid
/// of grid x grid cells: centre ((column + x) W / S, (row + y) H / S), size (w W, h H). The
/// inverse of to_grid(). An offset outside [0, 1), as an untrained network may predict, is
/// decoded as it is: its centre then lies in a neighbouring cell.
/// \param cell a cell of the grid, the centre's offset in it and the box's size
/// \param image_height H, in pixels, at least 1
/// \param image_width W, in pixels, at least 1
/// \param grid S, the number of cells along each side, at least 1
/// \return the box in pixel coordinates
/// \throws std::invalid_argument when a size or the grid is 0, the cell is outside the grid, an
///         offset or size is not finite, or w or h is negative
Box from_grid(const GridBox& cell, std::size_t image_height, std::size_t image_width,
              std::size_t grid);

}  // namespace cnn
