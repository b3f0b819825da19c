#include "cnn/tensor/tensor.hpp"

namespace cnn {

std::string thousands(std::size_t n) {
    std::string digits = std::to_string(n);
    for (std::size_t pos = digits.size(); pos > 3; pos -= 3) {
        digits.insert(pos - 3, ",");
    }
    return digits;
}

}  // namespace cnn
