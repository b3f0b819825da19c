#include "cnn/model/resnet.hpp"

#include <stdexcept>
#include <string>

#include "cnn/layers/augmentation.hpp"
#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/merge.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/relu.hpp"

namespace cnn {

namespace {

// Convolution then batch normalization. The convolution has no use for its bias: the
// normalisation subtracts the channel's mean right after, and its beta is the bias.
Node conv_bn(Graph& model, Node x, std::size_t filters, std::size_t kernel, std::size_t stride) {
    const Node h = model.call(Conv2D(filters, kernel).strides(stride).padding("same"), x);
    return model.call(BatchNormalization(), h);
}

}  // namespace

//! [residual_block]
Node residual_block(Graph& model, Node x, const ResidualBlockOptions& options) {
    if (options.input_channels == 0 || options.filters == 0 || options.stride == 0) {
        throw std::invalid_argument(
            "residual_block: expected input channels, filters and stride >= 1, got " +
            std::to_string(options.input_channels) + " channels, " +
            std::to_string(options.filters) + " filters and stride " +
            std::to_string(options.stride));
    }
    Node f = conv_bn(model, x, options.filters, 3, options.stride);   // F(x), first half
    f = model.call(ReLU(), f);
    f = conv_bn(model, f, options.filters, 3, 1);                     // F(x), second half
    if (options.shortcut) {
        const bool same_shape = options.stride == 1 && options.input_channels == options.filters;
        const Node s = same_shape ? x : conv_bn(model, x, options.filters, 1, options.stride);
        f = model.call(Add(), {f, s});                                // F(x) + x
    }
    return model.call(ReLU(), f);
}
//! [residual_block]

std::size_t resnet_depth(const ResNetOptions& options) {
    return 2 + 2 * options.blocks_per_stage * options.stage_filters.size();
}

Graph resnet(const ResNetOptions& options, std::uint64_t seed) {
    if (options.stage_filters.empty() || options.blocks_per_stage == 0) {
        throw std::invalid_argument("resnet: expected at least one stage of at least one block, got " +
                                    std::to_string(options.stage_filters.size()) + " stages of " +
                                    std::to_string(options.blocks_per_stage) + " blocks");
    }
    //! [resnet_body]
    Graph model(seed, options.shortcuts ? "resnet" : "plain");
    Node x = model.input(options.input_shape);
    if (options.augment) {  // new flips and shifts for every training batch
        x = model.call(RandomTranslation(0.1f, 0.1f), model.call(RandomFlip("horizontal"), x));
    }
    std::size_t channels = options.stage_filters.front();
    Node h = model.call(ReLU(), conv_bn(model, x, channels, 3, 1));  // the stem
    for (std::size_t stage = 0; stage < options.stage_filters.size(); ++stage) {
        for (std::size_t block = 0; block < options.blocks_per_stage; ++block) {
            ResidualBlockOptions b;
            b.input_channels = channels;
            b.filters = options.stage_filters[stage];
            b.stride = stage > 0 && block == 0 ? 2 : 1;  // each later stage halves H and W
            b.shortcut = options.shortcuts;
            h = residual_block(model, h, b);
            channels = b.filters;
        }
    }
    h = model.call(GlobalAveragePooling2D(), h);  // (C, H, W) -> (C)
    model.output(model.call(Dense(options.classes).activation("softmax"), h));
    return model;
    //! [resnet_body]
}

Graph resnet_model(std::uint64_t seed) {
    ResNetOptions options;  // 16, 32 and 64 channels, three blocks per stage: ResNet-20
    options.augment = true;
    return resnet(options, seed);
}

}  // namespace cnn
