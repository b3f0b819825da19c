/// \file
/// \ingroup ch07
/// \brief \ref chapter04 "Chapter 04's" im2col convolution, reorganised for the machine:
/// \ref chapter07 "chapter 07's" im2col engine.
///
/// The arithmetic is exactly \ref chapter04 "chapter 04's": for every image, im2col, one matrix
/// product forward, two backward, col2im. What changes is how the work meets the hardware, one
/// measured step at a time (ch07_fast_convolution times each):
///
/// 1. **Buffers are reused.** The column matrices and the per-thread gradient sums live in a
///    GemmWorkspace that the layer's engine keeps from step to step, instead of being allocated
///    on every call.
/// 2. **Products are wide enough.** A 7x7 image has only 49 output positions, and a product
///    (256, 2304) x (2304, 49) keeps BLAS's vector units half idle. Images are taken in groups
///    whose columns sit side by side in one matrix, until a product has about
///    FastConvOptions::min_columns columns (Conv2DPlan, conv2d_plan.hpp).
/// 3. **Bias and ReLU are fused.** The product's result is copied to its place in the output
///    anyway (it is grouped by filter, the output by image); adding the bias and clamping at
///    zero during that copy costs nothing extra. Backward, the ReLU's mask (output > 0) is
///    applied while gathering dy the same way.
/// 4. **The batch is split between threads.** Each thread takes a contiguous share of the
///    images and runs all of their steps, including the memory-bound im2col and col2im, on
///    single-threaded BLAS (threads.hpp says why; the first call that splits a batch leaves
///    OpenBLAS on one thread for the rest of the process). Filter gradients are summed per
///    thread, then added in thread order (ThreadSums): for a given thread count every run gives
///    the same bits; another thread count changes only the order of the sums.
///
/// One step further, doing less arithmetic, is Winograd's algorithm (winograd.hpp), an engine of
/// its own with the same four changes. Which of the two a layer runs is chosen above both, by
/// the layers' engine (FastConv2DEngine, engines.hpp).
///
/// **Layout.** Tensors stay NCHW, as everywhere in this library and in PyTorch. Per image, the
/// product W (FN, C·FH·FW) x cols (C·FH·FW, OH·OW) is already that image's (FN, OH, OW) block,
/// and a group of images needs only the copy of step 3. One product over the whole batch
/// (NHWC, or columns for N·OH·OW positions) would be wider still, but its column matrix would
/// not fit in any cache (58 MB for the seed model's third convolution at batch 64) and its
/// result would need a transpose back to NCHW.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "cnn/fast/conv2d_plan.hpp"
#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Scratch memory of the im2col engine, kept between calls so that a training loop allocates
/// it once. A call grows it when its layer or batch needs more, and uses the front of buffers
/// grown larger: the engines of one factory share one (engines.hpp's ConvScratch).
struct GemmWorkspace {
    /// What one thread works in, for a group of images side by side.
    struct PerThread {
        /// (C·FH·FW, group·OH·OW): the group's im2col columns; backward, once dW has used
        /// them, the columns' gradient W^T dz on its way to col2im.
        std::vector<float> columns;
        /// (FN, group·OH·OW), laid out like the group's outputs: forward the product
        /// W·columns before the epilogue, backward dz (dy through the ReLU's mask).
        std::vector<float> outputs;
    };
    std::vector<PerThread> per_thread;  ///< one per share of the batch
    /// Each thread's share of the filter and bias gradients, (FN, C·FH·FW) and (FN).
    ThreadSums dw, db;
};
/// \var GemmWorkspace::db
/// Each thread's share of the bias gradient (FN).

/// Forward. x is (N, C, H, W), w is (FN, C, FH, FW), b is (FN); returns y (N, FN, OH, OW),
/// equal to conv2d_naive_forward() (followed by a ReLU for Epilogue::bias_relu) up to float
/// rounding. Any geometry; throws std::invalid_argument or GeometryError when the shapes do not
/// fit.
/// \param x the input (N, C, H, W)
/// \param w the filters (FN, C, FH, FW)
/// \param b the biases (FN)
/// \param geometry strides, padding and size policy
/// \param options the epilogue and how to split the batch
/// \param workspace scratch memory, grown as needed
/// \param copy when not null, also receives y, each row written as y's is (reshaped first
///        unless it has y's shape): the copy a fused ReLU's backward pass reads its mask from
/// \return y (N, FN, OH, OW)
Tensor4 conv2d_fast_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                            const Conv2DGeometry& geometry, const FastConvOptions& options,
                            GemmWorkspace& workspace, Tensor4* copy = nullptr);

/// Backward. dy is (N, FN, OH, OW), the gradient of the forward's output y; with
/// Epilogue::bias_relu, y (that output) gives the ReLU's mask, otherwise y is ignored and may be
/// empty. Accumulates dw (FN, C, FH, FW) and db (FN); returns dx (N, C, H, W). Throws as
/// check_conv2d_backward_shapes() does.
/// \param dy the gradient of y (N, FN, OH, OW)
/// \param x the forward's input (N, C, H, W)
/// \param y the forward's output (N, FN, OH, OW), or empty without a ReLU
/// \param w the filters (FN, C, FH, FW)
/// \param geometry the forward's
/// \param options the forward's
/// \param workspace scratch memory, grown as needed
/// \param dw the filters' gradient (FN, C, FH, FW), added to
/// \param db the biases' gradient (FN), added to
/// \return dx (N, C, H, W)
Tensor4 conv2d_fast_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                             const Tensor4& w, const Conv2DGeometry& geometry,
                             const FastConvOptions& options, GemmWorkspace& workspace,
                             Tensor4& dw, Tensor1& db);

/// The input gradient alone: what conv2d_fast_backward() returns with Epilogue::bias, without
/// dw and db, from x's shape alone: per group of images one product W^T dy and col2im, split
/// between threads as the other passes are. The options' epilogue is ignored.
/// \param dy the gradient of y (N, FN, OH, OW)
/// \param w the filters (FN, C, FH, FW)
/// \param x_shape the shape (N, C, H, W) of the forward's input
/// \param geometry the forward's
/// \param options how to split the batch
/// \param workspace scratch memory, grown as needed
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
Tensor4 conv2d_fast_backward_input(const Tensor4& dy, const Tensor4& w,
                                   const std::array<std::size_t, 4>& x_shape,
                                   const Conv2DGeometry& geometry, const FastConvOptions& options,
                                   GemmWorkspace& workspace);

/// The filters' and biases' gradients alone: what conv2d_fast_backward() accumulates, without
/// dx: per group of images im2col and one product dy cols^T, the threads' sums added in thread
/// order. A model's first layer needs no more: its input gradient would go to the data.
/// \param dy the gradient of y (N, FN, OH, OW)
/// \param x the forward's input (N, C, H, W)
/// \param y the forward's output (N, FN, OH, OW) for Epilogue::bias_relu, whose mask y > 0
///        dy goes through; otherwise ignored and may be empty
/// \param w the filters (FN, C, FH, FW)
/// \param geometry the forward's
/// \param options the forward's epilogue, and how to split the batch
/// \param workspace scratch memory, grown as needed
/// \param dw the filters' gradient (FN, C, FH, FW), added to
/// \param db the biases' gradient (FN), added to
/// \throws std::invalid_argument or GeometryError when the shapes do not fit together
void conv2d_fast_backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                  const Tensor4& w, const Conv2DGeometry& geometry,
                                  const FastConvOptions& options, GemmWorkspace& workspace,
                                  Tensor4& dw, Tensor1& db);

}  // namespace cnn
