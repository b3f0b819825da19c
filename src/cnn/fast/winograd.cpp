#include "cnn/fast/winograd.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "cnn/ops/conv2d_naive.hpp"  // conv2d_output_shape: the geometry checks
#include "cnn/tensor/gemm.hpp"

namespace cnn {

namespace {

// Nothing in a parallel region may throw or allocate: prepare() sizes every buffer first.

constexpr std::size_t tile_positions = 16;  // xi = 4·row + column: the positions of a 4x4 tile
constexpr std::size_t kLanes = winograd_lanes;  // channels transformed at once

// B^T d B: rows combined as d0 - d2, d1 + d2, d2 - d1, d1 - d3; then the same on columns.
inline void input_tile(const float (&d)[16], float (&v)[16]) {
    float t[16];
    for (std::size_t s = 0; s < 4; ++s) {
        t[0 + s] = d[0 + s] - d[8 + s];
        t[4 + s] = d[4 + s] + d[8 + s];
        t[8 + s] = d[8 + s] - d[4 + s];
        t[12 + s] = d[4 + s] - d[12 + s];
    }
    for (std::size_t r = 0; r < 16; r += 4) {
        v[r + 0] = t[r + 0] - t[r + 2];
        v[r + 1] = t[r + 1] + t[r + 2];
        v[r + 2] = t[r + 2] - t[r + 1];
        v[r + 3] = t[r + 1] - t[r + 3];
    }
}

// A^T m A: rows combined as m0 + m1 + m2 and m1 - m2 - m3; then the same on columns.
inline void output_tile(const float (&m)[16], float (&y)[4]) {
    float t[8];
    for (std::size_t s = 0; s < 4; ++s) {
        t[0 + s] = m[0 + s] + m[4 + s] + m[8 + s];
        t[4 + s] = m[4 + s] - m[8 + s] - m[12 + s];
    }
    for (std::size_t r = 0; r < 2; ++r) {
        y[2 * r + 0] = t[4 * r + 0] + t[4 * r + 1] + t[4 * r + 2];
        y[2 * r + 1] = t[4 * r + 1] - t[4 * r + 2] - t[4 * r + 3];
    }
}

// A dY A^T, the transpose of output_tile(): a 2x2 block of dy to 4x4. Rows combined as dY0,
// dY0 + dY1, dY0 - dY1, -dY1; then the same on columns.
inline void gradient_tile(const float (&dy)[4], float (&e)[16]) {
    float t[8];
    for (std::size_t s = 0; s < 2; ++s) {
        t[0 + s] = dy[s];
        t[2 + s] = dy[s] + dy[2 + s];
        t[4 + s] = dy[s] - dy[2 + s];
        t[6 + s] = -dy[2 + s];
    }
    for (std::size_t r = 0; r < 4; ++r) {
        e[4 * r + 0] = t[2 * r];
        e[4 * r + 1] = t[2 * r] + t[2 * r + 1];
        e[4 * r + 2] = t[2 * r] - t[2 * r + 1];
        e[4 * r + 3] = -t[2 * r + 1];
    }
}

// G g G^T: rows combined as g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2 (4, 3); then the
// same on columns (4, 4).
inline void filter_tile(const float (&g)[9], float (&u)[16]) {
    float t[12];
    for (std::size_t s = 0; s < 3; ++s) {
        t[0 + s] = g[s];
        t[3 + s] = 0.5f * (g[s] + g[3 + s] + g[6 + s]);
        t[6 + s] = 0.5f * (g[s] - g[3 + s] + g[6 + s]);
        t[9 + s] = g[6 + s];
    }
    for (std::size_t r = 0; r < 4; ++r) {
        u[4 * r + 0] = t[3 * r];
        u[4 * r + 1] = 0.5f * (t[3 * r] + t[3 * r + 1] + t[3 * r + 2]);
        u[4 * r + 2] = 0.5f * (t[3 * r] - t[3 * r + 1] + t[3 * r + 2]);
        u[4 * r + 3] = t[3 * r + 2];
    }
}

// G^T m G, the transpose of filter_tile(): 4x4 back to 3x3. Rows combined as
// m0 + (m1 + m2) / 2, (m1 - m2) / 2, (m1 + m2) / 2 + m3 (3, 4); then the same on columns.
inline void filter_gradient_tile(const float (&m)[16], float (&g)[9]) {
    float t[12];
    for (std::size_t s = 0; s < 4; ++s) {
        t[0 + s] = m[s] + 0.5f * (m[4 + s] + m[8 + s]);
        t[4 + s] = 0.5f * (m[4 + s] - m[8 + s]);
        t[8 + s] = 0.5f * (m[4 + s] + m[8 + s]) + m[12 + s];
    }
    for (std::size_t r = 0; r < 3; ++r) {
        g[3 * r + 0] = t[4 * r] + 0.5f * (t[4 * r + 1] + t[4 * r + 2]);
        g[3 * r + 1] = 0.5f * (t[4 * r + 1] - t[4 * r + 2]);
        g[3 * r + 2] = 0.5f * (t[4 * r + 1] + t[4 * r + 2]) + t[4 * r + 3];
    }
}

// One tile transform on std::arrays, for the public functions below (and their tests).
template <std::size_t In, std::size_t Out, void (*transform)(const float (&)[In], float (&)[Out])>
std::array<float, Out> on_arrays(const std::array<float, In>& a) {
    float in[In], out[Out];
    std::copy(a.begin(), a.end(), in);
    transform(in, out);
    std::array<float, Out> result{};
    std::copy(out, out + Out, result.begin());
    return result;
}

}  // namespace

std::array<float, 16> winograd_input_tile(const std::array<float, 16>& d) {
    return on_arrays<16, 16, input_tile>(d);
}

std::array<float, 16> winograd_filter_tile(const std::array<float, 9>& g) {
    return on_arrays<9, 16, filter_tile>(g);
}

std::array<float, 4> winograd_output_tile(const std::array<float, 16>& m) {
    return on_arrays<16, 4, output_tile>(m);
}

std::array<float, 16> winograd_output_tile_transpose(const std::array<float, 4>& dy) {
    return on_arrays<4, 16, gradient_tile>(dy);
}

std::array<float, 9> winograd_filter_tile_transpose(const std::array<float, 16>& m) {
    return on_arrays<16, 9, filter_gradient_tile>(m);
}

bool winograd_applies(const Tensor4& w, const Conv2DGeometry& g) {
    return w.shape(2) == 3 && w.shape(3) == 3 && g.stride_rows == 1 && g.stride_cols == 1;
}

namespace {

std::size_t tiles_along(std::size_t outputs) {
    return (outputs + 1) / 2;
}

// An image's planes (K, h, w), copied channels-last into a frame of zeros (rows, cols, K) with
// their pixel (0, 0) at (top, left). The tiles then read every pixel's K channels as one
// contiguous run: kLanes of them are one vector load, whatever the tile's position.
struct Frame {
    std::size_t rows, cols;  // of the frame
    std::size_t top, left;   // where the planes start in it
    std::size_t floats(std::size_t k) const { return rows * cols * k; }
};

// Every size of one convolution, named as in the chapters, and where its tiles lie.
struct WinogradSizes {
    std::size_t n, c, h, w;  // input (N, C, H, W)
    std::size_t fn;          // filters (FN, C, 3, 3)
    std::size_t oh, ow;      // output (N, FN, OH, OW)
    std::size_t th, tw;      // the forward's tiles per image: ceil(OH / 2) x ceil(OW / 2)
    std::size_t dth, dtw;    // dx's tiles per image: ceil(H / 2) x ceil(W / 2)
    // x framed with the forward's padding before; tile (i, j) reads its pixels from (2i, 2j).
    Frame x_frame;
    // dy framed for both gradients: dW's tile (i, j) takes the 2x2 block at
    // (dy_frame.top + 2i, dy_frame.left + 2j), dx's tile the 4x4 patch at (dx_row + 2i,
    // dx_col + 2j).
    Frame dy_frame;
    std::size_t dx_row, dx_col;

    WinogradSizes(const Tensor4& x, const Tensor4& filters, const Conv2DGeometry& g)
        : n(x.shape(0)), c(x.shape(1)), h(x.shape(2)), w(x.shape(3)), fn(filters.shape(0)) {
        const auto out = conv2d_output_shape(x, filters, g);  // throws on impossible geometry
        oh = out[2];
        ow = out[3];
        th = tiles_along(oh);
        tw = tiles_along(ow);
        dth = tiles_along(h);
        dtw = tiles_along(w);
        const std::size_t top = g.pad_rows.before, left = g.pad_cols.before;
        // 2·th + 2 >= OH + 2 = H + top + bottom: the frame holds all of x.
        x_frame = {2 * th + 2, 2 * tw + 2, top, left};
        // dx(r) = sum over u of dy(r + u - (2 - top)) w(2 - u): dy padded by 2 - top before,
        // or, from 3 on, its first top - 2 rows skipped. dy starts where that stays >= 0.
        const std::size_t dy_top = top < 2 ? 2 - top : 0, dy_left = left < 2 ? 2 - left : 0;
        dx_row = dy_top + top - 2;
        dx_col = dy_left + left - 2;
        dy_frame = {std::max(dx_row + 2 * dth + 2, dy_top + 2 * th),
                    std::max(dx_col + 2 * dtw + 2, dy_left + 2 * tw), dy_top, dy_left};
    }
    std::size_t tiles() const { return th * tw; }
    std::size_t dx_tiles() const { return dth * dtw; }
    std::size_t image_in() const { return c * h * w; }
    std::size_t image_out() const { return fn * oh * ow; }
    // Floats of a frame for x, for y's tiles (2·th, 2·tw, FN) or for dx's (2·dth, 2·dtw, C).
    std::size_t work_frame() const {
        return std::max({x_frame.floats(c), 4 * tiles() * fn, 4 * dx_tiles() * c});
    }
    // Floats of kLanes planes of x or y.
    std::size_t stage() const { return kLanes * std::max(h * w, oh * ow); }
};

void prepare(WinogradWorkspace& workspace, const WinogradSizes& s, const Conv2DPlan& plan) {
    const std::size_t cols = plan.group() * s.tiles();      // the forward's and dW's
    const std::size_t dcols = plan.group() * s.dx_tiles();  // dx's
    workspace.filters.resize(tile_positions * s.fn * s.c);
    workspace.per_thread.resize(std::max(workspace.per_thread.size(), plan.shares()));
    // Grow only; both passes size alike, so training allocates once.
    const auto grow = [](std::vector<float>& v, std::size_t size) {
        v.resize(std::max(v.size(), size));
    };
    for (std::size_t t = 0; t < plan.shares(); ++t) {
        WinogradWorkspace::PerThread& mine = workspace.per_thread[t];
        grow(mine.input_tiles, tile_positions * std::max(s.c * cols, s.fn * dcols));
        grow(mine.output_tiles, tile_positions * std::max(s.fn * cols, s.c * dcols));
        grow(mine.frame, s.work_frame());
        grow(mine.stage, s.stage());
        grow(mine.dy_frames, plan.group() * s.dy_frame.floats(s.fn));
    }
    workspace.dw.resize(plan.shares(), tile_positions * s.fn * s.c);
    workspace.db.resize(plan.shares(), s.fn);
}

// kLanes channels side by side: each tile transform runs on them in a loop over the lanes,
// which the compiler vectorises (one AVX-512 instruction, or two AVX2 ones, per + or -).
using Lanes = float[kLanes];

// One pixel's channels [k0, k0 + lanes) into l, zeros after `lanes`. A full Lanes is a copy
// of constant size: one vector move.
void load(Lanes& l, const float* from, std::size_t lanes) {
    if (lanes == kLanes) {
        std::copy(from, from + kLanes, l);
    } else {
        std::copy(from, from + lanes, l);
        std::fill(l + lanes, l + kLanes, 0.0f);
    }
}

void store(const Lanes& l, float* to, std::size_t lanes) {
    if (lanes == kLanes) {
        std::copy(l, l + kLanes, to);
    } else {
        std::copy(l, l + lanes, to);
    }
}

// A square of kLanes x kLanes floats transposed: fixed sizes, which the compiler turns into a
// few dozen vector permutations.
void transpose(const float (&a)[kLanes][kLanes], float (&t)[kLanes][kLanes]) {
    for (std::size_t i = 0; i < kLanes; ++i) {
        for (std::size_t j = 0; j < kLanes; ++j) {
            t[i][j] = a[j][i];
        }
    }
}

// planes (K, h, w) into `frame` as Frame describes, zeros around them; through the ReLU's mask
// (mask > 0) when mask is not null. Adds each plane's sum to sums[k] when sums is not null.
// kLanes planes at a time: first read in one sequential run into `stage` (kLanes·h·w floats),
// which the hardware prefetches well; then, in squares of kLanes channels by kLanes pixels of
// a row, transposed into the pixels' runs of channels.
void to_frame(const float* planes, const float* mask, std::size_t k_count, std::size_t h,
              std::size_t w, const Frame& f, float* frame, float* sums, float* stage) {
    std::fill(frame, frame + f.floats(k_count), 0.0f);
    const std::size_t plane = h * w;
    for (std::size_t k0 = 0; k0 < k_count; k0 += kLanes) {
        const std::size_t lanes = std::min(kLanes, k_count - k0);
        const float* in = planes + k0 * plane;
        if (mask == nullptr) {
            std::copy(in, in + lanes * plane, stage);
        } else {
            const float* keep = mask + k0 * plane;
            for (std::size_t i = 0; i < lanes * plane; ++i) {
                stage[i] = keep[i] > 0.0f ? in[i] : 0.0f;
            }
        }
        float sum[kLanes] = {};
        for (std::size_t r = 0; r < h; ++r) {
            for (std::size_t q0 = 0; q0 < w; q0 += kLanes) {
                const std::size_t count = std::min(kLanes, w - q0);
                float square[kLanes][kLanes] = {}, t[kLanes][kLanes];
                for (std::size_t l = 0; l < lanes; ++l) {
                    const float* row = stage + l * plane + r * w + q0;
                    std::copy(row, row + count, square[l]);
                }
                transpose(square, t);
                for (std::size_t q = 0; q < count; ++q) {
                    store(t[q], frame + ((f.top + r) * f.cols + f.left + q0 + q) * k_count + k0,
                          lanes);
                    for (std::size_t l = 0; l < kLanes; ++l) {  // kLanes sums side by side
                        sum[l] += t[q][l];
                    }
                }
            }
        }
        if (sums != nullptr) {
            for (std::size_t l = 0; l < lanes; ++l) {
                sums[k0 + l] += sum[l];
            }
        }
    }
}

// The top-left (h, w) pixels of frame (rows, cols, K) back to planes (K, h, w), plus bias[k]
// (bias may be null) and the ReLU when asked. As to_frame() backwards: squares transposed
// into `stage`, then kLanes planes written in one sequential run.
void from_frame(const float* frame, std::size_t cols, std::size_t k_count, std::size_t h,
                std::size_t w, const float* bias, bool relu, float* planes, float* stage) {
    const std::size_t plane = h * w;
    for (std::size_t k0 = 0; k0 < k_count; k0 += kLanes) {
        const std::size_t lanes = std::min(kLanes, k_count - k0);
        for (std::size_t r = 0; r < h; ++r) {
            for (std::size_t q0 = 0; q0 < w; q0 += kLanes) {
                const std::size_t count = std::min(kLanes, w - q0);
                float square[kLanes][kLanes] = {}, t[kLanes][kLanes];
                for (std::size_t q = 0; q < count; ++q) {
                    load(square[q], frame + (r * cols + q0 + q) * k_count + k0, lanes);
                }
                transpose(square, t);
                for (std::size_t l = 0; l < lanes; ++l) {
                    std::copy(t[l], t[l] + count, stage + l * plane + r * w + q0);
                }
            }
        }
        float* out = planes + k0 * plane;
        for (std::size_t l = 0; l < lanes; ++l) {
            const float b = bias == nullptr ? 0.0f : bias[k0 + l];
            for (std::size_t i = l * plane; i < (l + 1) * plane; ++i) {
                const float v = stage[i] + b;
                out[i] = relu && v < 0.0f ? 0.0f : v;
            }
        }
    }
}

// out = Transform(in) lane by lane, for a tile transform from In to Out values. Transform is a
// template argument so that the compiler inlines it into the loop and vectorises the loop.
template <auto Transform, std::size_t In, std::size_t Out>
void transform_lanes(const Lanes (&in)[In], Lanes (&out)[Out]) {
    for (std::size_t l = 0; l < kLanes; ++l) {
        float a[In], b[Out];
        for (std::size_t k = 0; k < In; ++k) {
            a[k] = in[k][l];
        }
        Transform(a, b);
        for (std::size_t k = 0; k < Out; ++k) {
            out[k][l] = b[k];
        }
    }
}

// U (16, C, FN) for channels [c_first, c_last): G g G^T of filter f's kernel g for channel
// c at [xi][c][f], kLanes filters at a time.
void transform_filters(const Tensor4& w, const WinogradSizes& s, std::size_t c_first,
                       std::size_t c_last, float* u) {
    for (std::size_t c = c_first; c < c_last; ++c) {
        for (std::size_t f0 = 0; f0 < s.fn; f0 += kLanes) {
            const std::size_t lanes = std::min(kLanes, s.fn - f0);
            Lanes g[9] = {}, t[16];
            for (std::size_t l = 0; l < lanes; ++l) {
                const float* kernel = w.data() + ((f0 + l) * s.c + c) * 9;
                for (std::size_t k = 0; k < 9; ++k) {
                    g[k][l] = kernel[k];
                }
            }
            transform_lanes<filter_tile>(g, t);
            for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                store(t[xi], u + (xi * s.c + c) * s.fn + f0, lanes);
            }
        }
    }
}

// dw (FN, C, 3, 3) += G^T m G for the pairs (f, c) numbered [first, last) of FN·C, m being
// the sum of the threads' (16, FN, C) products, added in thread order.
void add_filter_gradients(const ThreadSums& shares, const WinogradSizes& s, std::size_t first,
                          std::size_t last, float* dw) {
    const std::size_t plane = s.fn * s.c;
    for (std::size_t fc0 = first; fc0 < last; fc0 += kLanes) {
        const std::size_t lanes = std::min(kLanes, last - fc0);
        Lanes m[16] = {}, g[9];
        for (std::size_t xi = 0; xi < tile_positions; ++xi) {
            shares.sum(xi * plane + fc0, lanes, m[xi]);
        }
        transform_lanes<filter_gradient_tile>(m, g);
        for (std::size_t l = 0; l < lanes; ++l) {
            for (std::size_t k = 0; k < 9; ++k) {
                dw[(fc0 + l) * 9 + k] += g[k][l];
            }
        }
    }
}

// The tiles of one framed image into rows [at, at + tiles) of v (16, columns, K):
// v[xi][at + i·tile_cols + j] = B^T d B of the 4x4 patch d whose corner is pixel
// (row0 + 2i, col0 + 2j), for all K channels.
void input_transform(const float* frame, const Frame& f, std::size_t k_count, std::size_t row0,
                     std::size_t col0, std::size_t tile_rows, std::size_t tile_cols, float* v,
                     std::size_t columns, std::size_t at) {
    const std::size_t stride = columns * k_count;  // from one xi to the next
    for (std::size_t i = 0; i < tile_rows; ++i) {
        for (std::size_t j = 0; j < tile_cols; ++j) {
            const float* corner = frame + ((row0 + 2 * i) * f.cols + col0 + 2 * j) * k_count;
            float* out = v + (at + i * tile_cols + j) * k_count;
            for (std::size_t k0 = 0; k0 < k_count; k0 += kLanes) {
                const std::size_t lanes = std::min(kLanes, k_count - k0);
                Lanes d[16], t[16];
                for (std::size_t r = 0; r < 4; ++r) {
                    for (std::size_t q = 0; q < 4; ++q) {
                        load(d[4 * r + q], corner + (r * f.cols + q) * k_count + k0, lanes);
                    }
                }
                transform_lanes<input_tile>(d, t);
                for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                    store(t[xi], out + xi * stride + k0, lanes);
                }
            }
        }
    }
}

// dW's transformed dy: rows [at, at + tiles) of e (16, columns, K) get A dY A^T of the 2x2
// block dY whose corner is pixel (row0 + 2i, col0 + 2j) of the framed dy.
void gradient_transform(const float* frame, const Frame& f, std::size_t k_count, std::size_t row0,
                        std::size_t col0, std::size_t tile_rows, std::size_t tile_cols, float* e,
                        std::size_t columns, std::size_t at) {
    const std::size_t stride = columns * k_count;
    for (std::size_t i = 0; i < tile_rows; ++i) {
        for (std::size_t j = 0; j < tile_cols; ++j) {
            const float* corner = frame + ((row0 + 2 * i) * f.cols + col0 + 2 * j) * k_count;
            float* out = e + (at + i * tile_cols + j) * k_count;
            for (std::size_t k0 = 0; k0 < k_count; k0 += kLanes) {
                const std::size_t lanes = std::min(kLanes, k_count - k0);
                Lanes dy[4], t[16];
                for (std::size_t r = 0; r < 2; ++r) {
                    for (std::size_t q = 0; q < 2; ++q) {
                        load(dy[2 * r + q], corner + (r * f.cols + q) * k_count + k0, lanes);
                    }
                }
                transform_lanes<gradient_tile>(dy, t);
                for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                    store(t[xi], out + xi * stride + k0, lanes);
                }
            }
        }
    }
}

// Rows [at, at + tiles) of m (16, columns, K) to out (2·tile_rows, 2·tile_cols, K): the 2x2
// outputs A^T m A of tile (i, j) at pixels (2i, 2j) to (2i + 1, 2j + 1).
void output_transform(const float* m, std::size_t columns, std::size_t at, std::size_t k_count,
                      std::size_t tile_rows, std::size_t tile_cols, float* out) {
    const std::size_t stride = columns * k_count;
    const std::size_t cols = 2 * tile_cols;
    for (std::size_t i = 0; i < tile_rows; ++i) {
        for (std::size_t j = 0; j < tile_cols; ++j) {
            const float* in = m + (at + i * tile_cols + j) * k_count;
            float* corner = out + (2 * i * cols + 2 * j) * k_count;
            for (std::size_t k0 = 0; k0 < k_count; k0 += kLanes) {
                const std::size_t lanes = std::min(kLanes, k_count - k0);
                Lanes t[16], y[4];
                for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                    load(t[xi], in + xi * stride + k0, lanes);
                }
                transform_lanes<output_tile>(t, y);
                for (std::size_t r = 0; r < 2; ++r) {
                    for (std::size_t q = 0; q < 2; ++q) {
                        store(y[2 * r + q], corner + (r * cols + q) * k_count + k0, lanes);
                    }
                }
            }
        }
    }
}

// The position of the rotated filter's transform: the first and last rows and columns of a
// 4x4 tile swapped (G applied to a reversed filter is G with rows 0 and 3 swapped).
std::size_t mirrored(std::size_t xi) {
    const auto flip = [](std::size_t a) { return a == 0 ? 3 : a == 3 ? 0 : a; };
    return 4 * flip(xi / 4) + flip(xi % 4);
}

void check_applies(const Tensor4& w, const Conv2DGeometry& g) {
    if (!winograd_applies(w, g)) {
        throw std::invalid_argument(
            "conv2d winograd: expected 3x3 filters and stride 1, got filters " +
            shape_to_string(w.shape()) + " and stride " + std::to_string(g.stride_rows) + "x" +
            std::to_string(g.stride_cols));
    }
}

}  // namespace

//! [conv2d_winograd_forward]
Tensor4 conv2d_winograd_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                const Conv2DGeometry& g, const FastConvOptions& options,
                                WinogradWorkspace& workspace) {
    check_applies(w, g);
    const WinogradSizes s(x, w, g);
    if (b.shape(0) != s.fn) {
        throw std::invalid_argument("conv2d winograd: expected one bias per filter, (" +
                                    std::to_string(s.fn) + "), got " + shape_to_string(b.shape()));
    }
    const Conv2DPlan plan(s.n, s.tiles(), options);
    prepare(workspace, s, plan);
    float* u = workspace.filters.data();
    plan.run([&](std::size_t share) {
        const IndexRange channels = plan.part(s.c, share);
        transform_filters(w, s, channels.first, channels.last, u);
    });
    Tensor4 y = Tensor4::from_shape({s.n, s.fn, s.oh, s.ow});
    const bool relu = options.epilogue == Epilogue::bias_relu;
    plan.run([&](std::size_t share) {
        WinogradWorkspace::PerThread& mine = workspace.per_thread[share];
        float* v = mine.input_tiles.data();
        float* m = mine.output_tiles.data();
        float* frame = mine.frame.data();
        float* stage = mine.stage.data();
        plan.for_each_group(share, [&](const ImageGroup& group) {
            const std::size_t columns = group.count * s.tiles();  // the group's tiles, one per row
            for (std::size_t j = 0; j < group.count; ++j) {
                to_frame(x.data() + (group.first + j) * s.image_in(), nullptr, s.c, s.h, s.w,
                         s.x_frame, frame, nullptr, stage);
                input_transform(frame, s.x_frame, s.c, 0, 0, s.th, s.tw, v, columns, j * s.tiles());
            }
            // For each position xi: M (columns, FN) = V (columns, C) U (C, FN).
            for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                gemm(Op::none, Op::none, columns, s.fn, s.c, v + xi * columns * s.c,
                     u + xi * s.c * s.fn, 0.0f, m + xi * columns * s.fn);
            }
            for (std::size_t j = 0; j < group.count; ++j) {
                output_transform(m, columns, j * s.tiles(), s.fn, s.th, s.tw, frame);
                from_frame(frame, 2 * s.tw, s.fn, s.oh, s.ow, b.data(), relu,
                           y.data() + (group.first + j) * s.image_out(), stage);
            }
        });
    });
    return y;
}
//! [conv2d_winograd_forward]

//! [conv2d_winograd_backward]
Tensor4 conv2d_winograd_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                 const Tensor4& w, const Conv2DGeometry& g,
                                 const FastConvOptions& options, WinogradWorkspace& workspace,
                                 Tensor4& dw, Tensor1& db) {
    check_applies(w, g);
    const WinogradSizes s(x, w, g);
    check_conv2d_backward_shapes(dy, y, w, dw, db, {s.n, s.fn, s.oh, s.ow}, options.epilogue);
    const bool relu = options.epilogue == Epilogue::bias_relu;
    const Conv2DPlan plan(s.n, s.tiles(), options);
    prepare(workspace, s, plan);
    float* u = workspace.filters.data();
    plan.run([&](std::size_t share) {
        const IndexRange channels = plan.part(s.c, share);
        transform_filters(w, s, channels.first, channels.last, u);
    });
    Tensor4 dx = Tensor4::from_shape(x.shape());
    plan.run([&](std::size_t share) {
        WinogradWorkspace::PerThread& mine = workspace.per_thread[share];
        float* dw_share = workspace.dw.zeroed(share);
        float* db_share = workspace.db.zeroed(share);
        float* v = mine.input_tiles.data();
        float* m = mine.output_tiles.data();
        float* frame = mine.frame.data();
        float* stage = mine.stage.data();
        const std::size_t dy_floats = s.dy_frame.floats(s.fn);
        float* dy_frames = mine.dy_frames.data();  // the group's framed dy, one per image
        const auto dy_of = [&](std::size_t image) { return dy.data() + image * s.image_out(); };
        const auto mask_of = [&](std::size_t image) {
            return relu ? y.data() + image * s.image_out() : nullptr;
        };
        plan.for_each_group(share, [&](const ImageGroup& group) {
            const std::size_t columns = group.count * s.tiles();
            const std::size_t dcolumns = group.count * s.dx_tiles();
            // dW: V (16, columns, C) from x, E (16, columns, FN) from dy, then for each xi
            // dW (FN, C) += E^T (FN, columns) V (columns, C). db is summed on the way.
            for (std::size_t j = 0; j < group.count; ++j) {
                to_frame(x.data() + (group.first + j) * s.image_in(), nullptr, s.c, s.h, s.w,
                         s.x_frame, frame, nullptr, stage);
                input_transform(frame, s.x_frame, s.c, 0, 0, s.th, s.tw, v, columns, j * s.tiles());
                float* dy_frame = dy_frames + j * dy_floats;
                to_frame(dy_of(group.first + j), mask_of(group.first + j), s.fn, s.oh, s.ow,
                         s.dy_frame, dy_frame, db_share, stage);
                gradient_transform(dy_frame, s.dy_frame, s.fn, s.dy_frame.top, s.dy_frame.left,
                                   s.th, s.tw, m, columns, j * s.tiles());
            }
            for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                gemm(Op::transpose, Op::none, s.fn, s.c, columns, m + xi * columns * s.fn,
                     v + xi * columns * s.c, 1.0f, dw_share + xi * s.fn * s.c);
            }
            // dx: a Winograd correlation of dy (FN channels) with the rotated filters, whose
            // transform is U at the mirrored position, transposed:
            // M (dcolumns, C) = V (dcolumns, FN) U_mirrored^T (FN, C).
            for (std::size_t j = 0; j < group.count; ++j) {
                input_transform(dy_frames + j * dy_floats, s.dy_frame, s.fn, s.dx_row, s.dx_col,
                                s.dth, s.dtw, v, dcolumns, j * s.dx_tiles());
            }
            for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                gemm(Op::none, Op::transpose, dcolumns, s.c, s.fn, v + xi * dcolumns * s.fn,
                     u + mirrored(xi) * s.c * s.fn, 0.0f, m + xi * dcolumns * s.c);
            }
            for (std::size_t j = 0; j < group.count; ++j) {
                output_transform(m, dcolumns, j * s.dx_tiles(), s.c, s.dth, s.dtw, frame);
                from_frame(frame, 2 * s.dtw, s.c, s.h, s.w, nullptr, false,
                           dx.data() + (group.first + j) * s.image_in(), stage);
            }
        });
    });
    // The threads' shares, always added in the same order: the same bits on every run; then
    // transformed back from 4x4 to 3x3. Both split between the threads by filter and channel.
    plan.run([&](std::size_t share) {
        const IndexRange pairs = plan.part(s.fn * s.c, share);
        add_filter_gradients(workspace.dw, s, pairs.first, pairs.last, dw.data());
    });
    workspace.db.add_to(db.data());
    return dx;
}
//! [conv2d_winograd_backward]

}  // namespace cnn
