/// \file
/// \ingroup ch06
/// \brief Adam: SGD with a per-weight step size, the default optimizer of Keras models; and
/// Nadam, Adam with Nesterov momentum.
///
/// Adam keeps two running averages per weight: of the gradient (m, like momentum) and of its
/// square (v, how large the gradient usually is). Each step moves a weight by m divided by
/// sqrt(v): weights with consistently large gradients take careful steps, rarely updated ones
/// take bold steps. With \f$t\f$ the step number (from 1),
/// \f[ m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \f]
/// \f[ \hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t}, \qquad
///     w \leftarrow w - \eta\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}. \f]
/// The hats undo the bias of averages that start at zero. Defaults are Keras's
/// (Kingma and Ba, "Adam: A Method for Stochastic Optimization", 2015, with Keras's epsilon).
///
/// **Nadam** (AdamOptions::nesterov, made by nadam()) looks one step ahead, as Nesterov's
/// momentum does: part of the step follows the gradient just computed instead of the average.
/// Its momentum \f$\mu_t\f$ also warms up from \f$\beta_1/2\f$ towards \f$\beta_1\f$
/// (Dozat, "Incorporating Nesterov Momentum into Adam", 2016, in the form of Keras 2's Nadam
/// and PyTorch's NAdam):
/// \f[ \mu_t = \beta_1 \left(1 - \frac12\, 0.96^{\,\psi t}\right), \qquad
///     \Pi_t = \mu_1 \mu_2 \cdots \mu_t, \f]
/// \f[ w \leftarrow w - \eta\, \frac{\frac{1 - \mu_t}{1 - \Pi_t}\, g
///     + \frac{\mu_{t+1}}{1 - \Pi_t \mu_{t+1}}\, m}{\sqrt{\hat v} + \epsilon}, \f]
/// with \f$\psi\f$ = AdamOptions::momentum_decay. Both are one update,
/// \f$w \leftarrow w - (a_t\, g + b_t\, m) / (\sqrt{\hat v} + \epsilon)\f$: Adam is
/// \f$a_t = 0\f$, \f$b_t = \eta / (1 - \beta_1^t)\f$.
#pragma once

#include <cstddef>
#include <vector>

#include "cnn/layers/parameter.hpp"
#include "cnn/optim/optimizer.hpp"

namespace cnn {

/// Hyperparameters of Adam.
struct AdamOptions {
    float learning_rate = 0.001f;  ///< eta
    float beta_1 = 0.9f;           ///< decay of the gradient average
    float beta_2 = 0.999f;         ///< decay of the squared-gradient average
    float epsilon = 1e-7f;         ///< keeps the division finite
    bool nesterov = false;         ///< Nadam's look-ahead step and momentum schedule
    float momentum_decay = 0.004f; ///< psi, how fast Nadam's momentum warms up to beta_1
};

/// Adam, or Nadam with AdamOptions::nesterov. Its averages are created on the first step(),
/// one pair per parameter.
class Adam : public Optimizer {
public:
    /// Keras's defaults unless `options` says otherwise.
    /// \param options the step size, the decays, epsilon and Nadam's settings
    /// \throws std::invalid_argument unless learning_rate is a finite number > 0, beta_1 and
    ///         beta_2 are in [0, 1), epsilon > 0 and momentum_decay >= 0
    explicit Adam(const AdamOptions& options = {});

    /// Updates every parameter from its gradient; same parameters, same order, every step.
    /// \param parameters the model's parameters, their gradients filled by a backward pass
    /// \throws std::logic_error when their number or sizes change between steps
    void step(const std::vector<Parameter>& parameters) override;

    /// The options, with the current step size.
    /// \return them
    const AdamOptions& options() const { return options_; }
    /// Changes eta from the next step on (a learning-rate schedule); throws
    /// std::invalid_argument unless it is > 0.
    /// \param rate the new eta, a finite number > 0
    void set_learning_rate(float rate) override;
    float learning_rate() const override { return options_.learning_rate; }
    /// How many times step() has run (or the steps restored): t in the bias corrections.
    /// \return t
    std::size_t steps_taken() const { return t_; }

    /// The gradient averages m, one buffer per parameter in step()'s order (empty before the
    /// first step); with v and steps_taken() they are all Adam remembers, what a training
    /// checkpoint saves.
    /// \return the buffers, each as long as its parameter
    const std::vector<std::vector<float>>& first_moments() const { return m_; }
    /// The squared-gradient averages v, like first_moments().
    /// \return the buffers, each as long as its parameter
    const std::vector<std::vector<float>>& second_moments() const { return v_; }
    /// Puts back a state saved from first_moments(), second_moments() and steps_taken().
    /// Throws std::invalid_argument, changing nothing, unless m and v hold as many buffers
    /// of the same sizes, and steps is 0 exactly when they are empty.
    /// \param steps as steps_taken() returned it
    /// \param m as first_moments() returned them
    /// \param v as second_moments() returned them
    void restore(std::size_t steps, std::vector<std::vector<float>> m,
                 std::vector<std::vector<float>> v);
    /// {"adam" or "nadam", steps, {"m", "v"}, {m, v}}.
    /// \return the state
    OptimizerState state() const override;
    /// Puts back a state saved from state().
    /// \param state as state() returned it
    /// \throws std::invalid_argument, changing nothing, for another kind of optimizer's state
    ///         (Adam's and Nadam's differ) or buffers that do not fit together
    void restore(OptimizerState state) override;

private:
    AdamOptions options_;
    std::size_t t_ = 0;
    double momentum_product_ = 1.0;  // Nadam's Pi_t, a function of t_ alone
    std::vector<std::vector<float>> m_, v_;
};

/// Keras's `Nadam`: Adam with AdamOptions::nesterov set, the optimizer of Géron's
/// notebook.
/// \param options as for Adam; `nesterov` is set whatever it says
/// \return the optimizer
/// \throws std::invalid_argument as Adam's constructor
inline Adam nadam(AdamOptions options = {}) {
    options.nesterov = true;
    return Adam(options);
}

}  // namespace cnn
