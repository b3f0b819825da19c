#include "support/app/statistics.hpp"

#include <cmath>

namespace cnn {

double mean(const std::vector<double>& values) {
    double sum = 0.0;
    for (const double v : values) {
        sum += v;
    }
    return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
}

double sample_stddev(const std::vector<double>& values) {
    if (values.size() < 2) {
        return 0.0;
    }
    const double m = mean(values);
    double squares = 0.0;
    for (const double v : values) {
        squares += (v - m) * (v - m);
    }
    return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

double standard_error(const std::vector<double>& values) {
    return values.size() < 2 ? 0.0 : sample_stddev(values) / std::sqrt(static_cast<double>(values.size()));
}

}  // namespace cnn
