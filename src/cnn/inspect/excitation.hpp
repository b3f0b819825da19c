/// \file
/// \ingroup ch09
/// \brief What excites a unit most: the strongest test-image patches of each channel, cut to
/// the receptive field the unit sees.
///
/// Every channel of a convolution layer is one detector applied at every position. To see
/// what it detects, run many images through the network, note for each image where the
/// channel responds most and how strongly, and keep the images where it responds most of all
/// (Zeiler and Fergus, 2014, show such patches for every layer of their network). Each
/// response comes from a window of the input, the unit's receptive field
/// (\ref chapter04 "chapter 04's" arithmetic, cnn/ops/receptive_field.hpp); cutting that window out
/// of the image shows what the unit saw. Low layers see a few pixels and respond to edges and
/// spots; higher layers see most of the image and respond to parts and shapes.
#pragma once

#include <cstddef>
#include <vector>

#include "cnn/model/sequential.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// One strong response of one channel: in which image, at which position, how strong.
struct Excitation {
    std::size_t image = 0;  ///< row of x given to strongest_excitations()
    std::size_t row = 0;    ///< the position in the layer's output map
    std::size_t col = 0;    ///< the column of that position
    float value = 0.0f;     ///< the layer's output there (after its activation)
};

// [strongest_excitations]
/// For every channel of layer `layer`'s output (N, C, H, W): each image's strongest position
/// in that channel, and the `count` images where it is strongest, strongest first (ties go to
/// the lower image index). Result[c] has min(count, N) entries. The images run through the
/// network `batch_size` at a time (forward_to(), inference mode).
std::vector<std::vector<Excitation>> strongest_excitations(Sequential& model, const Tensor4& x,
                                                           std::size_t layer, std::size_t count,
                                                           std::size_t batch_size = 256);
// [strongest_excitations]

// The parameters of the declarations a chapter page quotes, kept out of the quoted lines.
// clang-format off
/// \fn std::vector<std::vector<Excitation> > strongest_excitations(Sequential& model, const Tensor4& x, std::size_t layer, std::size_t count, std::size_t batch_size)
/// \param model a built model whose layer `layer` outputs maps (N, C, H, W)
/// \param x the images (N, the model's input shape)
/// \param layer the layer's index in the model
/// \param count how many images to keep per channel
/// \param batch_size images per forward pass, at least 1
/// \return C lists of the strongest responses, strongest first
/// \throws std::invalid_argument for a batch_size of 0, a layer index past the last layer or
///         images of the wrong shape
// clang-format on

/// A rectangle of the input, which may reach past its borders (into the padding).
struct InputWindow {
    std::ptrdiff_t top = 0;   ///< first row (negative: above the image)
    std::ptrdiff_t left = 0;  ///< first column
    std::size_t rows = 1;     ///< height
    std::size_t cols = 1;     ///< width
};

/// The input window that unit (row, col) of layer `layer`'s output sees: the receptive field
/// of cnn/ops/receptive_field.hpp along each axis, from the kernel, stride and padding of
/// every Conv2D and pooling layer up to and including `layer` (other layers, such as
/// activations, dropout and batch normalization, work pixel by pixel and change nothing).
/// Throws std::invalid_argument when a layer on the way mixes all positions (Flatten, Dense,
/// global pooling): its units see the whole input.
/// \param model the model
/// \param layer the layer's index in the model
/// \param row the unit's row in the layer's output
/// \param col the unit's column in the layer's output
/// \return the window, in input pixels
/// \throws std::invalid_argument also for a layer index past the last layer
InputWindow receptive_window(Sequential& model, std::size_t layer, std::size_t row, std::size_t col);

/// The part of image (C, H, W) inside `window`, as (C, rows, cols); what lies outside the
/// image is `fill` (0: the zeros 'same' padding adds).
/// \param image the image (C, H, W)
/// \param window the rectangle, which may reach past the image
/// \param fill the value of the pixels outside the image
/// \return (C, window.rows, window.cols)
Tensor3 crop_window(const Tensor3& image, const InputWindow& window, float fill = 0.0f);

}  // namespace cnn
