/// \file
/// \ingroup ch01
/// \brief Stochastic gradient descent with momentum, in the form Keras uses.
///
/// Plain SGD steps every weight against its gradient: \f$w \leftarrow w - \eta\,g\f$.
/// Momentum keeps a velocity per weight that remembers past steps, so directions that agree
/// from batch to batch speed up and noisy ones cancel out:
/// \f[ v \leftarrow \mu\,v - \eta\,g, \qquad w \leftarrow w + v. \f]
/// With \f$\mu = 0\f$ this is plain SGD.
#pragma once

#include <vector>

#include "cnn/layers/parameter.hpp"
#include "cnn/optim/optimizer.hpp"

namespace cnn {

/// Hyperparameters of Sgd.
struct SgdOptions {
    float learning_rate = 0.01f;  ///< eta, the step size
    float momentum = 0.0f;        ///< mu in [0, 1); 0 is plain SGD
};

/// SGD with momentum. Velocities are created on the first step(), one per parameter.
class Sgd : public Optimizer {
public:
    /// SGD with the given step size and momentum.
    /// \param options the step size and momentum
    /// \throws std::invalid_argument for a step size that is not a finite number > 0 or a
    ///         momentum outside [0, 1)
    explicit Sgd(const SgdOptions& options);

    /// Updates every parameter from its gradient. Must be called with the same parameters,
    /// in the same order, every step.
    /// \param parameters the model's parameters, their gradients filled by a backward pass
    /// \throws std::logic_error when their number or sizes change between steps
    void step(const std::vector<Parameter>& parameters) override;

    /// The options, with the current step size.
    /// \return them
    const SgdOptions& options() const { return options_; }
    /// Changes the step size from the next step on (a learning-rate schedule); throws
    /// std::invalid_argument unless it is > 0.
    /// \param rate the new step size, a finite number > 0
    void set_learning_rate(float rate) override;
    float learning_rate() const override { return options_.learning_rate; }

    /// How many times step() has run (or the steps restored).
    /// \return the count
    std::size_t steps_taken() const { return steps_; }

    /// The velocities, one buffer per parameter in step()'s order (empty before the first
    /// step): with steps_taken(), all SGD remembers, what a training checkpoint saves.
    /// \return the buffers, each as long as its parameter
    const std::vector<std::vector<float>>& velocities() const { return velocity_; }
    /// Puts back a state saved from steps_taken() and velocities(). Throws
    /// std::invalid_argument, changing nothing, unless steps is 0 exactly when there are no
    /// velocities.
    /// \param steps as steps_taken() returned it
    /// \param velocities as velocities() returned them
    void restore(std::size_t steps, std::vector<std::vector<float>> velocities);
    /// {"sgd", steps, {"velocity"}, {velocities}}.
    /// \return the state
    OptimizerState state() const override;
    /// Puts back a state saved from state().
    /// \param state as state() returned it
    /// \throws std::invalid_argument, changing nothing, for another kind of optimizer's state
    ///         or velocities without steps (or steps without velocities)
    void restore(OptimizerState state) override;

private:
    SgdOptions options_;
    std::size_t steps_ = 0;
    std::vector<std::vector<float>> velocity_;  // one buffer per parameter
};

}  // namespace cnn
