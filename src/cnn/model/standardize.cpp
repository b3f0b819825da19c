#include "cnn/model/standardize.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace cnn {

PixelStatistics pixel_statistics(const Tensor4& images, std::size_t count, float epsilon) {
    const std::size_t n = count == 0 ? images.shape(0) : count;
    if (n == 0 || n > images.shape(0)) {
        throw std::invalid_argument(fmt::format(
            "pixel_statistics: expected between 1 and {} images to use, got {}", images.shape(0), n));
    }
    if (!(epsilon >= 0.0f) || !std::isfinite(epsilon)) {
        throw std::invalid_argument(
            fmt::format("pixel_statistics: expected a finite epsilon >= 0, got {}", epsilon));
    }
    const std::size_t c = images.shape(1), h = images.shape(2), w = images.shape(3);
    const std::size_t pixels = c * h * w;
    std::vector<double> sum(pixels, 0.0), squares(pixels, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const float* image = images.data() + i * pixels;
        for (std::size_t p = 0; p < pixels; ++p) {
            sum[p] += image[p];
            squares[p] += static_cast<double>(image[p]) * image[p];
        }
    }
    PixelStatistics s{Tensor3::from_shape({c, h, w}), Tensor3::from_shape({c, h, w})};
    for (std::size_t p = 0; p < pixels; ++p) {
        const double mean = sum[p] / static_cast<double>(n);
        // max(): rounding can make E[x^2] - E[x]^2 a hair negative for a constant pixel.
        const double variance = std::max(0.0, squares[p] / static_cast<double>(n) - mean * mean);
        s.mean.data()[p] = static_cast<float>(mean);
        s.deviation.data()[p] = static_cast<float>(std::sqrt(variance)) + epsilon;
    }
    return s;
}

void standardize(Tensor4& images, const PixelStatistics& statistics) {
    const auto& shape = statistics.mean.shape();
    if (images.shape(1) != shape[0] || images.shape(2) != shape[1] || images.shape(3) != shape[2]) {
        throw std::invalid_argument(fmt::format(
            "standardize: expected images of shape (N, {}, {}, {}), got (N, {}, {}, {})", shape[0],
            shape[1], shape[2], images.shape(1), images.shape(2), images.shape(3)));
    }
    const std::size_t pixels = statistics.mean.size();
    for (std::size_t i = 0; i < images.shape(0); ++i) {
        float* image = images.data() + i * pixels;
        for (std::size_t p = 0; p < pixels; ++p) {
            image[p] = (image[p] - statistics.mean.data()[p]) / statistics.deviation.data()[p];
        }
    }
}

}  // namespace cnn
