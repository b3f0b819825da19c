#include "cnn/segment/models.hpp"

#include <stdexcept>
#include <string>

#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/conv2d_transpose.hpp"
#include "cnn/layers/merge.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/relu.hpp"
#include "cnn/layers/upsampling2d.hpp"

namespace cnn {

namespace {

// A 3x3 convolution, batch normalization and ReLU.
Node conv_block(Graph& model, Node x, std::size_t filters) {
    const Node h = model.call(Conv2D(filters, 3).padding("same"), x);
    return model.call(ReLU(), model.call(BatchNormalization(), h));
}

}  // namespace

Graph segmentation_model(const SegmentationModelOptions& o, std::uint64_t seed) {
    const std::size_t levels = o.filters.size(), scale = std::size_t{1} << levels;
    if (levels == 0 || o.classes == 0 || o.bottleneck == 0 || o.height == 0 || o.width == 0 ||
        o.height % scale != 0 || o.width % scale != 0) {
        throw std::invalid_argument("segmentation_model: expected at least one level, classes and a "
                                    "bottleneck, and H and W multiples of 2^levels = " +
                                    std::to_string(scale) + "; got " + std::to_string(levels) + " levels, " +
                                    std::to_string(o.height) + "x" + std::to_string(o.width));
    }
    //! [segmentation_encoder_decoder]
    Graph model(seed, o.skips ? "unet" : "hourglass");
    Node x = model.input({1, o.height, o.width});
    std::vector<Node> encoder;  // the map of each size, before it is pooled
    for (const std::size_t filters : o.filters) {
        x = conv_block(model, x, filters);
        encoder.push_back(x);
        x = model.call(MaxPooling2D(2), x);
    }
    x = conv_block(model, x, o.bottleneck);
    for (std::size_t level = levels; level-- > 0;) {
        const std::size_t filters = o.filters[level];
        x = o.upsampling == Upsampling::transposed
                ? model.call(Conv2DTranspose(filters, 2).strides(2), x)
                : model.call(UpSampling2D(2), x);
        if (o.skips) {
            x = model.call(Concatenate(), {encoder[level], x});  // the detail pooling lost
        }
        x = conv_block(model, x, filters);
    }
    model.output(model.call(Conv2D(o.classes, 1), x));  // logits: the loss applies the softmax
    return model;
    //! [segmentation_encoder_decoder]
}

}  // namespace cnn
