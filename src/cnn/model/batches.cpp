#include "cnn/model/batches.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace cnn {

namespace {

std::vector<std::vector<std::size_t>> split(const std::vector<std::size_t>& order,
                                            std::size_t batch_size) {
    if (batch_size == 0) {
        throw std::invalid_argument("batches: expected batch_size > 0, got 0");
    }
    std::vector<std::vector<std::size_t>> batches;
    for (std::size_t start = 0; start < order.size(); start += batch_size) {
        const std::size_t end = std::min(order.size(), start + batch_size);
        batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                             order.begin() + static_cast<std::ptrdiff_t>(end));
    }
    return batches;
}

}  // namespace

std::vector<std::vector<std::size_t>> shuffled_batches(std::size_t n, std::size_t batch_size,
                                                       Rng& rng) {
    return split(rng.permutation(n), batch_size);
}

std::vector<std::vector<std::size_t>> ordered_batches(std::size_t n, std::size_t batch_size) {
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) {
        order[i] = i;
    }
    return split(order, batch_size);
}

Labels take_labels(const Labels& y, const std::vector<std::size_t>& indices) {
    Labels picked(indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i) {
        picked[i] = y.at(indices[i]);
    }
    return picked;
}

}  // namespace cnn
