#include "cnn/tensor/tensor.hpp"

#include <cmath>
#include <cstdio>
#include <iterator>

namespace cnn {

std::string thousands(std::size_t n) {
    std::string digits = std::to_string(n);
    for (std::size_t pos = digits.size(); pos > 3; pos -= 3) {
        digits.insert(pos - 3, ",");
    }
    return digits;
}

std::string si_prefixed(double value) {
    const char* prefixes[] = {"", "k", "M", "G", "T", "P"};
    std::size_t p = 0;
    while (std::abs(value) >= 999.5 && p + 1 < std::size(prefixes)) {
        value /= 1000.0;
        ++p;
    }
    // Three significant digits: 0.5 -> "0.50", 211.4e6 -> "211M", 1.135e9 -> "1.14G".
    const int decimals = std::abs(value) >= 99.95 ? 0 : std::abs(value) >= 9.995 ? 1 : 2;
    char text[32];
    std::snprintf(text, sizeof text, "%.*f%s", p == 0 && value == std::floor(value) ? 0 : decimals,
                  value, prefixes[p]);
    return text;
}

}  // namespace cnn
