#include "cnn/fast/pooling_fast.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <iterator>
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

// The windows' spans along one axis, computed once per call rather than once per output.
std::vector<WindowSpan> spans(std::size_t outputs, std::size_t stride, std::size_t pad_before,
                              std::size_t window, std::size_t size) {
    std::vector<WindowSpan> result(outputs);
    for (std::size_t i = 0; i < outputs; ++i) {
        result[i] = window_span(i, stride, pad_before, window, size);
    }
    return result;
}

bool all_two_wide(const std::vector<WindowSpan>& spans) {
    return std::all_of(spans.begin(), spans.end(),
                       [](const WindowSpan& s) { return s.last - s.first == 2; });
}

// One (H, W) plane of width w pooled into `out`; each winner is `base` plus its place in the
// plane. Any window: the loops of chapter 05, over precomputed spans.
void pool_plane(const float* in, const float*, std::size_t w, const std::vector<WindowSpan>& rows,
                const std::vector<WindowSpan>& cols, std::size_t base, float* out,
                PoolIndex* won) {
    for (const WindowSpan& r : rows) {
        for (const WindowSpan& c : cols) {
            float best = -std::numeric_limits<float>::infinity();
            std::size_t best_at = r.first * w + c.first;
            for (std::size_t i = r.first; i < r.last; ++i) {
                for (std::size_t j = c.first; j < c.last; ++j) {
                    if (in[i * w + j] > best) {  // '>' keeps the first of equal values
                        best = in[i * w + j];
                        best_at = i * w + j;
                    }
                }
            }
            *out++ = best;
            *won++ = static_cast<PoolIndex>(base + best_at);
        }
    }
}

// Windows side by side, as one value: GCC's (and Clang's) vector extension, 16 with AVX-512 (one
// register), 8 without (one AVX2 register; two SSE ones). A 16-float type on AVX2 is two registers,
// and GCC lowered the shuffles below lane by lane: an AVX2 machine's pooling forward pass took four
// times as long. The comparisons below run on all the windows at once, and a comparison's result is
// a mask of integers (-1 where true), which selects between two values without a branch.
#if defined(__AVX512F__)
constexpr std::size_t window_lanes = 16;
#else
constexpr std::size_t window_lanes = 8;
#endif
typedef float Windows __attribute__((vector_size(window_lanes * sizeof(float))));
typedef std::int32_t WindowInts __attribute__((vector_size(window_lanes * sizeof(std::int32_t))));

// The left and right values of `count` (at most window_lanes) windows 2 wide with stride 2, whose
// values run from `row`: its even and odd floats. Two vector loads (2·window_lanes floats) and two
// permutations; with fewer windows the loads run on into the next row, whose lanes nobody reads, as
// long as they stay before `end` (the end of x); at x's very end the values are copied into zeros.
void split_pairs(const float* row, std::size_t count, const float* end, Windows& left,
                 Windows& right) {
    float partial[2 * window_lanes];
    const float* values = row;
    if (count < window_lanes && end - row < static_cast<std::ptrdiff_t>(2 * window_lanes)) {
        std::fill(std::begin(partial), std::end(partial), 0.0f);
        std::memcpy(partial, row, 2 * count * sizeof(float));
        values = partial;
    }
    Windows low, high;
    std::memcpy(&low, values, sizeof(low));
    std::memcpy(&high, values + window_lanes, sizeof(high));
#if defined(__clang__) && defined(__AVX512F__)
    left = __builtin_shufflevector(low, high, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                   28, 30);
    right = __builtin_shufflevector(low, high, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
                                    29, 31);
#elif defined(__clang__)
    left = __builtin_shufflevector(low, high, 0, 2, 4, 6, 8, 10, 12, 14);
    right = __builtin_shufflevector(low, high, 1, 3, 5, 7, 9, 11, 13, 15);
#else
#if defined(__AVX512F__)
    const WindowInts even = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
#else
    const WindowInts even = {0, 2, 4, 6, 8, 10, 12, 14};
#endif
    left = __builtin_shuffle(low, high, even);
    right = __builtin_shuffle(low, high, even + 1);
#endif
}

// The same for windows that all cover 2x2 real values (MaxPooling2D(2) on even sizes, or 'valid'),
// which then start at stride·j along each axis. The four values of up to window_lanes windows are
// gathered into four vectors; the four comparisons, in the same reading order, then run on all of
// them at once as selections rather than branches (which of four random values wins is a branch no
// processor predicts). The winners' places follow in a loop of their own.
void pool_plane_2x2(const float* in, const float* end, std::size_t w,
                    const std::vector<WindowSpan>& rows, const std::vector<WindowSpan>& cols,
                    std::size_t base, float* out, PoolIndex* won) {
    const std::size_t ow = cols.size();
    const std::size_t stride = ow > 1 ? cols[1].first - cols[0].first : 1;
    const Windows lowest = Windows{} - std::numeric_limits<float>::infinity();
    const WindowInts place[4] = {WindowInts{}, WindowInts{} + 1, WindowInts{} + 2,
                                 WindowInts{} + 3};
    for (const WindowSpan& r : rows) {
        const float* top = in + r.first * w;
        const float* bottom = top + w;
        const std::size_t at = base + r.first * w;
        for (std::size_t first = 0; first < ow; first += window_lanes) {
            const std::size_t count = std::min(window_lanes, ow - first);
            Windows va, vb, vc, vd;
            if (stride == 2) {  // MaxPooling2D(2): each row's values are the windows' pairs
                split_pairs(top + 2 * first, count, end, va, vb);
                split_pairs(bottom + 2 * first, count, end, vc, vd);
            } else {
                float a[window_lanes] = {}, b[window_lanes] = {}, c[window_lanes] = {},
                      d[window_lanes] = {};
                for (std::size_t l = 0; l < count; ++l) {
                    const std::size_t q = stride * (first + l);
                    a[l] = top[q];
                    b[l] = top[q + 1];
                    c[l] = bottom[q];
                    d[l] = bottom[q + 1];
                }
                std::memcpy(&va, a, sizeof(va));
                std::memcpy(&vb, b, sizeof(vb));
                std::memcpy(&vc, c, sizeof(vc));
                std::memcpy(&vd, d, sizeof(vd));
            }
            // '>' keeps the first of equal values; k is the winner's place in its window, 0-3.
            Windows best = va > lowest ? va : lowest;
            WindowInts k = place[0];
            k = vb > best ? place[1] : k;
            best = vb > best ? vb : best;
            k = vc > best ? place[2] : k;
            best = vc > best ? vc : best;
            k = vd > best ? place[3] : k;
            best = vd > best ? vd : best;
            float values[window_lanes];
            std::int32_t places[window_lanes];
            std::memcpy(values, &best, sizeof(values));
            std::memcpy(places, &k, sizeof(places));
            for (std::size_t l = 0; l < count; ++l) {
                const auto p = static_cast<std::size_t>(places[l]);
                out[first + l] = values[l];
                won[first + l] =
                    static_cast<PoolIndex>(at + stride * (first + l) + (p & 1u) + (p >> 1u) * w);
            }
        }
        out += ow;
        won += ow;
    }
}

}  // namespace

void max_pool2d_fast_forward(const Tensor4& x, const Pool2DWindow& o, MaxPoolResult& result,
                             std::size_t threads) {
    // Named one by one, not as structured bindings: the lambda below uses them, which C++17
    // allows only for variables.
    const std::array<std::size_t, 4> out = pool2d_output_shape(x, o);  // checks o
    const std::size_t n_images = out[0], channels = out[1], oh = out[2], ow = out[3];
    expect_pool_indexable(x.shape(), "max_pool2d_fast_forward");
    const Conv2DGeometry& g = o.geometry;
    const std::size_t h = x.shape(2), w = x.shape(3);
    if (result.y.shape() != decltype(result.y.shape()){n_images, channels, oh, ow} ||
        result.y.storage().size() != n_images * channels * oh * ow) {
        result.y = Tensor4::from_shape({n_images, channels, oh, ow});
    }
    result.winner.resize(result.y.size());
    const std::vector<WindowSpan> rows = spans(oh, g.stride_rows, g.pad_rows.before, o.window_rows, h);
    const std::vector<WindowSpan> cols = spans(ow, g.stride_cols, g.pad_cols.before, o.window_cols, w);
    const auto pool = all_two_wide(rows) && all_two_wide(cols) ? pool_plane_2x2 : pool_plane;
    const Shares shares(n_images, threads);
    run_shares(shares.count, [&](std::size_t share) {
        for (std::size_t map = shares.first(share) * channels; map < shares.last(share) * channels;
             ++map) {  // map = n * C + c: one (H, W) plane in, one (OH, OW) plane out
            pool(x.data() + map * h * w, x.data() + x.size(), w, rows, cols, map * h * w,
                 result.y.data() + map * oh * ow, result.winner.data() + map * oh * ow);
        }
    });
}

Tensor4 max_pool2d_fast_backward(const Tensor4& dy, const std::vector<PoolIndex>& winner,
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
    Tensor4 dx = Tensor4::from_shape(x_shape);
    // One image at a time: its dx zeroed, then its gradients added at their winners while the
    // image is still in the cache. Threads write only into their own images, so a winner
    // elsewhere would be a data race: it stops the share before it is used, and is reported
    // once the threads are done.
    const Shares shares(n_images, threads);
    std::vector<std::size_t> bad(shares.count, dy.size());  // per share: the first bad output
    run_shares(shares.count, [&](std::size_t share) {
        for (std::size_t image = shares.first(share); image < shares.last(share); ++image) {
            float* to = dx.data() + image * image_in;
            std::fill(to, to + image_in, 0.0f);
            const std::size_t first = image * image_in, last = first + image_in;
            for (std::size_t k = image * image_out; k < (image + 1) * image_out; ++k) {
                if (winner[k] < first || winner[k] >= last) {
                    bad[share] = k;
                    return;
                }
                dx.data()[winner[k]] += dy.data()[k];  // overlapping windows may share a winner
            }
        }
    });
    for (const std::size_t k : bad) {
        if (k < dy.size()) {
            throw std::invalid_argument(
                "max_pool2d_backward: winner " + std::to_string(winner[k]) + " of output " +
                std::to_string(k) + " lies outside its image " + std::to_string(k / image_out) +
                " of the input " + shape_to_string(x_shape));
        }
    }
    return dx;
}

}  // namespace cnn
