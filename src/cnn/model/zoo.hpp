/// \file
/// \ingroup ch06
/// \brief The models the chapters train: Géron's model, a LeNet-style one, a tiny one.
///
/// \ref chapter06 "Chapter 06" trains them and \ref chapter07 "chapter 07" times them, so they are
/// written once, here.
#pragma once

#include <cstdint>
#include <string>

#include "cnn/model/sequential.hpp"

namespace cnn {

/// Géron's model (Hands-On Machine Learning, 2nd ed., chapter 14): five convolutions
/// in three stages, 1,413,834 parameters. `dropout` is the rate of its two Dropout layers
/// (Géron's 0.5; \ref chapter08 "chapter 08" trains it with 0 to see what they do).
/// \param seed fixes the initial weights, the shuffling and the dropout masks
/// \param dropout the rate of both Dropout layers, in [0, 1)
/// \return the model, not yet built
Sequential seed_model(std::uint64_t seed, float dropout = 0.5f);

/// A LeNet-style model: two small convolutions, two poolings, three Dense layers.
/// \param seed fixes the initial weights and the shuffling
/// \return the model, not yet built
Sequential lenet_model(std::uint64_t seed);

/// One convolution, one pooling, one Dense layer: for quick runs.
/// \param seed fixes the initial weights and the shuffling
/// \return the model, not yet built
Sequential tiny_model(std::uint64_t seed);

/// The model called `name`: "seed", "lenet" or "tiny"; anything else is an error.
/// \param name "seed", "lenet" or "tiny"
/// \param seed passed to the model's function
/// \return the model, not yet built
/// \throws std::invalid_argument for any other name
Sequential make_model(const std::string& name, std::uint64_t seed);

}  // namespace cnn
