#include "cnn/layers/parameter.hpp"

#include <algorithm>

namespace cnn {

void zero_gradients(const std::vector<Parameter>& parameters) {
    for (const Parameter& p : parameters) {
        std::fill(p.grad, p.grad + p.size, 0.0f);
    }
}

std::size_t count_values(const std::vector<Parameter>& parameters) {
    std::size_t total = 0;
    for (const Parameter& p : parameters) {
        total += p.size;
    }
    return total;
}

}  // namespace cnn
