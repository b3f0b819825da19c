#include "cnn/tensor/random.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

namespace cnn {

float Rng::uniform() {
    // The top 24 bits of one 64-bit draw, scaled by 2^-24: exactly representable floats.
    return static_cast<float>(engine_() >> 40) * (1.0f / 16777216.0f);
}

float Rng::normal() {
    if (has_spare_normal_) {
        has_spare_normal_ = false;
        return spare_normal_;
    }
    // Box-Muller: two uniforms give two independent standard normals. u1 is kept away from 0
    // so the logarithm is finite; computed in double for accuracy, returned as float.
    const double u1 = (static_cast<double>(engine_() >> 11) + 1.0) * 0x1.0p-53;
    const double u2 = static_cast<double>(engine_() >> 11) * 0x1.0p-53;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * 3.14159265358979323846 * u2;
    spare_normal_ = static_cast<float>(radius * std::sin(angle));
    has_spare_normal_ = true;
    return static_cast<float>(radius * std::cos(angle));
}

std::size_t Rng::below(std::size_t n) {
    if (n == 0) {
        throw std::invalid_argument("Rng::below: expected a positive bound, got 0");
    }
    // Rejection sampling: draws in the incomplete last block of size (2^64 mod n) are
    // rejected so that every value in [0, n) is equally likely.
    const std::uint64_t bound = static_cast<std::uint64_t>(n);
    const std::uint64_t limit = engine_.max() - (engine_.max() % bound + 1) % bound;
    std::uint64_t draw = engine_();
    while (draw > limit) {
        draw = engine_();
    }
    return static_cast<std::size_t>(draw % bound);
}

std::vector<std::size_t> Rng::permutation(std::size_t n) {
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) {
        order[i] = i;
    }
    // Fisher-Yates: position i takes a uniformly chosen element of the not-yet-placed rest.
    for (std::size_t i = n; i > 1; --i) {
        std::swap(order[i - 1], order[below(i)]);
    }
    return order;
}

std::string Rng::state() const {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &spare_normal_, sizeof bits);
    std::ostringstream out;
    out << engine_ << " spare " << (has_spare_normal_ ? 1 : 0) << ' ' << std::hex << bits;
    return out.str();
}

void Rng::set_state(const std::string& text) {
    std::istringstream in(text);
    std::mt19937_64 engine;
    std::string word, rest;
    int has_spare = -1;
    std::uint32_t bits = 0;
    in >> engine >> word >> has_spare >> std::hex >> bits;
    if (in.fail() || word != "spare" || (has_spare != 0 && has_spare != 1) || (in >> rest)) {
        throw std::invalid_argument("Rng::set_state: expected the engine's 313 numbers, then "
                                    "'spare', 0 or 1 and a hexadecimal number, found '" +
                                    text.substr(0, 60) + (text.size() > 60 ? "...'" : "'"));
    }
    engine_ = engine;
    has_spare_normal_ = has_spare == 1;
    std::memcpy(&spare_normal_, &bits, sizeof bits);
}

}  // namespace cnn
