/// \file
/// \ingroup ch10
/// \brief A YOLO v1-style detector: the grid, the targets, the loss term by term, and the
/// decoding of its output into boxes.
///
/// YOLO ("you only look once", Redmon et al., 2016) lays an S x S grid over the image. The cell
/// that holds an object's centre answers for it. For every cell the network predicts B boxes,
/// each with a confidence ("is there an object here, and how well does my box fit it"), and
/// one set of class probabilities. A convolutional network whose last layer has
/// \f$B \cdot 5 + C\f$ channels and S x S positions computes all of it in one forward pass.
///
/// The output tensor (N, B * 5 + C, S, S) holds, for cell (i, j) of image n, in channel order:
/// for each predictor b, five numbers \f$t_x, t_y, t_w, t_h, t_c\f$ at channels 5b .. 5b + 4,
/// then C class logits at channels 5B .. 5B + C - 1. They are read as
/// - the box centre \f$x = (j + \sigma(t_x)) W / S\f$, \f$y = (i + \sigma(t_y)) H / S\f$: the
///   centre stays inside its cell;
/// - the box size \f$w = \sigma(t_w)^2 W\f$, \f$h = \sigma(t_h)^2 H\f$: YOLO predicts the square
///   roots of the size, so that an error of a few pixels costs a small box more than a large one;
/// - the confidence \f$\hat C = \sigma(t_c)\f$;
/// - the class probabilities \f$p(c) = \mathrm{softmax}(\text{logits})_c\f$.
///
/// The paper leaves the coordinates linear; the logistic function here (from YOLO v2) keeps every
/// prediction in range from the first step, which makes training from scratch stable.
#pragma once

#include <cstddef>
#include <vector>

#include "cnn/detect/boxes.hpp"
#include "cnn/detect/nms.hpp"
#include "cnn/detect/scenes.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The grid, what each cell predicts, and the loss's weights.
struct YoloOptions {
    std::size_t image_height = 96;  ///< H, the input's height in pixels
    std::size_t image_width = 96;   ///< W
    std::size_t grid = 6;           ///< S: the grid has S x S cells
    std::size_t boxes = 2;          ///< B: boxes each cell predicts
    std::size_t classes = 10;       ///< C
    float coordinate_weight = 5.0f; ///< \f$\lambda_{coord}\f$, the paper's 5
    float no_object_weight = 0.5f;  ///< \f$\lambda_{noobj}\f$, the paper's 0.5
    /// The confidence a responsible predictor must learn: its box's IoU with the truth (true,
    /// the paper's definition, darknet's `rescore`), or 1 (false).
    bool rescore = true;
};

/// The output channels a YOLO head needs: B * 5 + C.
/// \param options the grid
/// \return the number of channels
std::size_t yolo_channels(const YoloOptions& options);

/// What one predictor must learn: the predictor responsible for one true box.
struct YoloTarget {
    std::size_t image = 0;      ///< n
    std::size_t row = 0;        ///< the cell's row i
    std::size_t column = 0;     ///< the cell's column j
    std::size_t predictor = 0;  ///< b, the predictor whose box overlaps the truth most
    std::size_t label = 0;      ///< the true class
    float x = 0.0f;             ///< the true centre's offset in the cell, in [0, 1)
    float y = 0.0f;             ///< the same, down
    float sqrt_w = 0.0f;        ///< the square root of the true width, as a fraction of W
    float sqrt_h = 0.0f;        ///< the same for the height
    float confidence = 1.0f;    ///< what \f$\hat C\f$ must become: the IoU, or 1
};

/// Every target of a batch, and the true boxes no predictor could answer for.
struct YoloTargets {
    std::vector<YoloTarget> targets;  ///< at most one per cell
    /// True boxes whose cell already answers for a larger box: YOLO v1's grid sees one object
    /// per cell, so these are not trained on.
    std::size_t unassigned = 0;
};

// [assign_targets]
/// Decides which predictor answers for each true box: the cell that holds the box's centre,
/// and in it the predictor whose current box has the highest IoU with the truth (the first on
/// a tie). When two truths share a cell, the larger keeps it. This step has no derivative: it
/// runs once per training step, before the loss, as in darknet.
/// \param outputs the network's output (N, B * 5 + C, S, S)
/// \param truths for each of the N images, its true boxes
/// \param options the grid
/// \return the targets, in image, then row, then column order
/// \throws std::invalid_argument for outputs of another shape, truths for another number of
///         images, a label >= C, or a box centre outside the image
YoloTargets assign_targets(const Tensor4& outputs,
                           const std::vector<std::vector<LabelledBox>>& truths,
                           const YoloOptions& options);
// [assign_targets]

/// The loss of a batch, term by term, and its gradient.
struct YoloLoss {
    double coordinates = 0.0;  ///< \f$\lambda_{coord}\f$ times the squared errors of x, y, sqrt w, sqrt h
    double object = 0.0;       ///< the squared confidence errors of the responsible predictors
    double no_object = 0.0;    ///< \f$\lambda_{noobj}\f$ times the squared confidences of all others
    double classes = 0.0;      ///< the squared errors of the class probabilities, cells with an object
    double total = 0.0;        ///< their sum; every term is a mean over the batch's images
    Tensor4 gradient;          ///< d total / d outputs, the shape of the outputs
};

// [yolo_loss]
/// YOLO v1's sum-squared loss of `outputs` for fixed `targets`, divided by the batch size N:
/// \f[ \lambda_{coord} \sum_{obj} \left[(\sigma(t_x) - x)^2 + (\sigma(t_y) - y)^2
///     + (\sigma(t_w) - \sqrt{w})^2 + (\sigma(t_h) - \sqrt{h})^2\right]
///     + \sum_{obj} (\hat C - C)^2 + \lambda_{noobj} \sum_{noobj} \hat C^2
///     + \sum_{cells\ with\ obj} \sum_c (p(c) - [c = label])^2 \f]
/// where "obj" runs over the responsible predictors and "noobj" over every other predictor of
/// every cell.
/// \param outputs the network's output (N, B * 5 + C, S, S)
/// \param targets from assign_targets() on the same outputs
/// \param options the grid and the weights
/// \return the four terms, their sum, and the gradient
/// \throws std::invalid_argument for outputs of another shape or a target outside them
YoloLoss yolo_loss(const Tensor4& outputs, const YoloTargets& targets, const YoloOptions& options);
// [yolo_loss]

// [yolo_detections]
/// Every box image n's output predicts whose score reaches `min_score`: S * S * B at most,
/// before non-maximum suppression. The score of predictor b in a cell is YOLO's class-specific
/// confidence \f$\hat C_b \cdot \max_c p(c)\f$ and its label that class.
/// \param outputs the network's output (N, B * 5 + C, S, S)
/// \param n the image, below N
/// \param options the grid
/// \param min_score the confidence threshold
/// \return the detections, in cell and predictor order, boxes clipped to the image
/// \throws std::invalid_argument for outputs of another shape or n >= N
std::vector<Detection> yolo_detections(const Tensor4& outputs, std::size_t n,
                                       const YoloOptions& options, float min_score);
// [yolo_detections]

/// The box predictor b of cell (i, j) of image n proposes, in pixels (not clipped).
/// \param outputs the network's output (N, B * 5 + C, S, S)
/// \param n the image
/// \param i the cell's row
/// \param j the cell's column
/// \param b the predictor
/// \param options the grid
/// \return the decoded box
Box predicted_box(const Tensor4& outputs, std::size_t n, std::size_t i, std::size_t j,
                  std::size_t b, const YoloOptions& options);

/// The chapter's detector: four blocks of 3x3 convolution, batch normalization, ReLU and 2x2
/// max pooling (16, 32, 64, 128 filters) take an image from H x W to H/16 x W/16; a 3x3
/// convolution of 256 filters with batch normalization and ReLU looks at each cell's
/// neighbours; a 1x1 convolution gives the B * 5 + C numbers of every cell.
/// \param options the grid; H and W must be 16 times S
/// \param seed the initial weights
/// \return the model, built for (1, H, W) inputs
/// \throws std::invalid_argument when H or W is not 16 * S
Sequential yolo_model(const YoloOptions& options, std::uint64_t seed);

}  // namespace cnn
