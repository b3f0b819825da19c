#include "cnn/fast/conv2d_fast.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <stdexcept>
#include <string>

#include "cnn/ops/conv2d_naive.hpp"  // conv2d_output_shape: the geometry checks
#include "cnn/fast/winograd.hpp"
#include "cnn/fast/threads.hpp"
#include "cnn/tensor/gemm.hpp"

namespace cnn {

namespace {

// Nothing in a parallel region may throw or allocate: prepare() sizes every buffer first.

// Every size of one convolution, named as in the chapters.
struct ConvSizes {
    std::size_t n, c, h, w;  // input (N, C, H, W)
    std::size_t fn, fh, fw;  // filters (FN, C, FH, FW)
    std::size_t oh, ow;      // output (N, FN, OH, OW)
    std::size_t k, p;        // k = C·FH·FW rows of cols, p = OH·OW positions per image

    ConvSizes(const Tensor4& x, const Tensor4& filters, const Conv2DGeometry& g)
        : n(x.shape(0)), c(x.shape(1)), h(x.shape(2)), w(x.shape(3)),
          fn(filters.shape(0)), fh(filters.shape(2)), fw(filters.shape(3)) {
        const auto out = conv2d_output_shape(x, filters, g);  // throws on impossible geometry
        oh = out[2];
        ow = out[3];
        k = c * fh * fw;
        p = oh * ow;
    }
    std::size_t image_in() const { return c * h * w; }
    std::size_t image_out() const { return fn * p; }
};

// How the batch is cut: `shares` contiguous runs of images, taken `group` images at a time.
struct WorkPlan {
    std::size_t shares, group;

    WorkPlan(const ConvSizes& s, const FastConvOptions& o) {
        const std::size_t wanted = o.threads == 0 ? thread_count() : o.threads;
        shares = std::max<std::size_t>(1, std::min(wanted, s.n));
        const std::size_t per_share = (s.n + shares - 1) / shares;
        group = std::clamp<std::size_t>((o.min_columns + s.p - 1) / s.p, 1, std::max<std::size_t>(1, per_share));
    }
    std::size_t first(const ConvSizes& s, std::size_t share) const { return s.n * share / shares; }
    std::size_t last(const ConvSizes& s, std::size_t share) const { return s.n * (share + 1) / shares; }
};

void prepare(Conv2DWorkspace& workspace, const ConvSizes& s, const WorkPlan& plan) {
    workspace.per_thread.resize(std::max(workspace.per_thread.size(), plan.shares));
    for (std::size_t t = 0; t < plan.shares; ++t) {
        Conv2DWorkspace::PerThread& mine = workspace.per_thread[t];
        const std::size_t columns = plan.group * s.p;
        // Grow only: a smaller batch (the last one of an epoch) reuses the larger buffers.
        mine.cols.resize(std::max(mine.cols.size(), s.k * columns));
        mine.product.resize(std::max(mine.product.size(), s.fn * columns));
        mine.dw.resize(s.fn * s.k);
        mine.db.resize(s.fn);
    }
}

bool use_winograd(const FastConvOptions& options, const Tensor4& w, const Conv2DGeometry& g) {
    switch (options.algorithm) {
        case ConvAlgorithm::gemm:
            return false;
        case ConvAlgorithm::winograd:
            return true;  // conv2d_winograd_*() throws if it cannot
        case ConvAlgorithm::automatic:
            break;
    }
    return winograd_preferred(w, g);
}

// The range of output positions j (along one axis) whose input index j·S + offset - before
// lies inside [0, size): positions before `lo` or from `hi` on read the zero padding.
struct InsideRange {
    std::size_t lo, hi;
};

InsideRange inside(std::size_t outputs, std::size_t size, std::size_t offset, std::size_t before) {
    // With stride 1 only: j + offset - before in [0, size)  <=>  j in [before - offset, size + before - offset).
    const long shift = static_cast<long>(before) - static_cast<long>(offset);
    const long lo = std::clamp<long>(shift, 0, static_cast<long>(outputs));
    const long hi = std::clamp<long>(static_cast<long>(size) + shift, lo, static_cast<long>(outputs));
    return {static_cast<std::size_t>(lo), static_cast<std::size_t>(hi)};
}

// Chapter 04's im2col for one image (C, H, W) into columns [0, OH·OW) of a matrix whose rows
// are `ld` floats long. With stride 1 along W each output row is one contiguous copy of an
// input row between two runs of zeros, instead of a bounds check per value.
void im2col_image(const float* x, const ConvSizes& s, const Conv2DGeometry& g, float* cols,
                  std::size_t ld) {
    for (std::size_t c = 0; c < s.c; ++c) {
        for (std::size_t u = 0; u < s.fh; ++u) {
            for (std::size_t v = 0; v < s.fw; ++v) {
                float* row = cols + ((c * s.fh + u) * s.fw + v) * ld;
                const InsideRange in = inside(s.ow, s.w, v, g.pad_cols.before);
                for (std::size_t i = 0; i < s.oh; ++i) {
                    float* out = row + i * s.ow;
                    const std::size_t r = i * g.stride_rows + u - g.pad_rows.before;  // wraps if < 0
                    if (r >= s.h) {
                        std::fill(out, out + s.ow, 0.0f);
                        continue;
                    }
                    const float* in_row = x + (c * s.h + r) * s.w;
                    if (g.stride_cols == 1) {
                        std::fill(out, out + in.lo, 0.0f);
                        if (in.lo < in.hi) {  // else the whole row is padding
                            std::copy(in_row + in.lo + v - g.pad_cols.before,
                                      in_row + in.hi + v - g.pad_cols.before, out + in.lo);
                        }
                        std::fill(out + in.hi, out + s.ow, 0.0f);
                    } else {
                        for (std::size_t j = 0; j < s.ow; ++j) {
                            const std::size_t col = j * g.stride_cols + v - g.pad_cols.before;
                            out[j] = col < s.w ? in_row[col] : 0.0f;
                        }
                    }
                }
            }
        }
    }
}

// Chapter 04's col2im for one image: adds columns [0, OH·OW) of the matrix back onto dx.
void col2im_image(const float* cols, std::size_t ld, const ConvSizes& s, const Conv2DGeometry& g,
                  float* dx) {
    for (std::size_t c = 0; c < s.c; ++c) {
        for (std::size_t u = 0; u < s.fh; ++u) {
            for (std::size_t v = 0; v < s.fw; ++v) {
                const float* row = cols + ((c * s.fh + u) * s.fw + v) * ld;
                const InsideRange in = inside(s.ow, s.w, v, g.pad_cols.before);
                for (std::size_t i = 0; i < s.oh; ++i) {
                    const std::size_t r = i * g.stride_rows + u - g.pad_rows.before;
                    if (r >= s.h) {
                        continue;
                    }
                    const float* from = row + i * s.ow;
                    float* dx_row = dx + (c * s.h + r) * s.w;
                    if (g.stride_cols == 1) {
                        for (std::size_t j = in.lo; j < in.hi; ++j) {
                            dx_row[j + v - g.pad_cols.before] += from[j];
                        }
                    } else {
                        for (std::size_t j = 0; j < s.ow; ++j) {
                            const std::size_t col = j * g.stride_cols + v - g.pad_cols.before;
                            if (col < s.w) {
                                dx_row[col] += from[j];
                            }
                        }
                    }
                }
            }
        }
    }
}

}  // namespace

std::size_t Conv2DWorkspace::bytes() const {
    std::size_t floats = 0;
    for (const PerThread& t : per_thread) {
        floats += t.cols.capacity() + t.product.capacity() + t.dw.capacity() + t.db.capacity() +
                  t.scratch.capacity();
    }
    return (floats + filters.capacity()) * sizeof(float);
}

//! [conv2d_fast_forward]
Tensor4 conv2d_fast_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                            const Conv2DGeometry& g, const FastConvOptions& options,
                            Conv2DWorkspace& workspace) {
    const ConvSizes s(x, w, g);
    if (b.shape(0) != s.fn) {
        throw std::invalid_argument("conv2d: expected one bias per filter, (" +
                                    std::to_string(s.fn) + "), got " + shape_to_string(b.shape()));
    }
    if (use_winograd(options, w, g)) {
        return conv2d_winograd_forward(x, w, b, g, options, workspace);
    }
    const WorkPlan plan(s, options);
    prepare(workspace, s, plan);
    Tensor4 y = Tensor4::from_shape({s.n, s.fn, s.oh, s.ow});
    const bool relu = options.epilogue == Epilogue::bias_relu;
    if (plan.shares > 1) {
        keep_blas_on_one_thread();  // the threads are ours: one BLAS thread inside each
    }
    run_shares(plan.shares, [&](std::size_t share) {
        Conv2DWorkspace::PerThread& mine = workspace.per_thread[share];
        const std::size_t last = plan.last(s, share);
        for (std::size_t first = plan.first(s, share); first < last; first += plan.group) {
            const std::size_t images = std::min(plan.group, last - first);
            const std::size_t columns = images * s.p;  // the group's images side by side
            for (std::size_t j = 0; j < images; ++j) {
                im2col_image(x.data() + (first + j) * s.image_in(), s, g,
                             mine.cols.data() + j * s.p, columns);
            }
            // (FN, columns) = W (FN, k) cols (k, columns)
            gemm(Op::none, Op::none, s.fn, columns, s.k, w.data(), mine.cols.data(), 0.0f,
                 mine.product.data());
            // The epilogue: each image's rows to their place in y, with the bias and the ReLU.
            for (std::size_t j = 0; j < images; ++j) {
                for (std::size_t f = 0; f < s.fn; ++f) {
                    const float* from = mine.product.data() + f * columns + j * s.p;
                    float* to = y.data() + (first + j) * s.image_out() + f * s.p;
                    const float bias = b(f);
                    for (std::size_t q = 0; q < s.p; ++q) {
                        const float v = from[q] + bias;
                        to[q] = relu && v < 0.0f ? 0.0f : v;
                    }
                }
            }
        }
    });
    return y;
}
//! [conv2d_fast_forward]

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

//! [conv2d_fast_backward]
Tensor4 conv2d_fast_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                             const Tensor4& w, const Conv2DGeometry& g,
                             const FastConvOptions& options, Conv2DWorkspace& workspace,
                             Tensor4& dw, Tensor1& db) {
    const ConvSizes s(x, w, g);
    const bool relu = options.epilogue == Epilogue::bias_relu;
    check_conv2d_backward_shapes(dy, y, w, dw, db, {s.n, s.fn, s.oh, s.ow}, options.epilogue);
    if (use_winograd(options, w, g)) {
        return conv2d_winograd_backward(dy, x, y, w, g, options, workspace, dw, db);
    }
    const WorkPlan plan(s, options);
    prepare(workspace, s, plan);
    Tensor4 dx = Tensor4::from_shape(x.shape());
    if (plan.shares > 1) {
        keep_blas_on_one_thread();
    }
    run_shares(plan.shares, [&](std::size_t share) {
        Conv2DWorkspace::PerThread& mine = workspace.per_thread[share];
        std::fill(mine.dw.begin(), mine.dw.end(), 0.0f);
        std::fill(mine.db.begin(), mine.db.end(), 0.0f);
        const std::size_t last = plan.last(s, share);
        std::fill(dx.data() + plan.first(s, share) * s.image_in(), dx.data() + last * s.image_in(), 0.0f);
        for (std::size_t first = plan.first(s, share); first < last; first += plan.group) {
            const std::size_t images = std::min(plan.group, last - first);
            const std::size_t columns = images * s.p;
            // Gather dy as (FN, columns), through the ReLU's mask, summing db on the way.
            for (std::size_t j = 0; j < images; ++j) {
                for (std::size_t f = 0; f < s.fn; ++f) {
                    const std::size_t at = (first + j) * s.image_out() + f * s.p;
                    float* to = mine.product.data() + f * columns + j * s.p;
                    float sum = 0.0f;
                    for (std::size_t q = 0; q < s.p; ++q) {
                        to[q] = relu && !(y.data()[at + q] > 0.0f) ? 0.0f : dy.data()[at + q];
                        sum += to[q];
                    }
                    mine.db[f] += sum;
                }
            }
            for (std::size_t j = 0; j < images; ++j) {
                im2col_image(x.data() + (first + j) * s.image_in(), s, g,
                             mine.cols.data() + j * s.p, columns);
            }
            // dW (FN, k) += dz (FN, columns) cols^T; then cols is free to hold dcols = W^T dz.
            gemm(Op::none, Op::transpose, s.fn, s.k, columns, mine.product.data(),
                 mine.cols.data(), 1.0f, mine.dw.data());
            gemm(Op::transpose, Op::none, s.k, columns, s.fn, w.data(), mine.product.data(), 0.0f,
                 mine.cols.data());
            for (std::size_t j = 0; j < images; ++j) {
                col2im_image(mine.cols.data() + j * s.p, columns, s, g,
                             dx.data() + (first + j) * s.image_in());
            }
        }
    });
    // The threads' shares, always added in the same order: the same bits on every run.
    for (std::size_t t = 0; t < plan.shares; ++t) {
        const Conv2DWorkspace::PerThread& theirs = workspace.per_thread[t];
        std::transform(dw.begin(), dw.end(), theirs.dw.begin(), dw.begin(), std::plus<>());
        std::transform(db.begin(), db.end(), theirs.db.begin(), db.begin(), std::plus<>());
    }
    return dx;
}
//! [conv2d_fast_backward]

}  // namespace cnn
