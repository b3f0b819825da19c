/// \file
/// \ingroup ch01
/// \brief The numerical gradient check: the test every backward pass in the book must pass.
///
/// A backward pass is hand-derived calculus turned into code, and both steps can go wrong
/// without any crash. The check compares each analytic derivative \f$a_i\f$ with the central
/// difference
/// \f[ n_i = \frac{L(\theta_i + \epsilon) - L(\theta_i - \epsilon)}{2\epsilon}, \f]
/// whose error shrinks like \f$\epsilon^2\f$, and reports the worst
/// \f[ e_i = \frac{|a_i - n_i|}{\max(|a_i|, |n_i|, 1)} \f]
/// (relative for large derivatives, absolute for small ones, as in Caffe's checker).
/// The tensors are float, so \f$\epsilon\f$ cannot be tiny: at \f$10^{-2}\f$ the rounding of
/// the loss and the \f$\epsilon^2\f$ term both stay near \f$10^{-4}\f$, well under the default
/// tolerance of \f$2 \cdot 10^{-3}\f$, while a wrong gradient is off by far more.
///
/// At a kink (ReLU at 0, a tie in max pooling) the derivative does not exist and the check is
/// meaningless; callers choose inputs at least \f$\epsilon\f$ away from kinks.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "cnn/layers/parameter.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

class Model;

/// How check_gradient() probes.
struct GradientCheckOptions {
    double epsilon = 1e-2;    ///< the nudge, in the parameter's units
    double tolerance = 2e-3;  ///< largest acceptable error e_i
};

/// The outcome: the worst element, and whether it is within tolerance.
struct GradientCheckResult {
    std::string name;            ///< what was checked
    std::size_t checked = 0;     ///< how many elements
    double max_error = 0.0;      ///< the largest e_i
    std::size_t worst_index = 0; ///< where it was
    double analytic = 0.0;       ///< a_i there
    double numeric = 0.0;        ///< n_i there
    double tolerance = 0.0;      ///< the largest acceptable error, from the options
    /// Whether every element is within tolerance.
    /// \return max_error <= tolerance
    bool passed() const { return max_error <= tolerance; }
    /// One line: name, pass/fail, worst error against tolerance, and the two values there.
    /// \return the line, without a newline
    std::string summary() const;
};

// [check_gradient]
/// Checks the `size` analytic derivatives in `analytic` against central differences of `loss`,
/// nudging `values[i]` by +-epsilon (and restoring it exactly) for each i. `loss` must
/// recompute the scalar loss from the current values; it is called 2 * size times.
/// \param name what is checked, for the result
/// \param loss recomputes the loss from `values`
/// \param values the `size` values nudged, left as they were
/// \param analytic the `size` derivatives to check, copied before the first nudge
/// \param size how many values
/// \param options epsilon and tolerance, both > 0
/// \return the worst element and whether it passed
/// \throws std::invalid_argument for an epsilon or tolerance that is not > 0
GradientCheckResult check_gradient(const std::string& name, const std::function<double()>& loss,
                                   float* values, const float* analytic, std::size_t size,
                                   const GradientCheckOptions& options = {});
// [check_gradient]

/// The same for a Parameter: its value against its grad. The gradient must already hold the
/// analytic result (one forward and backward pass at the current values).
/// \param parameter the values and their analytic gradient
/// \param loss recomputes the loss from the parameter's values
/// \param options epsilon and tolerance, both > 0
/// \return the worst element and whether it passed
/// \throws std::invalid_argument for an epsilon or tolerance that is not > 0
GradientCheckResult check_gradient(const Parameter& parameter, const std::function<double()>& loss,
                                   const GradientCheckOptions& options = {});

/// The check of every parameter of a whole model on the real loss: the softmax cross-entropy
/// of its logits for x with labels y, after one forward and backward pass. Returns one result
/// per parameter, in Model::parameters() order. (Model is \ref chapter01 "chapter 01's":
/// model/model.hpp.)
/// \param model a model whose last layer ends with a softmax
/// \param x the examples (N, input shape...)
/// \param y one class index per example
/// \param options epsilon and tolerance, both > 0
/// \return one result per parameter
std::vector<GradientCheckResult> check_model_gradients(Model& model, const Tensor4& x,
                                                       const Labels& y,
                                                       const GradientCheckOptions& options = {});

}  // namespace cnn
