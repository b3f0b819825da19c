#include "cnn/tensor/tensor.hpp"

namespace cnn {

Tensor2 flatten_images(const Tensor4& images) {
    // images is (N, C, H, W); the result is (N, C*H*W) with the same row-major order.
    const std::size_t n = images.shape(0);
    const std::size_t d = images.size() / (n == 0 ? 1 : n);
    Tensor2 flat = Tensor2::from_shape({n, d});
    std::copy(images.begin(), images.end(), flat.begin());
    return flat;
}

std::string thousands(std::size_t n) {
    std::string digits = std::to_string(n);
    for (std::size_t pos = digits.size(); pos > 3; pos -= 3) {
        digits.insert(pos - 3, ",");
    }
    return digits;
}

}  // namespace cnn
