/// \file
/// \ingroup ch08
/// \brief Data augmentation as layers: RandomFlip, RandomTranslation and RandomCrop.
///
/// **What augmentation is for.** A convolution slides the same filters over the whole image,
/// so a pattern moved by a few pixels gives the same responses, moved with it
/// (\ref chapter05 "chapter 05" calls this equivariance). The network as a whole is still not
/// shift-invariant: padding treats the border differently, max pooling with stride 2 absorbs
/// some one-pixel shifts and not others (\ref chapter05 "chapter 05" again), and the Dense layers
/// after Flatten give every position its own weights. \ref chapter01 "Chapter 01" showed what a
/// shift costs a network that never saw one: accuracy falls within a few pixels. Augmentation shows
/// the network each training image in a new version at every epoch (mirrored, moved a few pixels,
/// cut from another place) under the same label. It learns that these changes do not matter, and it
/// cannot memorise 60,000 fixed pictures, so it overfits less.
///
/// We choose the invariances, and they must hold for the data. A jacket mirrored left to
/// right is still a jacket, so RandomFlip("horizontal") suits Fashion-MNIST. Up and down are
/// another matter: every Fashion-MNIST picture stands upright, a shoe's sole at the bottom
/// and a bag's handle on top. Flipped upside down they show something the data set never
/// holds, and the network would spend its capacity on telling such pictures apart instead of
/// the real ones; so do not use "vertical" here (it suits pictures with no up, such as cells
/// under a microscope or aerial photographs).
///
/// **Why layers.** Keras writes augmentation as preprocessing layers at the front of the
/// model, and so does this book. They travel with the model: every program that trains it
/// augments the same way, with no separate pipeline to forget. They draw anew for every batch
/// while it trains, so no augmented copies are stored. And they switch themselves off at
/// inference: with `training` false (evaluate(), predict()) RandomFlip and RandomTranslation
/// pass their input through untouched and RandomCrop takes the centred window, so the model
/// is measured on the real pictures.
///
/// **Draws.** Each image of a batch gets its own draw, from the generator the layer was built
/// with: the model's, as Dropout's masks (layers/dropout.hpp). A seed therefore fixes every
/// augmented batch, and a checkpoint, which saves the generator's state, resumes a run bit
/// for bit. The arithmetic is ops/augment.hpp; the backward passes send the gradient back to
/// the pixels it came from (at the front of a model nobody needs that gradient, but a layer
/// placed further in does, and the tests check it).
///
/// Where these layers differ from Keras's, their own documentation says so.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "cnn/layers/layer.hpp"
#include "cnn/ops/augment.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Which mirror images RandomFlip may take, named as Keras names them.
enum class FlipMode {
    horizontal,              ///< left-right: the columns reversed
    vertical,                ///< upside down: the rows reversed
    horizontal_and_vertical  ///< either, drawn independently
};

/// Reads Keras's names "horizontal", "vertical", "horizontal_and_vertical"; anything else is
/// an error that lists them.
/// \param mode the mode's name
/// \return the mode it names
/// \throws std::invalid_argument for any other name
FlipMode parse_flip_mode(const std::string& mode);

/// Everything a RandomFlip layer can be asked for.
struct RandomFlipOptions {
    /// Keras's default; Fashion-MNIST wants FlipMode::horizontal (see the file comment).
    FlipMode mode = FlipMode::horizontal_and_vertical;
};

/// In training, mirrors each image with probability 1/2; at inference, passes it through.
///
/// For every image, in batch order, "horizontal" draws one uniform number u and flips left to
/// right when u < 1/2; "vertical" the same, upside down; "horizontal_and_vertical" draws
/// twice, first for left-right, then for upside down, so each of the four mirror images comes
/// with probability 1/4. (Keras 3 uses one draw for both in this mode, so an image is either
/// left alone or turned by 180 degrees; Keras 2 and torchvision draw independently, as here.)
class RandomFlip : public KerasLayer<RandomFlip> {
public:
    /// `mode` as Keras's: "horizontal", "vertical" or "horizontal_and_vertical".
    /// \param mode which mirror images the layer may take
    /// \throws std::invalid_argument for any other mode
    explicit RandomFlip(const std::string& mode = "horizontal_and_vertical");
    /// The same, from its options.
    /// \param options the mode
    explicit RandomFlip(const RandomFlipOptions& options) : options_(options) {}
    std::string type() const override { return "RandomFlip"; }
    std::string default_name() const override { return "random_flip"; }
    /// Expects images (C, H, W) and keeps `rng` for the draws; the output shape is the input's.
    /// \param input_shape (C, H, W)
    /// \param rng the model's generator, which must outlive the layer's forward passes
    /// \return `input_shape`
    /// \throws std::invalid_argument for another rank
    Shape build(const Shape& input_shape, Rng& rng) override;
    /// The options it was made with.
    /// \return the mode
    const RandomFlipOptions& options() const { return options_; }
    /// The flips of the last training forward pass, one per image (empty after an inference
    /// pass).
    /// \return the draws, in batch order
    const std::vector<Flip>& last_flips() const { return flips_; }

protected:
    /// The draws of the last training pass.
    /// \return the number of bytes
    std::size_t kept_by_operation() const override { return flips_.size() * sizeof(Flip); }
    /// x is (N, C, H, W); returns (N, C, H, W), flipped as drawn when `training`.
    /// \param x the images (N, C, H, W)
    /// \param training true to draw and flip; false to pass x through
    /// \return the images, flipped or not
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    /// dy is (N, C, H, W); returns dx: dy flipped back as the last forward pass flipped.
    /// \param dy the gradient of the output (N, C, H, W)
    /// \return dx (N, C, H, W)
    /// \throws std::invalid_argument unless dy has the last output's shape
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    RandomFlipOptions options_;
    Rng* rng_ = nullptr;                    // the model's generator, set by build()
    std::vector<Flip> flips_;               // the last training pass's draws
    std::array<std::size_t, 4> y_shape_{};  // what the last forward() returned
    bool ran_ = false;                      // whether forward() has run
};

/// Everything a RandomTranslation layer can be asked for: the largest shift each way, as a
/// fraction of the image's size (Keras's height_factor and width_factor as one number each).
struct RandomTranslationOptions {
    float height_factor = 0.0f;  ///< up or down by at most this fraction of H, in [0, 1)
    float width_factor = 0.0f;   ///< left or right by at most this fraction of W, in [0, 1)
};

/// The largest whole-pixel shift `factor` allows on `size` pixels: factor * size rounded
/// down. A product within 1e-4 below a whole number counts as that number, so that 0.7 of 10
/// is 7 although 0.7f * 10 is 6.9999999 in float arithmetic.
/// \param factor a fraction of the size, in [0, 1)
/// \param size the number of pixels along the axis (H or W)
/// \return the shift, in whole pixels
std::size_t max_translation(float factor, std::size_t size);

/// In training, moves each image by a random whole number of pixels and fills the uncovered
/// border with 0; at inference, passes it through.
///
/// **The draw.** With kh = max_translation(height_factor, H) and kw likewise for W, each
/// image, in batch order, draws its rows down uniformly from the 2 kh + 1 whole numbers
/// -kh, ..., kh (Rng::below(2 kh + 1) - kh), then its columns right from -kw, ..., kw; every
/// shift in range is equally likely. RandomTranslation(0.1f, 0.1f) on 28 x 28 images moves
/// them by up to 2 pixels each way (0.1 * 28 = 2.8, rounded down).
///
/// **Where it differs from Keras.** Keras draws a real number in [-factor H, factor H] and
/// resamples the image between pixels (interpolation "bilinear"), filling the border by
/// reflection (fill_mode "reflect"). Whole pixels keep every value exact and make the layer a
/// plain copy whose backward pass is a copy back; rounding a real draw instead would make the
/// two largest shifts half as likely as the others. The fill is Keras's fill_mode="constant"
/// with fill_value 0, the background of Fashion-MNIST's pixels (after standardisation, 0 is
/// the mean pixel instead). Keras also accepts a negative factor or a pair (lower, upper);
/// here the range is symmetric and the factor in [0, 1).
class RandomTranslation : public KerasLayer<RandomTranslation> {
public:
    /// Keras's RandomTranslation(height_factor, width_factor); each in [0, 1).
    /// \param height_factor the largest shift up or down, as a fraction of H
    /// \param width_factor the largest shift left or right, as a fraction of W
    /// \throws std::invalid_argument unless both are in [0, 1)
    RandomTranslation(float height_factor, float width_factor)
        : RandomTranslation(RandomTranslationOptions{height_factor, width_factor}) {}
    /// The same, from its options. Throws std::invalid_argument, naming the factor, unless
    /// both are in [0, 1) (NaN and infinity are not).
    /// \param options the two factors
    explicit RandomTranslation(const RandomTranslationOptions& options);
    std::string type() const override { return "RandomTranslation"; }
    std::string default_name() const override { return "random_translation"; }
    /// Expects images (C, H, W), each factor either 0 or worth at least a whole pixel on them,
    /// and keeps `rng` for the draws; the output shape is the input's.
    /// \param input_shape (C, H, W)
    /// \param rng the model's generator, which must outlive the layer's forward passes
    /// \return `input_shape`
    /// \throws std::invalid_argument for another rank, or a factor worth less than a pixel
    Shape build(const Shape& input_shape, Rng& rng) override;
    /// The options it was made with.
    /// \return the two factors
    const RandomTranslationOptions& options() const { return options_; }
    /// The shifts of the last training forward pass, one per image (empty after an inference
    /// pass).
    /// \return the draws, in batch order
    const std::vector<Shift>& last_shifts() const { return shifts_; }

protected:
    /// The draws of the last training pass.
    /// \return the number of bytes
    std::size_t kept_by_operation() const override { return shifts_.size() * sizeof(Shift); }
    /// x is (N, C, H, W); returns (N, C, H, W), moved as drawn when `training`.
    /// \param x the images (N, C, H, W)
    /// \param training true to draw and move; false to pass x through
    /// \return the images, moved or not
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    /// dy is (N, C, H, W); returns dx: dy moved back, 0 where a pixel fell off the edge.
    /// \param dy the gradient of the output (N, C, H, W)
    /// \return dx (N, C, H, W)
    /// \throws std::invalid_argument unless dy has the last output's shape
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    RandomTranslationOptions options_;
    Rng* rng_ = nullptr;                    // the model's generator, set by build()
    std::vector<Shift> shifts_;             // the last training pass's draws
    std::array<std::size_t, 4> y_shape_{};  // what the last forward() returned
    bool ran_ = false;                      // whether forward() has run
};

/// Everything a RandomCrop layer can be asked for: the size of the window it cuts out.
struct RandomCropOptions {
    std::size_t height = 0;  ///< OH, the window's rows: at least 1, at most H
    std::size_t width = 0;   ///< OW, the window's columns: at least 1, at most W
};

/// Cuts an OH x OW window out of each image, (C, H, W) -> (C, OH, OW) in training and at
/// inference alike: in training at a random place, at inference in the centre.
///
/// **The draw.** Each image, in batch order, draws its window's top row uniformly from
/// 0, ..., H - OH (Rng::below(H - OH + 1)), then its left column from 0, ..., W - OW. At
/// inference the window is centred_corner(): when H - OH is odd, it sits one row nearer the
/// top than the bottom (a 28-row image cropped to 25 rows keeps rows 1 to 25: one row above
/// the window, two below), and likewise one column nearer the left than the right.
///
/// **Where it differs from Keras.** Keras's RandomCrop cuts the same window from every image
/// of a batch; here each image has its own, as with every other layer of this file. At
/// inference Keras resizes the image (its largest window of the target's aspect ratio, scaled
/// to the target size); here the centred window is taken as it is, as Keras's CenterCrop
/// layer does, so the network sees pixels at the same scale in training and at inference.
/// Keras also accepts images smaller than the window (and resizes them); here that is an
/// error when the model is built.
class RandomCrop : public KerasLayer<RandomCrop> {
public:
    /// Keras's RandomCrop(height, width): the window's size, each at least 1.
    /// \param height OH, the window's rows
    /// \param width OW, the window's columns
    /// \throws std::invalid_argument for a height or width of 0
    RandomCrop(std::size_t height, std::size_t width)
        : RandomCrop(RandomCropOptions{height, width}) {}
    /// The same, from its options. Throws std::invalid_argument for a height or width of 0.
    /// \param options the window's size
    explicit RandomCrop(const RandomCropOptions& options);
    std::string type() const override { return "RandomCrop"; }
    std::string default_name() const override { return "random_crop"; }
    /// Expects images (C, H, W) at least as large as the window and keeps `rng` for the draws;
    /// returns (C, OH, OW).
    /// \param input_shape (C, H, W) with H >= OH and W >= OW
    /// \param rng the model's generator, which must outlive the layer's forward passes
    /// \return (C, OH, OW)
    /// \throws std::invalid_argument for another rank or images smaller than the window
    Shape build(const Shape& input_shape, Rng& rng) override;
    /// The options it was made with.
    /// \return the window's size
    const RandomCropOptions& options() const { return options_; }
    /// The windows of the last forward pass, one per image: drawn in training, centred at
    /// inference.
    /// \return each window's top-left corner, in batch order
    const std::vector<Corner>& last_corners() const { return corners_; }

protected:
    /// The windows of the last forward pass.
    /// \return the number of bytes
    std::size_t kept_by_operation() const override { return corners_.size() * sizeof(Corner); }
    /// x is (N, C, H, W); returns (N, C, OH, OW): each image's window.
    /// \param x the images (N, C, H, W)
    /// \param training true for random windows; false for centred ones
    /// \return the windows (N, C, OH, OW)
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    /// dy is (N, C, OH, OW); returns dx (N, C, H, W): zeros, dy put back into each window.
    /// \param dy the gradient of the output (N, C, OH, OW)
    /// \return dx (N, C, H, W)
    /// \throws std::invalid_argument unless dy has the last output's shape
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    RandomCropOptions options_;
    Rng* rng_ = nullptr;                    // the model's generator, set by build()
    std::vector<Corner> corners_;           // the last forward pass's windows
    std::array<std::size_t, 4> x_shape_{};  // and its input's shape
    bool ran_ = false;                      // whether forward() has run
};

}  // namespace cnn
