/// \file
/// \ingroup ch01
/// \brief What every optimizer is: it moves the weights against their gradients, one step per
/// batch, and remembers whatever it needs from step to step.
///
/// A model is compiled with one optimizer (Sgd in \ref chapter01 "chapter 01", Adam from
/// \ref chapter06 "chapter 06") and calls step() after every backward pass. What an optimizer
/// remembers (SGD's velocities, Adam's running averages) is its state: a training checkpoint saves
/// it and puts it back, so a resumed run continues exactly where it stopped.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cnn/layers/parameter.hpp"

namespace cnn {

/// All an optimizer remembers between steps: named buffer lists ("velocity"; "m" and "v"),
/// each holding one buffer per parameter in step()'s order, all empty before the first step.
struct OptimizerState {
    std::string kind;                         ///< "sgd", "adam" or "nadam"
    std::size_t steps = 0;                    ///< steps taken
    std::vector<std::string> slot_names;      ///< e.g. {"m", "v"}
    std::vector<std::vector<std::vector<float>>> slots;  ///< per name, one buffer per parameter
};

/// Base of every optimizer.
class Optimizer {
public:
    virtual ~Optimizer() = default;
    /// Updates every parameter from its gradient. Must be called with the same parameters,
    /// in the same order, every step.
    /// \param parameters the model's parameters, their gradients filled by a backward pass
    /// \throws std::logic_error when their number or sizes change between steps
    virtual void step(const std::vector<Parameter>& parameters) = 0;
    /// The step size eta.
    /// \return eta, > 0
    virtual float learning_rate() const = 0;
    /// Changes eta from the next step on (a learning-rate schedule); throws
    /// std::invalid_argument unless it is > 0.
    /// \param learning_rate the new eta, a finite number > 0
    virtual void set_learning_rate(float learning_rate) = 0;
    /// What a checkpoint saves.
    /// \return the kind, the steps taken and every buffer
    virtual OptimizerState state() const = 0;
    /// Puts back a state saved from state(). Throws std::invalid_argument, changing nothing,
    /// if it belongs to another kind of optimizer or its buffers do not fit together.
    /// \param state as state() returned it
    virtual void restore(OptimizerState state) = 0;
};

}  // namespace cnn
