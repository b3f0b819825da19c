#include "cnn/ops/correlation.hpp"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace cnn {

double correlation(const float* a, const float* b, std::size_t count) {
    if (count < 2) {
        throw std::invalid_argument("correlation: expected at least 2 pairs of values, got " +
                                    std::to_string(count));
    }
    double mean_a = 0.0, mean_b = 0.0;
    for (std::size_t k = 0; k < count; ++k) {
        mean_a += a[k];
        mean_b += b[k];
    }
    mean_a /= static_cast<double>(count);
    mean_b /= static_cast<double>(count);
    double ab = 0.0, aa = 0.0, bb = 0.0;  // the sums of products of deviations
    for (std::size_t k = 0; k < count; ++k) {
        const double da = a[k] - mean_a, db = b[k] - mean_b;
        ab += da * db;
        aa += da * da;
        bb += db * db;
    }
    if (aa == 0.0 || bb == 0.0) {
        throw std::invalid_argument(
            "correlation: one of the two lists of " + std::to_string(count) +
            " values is constant, so it has no correlation with anything");
    }
    return ab / (std::sqrt(aa) * std::sqrt(bb));
}

double neighbour_correlation(const Tensor2& image, std::size_t distance, Direction direction) {
    const std::size_t h = image.shape(0), w = image.shape(1);
    const bool right = direction == Direction::right;
    const std::size_t along = right ? w : h;  // the axis the distance is measured on
    if (distance == 0 || distance >= along || (along - distance) * (right ? h : w) < 2) {
        throw std::invalid_argument(
            "neighbour_correlation: expected a distance from 1 to " +
            std::to_string(along > 0 ? along - 1 : 0) + " " + (right ? "columns" : "rows") +
            " in an image of " + std::to_string(h) + "x" + std::to_string(w) +
            " pixels (at least 2 pairs), got " + std::to_string(distance));
    }
    //! [neighbour_correlation]
    // The pairs as two lists: each pixel, and its neighbour `distance` steps away.
    std::vector<float> first, second;
    const std::size_t pairs = (right ? h : h - distance) * (right ? w - distance : w);
    first.reserve(pairs);
    second.reserve(pairs);
    for (std::size_t i = 0; i + (right ? 0 : distance) < h; ++i) {
        for (std::size_t j = 0; j + (right ? distance : 0) < w; ++j) {
            first.push_back(image(i, j));
            second.push_back(right ? image(i, j + distance) : image(i + distance, j));
        }
    }
    return correlation(first.data(), second.data(), first.size());
    //! [neighbour_correlation]
}

Tensor2 channel_correlations(const Tensor3& image) {
    const std::size_t c = image.shape(0), values = image.shape(1) * image.shape(2);
    Tensor2 r = Tensor2::from_shape({c, c});
    for (std::size_t i = 0; i < c; ++i) {
        // r(i, i) = 1, but computed: it also checks that channel i is not constant.
        for (std::size_t j = i; j < c; ++j) {  // r is symmetric: each pair once
            r(i, j) = r(j, i) = static_cast<float>(
                correlation(image.data() + i * values, image.data() + j * values, values));
        }
    }
    return r;
}

}  // namespace cnn
