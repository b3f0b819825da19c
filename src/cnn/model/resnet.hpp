/// \file
/// \ingroup ch08
/// \brief Residual networks: the block He et al. (2015) built, and the networks made of it.
///
/// A plain stack of layers computes y = F(x); a residual block computes y = relu(F(x) + x):
/// the block only has to learn what to add to its input. At initialisation F is small, so a
/// deep residual network starts close to a shallow one, and the gradient reaches every block
/// through the additions without passing through all the layers above it. That is why the
/// ResNet paper could train 152 layers where plain networks of 20 and 56 layers already trained
/// worse than shallower ones (its "degradation" experiment, which \ref chapter08 "chapter 08"
/// repeats).
///
/// The block, as in the paper's CIFAR networks, and in Keras's functional style:
///
///     x ──┬── Conv2D 3x3 (stride s) ── BN ── ReLU ── Conv2D 3x3 ── BN ──(+)── ReLU ── y
///         └──────────────── shortcut: x, or Conv2D 1x1 stride s ── BN ──┘
///
/// When the block changes the shape (stride 2, more channels), x cannot be added as it is: a
/// 1x1 convolution with the same stride projects it (the paper's option B). With
/// `shortcut` false the same layers are wired without the addition: the plain network of the
/// same depth, for comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cnn/model/graph.hpp"

namespace cnn {

/// One residual block.
struct ResidualBlockOptions {
    std::size_t input_channels = 0;  ///< x's channels (a graph learns shapes only when built)
    std::size_t filters = 16;        ///< channels of both convolutions and of the output
    std::size_t stride = 1;          ///< of the first convolution (2 halves H and W)
    bool shortcut = true;  ///< false: the same layers without the addition (a plain block)
};

/// Adds a block reading `x` to `model` and returns its output node. The shortcut is x itself
/// when the block keeps the shape (stride 1, input_channels == filters), otherwise a 1x1
/// projection. Throws std::invalid_argument for zero channels, filters or stride.
/// \param model the graph the block's layers join
/// \param x the block's input node, (input_channels, H, W)
/// \param options its channels, stride and whether it has a shortcut
/// \return the block's output node, (filters, H / stride, W / stride) rounded up
Node residual_block(Graph& model, Node x, const ResidualBlockOptions& options);

/// A ResNet for small images, as the paper's CIFAR-10 networks: a 3x3 convolution with batch
/// normalization and ReLU, then stages of blocks (each stage after the first starts with
/// stride 2 and twice the channels), global average pooling, and a softmax Dense layer.
/// Its depth, counted as the paper does (convolutions and Dense layers on the main path), is
/// 2 + 2 * blocks_per_stage * stages: 8, 14, 20, 32 ... for three stages.
struct ResNetOptions {
    Shape input_shape{1, 28, 28};                  ///< (C, H, W)
    std::vector<std::size_t> stage_filters{16, 32, 64};  ///< channels of each stage's blocks
    std::size_t blocks_per_stage = 3;                    ///< residual blocks in every stage
    bool shortcuts = true;                         ///< false: the plain network of that depth
    std::size_t classes = 10;                      ///< K, the softmax layer's units
    /// True: RandomFlip("horizontal") and RandomTranslation(0.1, 0.1) right after the input,
    /// \ref chapter08 "chapter 08's" augmentation inside the model, as Keras places it (identity at
    /// inference).
    bool augment = false;
};

/// The network `options` describe; throws std::invalid_argument for no stage or no block.
/// \param options the stages, the classes and the augmentation
/// \param seed fixes the initial weights, the shuffling and the augmentation's draws
/// \return the model, not yet built
Graph resnet(const ResNetOptions& options, std::uint64_t seed);

/// The layers on the main path of that network: 2 + 2 * blocks_per_stage * stages.
/// \param options the stages and blocks
/// \return the depth, e.g. 20 for three stages of three blocks
std::size_t resnet_depth(const ResNetOptions& options);

/// The book's ResNet for Fashion-MNIST (\ref chapter08 "chapter 08"), which beats Géron's model
/// (\ref chapter06 "chapter 06") in less training time: the paper's ResNet-20, three stages of 16,
/// 32 and 64 channels with three blocks each, 0.27 million parameters, with random horizontal flips
/// and shifts of up to 10% in front (`augment`).
/// \param seed fixes the initial weights, the shuffling and the augmentation's draws
/// \return the model, not yet built
Graph resnet_model(std::uint64_t seed);

}  // namespace cnn
