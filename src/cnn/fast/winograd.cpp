#include "cnn/fast/winograd.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cnn/fast/panel_product.hpp"
#include "cnn/ops/conv2d_naive.hpp"  // conv2d_output_shape: the geometry checks
#include "cnn/tensor/gemm.hpp"       // Op

namespace cnn {

namespace {

// Nothing in a parallel region may throw or allocate: prepare() sizes every buffer first.

// winograd_lanes channels side by side, used as one number: every +, - and * below runs on all
// of them. This is GCC's (and Clang's) vector extension: a fixed-size vector that the compiler
// maps onto the target's registers, one AVX-512 register or two AVX2 ones, and keeps there
// through a whole tile transform. (A struct with an array and loops for operators computes the
// same, but GCC copies it through memory between operations, at about half the speed.) The
// tile transforms take Lanes where they would take a float; v[l] reads or writes lane l.
typedef float Lanes __attribute__((vector_size(winograd_lanes * sizeof(float))));

// The 1-D algorithms, each step on values `from` apart (d[0], d[from], ...), written `to`
// apart: the 2-D transforms below apply them down the columns of a tile, then along its rows.

// F(2, 3), Lavin and Gray's matrices for the points 0, 1, -1 and infinity.
struct F2 {
    static constexpr std::size_t m = 2;      // outputs per tile side
    static constexpr std::size_t alpha = 4;  // inputs per tile side, m + 3 - 1
    // B^T d: d0 - d2, d1 + d2, d2 - d1, d1 - d3.
    template <class T>
    static void input(const T* d, std::size_t from, T* v, std::size_t to) {
        v[0] = d[0] - d[2 * from];
        v[to] = d[from] + d[2 * from];
        v[2 * to] = d[2 * from] - d[from];
        v[3 * to] = d[from] - d[3 * from];
    }
    // A^T m: m0 + m1 + m2, m1 - m2 - m3.
    template <class T>
    static void output(const T* prod, std::size_t from, T* y, std::size_t to) {
        y[0] = prod[0] + prod[from] + prod[2 * from];
        y[to] = prod[from] - prod[2 * from] - prod[3 * from];
    }
    // G g: g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2.
    template <class T>
    static void filter(const T* g, std::size_t from, T* u, std::size_t to) {
        u[0] = g[0];
        u[to] = 0.5f * (g[0] + g[from] + g[2 * from]);
        u[2 * to] = 0.5f * (g[0] - g[from] + g[2 * from]);
        u[3 * to] = g[2 * from];
    }
    // A dy, the transpose of output(): dy0, dy0 + dy1, dy0 - dy1, -dy1.
    template <class T>
    static void gradient(const T* dy, std::size_t from, T* e, std::size_t to) {
        e[0] = dy[0];
        e[to] = dy[0] + dy[from];
        e[2 * to] = dy[0] - dy[from];
        e[3 * to] = -dy[from];
    }
    // G^T m, the transpose of filter(): m0 + (m1 + m2) / 2, (m1 - m2) / 2, (m1 + m2) / 2 + m3.
    template <class T>
    static void filter_gradient(const T* prod, std::size_t from, T* g, std::size_t to) {
        g[0] = prod[0] + 0.5f * (prod[from] + prod[2 * from]);
        g[to] = 0.5f * (prod[from] - prod[2 * from]);
        g[2 * to] = 0.5f * (prod[from] + prod[2 * from]) + prod[3 * from];
    }
};

// F(4, 3), Lavin and Gray's matrices for the points 0, 1, -1, 2, -2 and infinity.
struct F4 {
    static constexpr std::size_t m = 4;
    static constexpr std::size_t alpha = 6;
    static constexpr float sixth = 1.0f / 6.0f, twelfth = 1.0f / 12.0f,
                           twenty_fourth = 1.0f / 24.0f;
    // B^T d.
    template <class T>
    static void input(const T* d, std::size_t from, T* v, std::size_t to) {
        const T d0 = d[0], d1 = d[from], d2 = d[2 * from], d3 = d[3 * from], d4 = d[4 * from],
                d5 = d[5 * from];
        v[0] = 4.0f * d0 - 5.0f * d2 + d4;
        v[to] = d3 + d4 - 4.0f * (d1 + d2);
        v[2 * to] = d4 - d3 + 4.0f * (d1 - d2);
        v[3 * to] = d4 - d2 + 2.0f * (d3 - d1);
        v[4 * to] = d4 - d2 + 2.0f * (d1 - d3);
        v[5 * to] = 4.0f * d1 - 5.0f * d3 + d5;
    }
    // A^T m.
    template <class T>
    static void output(const T* prod, std::size_t from, T* y, std::size_t to) {
        const T m0 = prod[0], m1 = prod[from], m2 = prod[2 * from], m3 = prod[3 * from],
                m4 = prod[4 * from], m5 = prod[5 * from];
        y[0] = m0 + m1 + m2 + m3 + m4;
        y[to] = m1 - m2 + 2.0f * (m3 - m4);
        y[2 * to] = m1 + m2 + 4.0f * (m3 + m4);
        y[3 * to] = m1 - m2 + 8.0f * (m3 - m4) + m5;
    }
    // G g.
    template <class T>
    static void filter(const T* g, std::size_t from, T* u, std::size_t to) {
        const T g0 = g[0], g1 = g[from], g2 = g[2 * from];
        u[0] = 0.25f * g0;
        u[to] = -sixth * (g0 + g1 + g2);
        u[2 * to] = -sixth * (g0 - g1 + g2);
        u[3 * to] = twenty_fourth * g0 + twelfth * g1 + sixth * g2;
        u[4 * to] = twenty_fourth * g0 - twelfth * g1 + sixth * g2;
        u[5 * to] = g2;
    }
    // A dy, the transpose of output().
    template <class T>
    static void gradient(const T* dy, std::size_t from, T* e, std::size_t to) {
        const T y0 = dy[0], y1 = dy[from], y2 = dy[2 * from], y3 = dy[3 * from];
        e[0] = y0;
        e[to] = y0 + y1 + y2 + y3;
        e[2 * to] = y0 - y1 + y2 - y3;
        e[3 * to] = y0 + 2.0f * y1 + 4.0f * y2 + 8.0f * y3;
        e[4 * to] = y0 - 2.0f * y1 + 4.0f * y2 - 8.0f * y3;
        e[5 * to] = y3;
    }
    // G^T m, the transpose of filter().
    template <class T>
    static void filter_gradient(const T* prod, std::size_t from, T* g, std::size_t to) {
        const T m0 = prod[0], m1 = prod[from], m2 = prod[2 * from], m3 = prod[3 * from],
                m4 = prod[4 * from], m5 = prod[5 * from];
        g[0] = 0.25f * m0 - sixth * (m1 + m2) + twenty_fourth * (m3 + m4);
        g[to] = sixth * (m2 - m1) + twelfth * (m3 - m4);
        g[2 * to] = sixth * (m3 + m4 - m1 - m2) + m5;
    }
};

// A 2-D transform from a 1-D one: `step`, which maps in_n values to out_n, down every column
// of an in_n x in_n block, then along every row of the result: in_n² values to out_n².
template <std::size_t in_n, std::size_t out_n, class T, class Step>
void nested(const Step& step, const T* in, T* out) {
    T t[out_n * in_n];  // after the columns: (out_n, in_n)
    for (std::size_t s = 0; s < in_n; ++s) {
        step(in + s, in_n, t + s, in_n);
    }
    for (std::size_t r = 0; r < out_n; ++r) {
        step(t + in_n * r, std::size_t{1}, out + out_n * r, std::size_t{1});
    }
}

// The 2-D transforms of one tile, each F's 1-D algorithm nested. Values are row-major; P =
// alpha² is the number of positions xi = alpha·row + column. T is float, or Lanes below.
template <class F>
struct Tile {
    static constexpr std::size_t m = F::m, a = F::alpha, positions = a * a;
    // V = B^T d B.
    template <class T>
    static void input(const T (&d)[positions], T (&v)[positions]) {
        nested<a, a>([](auto... args) { F::input(args...); }, d, v);
    }
    // Y = A^T M A: m x m outputs.
    template <class T>
    static void output(const T (&mm)[positions], T (&y)[m * m]) {
        nested<a, m>([](auto... args) { F::output(args...); }, mm, y);
    }
    // U = G g G^T, from a 3x3 filter.
    template <class T>
    static void filter(const T (&g)[9], T (&u)[positions]) {
        nested<3, a>([](auto... args) { F::filter(args...); }, g, u);
    }
    // E = A dY A^T, the transpose of output(), from an m x m block of dy.
    template <class T>
    static void gradient(const T (&dy)[m * m], T (&e)[positions]) {
        nested<m, a>([](auto... args) { F::gradient(args...); }, dy, e);
    }
    // G^T M G, the transpose of filter(): back to 3x3.
    template <class T>
    static void filter_gradient(const T (&mm)[positions], T (&g)[9]) {
        nested<a, 3>([](auto... args) { F::filter_gradient(args...); }, mm, g);
    }
};

// One tile transform on vectors, for the public functions below (and their tests): checks the
// size, then runs `transform` on floats.
template <std::size_t In, std::size_t Out, void (*transform)(const float (&)[In], float (&)[Out])>
std::vector<float> on_vector(const std::vector<float>& values, const char* name) {
    if (values.size() != In) {
        throw std::invalid_argument(std::string("winograd ") + name + ": expected " +
                                    std::to_string(In) + " values, got " +
                                    std::to_string(values.size()));
    }
    float in[In], out[Out];
    std::copy(values.begin(), values.end(), in);
    transform(in, out);
    return std::vector<float>(out, out + Out);
}

// Tiles of m outputs that cover `outputs`: the last may stick out.
std::size_t tiles_along(std::size_t outputs, std::size_t m) {
    return (outputs + m - 1) / m;
}

// Calls `body` with the 1-D algorithm of `tile`, F2 or F4: the one place where the run-time
// choice becomes a type, so that each engine's loops are compiled for their tile's sizes.
template <class Body>
auto with_variant(WinogradTile tile, const Body& body) {
    return tile == WinogradTile::f2x2 ? body(F2{}) : body(F4{});
}

}  // namespace

std::vector<float> winograd_input_tile(WinogradTile tile, const std::vector<float>& d) {
    return with_variant(tile, [&](auto f) {
        using T = Tile<decltype(f)>;
        return on_vector<T::positions, T::positions, T::template input<float>>(d, "input tile");
    });
}

std::vector<float> winograd_filter_tile(WinogradTile tile, const std::vector<float>& g) {
    return with_variant(tile, [&](auto f) {
        using T = Tile<decltype(f)>;
        return on_vector<9, T::positions, T::template filter<float>>(g, "filter tile");
    });
}

std::vector<float> winograd_output_tile(WinogradTile tile, const std::vector<float>& m) {
    return with_variant(tile, [&](auto f) {
        using T = Tile<decltype(f)>;
        return on_vector<T::positions, T::m * T::m, T::template output<float>>(m, "output tile");
    });
}

std::vector<float> winograd_output_tile_transpose(WinogradTile tile, const std::vector<float>& dy) {
    return with_variant(tile, [&](auto f) {
        using T = Tile<decltype(f)>;
        return on_vector<T::m * T::m, T::positions, T::template gradient<float>>(
            dy, "output tile transpose");
    });
}

std::vector<float> winograd_filter_tile_transpose(WinogradTile tile, const std::vector<float>& m) {
    return with_variant(tile, [&](auto f) {
        using T = Tile<decltype(f)>;
        return on_vector<T::positions, 9, T::template filter_gradient<float>>(
            m, "filter tile transpose");
    });
}

WinogradGrid winograd_grid(WinogradTile tile, std::size_t oh, std::size_t ow) {
    return with_variant(tile, [&](auto f) {
        using T = Tile<decltype(f)>;
        return WinogradGrid{tiles_along(oh, T::m) * tiles_along(ow, T::m), T::positions};
    });
}

//! [tile_choice]
ProductShare winograd_f4x4_share() {
#if defined(__AVX512F__)
    return {2, 3};
#else
    return {3, 4};  // half-width products: fewer of them pay on larger maps
#endif
}

WinogradTile winograd_tile_for(std::size_t oh, std::size_t ow, ProductShare share) {
    const std::size_t f4 = winograd_grid(WinogradTile::f4x4, oh, ow).products();
    const std::size_t f2 = winograd_grid(WinogradTile::f2x2, oh, ow).products();
    return share.denominator * f4 <= share.numerator * f2 ? WinogradTile::f4x4 : WinogradTile::f2x2;
}
//! [tile_choice]

bool winograd_applies(const Tensor4& w, const Conv2DGeometry& g) {
    return w.shape(2) == 3 && w.shape(3) == 3 && g.stride_rows == 1 && g.stride_cols == 1;
}

namespace {

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
// corner at pixel (top + m·i, left + m·j), m a tile's outputs per side.
struct TileGrid {
    std::size_t rows = 0, cols = 0;
    std::size_t top = 0, left = 0;
    std::size_t count() const { return rows * cols; }
};

// Every size of one convolution, named as in the chapters, and where its tiles lie, for the
// 1-D algorithm F (m outputs per tile side).
template <class F>
struct WinogradSizes {
    std::size_t n, c, h, w;  // input (N, C, H, W)
    std::size_t fn;          // filters (FN, C, 3, 3)
    std::size_t oh, ow;      // output (N, FN, OH, OW)
    // x framed with the forward's padding before, (m·th + 2, m·tw + 2, C); the forward's
    // tiles, th x tw = ceil(OH / m) x ceil(OW / m) of them, read it from (0, 0).
    Frame x_frame;
    TileGrid tiles;
    Frame y_frame;  // the forward's outputs, tile by tile: (m·th, m·tw, FN)
    // dy framed for both gradients: dW's tiles are its m x m blocks from (top, left), dx's
    // tiles, ceil(H / m) x ceil(W / m), its (m + 2) x (m + 2) patches from (dx_tiles.top,
    // dx_tiles.left).
    Frame dy_frame;
    TileGrid dw_tiles, dx_tiles;
    Frame dx_frame;  // dx, tile by tile: (m·dth, m·dtw, C)

    WinogradSizes(const Tensor4& x, const Tensor4& filters, const Conv2DGeometry& g)
        : n(x.shape(0)), c(x.shape(1)), h(x.shape(2)), w(x.shape(3)), fn(filters.shape(0)) {
        const auto out = conv2d_output_shape(x, filters, g);  // throws on impossible geometry
        oh = out[2];
        ow = out[3];
        constexpr std::size_t m = F::m;
        const std::size_t th = tiles_along(oh, m), tw = tiles_along(ow, m);
        const std::size_t dth = tiles_along(h, m), dtw = tiles_along(w, m);
        const std::size_t top = g.pad_rows.before, left = g.pad_cols.before;
        // m·th + 2 >= OH + 2 = H + top + bottom: the frame holds all of x.
        x_frame = {m * th + 2, m * tw + 2, c, top, left};
        tiles = {th, tw};
        y_frame = {m * th, m * tw, fn};
        // dx(r) = sum over u of dy(r + u - (2 - top)) w(2 - u): dy padded by 2 - top before,
        // or, from 3 on, its first top - 2 rows skipped. dy starts where that stays >= 0.
        const std::size_t dy_top = top < 2 ? 2 - top : 0, dy_left = left < 2 ? 2 - left : 0;
        dw_tiles = {th, tw, dy_top, dy_left};
        dx_tiles = {dth, dtw, dy_top + top - 2, dy_left + left - 2};
        dy_frame = {std::max(dx_tiles.top + m * dth + 2, dy_top + m * th),
                    std::max(dx_tiles.left + m * dtw + 2, dy_left + m * tw), fn, dy_top, dy_left};
        dx_frame = {m * dth, m * dtw, c};
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

template <class F>
void prepare(WinogradWorkspace& workspace, const WinogradSizes<F>& s, const Conv2DPlan& plan) {
    constexpr std::size_t positions = Tile<F>::positions;
    const std::size_t columns = plan.group() * s.tiles.count();      // the forward's and dW's
    const std::size_t dcolumns = plan.group() * s.dx_tiles.count();  // dx's
    workspace.per_thread.resize(std::max(workspace.per_thread.size(), plan.shares()));
    // Grow only: both passes size alike, so training allocates once, and engines that share
    // one workspace (fast_conv2d_engine()) size it for the largest of their layers.
    grow_to(workspace.filters,
            positions * std::max(panel_floats(s.c, s.fn), panel_floats(s.fn, s.c)));
    for (std::size_t t = 0; t < plan.shares(); ++t) {
        WinogradWorkspace::PerThread& mine = workspace.per_thread[t];
        grow_to(mine.input_tiles, positions * std::max(s.c * columns, s.fn * dcolumns));
        // M forward (columns, FN), E in panels, dx's M (dcolumns, C)
        grow_to(mine.output_tiles,
                positions * std::max(panel_floats(columns, s.fn), s.c * dcolumns));
        grow_to(mine.frame, s.work_frame());
        grow_to(mine.stage, s.stage());
        grow_to(mine.dy_frames, plan.group() * s.dy_frame.floats());
    }
    workspace.dw.resize(plan.shares(), positions * s.fn * s.c);
    workspace.db.resize(plan.shares(), s.fn);
}

// `count` floats, at most winograd_lanes, from one place to another. A full run is a copy of
// constant size: one vector move.
void copy_run(const void* from, void* to, std::size_t count) {
    if (count == winograd_lanes) {
        std::memcpy(to, from, winograd_lanes * sizeof(float));
    } else {
        std::memcpy(to, from, count * sizeof(float));
    }
}

// One pixel's channels [k0, k0 + lanes) into l, zeros after `lanes`.
void load(Lanes& l, const float* from, std::size_t lanes) {
    if (lanes < winograd_lanes) {
        l = Lanes{};
    }
    copy_run(from, &l, lanes);
}

void store(const Lanes& l, float* to, std::size_t lanes) {
    copy_run(&l, to, lanes);
}

// One matrix (rows, cols) per position xi of a tile, one after the other: V and M (P, tiles,
// channels) with one row per tile.
struct PositionMatrices {
    float* data;
    std::size_t rows, cols;
    float* matrix(std::size_t xi) const { return data + xi * rows * cols; }
    float* row(std::size_t xi, std::size_t r) const { return matrix(xi) + r * cols; }
    // Row r's columns [col, col + lanes) of matrix xi from l.
    void put(std::size_t xi, std::size_t r, std::size_t col, const Lanes& l,
             std::size_t lanes) const {
        store(l, row(xi, r) + col, lanes);
    }
};

// The matrices the products take on their right, one per position xi as PositionMatrices, each
// stored in panels of 32 columns (panel_product.hpp), the order multiply_panels() reads: the
// transformed filters U, and E, dW's transformed dy. (A panel's row is two runs of
// winograd_lanes: the transforms' stores never straddle two panels.)
static_assert(panel_columns == 2 * winograd_lanes, "a panel's row is two runs of lanes");
struct PanelMatrices {
    float* data;
    std::size_t rows, cols;
    float* matrix(std::size_t xi) const { return data + xi * panel_floats(rows, cols); }
    // As PositionMatrices::put(), col a multiple of winograd_lanes. Columns past the last are
    // zeros: a last run of fewer than winograd_lanes stores its zero lanes too, and where it
    // fills only the first half of a panel's row, zeros go into the second. (Those columns
    // only reach sums that are never stored; the zeros keep stale NaN or denormal values,
    // which could slow the arithmetic, out of them.)
    void put(std::size_t xi, std::size_t r, std::size_t col, const Lanes& l,
             std::size_t lanes) const {
        float* at = matrix(xi) + panel_index(rows, r, col);
        store(l, at, winograd_lanes);
        if (col + lanes == cols && col % panel_columns == 0) {
            store(Lanes{}, at + winograd_lanes, winograd_lanes);
        }
    }
};

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
        const float* values = values_ + from;
        if (!masked_) {
            std::copy(values, values + count, to);
            return;
        }
        // Local pointers, and both values read whatever the mask says: a loop the compiler
        // vectorises into a compare and a blend.
        const float* mask = mask_ + from;
        for (std::size_t i = 0; i < count; ++i) {
            const float value = values[i];
            to[i] = mask[i] > 0.0f ? value : 0.0f;
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

// Zeros in the pixels of frame f around the planes (rows, cols) at (f.top, f.left): the rows
// above and below them, and the columns left and right of them. The planes' own pixels are
// written next, every channel, so zeroing them too would be a wasted pass over the frame.
void zero_around(const Frame& f, std::size_t rows, std::size_t cols, float* frame) {
    const auto zero_pixels = [&](std::size_t row, std::size_t col, std::size_t count) {
        std::fill_n(frame + f.at(row, col), count * f.channels, 0.0f);
    };
    zero_pixels(0, 0, f.top * f.cols);
    for (std::size_t r = f.top; r < f.top + rows; ++r) {
        zero_pixels(r, 0, f.left);
        zero_pixels(r, f.left + cols, f.cols - f.left - cols);
    }
    zero_pixels(f.top + rows, 0, (f.rows - f.top - rows) * f.cols);
}

// in's planes into `out`, as Frame describes, zeros around them; add_sums(k0, lanes, sums)
// gets the sums of planes [k0, k0 + lanes). winograd_lanes planes at a time: first read in one
// sequential run into `stage` (lanes·rows·cols floats), which the hardware prefetches well;
// then, in squares of lanes channels by lanes pixels, transposed into the pixels' runs of
// channels. A square's pixels are consecutive in the plane and may span rows: a 7x7 plane is 4
// squares, where square by row would take 7, each less than half used.
template <class SumsTo>
void to_frame(const PlanesIn& in, const FramedImage& out, float* stage, const SumsTo& add_sums) {
    const Frame& f = out.frame;
    zero_around(f, in.rows(), in.cols(), out.data);
    const std::size_t cols = in.cols(), plane = in.rows() * cols;
    for (std::size_t k0 = 0; k0 < f.channels; k0 += winograd_lanes) {
        const std::size_t lanes = std::min(winograd_lanes, f.channels - k0);
        in.read(k0 * plane, lanes * plane, stage);
        Lanes sum = {};
        for (std::size_t p0 = 0; p0 < plane; p0 += winograd_lanes) {
            const std::size_t count = std::min(winograd_lanes, plane - p0);
            Square square = {}, t;
            for (std::size_t l = 0; l < lanes; ++l) {
                std::copy_n(stage + l * plane + p0, count, square[l]);
            }
            transpose(square, t);
            for (std::size_t i = 0, r = p0 / cols, q = p0 % cols; i < count; ++i) {
                Lanes pixel;  // its lanes channels, and zeros
                std::memcpy(&pixel, t[i], sizeof(pixel));
                store(pixel, out.data + f.at(f.top + r, f.left + q) + k0, lanes);
                sum += pixel;  // the sums side by side
                if (++q == cols) {
                    q = 0;
                    ++r;
                }
            }
        }
        add_sums(k0, lanes, sum);
    }
}

// Planes (K, rows, cols) of one image, where from_frame() writes them, and where it writes
// them again unless `copy` is null.
struct PlanesOut {
    float* planes;
    std::size_t rows, cols;
    float* copy = nullptr;
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
// squares of consecutive pixels transposed into `stage`, then winograd_lanes planes written in
// one sequential run.
template <class Finish>
void from_frame(const FramedImage& in, const PlanesOut& out, float* stage, const Finish& finish) {
    const Frame& f = in.frame;
    const std::size_t plane = out.rows * out.cols;
    for (std::size_t k0 = 0; k0 < f.channels; k0 += winograd_lanes) {
        const std::size_t lanes = std::min(winograd_lanes, f.channels - k0);
        for (std::size_t p0 = 0; p0 < plane; p0 += winograd_lanes) {
            const std::size_t count = std::min(winograd_lanes, plane - p0);
            Square square = {}, t;
            for (std::size_t i = 0, r = p0 / out.cols, q = p0 % out.cols; i < count; ++i) {
                copy_run(in.data + f.at(f.top + r, f.left + q) + k0, square[i], lanes);
                if (++q == out.cols) {
                    q = 0;
                    ++r;
                }
            }
            transpose(square, t);
            for (std::size_t l = 0; l < lanes; ++l) {
                std::copy_n(t[l], count, stage + l * plane + p0);
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
        if (out.copy != nullptr) {  // the same planes again, from the first-level cache
            std::copy_n(planes, lanes * plane, out.copy + k0 * plane);
        }
    }
}

// Which filters a U holds: as given, for the forward pass, (P, C, FN) with U[xi][c][f] the
// transform of filter f's kernel for channel c; or rotated by 180 degrees with channels and
// filters swapped, for dx, (P, FN, C) with U[xi][f][c] the transform of that kernel turned.
enum class Filters { as_given, rotated };

// U's rows `rows` (channels as given, filters rotated), winograd_lanes columns at a time,
// into its panels.
template <class F>
void transform_filters(const Tensor4& w, Filters which, const IndexRange& rows,
                       const PanelMatrices& u) {
    const std::size_t c_count = w.shape(1);
    const bool rotated = which == Filters::rotated;
    for (std::size_t r = rows.first; r < rows.last; ++r) {
        for (std::size_t q0 = 0; q0 < u.cols; q0 += winograd_lanes) {
            const std::size_t lanes = std::min(winograd_lanes, u.cols - q0);
            Lanes g[9] = {}, t[Tile<F>::positions];
            for (std::size_t l = 0; l < lanes; ++l) {
                const std::size_t f = rotated ? r : q0 + l, c = rotated ? q0 + l : r;
                const float* kernel = w.data() + (f * c_count + c) * 9;
                for (std::size_t k = 0; k < 9; ++k) {
                    g[k][l] = kernel[rotated ? 8 - k : k];
                }
            }
            Tile<F>::filter(g, t);
            for (std::size_t xi = 0; xi < Tile<F>::positions; ++xi) {
                u.put(xi, r, q0, t[xi], lanes);
            }
        }
    }
}

// dw (FN, C, 3, 3) += G^T m G for the (channel, filter) pairs numbered `pairs` of C·FN, m the
// threads' shares of dW^T (P, C, FN) added in thread order: pair q is channel q / FN of filter
// q % FN. The shares are summed a block of pairs at a time, each position's block one
// sequential run: read pair by pair, the P positions of a pair lie a whole matrix apart, and
// every read would be a cache and TLB miss.
template <class F>
void add_filter_gradients(const ThreadSums& shares, std::size_t channels, std::size_t filters,
                          const IndexRange& pairs, float* dw) {
    const std::size_t pair_count = channels * filters;
    constexpr std::size_t positions = Tile<F>::positions, block = 8 * winograd_lanes;
    float m[positions][block];
    for (std::size_t b0 = pairs.first; b0 < pairs.last; b0 += block) {
        const std::size_t count = std::min(block, pairs.last - b0);
        for (std::size_t xi = 0; xi < positions; ++xi) {
            shares.sum(xi * pair_count + b0, count, m[xi]);
        }
        for (std::size_t p0 = 0; p0 < count; p0 += winograd_lanes) {
            const std::size_t lanes = std::min(winograd_lanes, count - p0);
            Lanes t[positions], g[9];
            for (std::size_t xi = 0; xi < positions; ++xi) {
                load(t[xi], m[xi] + p0, lanes);
            }
            Tile<F>::filter_gradient(t, g);
            for (std::size_t l = 0; l < lanes; ++l) {
                const std::size_t q = b0 + p0 + l, c = q / filters, f = q % filters;
                float* kernel = dw + (f * channels + c) * 9;
                for (std::size_t k = 0; k < 9; ++k) {
                    kernel[k] += g[k][l];
                }
            }
        }
    }
}

// The tiles of one framed image into rows [first, first + tiles) of out (P, columns, K):
// out[xi][first + i·tiles.cols + j] = Transform of the size x size patch whose corner is tile
// (i, j), for all K channels.
template <class F, std::size_t size, auto Transform, class Matrices>
void transform_tiles(const FramedImage& in, const TileGrid& tiles, const Matrices& out,
                     std::size_t first) {
    const Frame& f = in.frame;
    for (std::size_t i = 0; i < tiles.rows; ++i) {
        for (std::size_t j = 0; j < tiles.cols; ++j) {
            const float* corner = in.data + f.at(tiles.top + F::m * i, tiles.left + F::m * j);
            const std::size_t tile = first + i * tiles.cols + j;
            for (std::size_t k0 = 0; k0 < f.channels; k0 += winograd_lanes) {
                const std::size_t lanes = std::min(winograd_lanes, f.channels - k0);
                Lanes patch[size * size], t[Tile<F>::positions];
                for (std::size_t r = 0; r < size; ++r) {
                    for (std::size_t q = 0; q < size; ++q) {
                        load(patch[size * r + q], corner + f.at(r, q) + k0, lanes);
                    }
                }
                Transform(patch, t);
                for (std::size_t xi = 0; xi < Tile<F>::positions; ++xi) {
                    out.put(xi, tile, k0, t[xi], lanes);
                }
            }
        }
    }
}

// V: B^T d B of every tile's patch d (of x, or for dx of dy).
template <class F>
void input_transform(const FramedImage& in, const TileGrid& tiles, const PositionMatrices& v,
                     std::size_t first) {
    transform_tiles<F, F::alpha, Tile<F>::template input<Lanes>>(in, tiles, v, first);
}

// E, dW's transformed dy: A dY A^T of every tile's m x m block dY of dy.
template <class F>
void gradient_transform(const FramedImage& in, const TileGrid& tiles, const PanelMatrices& e,
                        std::size_t first) {
    transform_tiles<F, F::m, Tile<F>::template gradient<Lanes>>(in, tiles, e, first);
}

// Rows [first, first + tiles) of m (P, columns, K) to `out` (m·tiles.rows, m·tiles.cols, K):
// the m x m outputs A^T M A of tile (i, j) from pixel (m·i, m·j) on.
template <class F>
void output_transform(const PositionMatrices& m, std::size_t first, const TileGrid& tiles,
                      const FramedImage& out) {
    const Frame& f = out.frame;
    for (std::size_t i = 0; i < tiles.rows; ++i) {
        for (std::size_t j = 0; j < tiles.cols; ++j) {
            const std::size_t tile = first + i * tiles.cols + j;
            float* corner = out.data + f.at(F::m * i, F::m * j);
            for (std::size_t k0 = 0; k0 < f.channels; k0 += winograd_lanes) {
                const std::size_t lanes = std::min(winograd_lanes, f.channels - k0);
                Lanes t[Tile<F>::positions], y[F::m * F::m];
                for (std::size_t xi = 0; xi < Tile<F>::positions; ++xi) {
                    load(t[xi], m.row(xi, tile) + k0, lanes);
                }
                Tile<F>::output(t, y);
                for (std::size_t r = 0; r < F::m; ++r) {
                    for (std::size_t q = 0; q < F::m; ++q) {
                        store(y[F::m * r + q], corner + f.at(r, q) + k0, lanes);
                    }
                }
            }
        }
    }
}

void check_applies(const Tensor4& w, const Conv2DGeometry& g) {
    if (!winograd_applies(w, g)) {
        throw std::invalid_argument(
            "conv2d winograd: expected 3x3 filters and stride 1, got filters " +
            shape_to_string(w.shape()) + " and stride " + std::to_string(g.stride_rows) + "x" +
            std::to_string(g.stride_cols));
    }
}

// What both passes share: the sizes, x, and the transformed filters U: as given (P, C, FN)
// forward, rotated (P, FN, C) backward.
template <class F>
struct Pass {
    static constexpr std::size_t positions = Tile<F>::positions;
    const WinogradSizes<F>& s;
    const Tensor4& x;
    PanelMatrices u;

    // The group's images of x framed, then their tiles into V (P, group's tiles, C): image
    // j's are rows [j·tiles, (j + 1)·tiles).
    void transform_x(const ImageGroup& group, WinogradWorkspace::PerThread& mine,
                     const PositionMatrices& v) const {
        const FramedImage framed{s.x_frame, mine.frame.data()};
        for (std::size_t j = 0; j < group.count; ++j) {
            const float* image = x.data() + (group.first + j) * s.image_in();
            to_frame(PlanesIn::as_stored(image, s.h, s.w), framed, mine.stage.data(), DropSums{});
            input_transform<F>(framed, s.tiles, v, j * s.tiles.count());
        }
    }
};

// The forward pass: y from x, with the bias and, when asked, the ReLU.
template <class F>
struct ForwardPass : Pass<F> {
    using Pass<F>::positions, Pass<F>::s, Pass<F>::u, Pass<F>::transform_x;
    const Tensor1& b;
    bool relu;
    Tensor4& y;
    Tensor4* copy;  // y written again here, unless null

    // One group of images: V from x; for each position xi, M (columns, FN) = V (columns, C)
    // U (C, FN); then A^T M A, the bias and the ReLU to y (and its copy).
    void run(const ImageGroup& group, WinogradWorkspace::PerThread& mine) const {
        const std::size_t columns = group.count * s.tiles.count();  // the group's tiles
        const PositionMatrices v{mine.input_tiles.data(), columns, s.c};
        const PositionMatrices m{mine.output_tiles.data(), columns, s.fn};
        transform_x(group, mine, v);
        for (std::size_t xi = 0; xi < positions; ++xi) {
            multiply_panels(Op::none, columns, s.fn, s.c, v.matrix(xi), u.matrix(xi), 0.0f,
                            m.matrix(xi));
        }
        const FramedImage framed{s.y_frame, mine.frame.data()};
        for (std::size_t j = 0; j < group.count; ++j) {
            const std::size_t at = (group.first + j) * s.image_out();
            output_transform<F>(m, j * s.tiles.count(), s.tiles, framed);
            from_frame(framed, {y.data() + at, s.oh, s.ow, copy ? copy->data() + at : nullptr},
                       mine.stage.data(), BiasRelu{b.data(), relu});
        }
    }
};

// The backward pass: dW, db and dx from dy, through the ReLU's mask when the forward had one.
template <class F>
struct BackwardPass : Pass<F> {
    using Pass<F>::positions, Pass<F>::s, Pass<F>::u, Pass<F>::transform_x;
    const Tensor4& dy;
    const Tensor4& y;  // the forward's output, for the mask
    bool relu;
    Tensor4& dx;

    // The group's dy framed into mine.dy_frames, one after the other, which dx reads next.
    // dW: V (P, columns, C) from x, E (P, columns, FN) in panels from dy, then for each xi
    // dW^T (C, FN) = beta·dW^T + V^T (C, columns) E (columns, FN): dW transposed, so that E
    // is the product's right side, in the panels its gradient transform writes. db is summed
    // on the way.
    void filter_gradients(const ImageGroup& group, WinogradWorkspace::PerThread& mine,
                          float* dw_share, float* db_share, float beta) const {
        const std::size_t columns = group.count * s.tiles.count();
        const PositionMatrices v{mine.input_tiles.data(), columns, s.c};
        const PanelMatrices e{mine.output_tiles.data(), columns, s.fn};
        transform_x(group, mine, v);
        for (std::size_t j = 0; j < group.count; ++j) {
            const std::size_t at = (group.first + j) * s.image_out();
            const PlanesIn planes =
                relu ? PlanesIn::through_relu(dy.data() + at, y.data() + at, s.oh, s.ow)
                     : PlanesIn::as_stored(dy.data() + at, s.oh, s.ow);
            const FramedImage framed{s.dy_frame, framed_dy(mine, j)};
            to_frame(planes, framed, mine.stage.data(), AddSums{db_share});
            gradient_transform<F>(framed, s.dw_tiles, e, j * s.tiles.count());
        }
        const PositionMatrices dw_t{dw_share, s.c, s.fn};
        for (std::size_t xi = 0; xi < positions; ++xi) {
            multiply_panels(Op::transpose, s.c, s.fn, columns, v.matrix(xi), e.matrix(xi), beta,
                            dw_t.matrix(xi));
        }
    }

    // dx: a Winograd correlation of the framed dy (FN channels) with the rotated filters U
    // (P, FN, C): M (dcolumns, C) = V (dcolumns, FN) U (FN, C); then A^T M A to dx.
    void input_gradients(const ImageGroup& group, WinogradWorkspace::PerThread& mine) const {
        const std::size_t dcolumns = group.count * s.dx_tiles.count();
        const PositionMatrices v{mine.input_tiles.data(), dcolumns, s.fn};
        const PositionMatrices m{mine.output_tiles.data(), dcolumns, s.c};
        for (std::size_t j = 0; j < group.count; ++j) {
            input_transform<F>({s.dy_frame, framed_dy(mine, j)}, s.dx_tiles, v,
                               j * s.dx_tiles.count());
        }
        for (std::size_t xi = 0; xi < positions; ++xi) {
            multiply_panels(Op::none, dcolumns, s.c, s.fn, v.matrix(xi), u.matrix(xi), 0.0f,
                            m.matrix(xi));
        }
        const FramedImage framed{s.dx_frame, mine.frame.data()};
        for (std::size_t j = 0; j < group.count; ++j) {
            output_transform<F>(m, j * s.dx_tiles.count(), s.dx_tiles, framed);
            from_frame(framed, {dx.data() + (group.first + j) * s.image_in(), s.h, s.w},
                       mine.stage.data(), NoBias{});
        }
    }

    // Image j of the group's framed dy.
    float* framed_dy(WinogradWorkspace::PerThread& mine, std::size_t j) const {
        return mine.dy_frames.data() + j * s.dy_frame.floats();
    }
};

// Plans a call and sizes its buffers, then transforms the filters into workspace.filters on
// the plan's threads: U as given (P, C, FN), split by channel, or rotated (P, FN, C), split by
// filter.
template <class F>
Conv2DPlan plan_call(const WinogradSizes<F>& s, const Tensor4& w, Filters which,
                     const FastConvOptions& options, WinogradWorkspace& workspace) {
    const Conv2DPlan plan(s.n, s.tiles.count(), options);
    prepare(workspace, s, plan);
    const bool rotated = which == Filters::rotated;
    const std::size_t rows = rotated ? s.fn : s.c;
    const PanelMatrices u{workspace.filters.data(), rows, rotated ? s.c : s.fn};
    plan.run([&](std::size_t share) { transform_filters<F>(w, which, plan.part(rows, share), u); });
    return plan;
}

//! [conv2d_winograd_forward]
template <class F>
Tensor4 forward(const Tensor4& x, const Tensor4& w, const Tensor1& b, const Conv2DGeometry& g,
                const FastConvOptions& options, WinogradWorkspace& workspace, Tensor4* copy) {
    const WinogradSizes<F> s(x, w, g);
    if (b.shape(0) != s.fn) {
        throw std::invalid_argument("conv2d winograd: expected one bias per filter, (" +
                                    std::to_string(s.fn) + "), got " + shape_to_string(b.shape()));
    }
    const Conv2DPlan plan = plan_call(s, w, Filters::as_given, options, workspace);
    Tensor4 y = Tensor4::from_shape({s.n, s.fn, s.oh, s.ow});
    reshape_copy(copy, y);
    const ForwardPass<F> pass{{s, x, {workspace.filters.data(), s.c, s.fn}},
                              b,
                              options.epilogue == Epilogue::bias_relu,
                              y,
                              copy};
    // No sums across images: each group goes to whichever thread is free (run_groups()).
    plan.run_groups([&](const ImageGroup& group, std::size_t share) {
        pass.run(group, workspace.per_thread[share]);
    });
    return y;
}
//! [conv2d_winograd_forward]

template <class F>
Tensor4 backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y, const Tensor4& w,
                 const Conv2DGeometry& g, const FastConvOptions& options,
                 WinogradWorkspace& workspace, Tensor4& dw, Tensor1& db) {
    const WinogradSizes<F> s(x, w, g);
    check_conv2d_backward_shapes(dy, y, w, dw, db, {s.n, s.fn, s.oh, s.ow}, options.epilogue);
    const Conv2DPlan plan = plan_call(s, w, Filters::rotated, options, workspace);
    Tensor4 dx = Tensor4::from_shape(x.shape());
    const BackwardPass<F> pass{{s, x, {workspace.filters.data(), s.fn, s.c}},
                               dy,
                               y,
                               options.epilogue == Epilogue::bias_relu,
                               dx};
    plan.run([&](std::size_t share) {
        WinogradWorkspace::PerThread& mine = workspace.per_thread[share];
        float* db_share = workspace.db.zeroed(share);
        // The first group's products overwrite the share of dW (beta = 0), the others add to
        // it: no pass over the share to zero it first. A share with no images is zeroed.
        float* dw_share = workspace.dw.share(share);
        float beta = 0.0f;
        plan.for_each_group(share, [&](const ImageGroup& group) {
            pass.filter_gradients(group, mine, dw_share, db_share, beta);
            beta = 1.0f;
            pass.input_gradients(group, mine);
        });
        if (beta == 0.0f) {
            workspace.dw.zeroed(share);
        }
    });
    // The threads' shares, always added in the same order: the same bits on every run. dW's
    // are transformed back to 3x3 on the way, split between the threads by (channel, filter)
    // pair.
    const std::size_t pairs = s.c * s.fn;
    plan.run([&](std::size_t share) {
        add_filter_gradients<F>(workspace.dw, s.c, s.fn, plan.part(pairs, share), dw.data());
    });
    workspace.db.add_to(db.data());
    return dx;
}

}  // namespace

Tensor4 conv2d_winograd_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                const Conv2DGeometry& g, WinogradTile tile,
                                const FastConvOptions& options, WinogradWorkspace& workspace,
                                Tensor4* copy) {
    check_applies(w, g);
    return with_variant(
        tile, [&](auto f) { return forward<decltype(f)>(x, w, b, g, options, workspace, copy); });
}

Tensor4 conv2d_winograd_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                 const Tensor4& w, const Conv2DGeometry& g, WinogradTile tile,
                                 const FastConvOptions& options, WinogradWorkspace& workspace,
                                 Tensor4& dw, Tensor1& db) {
    check_applies(w, g);
    return with_variant(tile, [&](auto f) {
        return backward<decltype(f)>(dy, x, y, w, g, options, workspace, dw, db);
    });
}

}  // namespace cnn
