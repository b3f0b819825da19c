#include "cnn/conv/winograd.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>

#include "cnn/conv/conv2d_naive.hpp"  // conv2d_output_shape: the geometry checks
#include "cnn/parallel/threads.hpp"
#include "cnn/tensor/gemm.hpp"

namespace cnn {

// The three tile transforms, written out. Index a 4x4 tile by xi = 4·row + column.

std::array<float, 16> winograd_input_tile(const std::array<float, 16>& d) {
    // B^T d: rows combined, d0 - d2, d1 + d2, d2 - d1, d1 - d3; then the same on columns.
    std::array<float, 16> rows{}, v{};
    for (std::size_t s = 0; s < 4; ++s) {
        rows[0 + s] = d[0 + s] - d[8 + s];
        rows[4 + s] = d[4 + s] + d[8 + s];
        rows[8 + s] = d[8 + s] - d[4 + s];
        rows[12 + s] = d[4 + s] - d[12 + s];
    }
    for (std::size_t r = 0; r < 4; ++r) {
        const float* t = rows.data() + 4 * r;
        v[4 * r + 0] = t[0] - t[2];
        v[4 * r + 1] = t[1] + t[2];
        v[4 * r + 2] = t[2] - t[1];
        v[4 * r + 3] = t[1] - t[3];
    }
    return v;
}

std::array<float, 16> winograd_filter_tile(const std::array<float, 9>& g) {
    // G g (4, 3): g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2 by rows; then G^T on columns.
    std::array<float, 12> rows{};
    for (std::size_t s = 0; s < 3; ++s) {
        rows[0 + s] = g[s];
        rows[3 + s] = 0.5f * (g[s] + g[3 + s] + g[6 + s]);
        rows[6 + s] = 0.5f * (g[s] - g[3 + s] + g[6 + s]);
        rows[9 + s] = g[6 + s];
    }
    std::array<float, 16> u{};
    for (std::size_t r = 0; r < 4; ++r) {
        const float* t = rows.data() + 3 * r;
        u[4 * r + 0] = t[0];
        u[4 * r + 1] = 0.5f * (t[0] + t[1] + t[2]);
        u[4 * r + 2] = 0.5f * (t[0] - t[1] + t[2]);
        u[4 * r + 3] = t[2];
    }
    return u;
}

std::array<float, 4> winograd_output_tile(const std::array<float, 16>& m) {
    // A^T m: rows m0 + m1 + m2 and m1 - m2 - m3; then the same on columns.
    std::array<float, 8> rows{};
    for (std::size_t s = 0; s < 4; ++s) {
        rows[0 + s] = m[s] + m[4 + s] + m[8 + s];
        rows[4 + s] = m[4 + s] - m[8 + s] - m[12 + s];
    }
    std::array<float, 4> y{};
    for (std::size_t r = 0; r < 2; ++r) {
        const float* t = rows.data() + 4 * r;
        y[2 * r + 0] = t[0] + t[1] + t[2];
        y[2 * r + 1] = t[1] - t[2] - t[3];
    }
    return y;
}

bool winograd_applies(const Tensor4& w, const Conv2dGeometry& g) {
    return w.shape(2) == 3 && w.shape(3) == 3 && g.stride_rows == 1 && g.stride_cols == 1;
}

namespace {

// Nothing in a parallel region may throw or allocate: prepare() sizes every buffer first.

constexpr std::size_t kPositions = 16;  // xi: the positions of a 4x4 tile

std::size_t tiles_along(std::size_t outputs) { return (outputs + 1) / 2; }

// The tiles laid over one image's stack of planes (channels, rows, cols): tile (i, j) reads
// the 4x4 patch at rows 2i - top .. 2i - top + 3 and columns 2j - left .. 2j - left + 3
// (zeros outside the planes) and gives the 2x2 outputs at rows 2i, 2i + 1, columns 2j, 2j + 1.
struct TileGrid {
    std::size_t channels, rows, cols;  // the planes read
    long top, left;                    // the padding before: negative crops
    std::size_t tile_rows, tile_cols;  // per image
    std::size_t tiles() const { return tile_rows * tile_cols; }
    std::size_t plane() const { return channels * rows * cols; }
    // The zero-framed plane the patches are read from, and its rows' transforms.
    std::size_t framed_rows() const { return 2 * tile_rows + 2; }
    std::size_t framed_cols() const { return 2 * tile_cols + 2; }
    std::size_t scratch() const { return (framed_rows() + 4) * framed_cols(); }
};

// Every size of one convolution, named as in the chapters, and its two tile grids.
struct WinogradSizes {
    std::size_t n, c, h, w;  // input (N, C, H, W)
    std::size_t fn;          // filters (FN, C, 3, 3)
    std::size_t oh, ow;      // output (N, FN, OH, OW)
    TileGrid forward;        // over x: y, and dW's transformed inputs
    TileGrid gradient;       // over dy with the forward's tiles: dW's transformed dy
    TileGrid backward;       // over dy: dx

    WinogradSizes(const Tensor4& x, const Tensor4& filters, const Conv2dGeometry& g)
        : n(x.shape(0)), c(x.shape(1)), h(x.shape(2)), w(x.shape(3)), fn(filters.shape(0)) {
        const auto out = conv2d_output_shape(x, filters, g);  // throws on impossible geometry
        oh = out[2];
        ow = out[3];
        const auto before = [](std::size_t p) { return static_cast<long>(p); };
        forward = {c, h, w, before(g.pad_rows.before), before(g.pad_cols.before),
                   tiles_along(oh), tiles_along(ow)};
        gradient = {fn, oh, ow, 0, 0, forward.tile_rows, forward.tile_cols};
        // dx[r] = sum over u of dy[r + u - (2 - top)] w[2 - u]: dy padded by 2 - top before.
        backward = {fn, oh, ow, 2 - before(g.pad_rows.before), 2 - before(g.pad_cols.before),
                    tiles_along(h), tiles_along(w)};
    }
};

// How the batch is cut, as in conv2d_fast.cpp: `shares` contiguous runs of images, taken
// `group` images at a time so that a product has about min_columns tiles.
struct WorkPlan {
    std::size_t shares, group;

    WorkPlan(const WinogradSizes& s, const FastConvOptions& o) {
        const std::size_t wanted = o.threads == 0 ? thread_count() : o.threads;
        shares = std::max<std::size_t>(1, std::min(wanted, s.n));
        const std::size_t per_share = (s.n + shares - 1) / shares;
        const std::size_t tiles = s.forward.tiles();
        group = std::clamp<std::size_t>((o.min_columns + tiles - 1) / tiles, 1,
                                        std::max<std::size_t>(1, per_share));
    }
    std::size_t first(const WinogradSizes& s, std::size_t share) const { return s.n * share / shares; }
    std::size_t last(const WinogradSizes& s, std::size_t share) const { return s.n * (share + 1) / shares; }
};

void prepare(Conv2dWorkspace& workspace, const WinogradSizes& s, const WorkPlan& plan) {
    const std::size_t cols = plan.group * s.forward.tiles();    // the forward's and dW's
    const std::size_t dcols = plan.group * s.backward.tiles();  // dx's
    const std::size_t output_rows = 2 * 2 * std::max(s.forward.tile_cols, s.backward.tile_cols);
    const std::size_t scratch =
        std::max({s.forward.scratch(), s.backward.scratch(), output_rows});
    workspace.filters.resize(kPositions * s.fn * s.c);
    workspace.per_thread.resize(std::max(workspace.per_thread.size(), plan.shares));
    for (std::size_t t = 0; t < plan.shares; ++t) {
        Conv2dWorkspace::PerThread& mine = workspace.per_thread[t];
        // Grow only; both passes size alike, so training allocates once.
        const auto grow = [](std::vector<float>& v, std::size_t size) {
            v.resize(std::max(v.size(), size));
        };
        grow(mine.cols, kPositions * std::max(s.c * cols, s.fn * dcols));
        grow(mine.product, kPositions * std::max(s.fn * cols, s.c * dcols));
        grow(mine.scratch, scratch);
        mine.dw.resize(kPositions * s.fn * s.c);
        mine.db.resize(s.fn);
    }
}

// U (16, FN, C): G g G^T for every filter f and channel c.
void transform_filters(const Tensor4& w, const WinogradSizes& s, float* u) {
    const std::size_t plane = s.fn * s.c;
    for (std::size_t fc = 0; fc < plane; ++fc) {
        std::array<float, 9> g{};
        std::copy(w.data() + 9 * fc, w.data() + 9 * (fc + 1), g.begin());
        const std::array<float, 16> tile = winograd_filter_tile(g);
        for (std::size_t xi = 0; xi < kPositions; ++xi) {
            u[xi * plane + fc] = tile[xi];
        }
    }
}

// dw (FN, C, 3, 3) += G^T m G for every filter and channel of m (16, FN, C).
void add_filter_gradients(const float* m, const WinogradSizes& s, float* dw) {
    const std::size_t plane = s.fn * s.c;
    for (std::size_t fc = 0; fc < plane; ++fc) {
        std::array<float, 16> t{};
        for (std::size_t xi = 0; xi < kPositions; ++xi) {
            t[xi] = m[xi * plane + fc];
        }
        // G^T t (3, 4): rows t0 + (t1 + t2) / 2, (t1 - t2) / 2, (t1 + t2) / 2 + t3; then columns.
        std::array<float, 12> rows{};
        for (std::size_t b = 0; b < 4; ++b) {
            rows[0 + b] = t[b] + 0.5f * (t[4 + b] + t[8 + b]);
            rows[4 + b] = 0.5f * (t[4 + b] - t[8 + b]);
            rows[8 + b] = 0.5f * (t[4 + b] + t[8 + b]) + t[12 + b];
        }
        float* out = dw + 9 * fc;
        for (std::size_t u = 0; u < 3; ++u) {
            const float* r = rows.data() + 4 * u;
            out[3 * u + 0] += r[0] + 0.5f * (r[1] + r[2]);
            out[3 * u + 1] += 0.5f * (r[1] - r[2]);
            out[3 * u + 2] += 0.5f * (r[1] + r[2]) + r[3];
        }
    }
}

// Copies plane (rows, cols) into framed (framed_rows, framed_cols) at (top, left), zeros around
// it; through the ReLU's mask (mask > 0) when mask is not null. Returns the sum of what it
// copied.
float frame_plane(const float* plane, const float* mask, std::size_t rows, std::size_t cols,
                  long top, long left, float* framed, std::size_t framed_rows,
                  std::size_t framed_cols) {
    const auto clamp = [](long v, long lo, long hi) { return static_cast<std::size_t>(std::clamp(v, lo, hi)); };
    const long fc = static_cast<long>(framed_cols);
    const std::size_t lo = clamp(left, 0, fc);
    const std::size_t hi = clamp(static_cast<long>(cols) + left, static_cast<long>(lo), fc);
    float sum = 0.0f;
    for (std::size_t fr = 0; fr < framed_rows; ++fr) {
        float* out = framed + fr * framed_cols;
        const long r = static_cast<long>(fr) - top;
        if (r < 0 || r >= static_cast<long>(rows) || lo == hi) {
            std::fill(out, out + framed_cols, 0.0f);
            continue;
        }
        const std::size_t at = static_cast<std::size_t>(r) * cols + lo - static_cast<std::size_t>(left);
        std::fill(out, out + lo, 0.0f);
        if (mask == nullptr) {
            std::copy(plane + at, plane + at + (hi - lo), out + lo);
        } else {
            for (std::size_t q = 0; q < hi - lo; ++q) {
                out[lo + q] = mask[at + q] > 0.0f ? plane[at + q] : 0.0f;
            }
        }
        for (std::size_t q = lo; q < hi; ++q) {
            sum += out[q];
        }
        std::fill(out + hi, out + framed_cols, 0.0f);
    }
    return sum;
}

// One image's planes into columns [at, at + tiles) of v (16, channels, columns):
// v[xi][c][at + i·tile_cols + j] = (B^T d B)[xi], d the 4x4 patch of tile (i, j) in plane c.
// Each plane is framed with zeros first; then B^T combines four framed rows over their whole
// width, and B combines columns two apart, tile after tile. Every inner loop runs over a
// contiguous index, so the compiler vectorises it.
void input_transform(const float* image, const float* mask, const TileGrid& grid, float* v,
                     std::size_t columns, std::size_t at, float* scratch) {
    const std::size_t fr = grid.framed_rows(), fc = grid.framed_cols();
    float* framed = scratch;
    float* t0 = scratch + fr * fc;
    float* t1 = t0 + fc;
    float* t2 = t1 + fc;
    float* t3 = t2 + fc;
    const std::size_t stride = grid.channels * columns;  // from one xi to the next in v
    for (std::size_t c = 0; c < grid.channels; ++c) {
        const std::size_t plane = c * grid.rows * grid.cols;
        frame_plane(image + plane, mask == nullptr ? nullptr : mask + plane, grid.rows, grid.cols,
                    grid.top, grid.left, framed, fr, fc);
        for (std::size_t i = 0; i < grid.tile_rows; ++i) {
            const float* d0 = framed + 2 * i * fc;
            const float* d1 = d0 + fc;
            const float* d2 = d1 + fc;
            const float* d3 = d2 + fc;
            for (std::size_t q = 0; q < fc; ++q) {
                t0[q] = d0[q] - d2[q];
                t1[q] = d1[q] + d2[q];
                t2[q] = d2[q] - d1[q];
                t3[q] = d1[q] - d3[q];
            }
            const float* rows[4] = {t0, t1, t2, t3};
            for (std::size_t a = 0; a < 4; ++a) {
                const float* t = rows[a];
                float* out = v + 4 * a * stride + c * columns + at + i * grid.tile_cols;
                float* v0 = out;
                float* v1 = out + stride;
                float* v2 = out + 2 * stride;
                float* v3 = out + 3 * stride;
                for (std::size_t j = 0; j < grid.tile_cols; ++j) {
                    v0[j] = t[2 * j] - t[2 * j + 2];
                    v1[j] = t[2 * j + 1] + t[2 * j + 2];
                    v2[j] = t[2 * j + 2] - t[2 * j + 1];
                    v3[j] = t[2 * j + 1] - t[2 * j + 3];
                }
            }
        }
    }
}

// Columns [at, at + tiles) of m (16, channels, columns) to one image's planes (channels, rows,
// cols): A^T m A of tile (i, j) at rows 2i, 2i + 1 and columns 2j, 2j + 1, those past the
// planes' edge dropped, plus bias[k] and the ReLU when asked (bias may be null).
void output_transform(const float* m, std::size_t columns, std::size_t at, const TileGrid& grid,
                      std::size_t channels, std::size_t rows, std::size_t cols, const float* bias,
                      bool relu, float* image, float* scratch) {
    const std::size_t tc = grid.tile_cols;
    float* y0 = scratch;  // the tile row's two output rows, 2·tile_cols wide
    float* y1 = scratch + 2 * tc;
    const std::size_t stride = channels * columns;
    for (std::size_t k = 0; k < channels; ++k) {
        const float b = bias == nullptr ? 0.0f : bias[k];
        for (std::size_t i = 0; i < grid.tile_rows; ++i) {
            const float* p = m + k * columns + at + i * tc;
            for (std::size_t j = 0; j < tc; ++j) {
                // A^T on rows: s = m0 + m1 + m2, e = m1 - m2 - m3, for each column 0..3.
                float s[4], e[4];
                for (std::size_t col = 0; col < 4; ++col) {
                    const float m0 = p[col * stride + j], m1 = p[(4 + col) * stride + j];
                    const float m2 = p[(8 + col) * stride + j], m3 = p[(12 + col) * stride + j];
                    s[col] = m0 + m1 + m2;
                    e[col] = m1 - m2 - m3;
                }
                y0[2 * j] = s[0] + s[1] + s[2];
                y0[2 * j + 1] = s[1] - s[2] - s[3];
                y1[2 * j] = e[0] + e[1] + e[2];
                y1[2 * j + 1] = e[1] - e[2] - e[3];
            }
            const float* from[2] = {y0, y1};
            for (std::size_t r = 0; r < 2 && 2 * i + r < rows; ++r) {
                float* to = image + (k * rows + 2 * i + r) * cols;
                for (std::size_t q = 0; q < cols; ++q) {
                    const float value = from[r][q] + b;
                    to[q] = relu && value < 0.0f ? 0.0f : value;
                }
            }
        }
    }
}

// One image's dy (FN, OH, OW), through the ReLU's mask when mask is not null, into columns
// [at, at + tiles) of e (16, FN, columns): A dY A^T of the 2x2 block dY of tile (i, j), zeros
// past the edge. Adds each plane's sum to db.
void gradient_transform(const float* dy, const float* mask, const TileGrid& grid, float* e,
                        std::size_t columns, std::size_t at, float* db, float* scratch) {
    const std::size_t fr = 2 * grid.tile_rows, fc = 2 * grid.tile_cols;
    float* framed = scratch;
    float* t0 = scratch + fr * fc;
    float* t1 = t0 + fc;
    float* t2 = t1 + fc;
    float* t3 = t2 + fc;
    const std::size_t stride = grid.channels * columns;
    for (std::size_t f = 0; f < grid.channels; ++f) {
        const std::size_t plane = f * grid.rows * grid.cols;
        db[f] += frame_plane(dy + plane, mask == nullptr ? nullptr : mask + plane, grid.rows,
                             grid.cols, 0, 0, framed, fr, fc);
        for (std::size_t i = 0; i < grid.tile_rows; ++i) {
            // A on rows: dY0, dY0 + dY1, dY0 - dY1, -dY1.
            const float* r0 = framed + 2 * i * fc;
            const float* r1 = r0 + fc;
            for (std::size_t q = 0; q < fc; ++q) {
                t0[q] = r0[q];
                t1[q] = r0[q] + r1[q];
                t2[q] = r0[q] - r1[q];
                t3[q] = -r1[q];
            }
            const float* rows[4] = {t0, t1, t2, t3};
            for (std::size_t a = 0; a < 4; ++a) {
                const float* t = rows[a];
                float* out = e + 4 * a * stride + f * columns + at + i * grid.tile_cols;
                float* e0 = out;
                float* e1 = out + stride;
                float* e2 = out + 2 * stride;
                float* e3 = out + 3 * stride;
                for (std::size_t j = 0; j < grid.tile_cols; ++j) {
                    e0[j] = t[2 * j];
                    e1[j] = t[2 * j] + t[2 * j + 1];
                    e2[j] = t[2 * j] - t[2 * j + 1];
                    e3[j] = -t[2 * j + 1];
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

void check_applies(const Tensor4& w, const Conv2dGeometry& g) {
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
                                const Conv2dGeometry& g, const FastConvOptions& options,
                                Conv2dWorkspace& workspace) {
    check_applies(w, g);
    const WinogradSizes s(x, w, g);
    const WorkPlan plan(s, options);
    prepare(workspace, s, plan);
    transform_filters(w, s, workspace.filters.data());
    Tensor4 y = Tensor4::from_shape({s.n, s.fn, s.oh, s.ow});
    const bool relu = options.epilogue == Epilogue::bias_relu;
    if (plan.shares > 1) {
        keep_blas_on_one_thread();
    }
    const float* u = workspace.filters.data();
    run_shares(plan.shares, [&](std::size_t share) {
        Conv2dWorkspace::PerThread& mine = workspace.per_thread[share];
        const std::size_t tiles = s.forward.tiles();
        const std::size_t last = plan.last(s, share);
        for (std::size_t first = plan.first(s, share); first < last; first += plan.group) {
            const std::size_t images = std::min(plan.group, last - first);
            const std::size_t columns = images * tiles;  // the group's tiles side by side
            float* v = mine.cols.data();
            float* m = mine.product.data();
            for (std::size_t j = 0; j < images; ++j) {
                input_transform(x.data() + (first + j) * s.forward.plane(), nullptr, s.forward,
                                v, columns, j * tiles, mine.scratch.data());
            }
            // For each position xi: M (FN, columns) = U (FN, C) V (C, columns).
            for (std::size_t xi = 0; xi < kPositions; ++xi) {
                gemm(Op::none, Op::none, s.fn, columns, s.c, u + xi * s.fn * s.c,
                     v + xi * s.c * columns, 0.0f, m + xi * s.fn * columns);
            }
            for (std::size_t j = 0; j < images; ++j) {
                output_transform(m, columns, j * tiles, s.forward, s.fn, s.oh, s.ow, b.data(),
                                 relu, y.data() + (first + j) * s.fn * s.oh * s.ow,
                                 mine.scratch.data());
            }
        }
    });
    return y;
}
//! [conv2d_winograd_forward]

//! [conv2d_winograd_backward]
Tensor4 conv2d_winograd_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                 const Tensor4& w, const Conv2dGeometry& g,
                                 const FastConvOptions& options, Conv2dWorkspace& workspace,
                                 Tensor4& dw, Tensor1& db) {
    check_applies(w, g);
    const WinogradSizes s(x, w, g);
    const WorkPlan plan(s, options);
    prepare(workspace, s, plan);
    transform_filters(w, s, workspace.filters.data());
    Tensor4 dx = Tensor4::from_shape(x.shape());
    const bool relu = options.epilogue == Epilogue::bias_relu;
    if (plan.shares > 1) {
        keep_blas_on_one_thread();
    }
    const float* u = workspace.filters.data();
    const std::size_t out_image = s.fn * s.oh * s.ow;
    run_shares(plan.shares, [&](std::size_t share) {
        Conv2dWorkspace::PerThread& mine = workspace.per_thread[share];
        std::fill(mine.dw.begin(), mine.dw.end(), 0.0f);
        std::fill(mine.db.begin(), mine.db.end(), 0.0f);
        const std::size_t tiles = s.forward.tiles(), dtiles = s.backward.tiles();
        const std::size_t last = plan.last(s, share);
        for (std::size_t first = plan.first(s, share); first < last; first += plan.group) {
            const std::size_t images = std::min(plan.group, last - first);
            const std::size_t columns = images * tiles, dcolumns = images * dtiles;
            float* v = mine.cols.data();
            float* m = mine.product.data();
            // dW: V (16, C, columns) from x, E (16, FN, columns) from dy, then for each xi
            // dW (FN, C) += E (FN, columns) V^T (columns, C).
            for (std::size_t j = 0; j < images; ++j) {
                const std::size_t image = first + j;
                input_transform(x.data() + image * s.forward.plane(), nullptr, s.forward, v,
                                columns, j * tiles, mine.scratch.data());
                gradient_transform(dy.data() + image * out_image,
                                   relu ? y.data() + image * out_image : nullptr, s.gradient, m,
                                   columns, j * tiles, mine.db.data(), mine.scratch.data());
            }
            for (std::size_t xi = 0; xi < kPositions; ++xi) {
                gemm(Op::none, Op::transpose, s.fn, s.c, columns, m + xi * s.fn * columns,
                     v + xi * s.c * columns, 1.0f, mine.dw.data() + xi * s.fn * s.c);
            }
            // dx: a Winograd correlation of dy (FN channels) with the rotated filters:
            // M (C, dcolumns) = U_mirrored^T (C, FN) V (FN, dcolumns).
            for (std::size_t j = 0; j < images; ++j) {
                const std::size_t image = first + j;
                input_transform(dy.data() + image * out_image,
                                relu ? y.data() + image * out_image : nullptr, s.backward, v,
                                dcolumns, j * dtiles, mine.scratch.data());
            }
            for (std::size_t xi = 0; xi < kPositions; ++xi) {
                gemm(Op::transpose, Op::none, s.c, dcolumns, s.fn, u + mirrored(xi) * s.fn * s.c,
                     v + xi * s.fn * dcolumns, 0.0f, m + xi * s.c * dcolumns);
            }
            for (std::size_t j = 0; j < images; ++j) {
                output_transform(m, dcolumns, j * dtiles, s.backward, s.c, s.h, s.w, nullptr,
                                 false, dx.data() + (first + j) * s.forward.plane(),
                                 mine.scratch.data());
            }
        }
    });
    // The threads' shares, always added in the same order: the same bits on every run. Then
    // one transform back from 4x4 to 3x3.
    float* total = workspace.per_thread[0].dw.data();
    for (std::size_t t = 1; t < plan.shares; ++t) {
        const std::vector<float>& theirs = workspace.per_thread[t].dw;
        std::transform(theirs.begin(), theirs.end(), total, total, std::plus<>());
    }
    add_filter_gradients(total, s, dw.data());
    for (std::size_t t = 0; t < plan.shares; ++t) {
        const std::vector<float>& theirs = workspace.per_thread[t].db;
        std::transform(db.begin(), db.end(), theirs.begin(), db.begin(), std::plus<>());
    }
    return dx;
}
//! [conv2d_winograd_backward]

}  // namespace cnn
