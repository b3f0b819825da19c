#include "cnn/optim/sgd.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace cnn {

Sgd::Sgd(const SgdOptions& options) : options_(options) {
    set_learning_rate(options.learning_rate);
    if (!(options.momentum >= 0.0f && options.momentum < 1.0f)) {
        throw std::invalid_argument("Sgd: expected momentum in [0, 1), got " +
                                    std::to_string(options.momentum));
    }
}

void Sgd::set_learning_rate(float rate) {
    if (!(rate > 0.0f) || !std::isfinite(rate)) {
        throw std::invalid_argument(
            fmt::format("Sgd: expected learning_rate > 0, got {:g}", rate));
    }
    options_.learning_rate = rate;
}

//! [sgd_step]
void Sgd::step(const std::vector<Parameter>& parameters) {
    if (velocity_.empty()) {
        for (const Parameter& p : parameters) {
            velocity_.emplace_back(p.size, 0.0f);
        }
    }
    if (velocity_.size() != parameters.size()) {
        throw std::logic_error("Sgd::step: created for " + std::to_string(velocity_.size()) +
                               " parameters, called with " + std::to_string(parameters.size()));
    }
    ++steps_;
    const float lr = options_.learning_rate;
    const float mu = options_.momentum;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const Parameter& p = parameters[i];
        std::vector<float>& v = velocity_[i];
        if (v.size() != p.size) {
            throw std::logic_error("Sgd::step: parameter " + p.name + " changed size");
        }
        for (std::size_t j = 0; j < p.size; ++j) {
            v[j] = mu * v[j] - lr * p.grad[j];
            p.value[j] += v[j];
        }
    }
}
//! [sgd_step]

void Sgd::restore(std::size_t steps, std::vector<std::vector<float>> velocities) {
    if ((steps == 0) != velocities.empty()) {
        throw std::invalid_argument("Sgd::restore: expected velocities exactly when a step was "
                                    "taken; got " + std::to_string(velocities.size()) +
                                    " buffers after " + std::to_string(steps) + " steps");
    }
    steps_ = steps;
    velocity_ = std::move(velocities);
}

OptimizerState Sgd::state() const { return {"sgd", steps_, {"velocity"}, {velocity_}}; }

void Sgd::restore(OptimizerState state) {
    if (state.kind != "sgd" || state.slots.size() != 1) {
        throw std::invalid_argument("Sgd::restore: expected the state of an sgd optimizer, got '" +
                                    state.kind + "'");
    }
    restore(state.steps, std::move(state.slots[0]));
}

}  // namespace cnn
