#include "cnn/optim/adam.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace cnn {

Adam::Adam(const AdamOptions& options) : options_(options) {
    const bool ok = options.learning_rate > 0.0f && options.beta_1 >= 0.0f &&
                    options.beta_1 < 1.0f && options.beta_2 >= 0.0f && options.beta_2 < 1.0f &&
                    options.epsilon > 0.0f;
    if (!ok) {
        throw std::invalid_argument(
            "Adam: expected learning_rate > 0, beta_1 and beta_2 in [0, 1) and epsilon > 0, got " +
            std::to_string(options.learning_rate) + ", " + std::to_string(options.beta_1) + ", " +
            std::to_string(options.beta_2) + ", " + std::to_string(options.epsilon));
    }
}

//! [adam_step]
void Adam::step(const std::vector<Parameter>& parameters) {
    if (m_.empty()) {
        for (const Parameter& p : parameters) {
            m_.emplace_back(p.size, 0.0f);
            v_.emplace_back(p.size, 0.0f);
        }
    }
    if (m_.size() != parameters.size()) {
        throw std::logic_error("Adam::step: created for " + std::to_string(m_.size()) +
                               " parameters, called with " + std::to_string(parameters.size()));
    }
    ++t_;
    const float b1 = options_.beta_1, b2 = options_.beta_2;
    const float correction_1 = 1.0f - std::pow(b1, static_cast<float>(t_));
    const float correction_2 = 1.0f - std::pow(b2, static_cast<float>(t_));
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const Parameter& p = parameters[i];
        if (m_[i].size() != p.size) {
            throw std::logic_error("Adam::step: parameter " + p.name + " changed size");
        }
        float* m = m_[i].data();
        float* v = v_[i].data();
        for (std::size_t j = 0; j < p.size; ++j) {
            const float g = p.grad[j];
            m[j] = b1 * m[j] + (1.0f - b1) * g;
            v[j] = b2 * v[j] + (1.0f - b2) * g * g;
            const float m_hat = m[j] / correction_1;
            const float v_hat = v[j] / correction_2;
            p.value[j] -= options_.learning_rate * m_hat / (std::sqrt(v_hat) + options_.epsilon);
        }
    }
}
//! [adam_step]

void Adam::restore(std::size_t steps, std::vector<std::vector<float>> m,
                   std::vector<std::vector<float>> v) {
    bool same_sizes = m.size() == v.size();
    for (std::size_t i = 0; same_sizes && i < m.size(); ++i) {
        same_sizes = m[i].size() == v[i].size();
    }
    if (!same_sizes || (steps == 0) != m.empty()) {
        throw std::invalid_argument("Adam::restore: expected m and v of the same sizes, empty "
                                    "exactly when no step was taken; got " +
                                    std::to_string(m.size()) + " and " + std::to_string(v.size()) +
                                    " buffers after " + std::to_string(steps) + " steps");
    }
    t_ = steps;
    m_ = std::move(m);
    v_ = std::move(v);
}

}  // namespace cnn
