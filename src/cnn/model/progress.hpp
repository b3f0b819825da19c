/// \file
/// \ingroup ch01
/// \brief Keras's training progress line: step/steps, a bar, the time left, the metrics.
///
/// On a terminal the line is redrawn in place (with a carriage return) a few times a second:
///
///     312/844 [===========>..................] - ETA: 21s - loss: 0.4518 - accuracy: 0.8375
///
/// and left as a summary when the epoch ends. Written to a file or a pipe, where redrawing would
/// leave hundreds of lines, only the summary line is printed.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace cnn {

/// One epoch's progress line.
class ProgressBar {
public:
    /// `steps` batches in the epoch; `interactive` redraws the line as it goes; `quiet` prints
    /// nothing at all (the bar still measures the epoch's time).
    ProgressBar(std::ostream& out, std::size_t steps, bool interactive, bool quiet = false);

    /// After batch `step` (1-based), with the running means of the loss and accuracy.
    void update(std::size_t step, double loss, double accuracy);

    /// Ends the epoch: prints the summary line with `extra` (e.g. " - val_loss: ...") appended.
    /// Returns the epoch's wall time in seconds.
    double finish(double loss, double accuracy, const std::string& extra);
    /// Ends a live bar's line where it stands, when the epoch stops early (an error follows).
    void abandon();

    /// Seconds since the epoch started.
    double elapsed() const;

    /// Whether standard output is a terminal (so that a bar on std::cout can be redrawn).
    static bool stdout_is_terminal();

private:
    std::string bar(std::size_t step) const;

    std::ostream& out_;
    std::size_t steps_;
    bool interactive_;
    bool quiet_;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace cnn
