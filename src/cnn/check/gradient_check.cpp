#include "cnn/check/gradient_check.hpp"

#include "cnn/losses/softmax_cross_entropy.hpp"
#include "cnn/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace cnn {

std::string GradientCheckResult::summary() const {
    return fmt::format("{}: {} ({} values, max error {:.2e} vs tolerance {:.0e}; at [{}] analytic "
                       "{:.6g}, numeric {:.6g})",
                       name, passed() ? "ok" : "FAILED", checked, max_error, tolerance,
                       worst_index, analytic, numeric);
}

GradientCheckResult check_gradient(const std::string& name, const std::function<double()>& loss,
                                   float* values, const float* analytic, std::size_t size,
                                   const GradientCheckOptions& options) {
    if (!(options.epsilon > 0.0) || !(options.tolerance > 0.0)) {
        throw std::invalid_argument("check_gradient " + name +
                                    ": expected epsilon > 0 and tolerance > 0");
    }
    // The caller's gradient buffer may be recomputed by `loss`; copy it first.
    const std::vector<float> a(analytic, analytic + size);
    GradientCheckResult result;
    result.name = name;
    result.checked = size;
    result.tolerance = options.tolerance;
    for (std::size_t i = 0; i < size; ++i) {
        const float original = values[i];
        values[i] = static_cast<float>(original + options.epsilon);
        const double plus = loss();
        values[i] = static_cast<float>(original - options.epsilon);
        const double minus = loss();
        values[i] = original;
        // Divide by the step actually taken: original +- epsilon is rounded to float.
        const double step = static_cast<double>(static_cast<float>(original + options.epsilon)) -
                            static_cast<double>(static_cast<float>(original - options.epsilon));
        const double numeric = (plus - minus) / step;
        const double scale = std::max({std::abs(static_cast<double>(a[i])), std::abs(numeric), 1.0});
        const double error = std::abs(static_cast<double>(a[i]) - numeric) / scale;
        if (!(error <= result.max_error) || i == 0) {  // also catches NaN
            result.max_error = std::isnan(error) ? INFINITY : error;
            result.worst_index = i;
            result.analytic = a[i];
            result.numeric = numeric;
        }
    }
    return result;
}

GradientCheckResult check_gradient(const Parameter& parameter, const std::function<double()>& loss,
                                   const GradientCheckOptions& options) {
    return check_gradient(parameter.name, loss, parameter.value, parameter.grad, parameter.size,
                          options);
}

//! [check_model_gradients]
std::vector<GradientCheckResult> check_model_gradients(Model& model, const Tensor4& x,
                                                       const Labels& y,
                                                       const GradientCheckOptions& options) {
    const auto logits = [&] {  // (N, K, 1, 1) seen as (N, K)
        Tensor4 z = model.forward(x, /*training=*/false, /*apply_softmax=*/false);
        const std::size_t n = z.shape(0), k = z.shape(1);
        return reshaped<2>(std::move(z), {n, k});
    };
    const auto loss = [&] { return softmax_cross_entropy_forward(logits(), y).loss; };
    const std::vector<Parameter> parameters = model.parameters();
    zero_gradients(parameters);
    const SoftmaxCrossEntropy result = softmax_cross_entropy_forward(logits(), y);
    Tensor2 dlogits = softmax_cross_entropy_backward(result.probs, y);
    const std::size_t n = dlogits.shape(0), k = dlogits.shape(1);
    model.backward(reshaped<4>(std::move(dlogits), {n, k, 1, 1}));
    std::vector<GradientCheckResult> checks;
    for (const Parameter& p : parameters) {
        checks.push_back(check_gradient(p, loss, options));
    }
    return checks;
}
//! [check_model_gradients]

}  // namespace cnn
