/// \file
/// \ingroup support
/// \brief The mean of repeated measurements and how far it can be trusted.
///
/// An accuracy measured once says little: another seed gives another number. The chapters
/// repeat an experiment with several seeds and report the mean with its standard error, the
/// sample standard deviation divided by the square root of the number of runs.
#pragma once

#include <vector>

namespace cnn {

/// The mean of `values`.
/// \param values the measurements
/// \return their mean; 0 for none
double mean(const std::vector<double>& values);

/// The sample standard deviation (dividing by n - 1).
/// \param values the measurements
/// \return their sample standard deviation; 0 for fewer than two values
double sample_stddev(const std::vector<double>& values);

/// sample_stddev() / sqrt(n): how far the mean of n runs is likely to be from the mean of
/// infinitely many.
/// \param values the measurements, one per run
/// \return the standard error of their mean; 0 for fewer than two values
double standard_error(const std::vector<double>& values);

}  // namespace cnn
