#include "cnn/ops/upsample_fast.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "cnn/fast/threads.hpp"

namespace cnn {

namespace {

// The sizes of one call: N·C maps of H x W inputs and OH x OW outputs.
struct MapSizes {
    std::size_t maps, h, w, oh, ow;
    std::size_t in() const { return h * w; }
    std::size_t out() const { return oh * ow; }
};

MapSizes forward_sizes(const char* where, const Tensor4& x, const UpsampleFactors& f) {
    if (f.rows == 0 || f.cols == 0) {
        throw std::invalid_argument(std::string(where) +
                                    ": expected factors of at least 1 along rows and columns, "
                                    "got " +
                                    std::to_string(f.rows) + " x " + std::to_string(f.cols));
    }
    return {x.shape(0) * x.shape(1), x.shape(2), x.shape(3), x.shape(2) * f.rows,
            x.shape(3) * f.cols};
}

MapSizes backward_sizes(const char* where, const Tensor4& dy, const UpsampleFactors& f) {
    if (f.rows == 0 || f.cols == 0 || dy.shape(2) % f.rows != 0 || dy.shape(3) % f.cols != 0) {
        throw std::invalid_argument(std::string(where) +
                                    ": expected factors of at least 1 and "
                                    "dy's height and width multiples of them, got factors " +
                                    std::to_string(f.rows) + " x " + std::to_string(f.cols) +
                                    " and dy " + shape_to_string(dy.shape()));
    }
    return {dy.shape(0) * dy.shape(1), dy.shape(2) / f.rows, dy.shape(3) / f.cols, dy.shape(2),
            dy.shape(3)};
}

// Calls body(map) for every map, the maps split between threads (fewer for small tensors:
// run_ranges() counts the values read and written).
template <class Body>
void for_each_map(const MapSizes& s, const Body& body) {
    run_ranges(s.maps, s.maps * (s.in() + s.out()), [&](std::size_t first, std::size_t last) {
        for (std::size_t m = first; m < last; ++m) {
            body(m);
        }
    });
}

// Calls body(map, scratch) for every map like for_each_map(), with `floats` floats of scratch
// memory per thread, allocated before the threads start.
template <class Body>
void for_each_map_with_scratch(const MapSizes& s, std::size_t floats, const Body& body) {
    // As run_ranges() splits: a thread per min_values_per_thread values, at most one per map.
    const std::size_t worth = s.maps * (s.in() + s.out()) / min_values_per_thread;
    const std::size_t shares = std::max<std::size_t>(1, std::min({thread_count(), s.maps, worth}));
    std::vector<float> scratch(shares * floats);
    run_shares(shares, [&](std::size_t share) {
        float* mine = scratch.data() + share * floats;
        for (std::size_t m = s.maps * share / shares; m < s.maps * (share + 1) / shares; ++m) {
            body(m, mine);
        }
    });
}

}  // namespace

Tensor4 upsample_nearest_fast_forward(const Tensor4& x, const UpsampleFactors& f) {
    // x is (N, C, H, W); y is (N, C, OH, OW) with OH = H·fh, OW = W·fw.
    const MapSizes s = forward_sizes("upsample_nearest_fast_forward", x, f);
    Tensor4 y = Tensor4::from_shape({x.shape(0), x.shape(1), s.oh, s.ow});
    for_each_map(s, [&](std::size_t m) {
        const float* in = x.data() + m * s.in();
        float* out = y.data() + m * s.out();
        for (std::size_t r = 0; r < s.h; ++r, in += s.w) {
            float* first = out + r * f.rows * s.ow;  // the block's first output row
            if (f.cols == 2) {  // the decoders' factor: a loop the compiler vectorises
                for (std::size_t c = 0; c < s.w; ++c) {
                    first[2 * c] = in[c];
                    first[2 * c + 1] = in[c];
                }
            } else {
                for (std::size_t c = 0; c < s.w; ++c) {
                    std::fill(first + c * f.cols, first + (c + 1) * f.cols, in[c]);
                }
            }
            for (std::size_t i = 1; i < f.rows; ++i) {  // the block's other rows are the same
                std::copy(first, first + s.ow, first + i * s.ow);
            }
        }
    });
    return y;
}

Tensor4 upsample_nearest_fast_backward(const Tensor4& dy, const UpsampleFactors& f) {
    // dy is (N, C, H·fh, W·fw); dx is (N, C, H, W).
    const MapSizes s = backward_sizes("upsample_nearest_fast_backward", dy, f);
    Tensor4 dx = Tensor4::from_shape({dy.shape(0), dy.shape(1), s.h, s.w});
    for_each_map(s, [&](std::size_t m) {
        const float* in = dy.data() + m * s.out();
        float* out = dx.data() + m * s.in();
        for (std::size_t r = 0; r < s.h; ++r) {
            // Each sum in ops/upsample.cpp's order, the block's rows top to bottom, each left to
            // right; but a whole row of sums at a time, which the compiler vectorises.
            float* sums = out + r * s.w;
            std::fill(sums, sums + s.w, 0.0f);
            for (std::size_t i = 0; i < f.rows; ++i) {
                const float* row = in + (r * f.rows + i) * s.ow;
                if (f.cols == 2) {
                    for (std::size_t c = 0; c < s.w; ++c) {
                        sums[c] += row[2 * c];
                        sums[c] += row[2 * c + 1];
                    }
                } else {
                    for (std::size_t c = 0; c < s.w; ++c) {
                        for (std::size_t j = 0; j < f.cols; ++j) {
                            sums[c] += row[c * f.cols + j];
                        }
                    }
                }
            }
        }
    });
    return dx;
}

Tensor4 upsample_bilinear_fast_forward(const Tensor4& x, const UpsampleFactors& f) {
    // x is (N, C, H, W); y is (N, C, OH, OW) with OH = H·fh, OW = W·fw.
    const MapSizes s = forward_sizes("upsample_bilinear_fast_forward", x, f);
    const std::vector<BilinearTap> rows = bilinear_taps(s.h, f.rows);  // OH of them
    const std::vector<BilinearTap> cols = bilinear_taps(s.w, f.cols);  // OW of them
    Tensor4 y = Tensor4::from_shape({x.shape(0), x.shape(1), s.oh, s.ow});
    // Per map, first the blend along the columns of every input row, (H, OW) in the scratch
    // memory: each is needed by about 2 fh output rows. Then each output row blends two of
    // those rows, value by value. The same products and sums as ops/upsample.cpp's loop.
    for_each_map_with_scratch(s, s.h * s.ow, [&](std::size_t m, float* blended) {
        const float* in = x.data() + m * s.in();
        float* out = y.data() + m * s.out();
        for (std::size_t r = 0; r < s.h; ++r) {
            const float* row = in + r * s.w;
            float* to = blended + r * s.ow;
            for (std::size_t j = 0; j < s.ow; ++j) {
                const BilinearTap& c = cols[j];
                to[j] = c.weight_low * row[c.low] + c.weight_high * row[c.high];
            }
        }
        for (std::size_t i = 0; i < s.oh; ++i, out += s.ow) {
            const BilinearTap& r = rows[i];
            const float* top = blended + r.low * s.ow;
            const float* bottom = blended + r.high * s.ow;
            for (std::size_t j = 0; j < s.ow; ++j) {
                out[j] = r.weight_low * top[j] + r.weight_high * bottom[j];
            }
        }
    });
    return y;
}

Tensor4 upsample_bilinear_fast_backward(const Tensor4& dy, const UpsampleFactors& f) {
    // dy is (N, C, H·fh, W·fw); dx is (N, C, H, W).
    const MapSizes s = backward_sizes("upsample_bilinear_fast_backward", dy, f);
    const std::vector<BilinearTap> rows = bilinear_taps(s.h, f.rows);
    const std::vector<BilinearTap> cols = bilinear_taps(s.w, f.cols);
    Tensor4 dx = Tensor4::from_shape({dy.shape(0), dy.shape(1), s.h, s.w});
    // The forward pass backwards: first each dy row to the two rows of the scratch memory
    // (H, OW) it blended, whole rows at a time; then each of those rows to the columns of dx.
    // The same terms as ops/upsample.cpp's loop, summed in another order.
    for_each_map_with_scratch(s, s.h * s.ow, [&](std::size_t m, float* blended) {
        const float* in = dy.data() + m * s.out();
        float* out = dx.data() + m * s.in();
        std::fill(blended, blended + s.h * s.ow, 0.0f);
        for (std::size_t i = 0; i < s.oh; ++i, in += s.ow) {
            const BilinearTap& r = rows[i];
            float* top = blended + r.low * s.ow;
            float* bottom = blended + r.high * s.ow;
            for (std::size_t j = 0; j < s.ow; ++j) {
                top[j] += r.weight_low * in[j];
            }
            for (std::size_t j = 0; j < s.ow; ++j) {  // bottom may be top, at the last row
                bottom[j] += r.weight_high * in[j];
            }
        }
        std::fill(out, out + s.in(), 0.0f);
        for (std::size_t r = 0; r < s.h; ++r) {
            const float* from = blended + r * s.ow;
            float* to = out + r * s.w;
            for (std::size_t j = 0; j < s.ow; ++j) {
                const BilinearTap& c = cols[j];
                to[c.low] += c.weight_low * from[j];
                to[c.high] += c.weight_high * from[j];
            }
        }
    });
    return dx;
}

}  // namespace cnn
