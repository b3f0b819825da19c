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

}  // namespace cnn
