#include "cnn/ops/pooling.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace cnn {

namespace {

void expect_padding_below_window(const Pool2DWindow& o) {
    const Conv2DGeometry& g = o.geometry;
    if (o.window_rows == 0 || o.window_cols == 0 ||
        std::max(g.pad_rows.before, g.pad_rows.after) >= o.window_rows ||
        std::max(g.pad_cols.before, g.pad_cols.after) >= o.window_cols) {
        throw GeometryError("pooling: expected a window of at least 1x1 and padding smaller than "
                            "the window on every side (so every window holds a real value), got "
                            "window " + std::to_string(o.window_rows) + "x" +
                            std::to_string(o.window_cols) + " with padding rows " +
                            std::to_string(g.pad_rows.before) + "+" +
                            std::to_string(g.pad_rows.after) + ", columns " +
                            std::to_string(g.pad_cols.before) + "+" +
                            std::to_string(g.pad_cols.after));
    }
}

}  // namespace

WindowSpan window_span(std::size_t i, std::size_t stride, std::size_t pad_before,
                       std::size_t window, std::size_t size) {
    const std::size_t start = i * stride;  // in padded coordinates
    const std::size_t first = start < pad_before ? 0 : start - pad_before;
    const std::size_t end = start + window < pad_before ? 0 : start + window - pad_before;
    return {first, std::min(end, size)};
}

std::array<std::size_t, 4> pool2d_output_shape(const Tensor4& x, const Pool2DWindow& o) {
    expect_padding_below_window(o);
    const Conv2DGeometry& g = o.geometry;
    return {x.shape(0), x.shape(1),
            conv_output_size({x.shape(2), o.window_rows, g.stride_rows, g.pad_rows}, g.policy),
            conv_output_size({x.shape(3), o.window_cols, g.stride_cols, g.pad_cols}, g.policy)};
}

void expect_pool_indexable(const std::array<std::size_t, 4>& x_shape, const std::string& where) {
    constexpr std::size_t limit = std::numeric_limits<PoolIndex>::max();
    if (std::find(x_shape.begin(), x_shape.end(), 0) != x_shape.end()) {
        return;  // no values at all
    }
    // The product, checked before each step: it cannot wrap around on its way past the limit.
    std::size_t values = 1;
    for (const std::size_t d : x_shape) {
        if (values > limit / d) {
            throw std::invalid_argument(
                where + ": expected at most " + std::to_string(limit) +
                " values in x, which 4-byte winner indices can tell apart, got " +
                shape_to_string(x_shape) + ": pool fewer images, or smaller maps, at a time");
        }
        values *= d;
    }
}

MaxPoolResult max_pool2d_forward(const Tensor4& x, const Pool2DWindow& o) {
    // x is (N, C, H, W); y is (N, C, OH, OW).
    const auto [n_images, channels, oh, ow] = pool2d_output_shape(x, o);
    expect_pool_indexable(x.shape(), "max_pool2d_forward");
    const Conv2DGeometry& g = o.geometry;
    const std::size_t h = x.shape(2), w = x.shape(3);
    MaxPoolResult result{Tensor4::from_shape({n_images, channels, oh, ow}), {}};
    result.winner.reserve(result.y.size());
    //! [max_pool_forward]
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            const std::size_t map = (n * channels + c) * h * w;  // where x[n, c] starts
            for (std::size_t i = 0; i < oh; ++i) {
                const WindowSpan rows = window_span(i, g.stride_rows, g.pad_rows.before, o.window_rows, h);
                for (std::size_t j = 0; j < ow; ++j) {
                    const WindowSpan cols = window_span(j, g.stride_cols, g.pad_cols.before, o.window_cols, w);
                    float best = -std::numeric_limits<float>::infinity();
                    std::size_t best_at = map + rows.first * w + cols.first;
                    for (std::size_t r = rows.first; r < rows.last; ++r) {
                        for (std::size_t s = cols.first; s < cols.last; ++s) {
                            if (x(n, c, r, s) > best) {  // '>' keeps the first of equal values
                                best = x(n, c, r, s);
                                best_at = map + r * w + s;
                            }
                        }
                    }
                    result.y(n, c, i, j) = best;
                    result.winner.push_back(static_cast<PoolIndex>(best_at));
                }
            }
        }
    }
    return result;
    //! [max_pool_forward]
}

Tensor4 max_pool2d_backward(const Tensor4& dy, const std::vector<PoolIndex>& winner,
                            const std::array<std::size_t, 4>& x_shape) {
    if (winner.size() != dy.size() || dy.shape(0) != x_shape[0] || dy.shape(1) != x_shape[1]) {
        throw std::invalid_argument("max_pool2d_backward: dy " + shape_to_string(dy.shape()) +
                                    " does not match the forward pass (input " +
                                    shape_to_string(x_shape) + ", " +
                                    std::to_string(winner.size()) + " winners)");
    }
    //! [max_pool_backward]
    Tensor4 dx = xt::zeros<float>(x_shape);
    for (std::size_t k = 0; k < dy.size(); ++k) {
        if (winner[k] >= dx.size()) {
            throw std::invalid_argument("max_pool2d_backward: winner " + std::to_string(winner[k]) +
                                        " lies outside the input " + shape_to_string(x_shape));
        }
        dx.data()[winner[k]] += dy.data()[k];  // overlapping windows may share a winner
    }
    return dx;
    //! [max_pool_backward]
}

Tensor4 average_pool2d_forward(const Tensor4& x, const Pool2DWindow& o) {
    const auto [n_images, channels, oh, ow] = pool2d_output_shape(x, o);
    const Conv2DGeometry& g = o.geometry;
    const std::size_t h = x.shape(2), w = x.shape(3);
    Tensor4 y = Tensor4::from_shape({n_images, channels, oh, ow});
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            for (std::size_t i = 0; i < oh; ++i) {
                const WindowSpan rows = window_span(i, g.stride_rows, g.pad_rows.before, o.window_rows, h);
                for (std::size_t j = 0; j < ow; ++j) {
                    const WindowSpan cols = window_span(j, g.stride_cols, g.pad_cols.before, o.window_cols, w);
                    float sum = 0.0f;
                    for (std::size_t r = rows.first; r < rows.last; ++r) {
                        for (std::size_t s = cols.first; s < cols.last; ++s) {
                            sum += x(n, c, r, s);
                        }
                    }
                    const auto count = static_cast<float>((rows.last - rows.first) *
                                                          (cols.last - cols.first));
                    y(n, c, i, j) = sum / count;  // padding is not counted
                }
            }
        }
    }
    return y;
}

Tensor4 average_pool2d_backward(const Tensor4& dy, const std::array<std::size_t, 4>& x_shape,
                                const Pool2DWindow& o) {
    const Tensor4 shape_only = Tensor4::from_shape(x_shape);
    const std::array<std::size_t, 4> out = pool2d_output_shape(shape_only, o);
    if (!std::equal(out.begin(), out.end(), dy.shape().begin())) {
        throw std::invalid_argument("average_pool2d_backward: expected dy " +
                                    shape_to_string(out) + ", got " + shape_to_string(dy.shape()));
    }
    const Conv2DGeometry& g = o.geometry;
    const std::size_t h = x_shape[2], w = x_shape[3];
    //! [average_pool_backward]
    Tensor4 dx = xt::zeros<float>(x_shape);
    for (std::size_t n = 0; n < out[0]; ++n) {
        for (std::size_t c = 0; c < out[1]; ++c) {
            for (std::size_t i = 0; i < out[2]; ++i) {
                const WindowSpan rows = window_span(i, g.stride_rows, g.pad_rows.before, o.window_rows, h);
                for (std::size_t j = 0; j < out[3]; ++j) {
                    const WindowSpan cols = window_span(j, g.stride_cols, g.pad_cols.before, o.window_cols, w);
                    const float share = dy(n, c, i, j) / static_cast<float>(
                                            (rows.last - rows.first) * (cols.last - cols.first));
                    for (std::size_t r = rows.first; r < rows.last; ++r) {
                        for (std::size_t s = cols.first; s < cols.last; ++s) {
                            dx(n, c, r, s) += share;  // overlapping windows add up
                        }
                    }
                }
            }
        }
    }
    return dx;
    //! [average_pool_backward]
}

Tensor2 global_average_pool_forward(const Tensor4& x) {
    const std::size_t n = x.shape(0), c = x.shape(1), area = x.shape(2) * x.shape(3);
    Tensor2 y = Tensor2::from_shape({n, c});
    for (std::size_t i = 0; i < n * c; ++i) {  // map i = n·C + c, its H·W values contiguous
        const float* map = x.data() + i * area;
        double sum = 0.0;
        // `omp simd` lets the compiler keep several partial sums in the lanes of a SIMD
        // register: the additions happen in another order, which in double changes nothing a
        // float can show, and run many times faster than one long chain of additions.
#pragma omp simd reduction(+ : sum)
        for (std::size_t p = 0; p < area; ++p) {
            sum += map[p];
        }
        y.data()[i] = static_cast<float>(sum / static_cast<double>(area));
    }
    return y;
}

Tensor4 global_average_pool_backward(const Tensor2& dy, const std::array<std::size_t, 4>& x_shape) {
    if (dy.shape(0) != x_shape[0] || dy.shape(1) != x_shape[1]) {
        throw std::invalid_argument("global_average_pool_backward: expected dy (" +
                                    std::to_string(x_shape[0]) + ", " + std::to_string(x_shape[1]) +
                                    "), got " + shape_to_string(dy.shape()));
    }
    const std::size_t area = x_shape[2] * x_shape[3];
    Tensor4 dx = Tensor4::from_shape(x_shape);
    for (std::size_t i = 0; i < dy.size(); ++i) {
        std::fill_n(dx.data() + i * area, area, dy.data()[i] / static_cast<float>(area));
    }
    return dx;
}

}  // namespace cnn
