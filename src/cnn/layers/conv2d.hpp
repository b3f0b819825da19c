/// \file
/// \ingroup ch04
/// \brief The convolution layer: FN filters over C channels, with stride and 'valid'/'same'.
///
/// The layer owns its filters W (FN, C, FH, FW), its biases b (FN), their gradients, and the
/// input of the last forward pass, which is all its backward pass needs. Weights start
/// He-normal with fan-in C·FH·FW, biases at zero.
///
/// Inside, it runs chapter 04's im2col computation in the form chapter 07 makes fast
/// (conv2d_fast.hpp: reused buffers, grouped images, fused bias and ReLU, the batch split
/// between threads). conv2d_im2col.hpp is the same arithmetic written to be read, and
/// conv2d_naive.hpp the reference the tests compare both against.
///
/// Parameters: \f$FN\,(C \cdot FH \cdot FW + 1)\f$, whatever the image size.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cnn/conv/conv2d_fast.hpp"
#include "cnn/conv/geometry.hpp"
#include "cnn/layers/parameter.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Hyperparameters of a Conv2D layer, named as in Keras.
struct Conv2DOptions {
    std::size_t input_channels = 0;            ///< C
    std::size_t filters = 0;                   ///< FN
    std::size_t kernel_rows = 3;               ///< FH
    std::size_t kernel_cols = 3;               ///< FW
    std::size_t stride_rows = 1;               ///< S along H
    std::size_t stride_cols = 1;               ///< S along W
    PaddingMode padding = PaddingMode::valid;  ///< 'valid' or 'same' (Keras's rule)
    std::string name = "conv2d";               ///< prefix of the parameter names
    bool relu = false;                         ///< a ReLU on the output, fused in (chapter 07)
};

/// A 2-D convolution layer over batches (N, C, H, W).
class Conv2D {
public:
    Conv2D(const Conv2DOptions& options, Rng& rng);

    /// x is (N, C, H, W); returns (N, FN, OH, OW) (after the ReLU, if options().relu) and
    /// caches what backward() needs.
    Tensor4 forward(const Tensor4& x);
    /// dy is (N, FN, OH, OW); accumulates dW and db and returns dx (N, C, H, W). With
    /// options().relu, dy is the gradient of the ReLU's output.
    Tensor4 backward(const Tensor4& dy);

    /// The stride and padding this layer uses on an input of h rows and w columns.
    Conv2dGeometry geometry(std::size_t h, std::size_t w) const;

    std::vector<Parameter> parameters();
    /// FN (C FH FW + 1).
    std::size_t parameter_count() const { return w_.size() + b_.size(); }
    const Conv2DOptions& options() const { return options_; }
    Tensor4& weights() { return w_; }
    const Tensor4& weights() const { return w_; }
    Tensor1& bias() { return b_; }
    const Tensor1& bias() const { return b_; }

private:
    FastConvOptions fast_options() const;

    Conv2DOptions options_;
    Tensor4 w_, dw_;
    Tensor1 b_, db_;
    Tensor4 x_;  // the input of the last forward()
    Tensor4 y_;  // its output, when the ReLU needs it for its mask
    Conv2dWorkspace workspace_;
};

}  // namespace cnn
