#include "cnn/model/classic.hpp"

#include <stdexcept>
#include <string>

#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/dropout.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/pooling2d.hpp"

namespace cnn {

namespace {

std::vector<std::size_t> block_sizes(const VggOptions& o) {
    if (o.block_filters.empty()) {
        throw std::invalid_argument("vgg: expected at least one block, got none");
    }
    if (o.block_sizes.empty()) {
        return std::vector<std::size_t>(o.block_filters.size(), o.convolutions_per_block);
    }
    if (o.block_sizes.size() != o.block_filters.size()) {
        throw std::invalid_argument("vgg: expected one block size per block (" +
                                    std::to_string(o.block_filters.size()) + "), got " +
                                    std::to_string(o.block_sizes.size()));
    }
    return o.block_sizes;
}

}  // namespace

//! [vgg_blocks]
Sequential vgg(const VggOptions& options, std::uint64_t seed) {
    const std::vector<std::size_t> sizes = block_sizes(options);
    Sequential model(seed, options.name);
    for (std::size_t b = 0; b < sizes.size(); ++b) {
        if (sizes[b] == 0) {
            throw std::invalid_argument("vgg: block " + std::to_string(b + 1) +
                                        " has no convolution; expected at least 1");
        }
        for (std::size_t i = 0; i < sizes[b]; ++i) {
            Conv2D conv = Conv2D(options.block_filters[b], 3).padding("same").activation("relu");
            if (model.size() == 0) {
                conv.input_shape(options.input_shape);
            }
            model.add(std::move(conv));
        }
        model.add(MaxPooling2D(2));  // halves H and W; the next block doubles the channels
    }
    //! [vgg_blocks]
    //! [vgg_classifier]
    model.add(Flatten());
    for (const std::size_t units : options.dense_units) {
        model.add(Dense(units).activation("relu"));
        if (options.dropout > 0.0f) {
            model.add(Dropout(options.dropout));
        }
    }
    model.add(Dense(options.classes).activation("softmax"));
    return model;
    //! [vgg_classifier]
}

Sequential vgg16(std::uint64_t seed) {
    VggOptions o;
    o.input_shape = {3, 224, 224};
    o.block_filters = {64, 128, 256, 512, 512};
    o.block_sizes = {2, 2, 3, 3, 3};
    o.dense_units = {4096, 4096};
    o.classes = 1000;
    o.name = "vgg16";
    return vgg(o, seed);
}

//! [alexnet]
Sequential alexnet(std::uint64_t seed) {
    Sequential model(seed, "alexnet");
    model.add(Conv2D(96, 11).strides(4).activation("relu").input_shape({3, 227, 227}));  // 55x55
    model.add(MaxPooling2D(3).strides(2));                                               // 27x27
    model.add(Conv2D(256, 5).padding("same").activation("relu"));
    model.add(MaxPooling2D(3).strides(2));                                               // 13x13
    model.add(Conv2D(384, 3).padding("same").activation("relu"));
    model.add(Conv2D(384, 3).padding("same").activation("relu"));
    model.add(Conv2D(256, 3).padding("same").activation("relu"));
    model.add(MaxPooling2D(3).strides(2));                                               // 6x6
    model.add(Flatten());
    model.add(Dense(4096).activation("relu"));
    model.add(Dropout(0.5f));
    model.add(Dense(4096).activation("relu"));
    model.add(Dropout(0.5f));
    model.add(Dense(1000).activation("softmax"));
    return model;
}
//! [alexnet]

}  // namespace cnn
