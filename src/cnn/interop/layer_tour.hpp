/// \file
/// \ingroup ch12
/// \brief One small graph model with every layer the book built, for checking an export to
/// another framework end to end.
///
/// An exporter is right when the other framework computes what this library computes, layer by
/// layer. layer_tour_model() puts every layer class of chapters 01-11 into one graph, each at a
/// geometry where mistakes show (uneven 'same' padding in convolutions and both poolings, an
/// even kernel, overlapping pooling windows, padding an average must leave out, a crop with an
/// odd margin, an Add of three inputs, a transposed convolution whose kernel is smaller than its
/// stride, batch normalization of maps and of vectors), so that one comparison of outputs checks
/// them all:
///
///     input (2, 12, 10) -> RandomFlip -> RandomTranslation -> RandomCrop(9, 8)
///       h = Conv2D(4, 3, 'same', relu)   f = Conv2D(4, 4x3, 'same') -> BN -> ReLU   e = Conv2D(4, 1)
///       Add(h, f, e) -> MaxPooling2D(2, stride 1, 'same') -> Conv2D(6, 3, strides 2 and 1)
///       UpSampling2D(2, 3) nearest | Conv2DTranspose(6, 3, strides 2 and 3, 'same') | bilinear
///       -> Concatenate (18, 8, 18) -> Conv2DTranspose(4, 1, stride 2) (4, 16, 36)
///       -> AveragePooling2D(3, stride 2, 'same') (4, 8, 18)
///       g = GlobalAveragePooling2D -> Dense(8) -> BN    l = Flatten -> Dense(8, relu)
///       Add(g, l) -> Dropout(0.5) -> Dense(5) -> Softmax
///
/// Rows and columns differ at every step, so that an attribute written with the two swapped
/// changes the numbers, not only a shape.
#pragma once

#include <cstdint>

#include "cnn/model/graph.hpp"

namespace cnn {

/// The graph above, built, with random weights: the batch normalization's moving statistics
/// and scales drawn too (moving means from N(0, 1), variances from U(0.5, 2), gamma from
/// U(0.5, 1.5), beta from N(0, 1)), so that it does not start as the identity it would be
/// before training.
/// \param seed fixes the weights (and, in training, the augmentation's draws)
/// \return the model, built
Graph layer_tour_model(std::uint64_t seed);

}  // namespace cnn
