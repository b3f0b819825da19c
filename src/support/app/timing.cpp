#include "support/app/timing.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>
#include <vector>

namespace cnn {

double seconds_of(const std::function<void()>& run) {
    const auto start = std::chrono::steady_clock::now();
    run();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> values) {
    if (values.empty()) {
        throw std::invalid_argument("median: expected at least one value, got none");
    }
    std::sort(values.begin(), values.end());
    return values[(values.size() - 1) / 2];
}

double median_of(std::size_t repeats, const std::function<double()>& measure) {
    if (repeats == 0) {
        throw std::invalid_argument("median_of: expected at least 1 repeat");
    }
    measure();  // the warm-up
    std::vector<double> times;
    for (std::size_t r = 0; r < repeats; ++r) {
        times.push_back(measure());
    }
    return median(std::move(times));
}

double median_seconds(std::size_t repeats, const std::function<void()>& run) {
    return median_of(repeats, [&] { return seconds_of(run); });
}

}  // namespace cnn
