/// \file
/// \ingroup support
/// \brief Timing code on a busy machine: one run by the steady clock, and the median of several.
///
/// A single timing is at the mercy of whatever else the machine does; the median of several
/// runs, after one untimed run that warms the caches and fills the allocator's free lists,
/// is the figure the benchmarks report.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace cnn {

/// Seconds that `run` takes, by the steady clock.
/// \param run the code timed
/// \return its wall time, in seconds
double seconds_of(const std::function<void()>& run);

/// The median of `values`: the middle one once sorted, or of an even count the lower of the
/// two middle ones (a figure that was measured, not an average of two). Every median this
/// project prints is this one.
/// \param values the figures, at least one
/// \return their median
/// \throws std::invalid_argument for no values
double median(std::vector<double> values);

/// The median of `repeats` (at least 1) measurements, after one untimed warm-up call;
/// `measure` runs the code once and returns the seconds it took, so that it can prepare its
/// inputs and drop its outputs outside the timed part.
/// \param repeats how many measurements, at least 1
/// \param measure runs the code once and returns its seconds
/// \return the median, in seconds
/// \throws std::invalid_argument for 0 repeats
double median_of(std::size_t repeats, const std::function<double()>& measure);

/// The median of `repeats` timed runs of `run`, after one untimed run that warms caches and
/// buffers.
/// \param repeats how many timed runs, at least 1
/// \param run the code timed
/// \return the median, in seconds
/// \throws std::invalid_argument for 0 repeats
double median_seconds(std::size_t repeats, const std::function<void()>& run);

}  // namespace cnn
