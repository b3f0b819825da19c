#include "cnn/fast/conv2d_fast.hpp"

#include <algorithm>
#include <array>
#include <numeric>
#include <stdexcept>
#include <string>

#include "cnn/ops/conv2d_naive.hpp"  // conv2d_output_shape: the geometry checks
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

void prepare(GemmWorkspace& workspace, const ConvSizes& s, const Conv2DPlan& plan) {
    workspace.per_thread.resize(std::max(workspace.per_thread.size(), plan.shares()));
    const std::size_t columns = plan.group() * s.p;
    for (std::size_t t = 0; t < plan.shares(); ++t) {
        GemmWorkspace::PerThread& mine = workspace.per_thread[t];
        // Grow only: a smaller batch (the last one of an epoch) reuses the larger buffers.
        grow_to(mine.columns, s.k * columns);
        grow_to(mine.outputs, s.fn * columns);
    }
    workspace.dw.resize(plan.shares(), s.fn * s.k);
    workspace.db.resize(plan.shares(), s.fn);
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

// The group's images side by side: image j's columns of im2col are columns [j·p, (j + 1)·p)
// of `columns`, a matrix (k, group.count·p).
void im2col_group(const Tensor4& x, const ImageGroup& group, const ConvSizes& s,
                  const Conv2DGeometry& g, float* columns) {
    for (std::size_t j = 0; j < group.count; ++j) {
        im2col_image(x.data() + (group.first + j) * s.image_in(), s, g, columns + j * s.p,
                     group.count * s.p);
    }
}

}  // namespace

Tensor4 conv2d_fast_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                            const Conv2DGeometry& g, const FastConvOptions& options,
                            GemmWorkspace& workspace, Tensor4* copy) {
    const ConvSizes s(x, w, g);
    if (b.shape(0) != s.fn) {
        throw std::invalid_argument("conv2d: expected one bias per filter, (" +
                                    std::to_string(s.fn) + "), got " + shape_to_string(b.shape()));
    }
    const Conv2DPlan plan(s.n, s.p, options);
    prepare(workspace, s, plan);
    Tensor4 y = Tensor4::from_shape({s.n, s.fn, s.oh, s.ow});
    reshape_copy(copy, y);
    const bool relu = options.epilogue == Epilogue::bias_relu;
    //! [fast_forward_groups]
    plan.run_groups([&](const ImageGroup& group, std::size_t share) {  // to whichever is free
        GemmWorkspace::PerThread& mine = workspace.per_thread[share];
        const std::size_t columns = group.count * s.p;  // the group's images side by side
        im2col_group(x, group, s, g, mine.columns.data());
        // (FN, columns) = W (FN, k) cols (k, columns)
        gemm(Op::none, Op::none, s.fn, columns, s.k, w.data(), mine.columns.data(), 0.0f,
             mine.outputs.data());
        // The epilogue: each image's rows to their place in y, with the bias and the ReLU.
        for (std::size_t j = 0; j < group.count; ++j) {
            for (std::size_t f = 0; f < s.fn; ++f) {
                const float* from = mine.outputs.data() + f * columns + j * s.p;
                float* to = y.data() + (group.first + j) * s.image_out() + f * s.p;
                const float bias = b(f);
                for (std::size_t q = 0; q < s.p; ++q) {
                    const float v = from[q] + bias;
                    to[q] = relu && v < 0.0f ? 0.0f : v;
                }
                if (copy != nullptr) {  // the row again, from the first-level cache
                    std::copy_n(to, s.p, copy->data() + (to - y.data()));
                }
            }
        }
    });
    //! [fast_forward_groups]
    return y;
}

namespace {

// dy's images of the group side by side, as (FN, group.count·p) in `to`, through the ReLU's
// mask when `y` (the forward's output) is given; adds each row's sum to db_mine unless it is
// null.
//! [gather_dy]
void gather_dy(const Tensor4& dy, const Tensor4* y, const ImageGroup& group, const ConvSizes& s,
               float* to, float* db_mine) {
    const std::size_t columns = group.count * s.p;
    for (std::size_t j = 0; j < group.count; ++j) {
        for (std::size_t f = 0; f < s.fn; ++f) {
            const std::size_t at = (group.first + j) * s.image_out() + f * s.p;
            const float* from = dy.data() + at;
            float* row = to + f * columns + j * s.p;
            if (y != nullptr) {
                const float* mask = y->data() + at;
                for (std::size_t q = 0; q < s.p; ++q) {
                    row[q] = mask[q] > 0.0f ? from[q] : 0.0f;
                }
            } else {
                std::copy(from, from + s.p, row);
            }
            if (db_mine != nullptr) {
                db_mine[f] += std::accumulate(row, row + s.p, 0.0f);
            }
        }
    }
}
//! [gather_dy]

void expect_dy(const Tensor4& dy, const ConvSizes& s) {
    const std::array<std::size_t, 4> out = {s.n, s.fn, s.oh, s.ow};
    if (!std::equal(out.begin(), out.end(), dy.shape().begin())) {
        throw std::invalid_argument("conv2d input gradient: expected dy " + shape_to_string(out) +
                                    ", got dy " + shape_to_string(dy.shape()));
    }
}

}  // namespace

Tensor4 conv2d_fast_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                             const Tensor4& w, const Conv2DGeometry& g,
                             const FastConvOptions& options, GemmWorkspace& workspace,
                             Tensor4& dw, Tensor1& db) {
    const ConvSizes s(x, w, g);
    const bool relu = options.epilogue == Epilogue::bias_relu;
    check_conv2d_backward_shapes(dy, y, w, dw, db, {s.n, s.fn, s.oh, s.ow}, options.epilogue);
    const Conv2DPlan plan(s.n, s.p, options);
    prepare(workspace, s, plan);
    Tensor4 dx = Tensor4::from_shape(x.shape());
    //! [fast_backward_gather]
    plan.run([&](std::size_t share) {
        GemmWorkspace::PerThread& mine = workspace.per_thread[share];
        float* dw_mine = workspace.dw.zeroed(share);
        float* db_mine = workspace.db.zeroed(share);
        const IndexRange images = plan.images(share);
        std::fill(dx.data() + images.first * s.image_in(), dx.data() + images.last * s.image_in(),
                  0.0f);
        plan.for_each_group(share, [&](const ImageGroup& group) {
            const std::size_t columns = group.count * s.p;
            // Gather dy as (FN, columns), through the ReLU's mask, summing db on the way.
            gather_dy(dy, relu ? &y : nullptr, group, s, mine.outputs.data(), db_mine);
            //! [fast_backward_gather]
            //! [fast_backward_products]
            im2col_group(x, group, s, g, mine.columns.data());
            // dW (FN, k) += dz (FN, columns) cols^T; then cols is free to hold dcols = W^T dz.
            gemm(Op::none, Op::transpose, s.fn, s.k, columns, mine.outputs.data(),
                 mine.columns.data(), 1.0f, dw_mine);
            gemm(Op::transpose, Op::none, s.k, columns, s.fn, w.data(), mine.outputs.data(), 0.0f,
                 mine.columns.data());
            for (std::size_t j = 0; j < group.count; ++j) {
                col2im_image(mine.columns.data() + j * s.p, columns, s, g,
                             dx.data() + (group.first + j) * s.image_in());
            }
        });
    });
    // The threads' shares, always added in the same order: the same bits on every run.
    workspace.dw.add_to(dw.data());
    workspace.db.add_to(db.data());
    return dx;
    //! [fast_backward_products]
}


Tensor4 conv2d_fast_backward_input(const Tensor4& dy, const Tensor4& w,
                                   const std::array<std::size_t, 4>& x_shape,
                                   const Conv2DGeometry& g, const FastConvOptions& options,
                                   GemmWorkspace& workspace) {
    Tensor4 dx = Tensor4::from_shape(x_shape);
    const ConvSizes s(dx, w, g);  // dx has x's shape
    expect_dy(dy, s);
    const Conv2DPlan plan(s.n, s.p, options);
    prepare(workspace, s, plan);
    plan.run([&](std::size_t share) {
        GemmWorkspace::PerThread& mine = workspace.per_thread[share];
        const IndexRange images = plan.images(share);
        std::fill(dx.data() + images.first * s.image_in(), dx.data() + images.last * s.image_in(),
                  0.0f);
        plan.for_each_group(share, [&](const ImageGroup& group) {
            const std::size_t columns = group.count * s.p;
            // One image's dy is already (FN, p); a group's is gathered side by side.
            const float* dz = dy.data() + group.first * s.image_out();
            if (group.count > 1) {
                gather_dy(dy, nullptr, group, s, mine.outputs.data(), nullptr);
                dz = mine.outputs.data();
            }
            // dcols (k, columns) = W^T (k, FN) dz (FN, columns)
            gemm(Op::transpose, Op::none, s.k, columns, s.fn, w.data(), dz, 0.0f,
                 mine.columns.data());
            for (std::size_t j = 0; j < group.count; ++j) {
                col2im_image(mine.columns.data() + j * s.p, columns, s, g,
                             dx.data() + (group.first + j) * s.image_in());
            }
        });
    });
    return dx;
}

void conv2d_fast_backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                  const Tensor4& w, const Conv2DGeometry& g,
                                  const FastConvOptions& options, GemmWorkspace& workspace,
                                  Tensor4& dw, Tensor1& db) {
    const ConvSizes s(x, w, g);
    const bool relu = options.epilogue == Epilogue::bias_relu;
    check_conv2d_backward_shapes(dy, y, w, dw, db, {s.n, s.fn, s.oh, s.ow}, options.epilogue);
    const Conv2DPlan plan(s.n, s.p, options);
    prepare(workspace, s, plan);
    plan.run([&](std::size_t share) {
        GemmWorkspace::PerThread& mine = workspace.per_thread[share];
        float* dw_mine = workspace.dw.zeroed(share);
        float* db_mine = workspace.db.zeroed(share);
        plan.for_each_group(share, [&](const ImageGroup& group) {
            const std::size_t columns = group.count * s.p;
            gather_dy(dy, relu ? &y : nullptr, group, s, mine.outputs.data(), db_mine);
            im2col_group(x, group, s, g, mine.columns.data());
            // dW (FN, k) += dz (FN, columns) cols^T
            gemm(Op::none, Op::transpose, s.fn, s.k, columns, mine.outputs.data(),
                 mine.columns.data(), 1.0f, dw_mine);
        });
    });
    workspace.dw.add_to(dw.data());
    workspace.db.add_to(db.data());
}

}  // namespace cnn
