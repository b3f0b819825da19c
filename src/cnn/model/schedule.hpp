/// \file
/// \ingroup ch06
/// \brief Learning-rate schedules: a callback that sets the step size before every epoch.
///
/// Large steps cross the loss landscape quickly; small ones settle into a minimum. Dividing
/// the learning rate by 10 once the validation accuracy stops improving often gains a last
/// few tenths of a percent (\ref chapter06 "chapter 06's" recorded seed run does it at epoch 11).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "cnn/model/callbacks.hpp"

namespace cnn {

/// A rate for every epoch (from 1).
using Schedule = std::function<float(std::size_t epoch)>;

/// Keras's LearningRateScheduler: before every epoch, the optimizer's rate becomes what the
/// schedule gives for it, and the "Epoch e/E" line says so when it changes. A function of the
/// epoch alone, so a resumed run follows it exactly as an uninterrupted one.
class LearningRateScheduler : public Callback {
public:
    /// A callback that sets the rate `schedule` gives before every epoch.
    /// \param schedule the rate for each epoch
    /// \throws std::invalid_argument for an empty function
    explicit LearningRateScheduler(Schedule schedule);
    /// Throws std::invalid_argument, before the epoch, if the schedule gives a rate that is
    /// not > 0.
    /// \param state the run; its model's optimizer gets the rate, its epoch_note the change
    void on_epoch_begin(TrainingState& state) override;

private:
    Schedule schedule_;
};

/// The schedule "divide by 10 at these epochs": `initial` until the first epoch of `drops`,
/// 10 times less from there to the next, and so on.
/// \param initial the rate of the first epochs, > 0
/// \param drops the epochs (from 1) from which the rate is 10 times less again
/// \return the schedule
Schedule step_decay(float initial, std::vector<std::size_t> drops);

}  // namespace cnn
