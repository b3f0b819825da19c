/// \file
/// \ingroup ch12
/// \brief One small graph model with every layer the book built, for checking an export to
/// another framework end to end.
///
/// An exporter is right when the other framework computes what this library computes, layer by
/// layer. layer_tour_model() puts every layer class of chapters 01-11 into one graph, each at a
/// geometry where mistakes show (asymmetric 'same' padding, an even kernel, overlapping pooling
/// windows, padding an average must leave out, a transposed convolution whose kernel is smaller
/// than its stride), so that one comparison of outputs checks them all:
///
///     input (2, 12, 12) -> RandomFlip -> RandomTranslation -> RandomCrop(10, 10)
///       h = Conv2D(4, 3, 'same', relu)          f = Conv2D(4, 4, 'same') -> BN -> ReLU   (h)
///       r = Add(h, f) -> MaxPooling2D(3, stride 1, 'same') -> Conv2D(6, 3, stride 2)  (6, 4, 4)
///       UpSampling2D nearest | Conv2DTranspose(6, 3, stride 2, 'same') | UpSampling2D bilinear
///       -> Concatenate (18, 8, 8) -> Conv2DTranspose(4, 1, stride 2) (4, 16, 16)
///       -> AveragePooling2D(3, 'same') (4, 6, 6)
///       g = GlobalAveragePooling2D -> Dense(8)      l = Flatten -> Dense(8, relu)
///       Add(g, l) -> Dropout(0.5) -> Dense(5) -> Softmax
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
