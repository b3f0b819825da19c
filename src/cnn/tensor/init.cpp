#include "cnn/tensor/init.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace cnn {

template <std::size_t Rank>
void he_normal(xt::xtensor<float, Rank>& weights, std::size_t fan_in, Rng& rng) {
    if (fan_in == 0) {
        throw std::invalid_argument("he_normal: expected fan_in > 0, got 0");
    }
    const float stddev = std::sqrt(2.0f / static_cast<float>(fan_in));
    for (float& w : weights) {
        w = stddev * rng.normal();
    }
}

template <std::size_t Rank>
void glorot_uniform(xt::xtensor<float, Rank>& weights, std::size_t fan_in, std::size_t fan_out,
                    Rng& rng) {
    if (fan_in + fan_out == 0) {
        throw std::invalid_argument("glorot_uniform: expected fan_in + fan_out > 0, got 0");
    }
    const float limit = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
    for (float& w : weights) {
        w = rng.uniform(-limit, limit);
    }
}

// The ranks the library uses: Dense weights (2) and, from chapter 04, conv filters (4).
template void he_normal<2>(xt::xtensor<float, 2>&, std::size_t, Rng&);
template void he_normal<4>(xt::xtensor<float, 4>&, std::size_t, Rng&);
template void glorot_uniform<2>(xt::xtensor<float, 2>&, std::size_t, std::size_t, Rng&);
template void glorot_uniform<4>(xt::xtensor<float, 4>&, std::size_t, std::size_t, Rng&);

}  // namespace cnn
