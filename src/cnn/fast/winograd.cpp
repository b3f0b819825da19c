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

// Planes (K, h, w) copied channels-last into a frame of zeros (rows, cols, K), their pixel
// (0, 0) at (top, left). The tiles then read every pixel's K channels as one contiguous run:
// winograd_lanes of them are one vector load, whatever the tile's position.
struct Frame {
    std::size_t rows = 0, cols = 0, channels = 0;
    std::size_t top = 0, left = 0;  // where the planes start
    std::size_t floats() const { return rows * cols * channels; }
    // Where pixel (row, col)'s channels start.
    std::size_t at(std::size_t row, std::size_t col) const { return (row * cols + col) * channels; }
};

// A frame's shape and its memory.
struct FramedImage {
    const Frame& frame;
    float* data;
};

// Where a transform finds its tiles in a frame: tile (i, j), for i < rows and j < cols, has its
// corner at pixel (top + 2i, left + 2j).
struct TileGrid {
    std::size_t rows = 0, cols = 0;
    std::size_t top = 0, left = 0;
    std::size_t count() const { return rows * cols; }
};

// 16 matrices (rows, cols) one after the other, one per position xi of a 4x4 tile: U
// (16, C, FN), and V, E and M (16, tiles, channels) with one row per tile.
struct PositionMatrices {
    float* data;
    std::size_t rows, cols;
    float* matrix(std::size_t xi) const { return data + xi * rows * cols; }
    float* row(std::size_t xi, std::size_t r) const { return matrix(xi) + r * cols; }
};

// Every size of one convolution, named as in the chapters, and where its tiles lie.
struct WinogradSizes {
    std::size_t n, c, h, w;  // input (N, C, H, W)
    std::size_t fn;          // filters (FN, C, 3, 3)
    std::size_t oh, ow;      // output (N, FN, OH, OW)
    // x framed with the forward's padding before, (2·th + 2, 2·tw + 2, C); the forward's
    // tiles, th x tw = ceil(OH / 2) x ceil(OW / 2) of them, read it from (0, 0).
    Frame x_frame;
    TileGrid tiles;
    Frame y_frame;  // the forward's outputs, tile by tile: (2·th, 2·tw, FN)
    // dy framed for both gradients: dW's tiles are its 2x2 blocks from (top, left), dx's tiles,
    // ceil(H / 2) x ceil(W / 2), its 4x4 patches from (dx_tiles.top, dx_tiles.left).
    Frame dy_frame;
    TileGrid dw_tiles, dx_tiles;
    Frame dx_frame;  // dx, tile by tile: (2·dth, 2·dtw, C)

    WinogradSizes(const Tensor4& x, const Tensor4& filters, const Conv2DGeometry& g)
        : n(x.shape(0)), c(x.shape(1)), h(x.shape(2)), w(x.shape(3)), fn(filters.shape(0)) {
        const auto out = conv2d_output_shape(x, filters, g);  // throws on impossible geometry
        oh = out[2];
        ow = out[3];
        const std::size_t th = tiles_along(oh), tw = tiles_along(ow);
        const std::size_t dth = tiles_along(h), dtw = tiles_along(w);
        const std::size_t top = g.pad_rows.before, left = g.pad_cols.before;
        // 2·th + 2 >= OH + 2 = H + top + bottom: the frame holds all of x.
        x_frame = {2 * th + 2, 2 * tw + 2, c, top, left};
        tiles = {th, tw};
        y_frame = {2 * th, 2 * tw, fn};
        // dx(r) = sum over u of dy(r + u - (2 - top)) w(2 - u): dy padded by 2 - top before,
        // or, from 3 on, its first top - 2 rows skipped. dy starts where that stays >= 0.
        const std::size_t dy_top = top < 2 ? 2 - top : 0, dy_left = left < 2 ? 2 - left : 0;
        dw_tiles = {th, tw, dy_top, dy_left};
        dx_tiles = {dth, dtw, dy_top + top - 2, dy_left + left - 2};
        dy_frame = {std::max(dx_tiles.top + 2 * dth + 2, dy_top + 2 * th),
                    std::max(dx_tiles.left + 2 * dtw + 2, dy_left + 2 * tw), fn, dy_top, dy_left};
        dx_frame = {2 * dth, 2 * dtw, c};
    }
    std::size_t image_in() const { return c * h * w; }
    std::size_t image_out() const { return fn * oh * ow; }
    // Floats of a thread's frame: for x, or for y's or dx's tiles.
    std::size_t work_frame() const {
        return std::max({x_frame.floats(), y_frame.floats(), dx_frame.floats()});
    }
    // Floats of winograd_lanes planes of x or y.
    std::size_t stage() const { return winograd_lanes * std::max(h * w, oh * ow); }
};

void prepare(WinogradWorkspace& workspace, const WinogradSizes& s, const Conv2DPlan& plan) {
    const std::size_t columns = plan.group() * s.tiles.count();      // the forward's and dW's
    const std::size_t dcolumns = plan.group() * s.dx_tiles.count();  // dx's
    workspace.filters.resize(tile_positions * s.fn * s.c);
    workspace.per_thread.resize(std::max(workspace.per_thread.size(), plan.shares()));
    // Grow only; both passes size alike, so training allocates once.
    const auto grow = [](std::vector<float>& v, std::size_t size) {
        v.resize(std::max(v.size(), size));
    };
    for (std::size_t t = 0; t < plan.shares(); ++t) {
        WinogradWorkspace::PerThread& mine = workspace.per_thread[t];
        grow(mine.input_tiles, tile_positions * std::max(s.c * columns, s.fn * dcolumns));
        grow(mine.output_tiles, tile_positions * std::max(s.fn * columns, s.c * dcolumns));
        grow(mine.frame, s.work_frame());
        grow(mine.stage, s.stage());
        grow(mine.dy_frames, plan.group() * s.dy_frame.floats());
    }
    workspace.dw.resize(plan.shares(), tile_positions * s.fn * s.c);
    workspace.db.resize(plan.shares(), s.fn);
}

// winograd_lanes channels side by side: each tile transform runs on them in a loop over the
// lanes, which the compiler vectorises (one AVX-512 instruction, or two AVX2 ones, per + or -).
using Lanes = float[winograd_lanes];

// One pixel's channels [k0, k0 + lanes) into l, zeros after `lanes`. A full Lanes is a copy
// of constant size: one vector move.
void load(Lanes& l, const float* from, std::size_t lanes) {
    if (lanes == winograd_lanes) {
        std::copy(from, from + winograd_lanes, l);
    } else {
        std::copy(from, from + lanes, l);
        std::fill(l + lanes, l + winograd_lanes, 0.0f);
    }
}

void store(const Lanes& l, float* to, std::size_t lanes) {
    if (lanes == winograd_lanes) {
        std::copy(l, l + winograd_lanes, to);
    } else {
        std::copy(l, l + lanes, to);
    }
}

// A square of lanes x lanes floats transposed: fixed sizes, which the compiler turns into a
// few dozen vector permutations.
using Square = float[winograd_lanes][winograd_lanes];

void transpose(const Square& a, Square& t) {
    for (std::size_t i = 0; i < winograd_lanes; ++i) {
        for (std::size_t j = 0; j < winograd_lanes; ++j) {
            t[i][j] = a[j][i];
        }
    }
}

// One image's planes (K, rows, cols), as NCHW stores them, on their way into a frame: x or dy
// as stored, or dy through the forward's ReLU (dy where the output y > 0, zero elsewhere).
class PlanesIn {
public:
    static PlanesIn as_stored(const float* planes, std::size_t rows, std::size_t cols) {
        return {planes, planes, false, rows, cols};
    }
    static PlanesIn through_relu(const float* dy, const float* y, std::size_t rows,
                                 std::size_t cols) {
        return {dy, y, true, rows, cols};
    }
    std::size_t rows() const { return rows_; }
    std::size_t cols() const { return cols_; }
    // Values [from, from + count) into `to`.
    void read(std::size_t from, std::size_t count, float* to) const {
        if (!masked_) {
            std::copy(values_ + from, values_ + from + count, to);
            return;
        }
        for (std::size_t i = 0; i < count; ++i) {
            to[i] = mask_[from + i] > 0.0f ? values_[from + i] : 0.0f;
        }
    }

private:
    PlanesIn(const float* values, const float* mask, bool masked, std::size_t rows,
             std::size_t cols)
        : values_(values), mask_(mask), masked_(masked), rows_(rows), cols_(cols) {}
    const float* values_;
    const float* mask_;  // the forward's output y, when masked_
    bool masked_;
    std::size_t rows_, cols_;
};

// What to_frame() does with the sums of the planes it copies: nothing (x)...
struct DropSums {
    void operator()(std::size_t, std::size_t, const Lanes&) const {}
};

// ... or add them to sums[k] (dy's planes: db's share).
struct AddSums {
    float* sums;
    void operator()(std::size_t k0, std::size_t lanes, const Lanes& sum) const {
        for (std::size_t l = 0; l < lanes; ++l) {
            sums[k0 + l] += sum[l];
        }
    }
};

// in's planes into `out`, as Frame describes, zeros around them; add_sums(k0, lanes, sums)
// gets the sums of planes [k0, k0 + lanes). winograd_lanes planes at a time: first read in one
// sequential run into `stage` (lanes·rows·cols floats), which the hardware prefetches well;
// then, in squares of lanes channels by lanes pixels of a row, transposed into the pixels'
// runs of channels.
template <class SumsTo>
void to_frame(const PlanesIn& in, const FramedImage& out, float* stage, const SumsTo& add_sums) {
    const Frame& f = out.frame;
    std::fill(out.data, out.data + f.floats(), 0.0f);
    const std::size_t plane = in.rows() * in.cols();
    for (std::size_t k0 = 0; k0 < f.channels; k0 += winograd_lanes) {
        const std::size_t lanes = std::min(winograd_lanes, f.channels - k0);
        in.read(k0 * plane, lanes * plane, stage);
        Lanes sum = {};
        for (std::size_t r = 0; r < in.rows(); ++r) {
            for (std::size_t q0 = 0; q0 < in.cols(); q0 += winograd_lanes) {
                const std::size_t count = std::min(winograd_lanes, in.cols() - q0);
                Square square = {}, t;
                for (std::size_t l = 0; l < lanes; ++l) {
                    const float* row = stage + l * plane + r * in.cols() + q0;
                    std::copy(row, row + count, square[l]);
                }
                transpose(square, t);
                for (std::size_t q = 0; q < count; ++q) {
                    store(t[q], out.data + f.at(f.top + r, f.left + q0 + q) + k0, lanes);
                    for (std::size_t l = 0; l < winograd_lanes; ++l) {  // sums side by side
                        sum[l] += t[q][l];
                    }
                }
            }
        }
        add_sums(k0, lanes, sum);
    }
}

// Planes (K, rows, cols) of one image, where from_frame() writes them.
struct PlanesOut {
    float* planes;
    std::size_t rows, cols;
};

// What from_frame() does to each value of plane k on its way out: y's bias and ReLU...
struct BiasRelu {
    const float* bias;
    bool relu;
    float bias_of(std::size_t k) const { return bias[k]; }
};

// ... or nothing more (dx): a bias of 0 and no ReLU.
struct NoBias {
    static constexpr bool relu = false;
    float bias_of(std::size_t) const { return 0.0f; }
};

// The top-left (rows, cols) pixels of `in`, channels-last, back to planes (K, rows, cols), each
// value plus its plane's bias and through the ReLU as `finish` says. As to_frame() backwards:
// squares transposed into `stage`, then winograd_lanes planes written in one sequential run.
template <class Finish>
void from_frame(const FramedImage& in, const PlanesOut& out, float* stage, const Finish& finish) {
    const Frame& f = in.frame;
    const std::size_t plane = out.rows * out.cols;
    for (std::size_t k0 = 0; k0 < f.channels; k0 += winograd_lanes) {
        const std::size_t lanes = std::min(winograd_lanes, f.channels - k0);
        for (std::size_t r = 0; r < out.rows; ++r) {
            for (std::size_t q0 = 0; q0 < out.cols; q0 += winograd_lanes) {
                const std::size_t count = std::min(winograd_lanes, out.cols - q0);
                Square square = {}, t;
                for (std::size_t q = 0; q < count; ++q) {
                    load(square[q], in.data + f.at(f.top + r, f.left + q0 + q) + k0, lanes);
                }
                transpose(square, t);
                for (std::size_t l = 0; l < lanes; ++l) {
                    std::copy(t[l], t[l] + count, stage + l * plane + r * out.cols + q0);
                }
            }
        }
        float* planes = out.planes + k0 * plane;
        for (std::size_t l = 0; l < lanes; ++l) {
            const float b = finish.bias_of(k0 + l);
            for (std::size_t i = l * plane; i < (l + 1) * plane; ++i) {
                const float v = stage[i] + b;
                planes[i] = finish.relu && v < 0.0f ? 0.0f : v;
            }
        }
    }
}

// out = Transform(in) lane by lane, for a tile transform from In to Out values. Transform is a
// template argument so that the compiler inlines it into the loop and vectorises the loop.
template <auto Transform, std::size_t In, std::size_t Out>
void transform_lanes(const Lanes (&in)[In], Lanes (&out)[Out]) {
    for (std::size_t l = 0; l < winograd_lanes; ++l) {
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

// U's rows for `channels`: at [xi][c][f], G g G^T of filter f's kernel g for channel c,
// winograd_lanes filters at a time.
void transform_filters(const Tensor4& w, const IndexRange& channels, const PositionMatrices& u) {
    const std::size_t fn = w.shape(0), c_count = w.shape(1);
    for (std::size_t c = channels.first; c < channels.last; ++c) {
        for (std::size_t f0 = 0; f0 < fn; f0 += winograd_lanes) {
            const std::size_t lanes = std::min(winograd_lanes, fn - f0);
            Lanes g[9] = {}, t[16];
            for (std::size_t l = 0; l < lanes; ++l) {
                const float* kernel = w.data() + ((f0 + l) * c_count + c) * 9;
                for (std::size_t k = 0; k < 9; ++k) {
                    g[k][l] = kernel[k];
                }
            }
            transform_lanes<filter_tile>(g, t);
            for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                store(t[xi], u.row(xi, c) + f0, lanes);
            }
        }
    }
}

// dw (FN, C, 3, 3) += G^T m G for the (filter, channel) pairs numbered `pairs` of FN·C, m the
// threads' shares of dW (16, FN, C) added in thread order.
void add_filter_gradients(const ThreadSums& shares, std::size_t pair_count, const IndexRange& pairs,
                          float* dw) {
    for (std::size_t fc0 = pairs.first; fc0 < pairs.last; fc0 += winograd_lanes) {
        const std::size_t lanes = std::min(winograd_lanes, pairs.last - fc0);
        Lanes m[16] = {}, g[9];
        for (std::size_t xi = 0; xi < tile_positions; ++xi) {
            shares.sum(xi * pair_count + fc0, lanes, m[xi]);
        }
        transform_lanes<filter_gradient_tile>(m, g);
        for (std::size_t l = 0; l < lanes; ++l) {
            for (std::size_t k = 0; k < 9; ++k) {
                dw[(fc0 + l) * 9 + k] += g[k][l];
            }
        }
    }
}

// The tiles of one framed image into rows [first, first + tiles) of out (16, columns, K):
// out[xi][first + i·tiles.cols + j] = Transform of the size x size patch whose corner is tile
// (i, j), for all K channels.
template <std::size_t size, auto Transform>
void transform_tiles(const FramedImage& in, const TileGrid& tiles, const PositionMatrices& out,
                     std::size_t first) {
    const Frame& f = in.frame;
    for (std::size_t i = 0; i < tiles.rows; ++i) {
        for (std::size_t j = 0; j < tiles.cols; ++j) {
            const float* corner = in.data + f.at(tiles.top + 2 * i, tiles.left + 2 * j);
            const std::size_t tile = first + i * tiles.cols + j;
            for (std::size_t k0 = 0; k0 < f.channels; k0 += winograd_lanes) {
                const std::size_t lanes = std::min(winograd_lanes, f.channels - k0);
                Lanes patch[size * size], t[16];
                for (std::size_t r = 0; r < size; ++r) {
                    for (std::size_t q = 0; q < size; ++q) {
                        load(patch[size * r + q], corner + f.at(r, q) + k0, lanes);
                    }
                }
                transform_lanes<Transform>(patch, t);
                for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                    store(t[xi], out.row(xi, tile) + k0, lanes);
                }
            }
        }
    }
}

// V: B^T d B of every tile's 4x4 patch d (of x, or for dx of dy).
void input_transform(const FramedImage& in, const TileGrid& tiles, const PositionMatrices& v,
                     std::size_t first) {
    transform_tiles<4, input_tile>(in, tiles, v, first);
}

// E, dW's transformed dy: A dY A^T of every tile's 2x2 block dY of dy.
void gradient_transform(const FramedImage& in, const TileGrid& tiles, const PositionMatrices& e,
                        std::size_t first) {
    transform_tiles<2, gradient_tile>(in, tiles, e, first);
}

// Rows [first, first + tiles) of m (16, columns, K) to `out` (2·tiles.rows, 2·tiles.cols, K):
// the 2x2 outputs A^T m A of tile (i, j) at pixels (2i, 2j) to (2i + 1, 2j + 1).
void output_transform(const PositionMatrices& m, std::size_t first, const TileGrid& tiles,
                      const FramedImage& out) {
    const Frame& f = out.frame;
    for (std::size_t i = 0; i < tiles.rows; ++i) {
        for (std::size_t j = 0; j < tiles.cols; ++j) {
            const std::size_t tile = first + i * tiles.cols + j;
            float* corner = out.data + f.at(2 * i, 2 * j);
            for (std::size_t k0 = 0; k0 < f.channels; k0 += winograd_lanes) {
                const std::size_t lanes = std::min(winograd_lanes, f.channels - k0);
                Lanes t[16], y[4];
                for (std::size_t xi = 0; xi < tile_positions; ++xi) {
                    load(t[xi], m.row(xi, tile) + k0, lanes);
                }
                transform_lanes<output_tile>(t, y);
                for (std::size_t r = 0; r < 2; ++r) {
                    for (std::size_t q = 0; q < 2; ++q) {
                        store(y[2 * r + q], corner + f.at(r, q) + k0, lanes);
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

// What both passes share: the sizes, x, and the transformed filters U (16, C, FN).
struct Pass {
    const WinogradSizes& s;
    const Tensor4& x;
    PositionMatrices u;

    // The group's images of x framed, then their tiles into V (16, group's tiles, C): image
    // j's are rows [j·tiles, (j + 1)·tiles).
    void transform_x(const ImageGroup& group, WinogradWorkspace::PerThread& mine,
                     const PositionMatrices& v) const {
        const FramedImage framed{s.x_frame, mine.frame.data()};
        for (std::size_t j = 0; j < group.count; ++j) {
            const float* image = x.data() + (group.first + j) * s.image_in();
            to_frame(PlanesIn::as_stored(image, s.h, s.w), framed, mine.stage.data(), DropSums{});
            input_transform(framed, s.tiles, v, j * s.tiles.count());
        }
    }
};

// The forward pass: y from x, with the bias and, when asked, the ReLU.
struct ForwardPass : Pass {
    const Tensor1& b;
    bool relu;
    Tensor4& y;

    // One group of images: V from x; for each position xi, M (columns, FN) = V (columns, C)
    // U (C, FN); then A^T M A, the bias and the ReLU to y.
    void run(const ImageGroup& group, WinogradWorkspace::PerThread& mine) const {
        const std::size_t columns = group.count * s.tiles.count();  // the group's tiles
        const PositionMatrices v{mine.input_tiles.data(), columns, s.c};
        const PositionMatrices m{mine.output_tiles.data(), columns, s.fn};
        transform_x(group, mine, v);
        for (std::size_t xi = 0; xi < tile_positions; ++xi) {
            gemm(Op::none, Op::none, columns, s.fn, s.c, v.matrix(xi), u.matrix(xi), 0.0f,
                 m.matrix(xi));
        }
        const FramedImage framed{s.y_frame, mine.frame.data()};
        for (std::size_t j = 0; j < group.count; ++j) {
            output_transform(m, j * s.tiles.count(), s.tiles, framed);
            from_frame(framed, {y.data() + (group.first + j) * s.image_out(), s.oh, s.ow},
                       mine.stage.data(), BiasRelu{b.data(), relu});
        }
    }
};

// The backward pass: dW, db and dx from dy, through the ReLU's mask when the forward had one.
struct BackwardPass : Pass {
    const Tensor4& dy;
    const Tensor4& y;  // the forward's output, for the mask
    bool relu;
    Tensor4& dx;

    // The group's dy framed into mine.dy_frames, one after the other, which dx reads next.
    // dW: V (16, columns, C) from x, E (16, columns, FN) from dy, then for each xi
    // dW (FN, C) += E^T (FN, columns) V (columns, C). db is summed on the way.
    void filter_gradients(const ImageGroup& group, WinogradWorkspace::PerThread& mine,
                          float* dw_share, float* db_share) const {
        const std::size_t columns = group.count * s.tiles.count();
        const PositionMatrices v{mine.input_tiles.data(), columns, s.c};
        const PositionMatrices e{mine.output_tiles.data(), columns, s.fn};
        transform_x(group, mine, v);
        for (std::size_t j = 0; j < group.count; ++j) {
            const std::size_t at = (group.first + j) * s.image_out();
            const PlanesIn planes =
                relu ? PlanesIn::through_relu(dy.data() + at, y.data() + at, s.oh, s.ow)
                     : PlanesIn::as_stored(dy.data() + at, s.oh, s.ow);
            const FramedImage framed{s.dy_frame, framed_dy(mine, j)};
            to_frame(planes, framed, mine.stage.data(), AddSums{db_share});
            gradient_transform(framed, s.dw_tiles, e, j * s.tiles.count());
        }
        const PositionMatrices dw{dw_share, s.fn, s.c};
        for (std::size_t xi = 0; xi < tile_positions; ++xi) {
            gemm(Op::transpose, Op::none, s.fn, s.c, columns, e.matrix(xi), v.matrix(xi), 1.0f,
                 dw.matrix(xi));
        }
    }

    // dx: a Winograd correlation of the framed dy (FN channels) with the rotated filters, whose
    // transform is U at the mirrored position, transposed:
    // M (dcolumns, C) = V (dcolumns, FN) U_mirrored^T (FN, C); then A^T M A to dx.
    void input_gradients(const ImageGroup& group, WinogradWorkspace::PerThread& mine) const {
        const std::size_t dcolumns = group.count * s.dx_tiles.count();
        const PositionMatrices v{mine.input_tiles.data(), dcolumns, s.fn};
        const PositionMatrices m{mine.output_tiles.data(), dcolumns, s.c};
        for (std::size_t j = 0; j < group.count; ++j) {
            input_transform({s.dy_frame, framed_dy(mine, j)}, s.dx_tiles, v,
                            j * s.dx_tiles.count());
        }
        for (std::size_t xi = 0; xi < tile_positions; ++xi) {
            gemm(Op::none, Op::transpose, dcolumns, s.c, s.fn, v.matrix(xi), u.matrix(mirrored(xi)),
                 0.0f, m.matrix(xi));
        }
        const FramedImage framed{s.dx_frame, mine.frame.data()};
        for (std::size_t j = 0; j < group.count; ++j) {
            output_transform(m, j * s.dx_tiles.count(), s.dx_tiles, framed);
            from_frame(framed, {dx.data() + (group.first + j) * s.image_in(), s.h, s.w},
                       mine.stage.data(), NoBias{});
        }
    }

    // Image j of the group's framed dy.
    float* framed_dy(WinogradWorkspace::PerThread& mine, std::size_t j) const {
        return mine.dy_frames.data() + j * s.dy_frame.floats();
    }
};

// Plans a call and sizes its buffers, then transforms the filters into workspace.filters (U)
// on the plan's threads, split by channel.
Conv2DPlan plan_call(const WinogradSizes& s, const Tensor4& w, const FastConvOptions& options,
                     WinogradWorkspace& workspace) {
    const Conv2DPlan plan(s.n, s.tiles.count(), options);
    prepare(workspace, s, plan);
    const PositionMatrices u{workspace.filters.data(), s.c, s.fn};
    plan.run([&](std::size_t share) { transform_filters(w, plan.part(s.c, share), u); });
    return plan;
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
    const Conv2DPlan plan = plan_call(s, w, options, workspace);  // U from w
    Tensor4 y = Tensor4::from_shape({s.n, s.fn, s.oh, s.ow});
    const ForwardPass pass{{s, x, {workspace.filters.data(), s.c, s.fn}},
                           b,
                           options.epilogue == Epilogue::bias_relu,
                           y};
    plan.run([&](std::size_t share) {
        plan.for_each_group(
            share, [&](const ImageGroup& group) { pass.run(group, workspace.per_thread[share]); });
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
    const Conv2DPlan plan = plan_call(s, w, options, workspace);  // U from w
    Tensor4 dx = Tensor4::from_shape(x.shape());
    const BackwardPass pass{{s, x, {workspace.filters.data(), s.c, s.fn}},
                            dy,
                            y,
                            options.epilogue == Epilogue::bias_relu,
                            dx};
    plan.run([&](std::size_t share) {
        WinogradWorkspace::PerThread& mine = workspace.per_thread[share];
        float* dw_share = workspace.dw.zeroed(share);
        float* db_share = workspace.db.zeroed(share);
        plan.for_each_group(share, [&](const ImageGroup& group) {
            pass.filter_gradients(group, mine, dw_share, db_share);
            pass.input_gradients(group, mine);
        });
    });
    // The threads' shares, always added in the same order: the same bits on every run. dW's
    // are transformed back from 4x4 to 3x3 on the way, split between the threads by filter
    // and channel.
    const std::size_t pairs = s.fn * s.c;
    plan.run([&](std::size_t share) {
        add_filter_gradients(workspace.dw, pairs, plan.part(pairs, share), dw.data());
    });
    workspace.db.add_to(db.data());
    return dx;
}
//! [conv2d_winograd_backward]

}  // namespace cnn
