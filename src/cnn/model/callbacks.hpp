/// \file
/// \ingroup ch01
/// \brief What fit() tells the code that watches it: callbacks, as in Keras.
///
/// fit() is one loop: epochs of shuffled batches, each batch a forward pass, the loss, a
/// backward pass and an optimizer step, then a measurement on the validation data. Everything
/// else a run may want (saving a checkpoint after every epoch and resuming from it, changing
/// the learning rate on a schedule) is a Callback that fit() calls at fixed moments, so the
/// loop stays the same size whatever is added around it. \ref chapter06 "Chapter 06" adds the
/// learning-rate schedule (model/schedule.hpp); checkpoints are support code
/// (support/io/checkpoint.hpp).
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace cnn {

class Model;
struct FitOptions;

/// What fit() measured, one entry per epoch (Keras's History.history).
struct History {
    std::vector<double> loss, accuracy;          ///< training, as the epoch went
    std::vector<double> val_loss, val_accuracy;  ///< on the validation data, after the epoch
    std::vector<double> seconds;                 ///< wall time of each epoch, validation included
    std::vector<double> train_seconds;           ///< the part of it spent training
};

/// \var History::loss
/// The mean training loss of each epoch, as the epoch went.
/// \var History::val_loss
/// The loss on the validation data after each epoch.

/// Where a fit() run stands, as its callbacks see it (and may change it).
struct TrainingState {
    Model& model;               ///< the model being trained
    const FitOptions& options;  ///< the options fit() was given
    std::ostream& out;                    ///< where fit() prints
    std::size_t examples = 0;             ///< training examples per epoch
    std::size_t validation_examples = 0;  ///< examples measured after each epoch
    std::size_t epoch = 0;                ///< the epoch running now (from 1)
    std::size_t epochs_done = 0;          ///< epochs completed (a resumed run starts above 0)
    History history;                      ///< one entry per completed epoch
    std::string epoch_note;               ///< appended to the "Epoch 3/10" line
};

/// Code that runs at fixed moments of fit() (Keras's keras.callbacks.Callback).
class Callback {
public:
    virtual ~Callback() = default;
    /// Before the first epoch; may set epochs_done and history (a resumed run).
    virtual void on_train_begin(TrainingState&) {}
    /// Before each epoch, before its "Epoch e/E" line is printed.
    virtual void on_epoch_begin(TrainingState&) {}
    /// After each epoch, once its History entries and epochs_done are updated.
    virtual void on_epoch_end(TrainingState&) {}
    /// When training diverges: text to add to the error message (e.g. where the last good
    /// checkpoint is), or nothing.
    /// \return the text, starting with a separator; empty by default
    virtual std::string on_diverged(const TrainingState&) { return ""; }
};

}  // namespace cnn
