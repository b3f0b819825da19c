/// \file
/// \ingroup ch07
/// \brief The fast engines, as the layers take them: Conv2D's (the im2col engine or Winograd,
/// chosen per layer) and MaxPooling2D's (\ref chapter05 "chapter 05's" loops split between
/// threads).
///
/// \ref chapter04 "Chapter 04's" Conv2D and \ref chapter05 "chapter 05's" MaxPooling2D compute
/// through an engine they are handed (layers/conv2d.hpp, layers/pooling2d.hpp). This header makes
/// the fast ones:
///
///     cnn::use_fast_engines();   // every layer built from now on, in this process
///     model.add(Conv2D(64, 3).engine(cnn::fast_conv2d_engine()));   // or one layer
///
/// The values are the same as the chapters' engines compute, up to float rounding for the
/// convolution (the tests hold both to the naive loops) and bit for bit for max pooling.
///
/// **Which convolution.** \ref chapter07 "Chapter 07" has two convolution engines that know nothing
/// of each other: the im2col engine (conv2d_fast.hpp), which computes any geometry, and Winograd's
/// F(2x2, 3x3) and F(4x4, 3x3) (winograd.hpp), which do less arithmetic but only for 3x3 filters
/// with stride 1, and pay for it with transforms that want many channels. The choice between
/// them is made here, in one place: FastConv2DEngine runs the engine its ConvAlgorithm names, by
/// default Winograd where winograd_preferred(), with the tile winograd_tile_for() picks for the
/// output's size, and the im2col engine everywhere else, with workspaces kept from step to
/// step.
///
/// **One scratch for the layers that take turns.** The engines' buffers (im2col columns,
/// Winograd's transformed tiles and filters, each thread's share of dW) hold nothing from one
/// call to the next: a layer's backward pass transforms its filters again. So the layers of a
/// model, which run one after the other, can all use one set, each buffer as large as the
/// largest layer needs, instead of the sum of them all: the engines that one factory makes
/// (fast_conv2d_engine(), and so use_fast_engines()) share one ConvScratch while any of them is
/// alive, and a mutex makes each call wait for the one before it, so that two models trained on
/// two threads take turns instead of writing into each other's buffers.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "cnn/fast/conv2d_fast.hpp"
#include "cnn/fast/conv2d_plan.hpp"
#include "cnn/fast/winograd.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/pooling2d.hpp"

namespace cnn {

/// Which arithmetic computes a convolution.
enum class ConvAlgorithm {
    automatic,     ///< Winograd where winograd_preferred(), with winograd_tile_for()'s tile; gemm
                   ///< everywhere else
    gemm,          ///< im2col and matrix products (conv2d_fast.hpp), any geometry
    winograd,      ///< F(2x2, 3x3) (winograd.hpp): 3x3 filters with stride 1 only
    winograd_4x4,  ///< F(4x4, 3x3) (winograd.hpp): the same, with larger tiles
};

/// A short name for tables: "automatic", "gemm", "F(2x2)" or "F(4x4)".
/// \param algorithm any
/// \return its name
std::string conv_algorithm_name(ConvAlgorithm algorithm);

/// The tile of a Winograd algorithm: WinogradTile::f4x4 for ConvAlgorithm::winograd_4x4,
/// f2x2 for the others.
/// \param algorithm ConvAlgorithm::winograd or ConvAlgorithm::winograd_4x4
/// \return its tile
WinogradTile winograd_tile(ConvAlgorithm algorithm);

/// Whether ConvAlgorithm::automatic picks Winograd: when winograd_applies() and there are at
/// least winograd_lanes (16) input channels and as many filters. The transforms run 16
/// channels at a time (one vector of floats); with fewer, most of each vector is wasted, and
/// im2col is faster (\ref chapter07 "chapter 07's" exercise 5 measures it).
/// \param w the filters (FN, C, FH, FW)
/// \param geometry strides and padding
/// \return true when ConvAlgorithm::automatic should take Winograd
bool winograd_preferred(const Tensor4& w, const Conv2DGeometry& geometry);

/// The buffers of the fast convolution engines, for engines that take turns: every call of a
/// FastConv2DEngine holds the mutex while it uses them. They grow to the largest layer's needs
/// and are kept, so a training loop allocates them once.
class ConvScratch {
public:
    /// The bytes of the buffers (their capacity, which only grows).
    /// \return bytes; waits for a call that is using them
    std::size_t bytes() const;

private:
    friend class FastConv2DEngine;
    mutable std::mutex mutex_;
    GemmWorkspace gemm_;
    WinogradWorkspace winograd_;
};

/// \ref chapter07 "Chapter 07's" convolution engine for the Conv2D layer: the im2col engine or
/// Winograd's, as its ConvAlgorithm says, with the ReLU fused when the layer has one.
class FastConv2DEngine : public Conv2DEngine {
public:
    /// `options` apart from FastConvOptions::epilogue, which each call's `relu` sets.
    /// \param options how to split the batch
    /// \param algorithm which arithmetic, or the automatic choice
    /// \param scratch the buffers, shared with the engines that take turns with this one; by
    ///        default its own
    /// \throws std::invalid_argument if `scratch` is null
    explicit FastConv2DEngine(
        const FastConvOptions& options = {}, ConvAlgorithm algorithm = ConvAlgorithm::automatic,
        std::shared_ptr<ConvScratch> scratch = std::make_shared<ConvScratch>());
    /// Not copied or moved: layers hold their engine by pointer, and a moved-from engine
    /// would be left without its scratch.
    FastConv2DEngine(const FastConv2DEngine&) = delete;
    /// Not copied or moved (see the copy constructor).
    /// \return never
    FastConv2DEngine& operator=(const FastConv2DEngine&) = delete;

    std::string name() const override { return "fast"; }
    bool fuses_relu() const override { return true; }

    /// The engine that computes filters w with this geometry on inputs of x_shape: the one
    /// asked for, or the automatic choice: ConvAlgorithm::gemm unless winograd_preferred(), and
    /// then the tile winograd_tile_for() picks for the output's size.
    /// \param x_shape the input's shape (N, C, H, W)
    /// \param w the filters (FN, C, FH, FW)
    /// \param geometry strides and padding
    /// \return gemm, winograd or winograd_4x4, never automatic
    ConvAlgorithm algorithm_for(const std::array<std::size_t, 4>& x_shape, const Tensor4& w,
                                const Conv2DGeometry& geometry) const;

    /// conv2d_fast_forward() or conv2d_winograd_forward(), as algorithm_for() says.
    /// \param x the input (N, C, H, W)
    /// \param w the filters (FN, C, FH, FW)
    /// \param b the biases (FN)
    /// \param geometry strides, padding and size policy
    /// \param relu whether to end with a ReLU
    /// \return y (N, FN, OH, OW)
    Tensor4 forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                    const Conv2DGeometry& geometry, bool relu) override;
    /// forward(), with the copy of y written by the same threads as y, in the same pass.
    /// \param x the input (N, C, H, W)
    /// \param w the filters (FN, C, FH, FW)
    /// \param b the biases (FN)
    /// \param geometry strides, padding and size policy
    /// \param relu whether to end with a ReLU
    /// \param kept receives a copy of y
    /// \return y (N, FN, OH, OW)
    Tensor4 forward_keeping(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                            const Conv2DGeometry& geometry, bool relu, Tensor4& kept) override;
    /// conv2d_fast_backward() or conv2d_winograd_backward(), as algorithm_for() says.
    /// \param dy the gradient of y (N, FN, OH, OW)
    /// \param x forward()'s input (N, C, H, W)
    /// \param y forward()'s output, or empty unless `relu`
    /// \param w the filters (FN, C, FH, FW)
    /// \param geometry forward()'s
    /// \param relu whether forward() ended with a ReLU
    /// \param dw the filters' gradient (FN, C, FH, FW), added to
    /// \param db the biases' gradient (FN), added to
    /// \return dx (N, C, H, W)
    Tensor4 backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y, const Tensor4& w,
                     const Conv2DGeometry& geometry, bool relu, Tensor4& dw, Tensor1& db) override;
    /// conv2d_fast_backward_input(); for Winograd's geometries Conv2DEngine's default.
    /// \param dy the gradient of y (N, FN, OH, OW)
    /// \param w the filters (FN, C, FH, FW)
    /// \param x_shape the shape (N, C, H, W) of forward()'s input
    /// \param geometry forward()'s
    /// \return dx (N, C, H, W)
    Tensor4 backward_input(const Tensor4& dy, const Tensor4& w,
                           const std::array<std::size_t, 4>& x_shape,
                           const Conv2DGeometry& geometry) override;
    /// conv2d_fast_backward_weights(); for Winograd's geometries Conv2DEngine's default.
    /// \param dy the gradient of y (N, FN, OH, OW)
    /// \param x forward()'s input (N, C, H, W)
    /// \param y forward()'s output, or empty unless `relu`
    /// \param w the filters (FN, C, FH, FW)
    /// \param geometry forward()'s
    /// \param relu whether forward() ended with a ReLU
    /// \param dw the filters' gradient (FN, C, FH, FW), added to
    /// \param db the biases' gradient (FN), added to
    void backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4& y, const Tensor4& w,
                          const Conv2DGeometry& geometry, bool relu, Tensor4& dw,
                          Tensor1& db) override;
    /// The buffers of both algorithms: per-thread im2col columns and products, Winograd's
    /// transformed tiles and filters, each thread's share of the gradients.
    /// \return their bytes (ConvScratch::bytes()), shared with the engines that share them
    std::size_t workspace_bytes() const override { return scratch_->bytes(); }
    /// The ConvScratch, which engines from one factory share.
    /// \return its address
    const void* workspace_owner() const override { return scratch_.get(); }

private:
    FastConvOptions with_epilogue(bool relu) const;
    // forward(), and also into *copy unless it is null.
    Tensor4 forward_copying(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                            const Conv2DGeometry& geometry, bool relu, Tensor4* copy);

    FastConvOptions options_;
    ConvAlgorithm algorithm_;
    std::shared_ptr<ConvScratch> scratch_;  // never null
};

/// A factory of FastConv2DEngine with `options` and `algorithm` (the Epilogue is the layer's to
/// choose: the engine fuses the ReLU when the layer has one). The engines it makes that are
/// alive at one time share one ConvScratch: the layers built with it take turns with one set of
/// buffers, which is freed with the last of them.
/// \param options how to split the batch
/// \param algorithm which arithmetic, or the automatic choice
/// \return the factory, for Conv2D::engine() or set_default_conv2d_engine()
Conv2DEngineFactory fast_conv2d_engine(const FastConvOptions& options = {},
                                       ConvAlgorithm algorithm = ConvAlgorithm::automatic);

/// A factory of the threaded max pooling engine; `threads` 0 means thread_count().
/// \param threads how many threads split the batch; 0 for thread_count()
/// \return the factory, for MaxPooling2D::engine() or set_default_max_pooling2d_engine()
MaxPooling2DEngineFactory fast_max_pooling2d_engine(std::size_t threads = 0);

/// Makes the fast engines the default of every Conv2D and MaxPooling2D layer built from now
/// on in this process (set_default_conv2d_engine(), set_default_max_pooling2d_engine()).
/// \param options how the convolutions split the batch
/// \param algorithm which arithmetic the convolutions use, or the automatic choice
void use_fast_engines(const FastConvOptions& options = {},
                      ConvAlgorithm algorithm = ConvAlgorithm::automatic);

}  // namespace cnn
