#include "cnn/optim/adam.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace cnn {

Adam::Adam(const AdamOptions& options) : options_(options) {
    const bool ok = options.learning_rate > 0.0f && std::isfinite(options.learning_rate) &&
                    options.beta_1 >= 0.0f &&
                    options.beta_1 < 1.0f && options.beta_2 >= 0.0f && options.beta_2 < 1.0f &&
                    options.epsilon > 0.0f && options.momentum_decay >= 0.0f;
    if (!ok) {
        throw std::invalid_argument(fmt::format(
            "Adam: expected learning_rate > 0, beta_1 and beta_2 in [0, 1), epsilon > 0 and "
            "momentum_decay >= 0, got learning_rate {:g}, beta_1 {:g}, beta_2 {:g}, epsilon {:g}, "
            "momentum_decay {:g}",
            options.learning_rate, options.beta_1, options.beta_2, options.epsilon,
            options.momentum_decay));
    }
}

namespace {

// Nadam's momentum at step t (from 1): beta_1 (1 - 0.5 * 0.96^(psi t)).
double nadam_momentum(const AdamOptions& o, std::size_t t) {
    return o.beta_1 * (1.0 - 0.5 * std::pow(0.96, static_cast<double>(o.momentum_decay) *
                                                      static_cast<double>(t)));
}

}  // namespace

void Adam::set_learning_rate(float rate) {
    if (!(rate > 0.0f) || !std::isfinite(rate)) {
        throw std::invalid_argument(
            fmt::format("Adam: expected learning_rate > 0, got {:g}", rate));
    }
    options_.learning_rate = rate;
}

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
    const double lr = options_.learning_rate, t = static_cast<double>(t_);
    // Both optimizers: w -= (a g + b m) / (sqrt(v_hat) + epsilon). Adam: a = 0, b = lr / (1 - b1^t).
    double a = 0.0, b = lr / (1.0 - std::pow(static_cast<double>(b1), t));
    if (options_.nesterov) {
        const double mu = nadam_momentum(options_, t_), mu_next = nadam_momentum(options_, t_ + 1);
        momentum_product_ *= mu;
        a = lr * (1.0 - mu) / (1.0 - momentum_product_);
        b = lr * mu_next / (1.0 - momentum_product_ * mu_next);
    }
    const float correction_2 = static_cast<float>(1.0 - std::pow(static_cast<double>(b2), t));
    const float fa = static_cast<float>(a), fb = static_cast<float>(b);
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
            const float v_hat = v[j] / correction_2;
            p.value[j] -= (fa * g + fb * m[j]) / (std::sqrt(v_hat) + options_.epsilon);
        }
    }
}

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
    momentum_product_ = 1.0;
    for (std::size_t s = 1; options_.nesterov && s <= steps; ++s) {
        momentum_product_ *= nadam_momentum(options_, s);
    }
    m_ = std::move(m);
    v_ = std::move(v);
}

OptimizerState Adam::state() const {
    return {options_.nesterov ? "nadam" : "adam", t_, {"m", "v"}, {m_, v_}};
}

void Adam::restore(OptimizerState state) {
    const std::string kind = options_.nesterov ? "nadam" : "adam";
    if (state.kind != kind || state.slots.size() != 2) {
        throw std::invalid_argument("Adam::restore: expected the state of an " + kind +
                                    " optimizer, got '" + state.kind + "'");
    }
    restore(state.steps, std::move(state.slots[0]), std::move(state.slots[1]));
}

}  // namespace cnn
