/// \file
/// \ingroup ch08
/// \brief AlexNet and VGG as this library writes them: the networks that made CNNs deep.
///
/// AlexNet (Krizhevsky, Sutskever and Hinton, 2012) won ImageNet with five convolutions, three
/// overlapping max-poolings and three Dense layers on 227x227 colour images; its first layer
/// already uses 11x11 kernels with stride 4 to shrink the image quickly. VGG (Simonyan and
/// Zisserman, 2014) went deeper with one idea repeated: blocks of 3x3 convolutions, each block
/// ending in a 2x2 max-pooling that halves the resolution while the next block doubles the
/// channels. \ref chapter08 "Chapter 08" prints their summaries at their real input sizes and
/// trains VGG-style stacks at Fashion-MNIST's scale.
///
/// Two simplifications, both about training tricks, not shapes: AlexNet's local response
/// normalisation is left out (later work found it adds little, and batch normalization
/// replaced it), and its convolutions are not split in two groups (the split was for the two
/// GPUs of 2012). So the shapes are the paper's and the parameters those of one undivided
/// network: 62,378,344, where the paper's split network has about 60 million.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cnn/model/sequential.hpp"

namespace cnn {

/// A VGG-style network: blocks of 3x3 'same' convolutions with ReLU, each followed by a 2x2
/// max-pooling; then Flatten, Dense layers with ReLU (each followed by Dropout when
/// `dropout` > 0) and a softmax classifier.
struct VggOptions {
    Shape input_shape{1, 28, 28};               ///< (C, H, W)
    std::vector<std::size_t> block_filters;     ///< channels of each block's convolutions
    std::size_t convolutions_per_block = 2;     ///< VGG16 has 2, 2, 3, 3, 3; see block_sizes
    std::vector<std::size_t> block_sizes;       ///< per block, overrides convolutions_per_block
    std::vector<std::size_t> dense_units{128};  ///< hidden Dense layers after Flatten
    float dropout = 0.0f;                       ///< after each hidden Dense layer; 0: none
    std::size_t classes = 10;                   ///< K, the softmax layer's units
    std::string name = "vgg";  ///< the model's name in its summary
};

/// The network `options` describe; throws std::invalid_argument for an empty list of blocks,
/// a block of zero convolutions, or a block list that does not match `block_sizes`.
/// \param options the blocks, the Dense layers and the classes
/// \param seed fixes the initial weights, the shuffling and the dropout masks
/// \return the model, not yet built
Sequential vgg(const VggOptions& options, std::uint64_t seed);

/// VGG16 (configuration D of the paper) on 224x224x3 ImageNet images, 1,000 classes:
/// 13 convolutions and 3 Dense layers, 138,357,544 parameters.
/// \param seed fixes the initial weights
/// \return the model, not yet built
Sequential vgg16(std::uint64_t seed);

/// AlexNet on 227x227x3 images, 1,000 classes: five convolutions, three overlapping 3x3
/// max-poolings with stride 2, three Dense layers with dropout 0.5.
/// \param seed fixes the initial weights and the dropout masks
/// \return the model, not yet built
Sequential alexnet(std::uint64_t seed);

}  // namespace cnn
