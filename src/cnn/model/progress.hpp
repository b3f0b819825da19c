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
    /// \param out where the line goes
    /// \param steps the number of batches in the epoch
    /// \param interactive redraw the line after batches (for a terminal)
    /// \param quiet print nothing
    ProgressBar(std::ostream& out, std::size_t steps, bool interactive, bool quiet = false);

    /// After batch `step` (1-based), with the running means of the loss and accuracy.
    /// \param step the batch just done, from 1 to the number of steps
    /// \param loss the mean loss of the epoch so far
    /// \param accuracy the mean accuracy of the epoch so far, in [0, 1]
    void update(std::size_t step, double loss, double accuracy);

    /// Ends the epoch: prints the summary line with `extra` (e.g. " - val_loss: ...") appended.
    /// Returns the epoch's wall time in seconds.
    /// \param loss the epoch's mean loss
    /// \param accuracy the epoch's mean accuracy, in [0, 1]
    /// \param extra appended to the line as is
    /// \return seconds since the bar was made
    double finish(double loss, double accuracy, const std::string& extra);
    /// Ends a live bar's line where it stands, when the epoch stops early (an error follows).
    void abandon();

    /// Seconds since the epoch started.
    /// \return the wall time, in seconds
    double elapsed() const;

    /// Whether standard output is a terminal (so that a bar on std::cout can be redrawn).
    /// \return true for a terminal
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
