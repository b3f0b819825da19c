/// \file
/// \ingroup ch01
/// \brief A multi-layer perceptron: Flatten, then Dense + ReLU layers, then a Dense softmax.
///
/// The network \ref chapter01 "chapter 01" puts to the test on images. Flatten turns each image
/// into a vector (and with it forgets which pixels were neighbours); every hidden layer is Dense
/// with a ReLU; the last Dense layer gives one score per class, which the softmax turns into
/// probabilities.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cnn/layers/layer.hpp"
#include "cnn/model/sequential.hpp"

namespace cnn {

/// The sizes of an MLP.
struct MlpOptions {
    Shape input_shape;                ///< e.g. {1, 28, 28}: an image, flattened first
    std::vector<std::size_t> hidden;  ///< units of each hidden layer, e.g. {256, 128}
    std::size_t classes = 0;          ///< K, the number of outputs
};

/// Flatten, a Dense + ReLU layer per entry of options.hidden, and Dense(classes) with a
/// softmax; `seed` fixes its weights and its training's shuffling.
/// \param options the input shape, the hidden layers' units and the classes
/// \param seed fixes the initial weights and the shuffling
/// \return the model, not yet built
Sequential mlp(const MlpOptions& options, std::uint64_t seed);

}  // namespace cnn
