/// \file
/// \ingroup ch07
/// \brief Chapter 04's im2col convolution, reorganised for the machine: the layers' engine.
///
/// The arithmetic is exactly chapter 04's: for every image, im2col, one matrix product forward,
/// two backward, col2im. What changes is how the work meets the hardware, one measured step
/// at a time (ch07_fast_convolution times each):
///
/// 1. **Buffers are reused.** The column matrices and the per-thread gradient sums live in a
///    Conv2DWorkspace that the layer keeps from step to step, instead of being allocated on
///    every call.
/// 2. **Products are wide enough.** A 7x7 image has only 49 output positions, and a product
///    (256, 2304) x (2304, 49) keeps BLAS's vector units half idle. Images are taken in groups
///    whose columns sit side by side in one matrix, until a product has about
///    FastConvOptions::min_columns columns.
/// 3. **Bias and ReLU are fused.** The product's result is copied to its place in the output
///    anyway (it is grouped by filter, the output by image); adding the bias and clamping at
///    zero during that copy costs nothing extra. Backward, the ReLU's mask (output > 0) is
///    applied while gathering dy the same way.
/// 4. **The batch is split between threads.** Each thread takes a contiguous share of the
///    images and runs all of their steps, including the memory-bound im2col and col2im, on
///    single-threaded BLAS (parallel/threads.hpp says why; the first call that splits a batch
///    leaves OpenBLAS on one thread for the rest of the process). Filter gradients are summed per
///    thread, then added in thread order: for a given thread count every run gives the same
///    bits; another thread count changes only the order of the sums.
/// 5. **Less arithmetic.** With FastConvOptions::algorithm left automatic, 3x3 stride-1
///    convolutions with at least 16 input channels and 16 filters run Winograd's F(2x2, 3x3) (winograd.hpp) with the
///    same four changes: 2.25 times fewer multiplications, paid for with cheap transforms of
///    the tiles.
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

#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// What runs after the product, on each output value while it is still in cache.
enum class Epilogue {
    bias,       ///< y = W x + b
    bias_relu,  ///< y = max(0, W x + b)
};

/// Which arithmetic computes the convolution.
enum class ConvAlgorithm {
    automatic,  ///< winograd where winograd_preferred(): 3x3, stride 1, 16+ channels; else gemm
    gemm,       ///< im2col and matrix products, any geometry
    winograd,   ///< F(2x2, 3x3), winograd.hpp: 3x3 kernels with stride 1 only
};

/// How the fast convolution splits its work.
struct FastConvOptions {
    Epilogue epilogue = Epilogue::bias;
    ConvAlgorithm algorithm = ConvAlgorithm::automatic;
    /// Threads to split the batch between; 0 means thread_count().
    std::size_t threads = 0;
    /// Images are grouped until a product has at least this many columns (positions, or
    /// Winograd's tiles).
    std::size_t min_columns = 256;
};

/// Scratch memory of the fast convolution, kept between calls so that a training loop
/// allocates it once. One workspace per layer; a call grows it when a batch needs more.
struct Conv2DWorkspace {
    /// What one thread works in. Winograd (winograd.hpp) uses the same buffers differently.
    struct PerThread {
        /// (C·FH·FW, group·OH·OW): im2col, then backward's dcols.
        /// Winograd: (16, tiles, C) transformed inputs, then backward's transformed dy.
        std::vector<float> cols;
        /// (FN, group·OH·OW): W cols forward, masked dy backward.
        /// Winograd: (16, tiles, FN) products, backward's transformed dy, then dx's products.
        std::vector<float> product;
        /// This thread's share of the filter and bias gradients (Winograd: dW as (16, FN, C)).
        std::vector<float> dw, db;
        /// Winograd: one image framed channels-last, before or after the transforms.
        std::vector<float> scratch;
    };
    std::vector<PerThread> per_thread;
    /// Winograd: the transformed filters (16, FN, C), shared by the threads.
    std::vector<float> filters;

    /// Bytes held now.
    std::size_t bytes() const;
};

/// Forward. x is (N, C, H, W), w is (FN, C, FH, FW), b is (FN); returns y (N, FN, OH, OW),
/// equal to conv2d_naive_forward() (followed by a ReLU for Epilogue::bias_relu) up to float
/// rounding. Runs conv2d_winograd_forward() when FastConvOptions::algorithm asks for it.
/// Throws std::invalid_argument for ConvAlgorithm::winograd on other than 3x3 stride 1.
Tensor4 conv2d_fast_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                            const Conv2DGeometry& geometry, const FastConvOptions& options,
                            Conv2DWorkspace& workspace);

/// Backward. dy is (N, FN, OH, OW), the gradient of the forward's output y; with
/// Epilogue::bias_relu, y (that output) gives the ReLU's mask, otherwise y is ignored and may be
/// empty. Accumulates dw (FN, C, FH, FW) and db (FN); returns dx (N, C, H, W). The algorithm
/// is chosen as forward.
Tensor4 conv2d_fast_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                             const Tensor4& w, const Conv2DGeometry& geometry,
                             const FastConvOptions& options, Conv2DWorkspace& workspace,
                             Tensor4& dw, Tensor1& db);

/// The backward pass's shape checks, shared by both engines: throws std::invalid_argument
/// unless dy (and y, with Epilogue::bias_relu) have the forward's output shape `out`
/// (N, FN, OH, OW), dw has w's shape and db holds one value per filter.
void check_conv2d_backward_shapes(const Tensor4& dy, const Tensor4& y, const Tensor4& w,
                                  const Tensor4& dw, const Tensor1& db,
                                  const std::array<std::size_t, 4>& out, Epilogue epilogue);

}  // namespace cnn
