#include "cnn/fast/conv2d_plan.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

void check_conv2d_backward_shapes(const Tensor4& dy, const Tensor4& y, const Tensor4& w,
                                  const Tensor4& dw, const Tensor1& db,
                                  const std::array<std::size_t, 4>& out, Epilogue epilogue) {
    const bool relu = epilogue == Epilogue::bias_relu;
    const auto same = [&](const Tensor4& t) {
        return std::equal(out.begin(), out.end(), t.shape().begin());
    };
    if (!same(dy) || (relu && !same(y)) || dw.shape() != w.shape() || db.shape(0) != out[1]) {
        throw std::invalid_argument(
            "conv2d backward: expected dy" + std::string(relu ? " and y " : " ") +
            shape_to_string(out) + ", dw like w " + shape_to_string(w.shape()) + " and db (" +
            std::to_string(out[1]) + "), got dy " + shape_to_string(dy.shape()) +
            (relu ? ", y " + shape_to_string(y.shape()) : std::string()) + ", dw " +
            shape_to_string(dw.shape()) + " and db " + shape_to_string(db.shape()));
    }
}

void reshape_copy(Tensor4* copy, const Tensor4& y) {
    // The size too: a moved-from tensor keeps its shape but not its memory.
    if (copy != nullptr && (copy->shape() != y.shape() || copy->size() != y.size())) {
        *copy = Tensor4::from_shape(y.shape());
    }
}

Conv2DPlan::Conv2DPlan(std::size_t images, std::size_t columns_per_image,
                       const FastConvOptions& options)
    : images_(images) {
    const std::size_t wanted = options.threads == 0 ? thread_count() : options.threads;
    shares_ = std::max<std::size_t>(1, std::min(wanted, images));
    const std::size_t per_share = (images + shares_ - 1) / shares_;
    const std::size_t enough = (options.min_columns + columns_per_image - 1) / columns_per_image;
    group_ = std::clamp<std::size_t>(enough, 1, std::max<std::size_t>(1, per_share));
}

void ThreadSums::resize(std::size_t shares, std::size_t size) {
    // Grow only: a call with fewer threads (the last batch of an epoch) keeps the others, and
    // a smaller layer after a larger one (engines that share their buffers) uses the front of
    // each buffer, which neither frees nor fills again the rest.
    sums_.resize(std::max(sums_.size(), shares));
    for (std::size_t t = 0; t < shares; ++t) {
        grow_to(sums_[t], size);
    }
    shares_ = shares;
    size_ = size;
}

void ThreadSums::add_to(float* total) const {
    for (std::size_t t = 0; t < shares_; ++t) {
        const float* theirs = sums_[t].data();
        for (std::size_t i = 0; i < size_; ++i) {
            total[i] += theirs[i];
        }
    }
}

}  // namespace cnn
