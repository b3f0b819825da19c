#include "cnn/fast/pooling_fast.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "cnn/fast/threads.hpp"

namespace cnn {

namespace {

// Contiguous shares of n images for `threads` threads (0: thread_count()).
struct Shares {
    std::size_t n, count;
    Shares(std::size_t images, std::size_t threads)
        : n(images), count(std::max<std::size_t>(1, std::min(threads == 0 ? thread_count() : threads, images))) {}
    std::size_t first(std::size_t share) const { return n * share / count; }
    std::size_t last(std::size_t share) const { return n * (share + 1) / count; }
};

}  // namespace

//! [max_pool_fast]
void max_pool2d_fast_forward(const Tensor4& x, const Pool2DWindow& o, MaxPoolResult& result,
                             std::size_t threads) {
    const auto [n_images, channels, oh, ow] = pool2d_output_shape(x, o);  // checks o
    const Conv2DGeometry& g = o.geometry;
    const std::size_t h = x.shape(2), w = x.shape(3);
    if (result.y.shape() != decltype(result.y.shape()){n_images, channels, oh, ow} ||
        result.y.storage().size() != n_images * channels * oh * ow) {
        result.y = Tensor4::from_shape({n_images, channels, oh, ow});
    }
    result.winner.resize(result.y.size());
    const Shares shares(n_images, threads);
    run_shares(shares.count, [&](std::size_t share) {
        for (std::size_t map = shares.first(share) * channels; map < shares.last(share) * channels;
             ++map) {  // map = n * C + c: one (H, W) plane in, one (OH, OW) plane out
            const float* in = x.data() + map * h * w;
            float* out = result.y.data() + map * oh * ow;
            std::size_t* won = result.winner.data() + map * oh * ow;
            for (std::size_t i = 0; i < oh; ++i) {
                const WindowSpan rows = window_span(i, g.stride_rows, g.pad_rows.before, o.window_rows, h);
                for (std::size_t j = 0; j < ow; ++j) {
                    const WindowSpan cols = window_span(j, g.stride_cols, g.pad_cols.before, o.window_cols, w);
                    float best = -std::numeric_limits<float>::infinity();
                    std::size_t best_at = rows.first * w + cols.first;
                    for (std::size_t r = rows.first; r < rows.last; ++r) {
                        for (std::size_t s = cols.first; s < cols.last; ++s) {
                            if (in[r * w + s] > best) {  // '>' keeps the first of equal values
                                best = in[r * w + s];
                                best_at = r * w + s;
                            }
                        }
                    }
                    out[i * ow + j] = best;
                    won[i * ow + j] = map * h * w + best_at;
                }
            }
        }
    });
}

Tensor4 max_pool2d_fast_backward(const Tensor4& dy, const std::vector<std::size_t>& winner,
                                 const std::array<std::size_t, 4>& x_shape, std::size_t threads) {
    if (winner.size() != dy.size() || dy.shape(0) != x_shape[0] || dy.shape(1) != x_shape[1]) {
        throw std::invalid_argument("max_pool2d_backward: dy " + shape_to_string(dy.shape()) +
                                    " does not match the forward pass (input " +
                                    shape_to_string(x_shape) + ", " +
                                    std::to_string(winner.size()) + " winners)");
    }
    const std::size_t n_images = x_shape[0];
    const std::size_t image_in = x_shape[1] * x_shape[2] * x_shape[3];
    const std::size_t image_out = n_images == 0 ? 0 : dy.size() / n_images;
    // Threads write only into their own images: a winner elsewhere would be a data race.
    for (std::size_t image = 0, k = 0; image < n_images; ++image) {
        for (const std::size_t end = k + image_out; k < end; ++k) {
            if (winner[k] < image * image_in || winner[k] >= (image + 1) * image_in) {
                throw std::invalid_argument(
                    "max_pool2d_backward: winner " + std::to_string(winner[k]) + " of output " +
                    std::to_string(k) + " lies outside its image " + std::to_string(image) +
                    " of the input " + shape_to_string(x_shape));
            }
        }
    }
    Tensor4 dx = Tensor4::from_shape(x_shape);
    const Shares shares(n_images, threads);
    run_shares(shares.count, [&](std::size_t share) {
        const std::size_t first = shares.first(share), last = shares.last(share);
        std::fill(dx.data() + first * image_in, dx.data() + last * image_in, 0.0f);
        for (std::size_t k = first * image_out; k < last * image_out; ++k) {
            dx.data()[winner[k]] += dy.data()[k];  // overlapping windows may share a winner
        }
    });
    return dx;
}
//! [max_pool_fast]

}  // namespace cnn
