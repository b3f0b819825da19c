#include "cnn/model/schedule.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "cnn/model/model.hpp"

namespace cnn {

LearningRateScheduler::LearningRateScheduler(Schedule schedule) : schedule_(std::move(schedule)) {
    if (!schedule_) {
        throw std::invalid_argument("LearningRateScheduler: expected a schedule, got none");
    }
}

void LearningRateScheduler::on_epoch_begin(TrainingState& state) {
    const float rate = schedule_(state.epoch);
    if (!(rate > 0.0f) || !std::isfinite(rate)) {
        throw std::invalid_argument(fmt::format(
            "fit: the learning-rate schedule gave {} for epoch {}; expected a rate > 0", rate,
            state.epoch));
    }
    Optimizer& optimizer = state.model.optimizer();
    if (rate != optimizer.learning_rate()) {
        optimizer.set_learning_rate(rate);
        state.epoch_note += fmt::format(" - learning rate {:g}", rate);
    }
}

Schedule step_decay(float initial, std::vector<std::size_t> drops) {
    return [initial, drops = std::move(drops)](std::size_t epoch) {
        float rate = initial;
        for (const std::size_t drop : drops) {
            rate = epoch >= drop ? rate / 10.0f : rate;
        }
        return rate;
    };
}

}  // namespace cnn
