#include "cnn/model/zoo.hpp"

#include <stdexcept>

#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/dropout.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/pooling2d.hpp"

namespace cnn {

//! [seed_model]
// The model of Hands-On Machine Learning (Géron, 2nd ed., chapter 14), layer for
// layer. Keras's input_shape=[28, 28, 1] is {1, 28, 28} here: channels come first.
Sequential seed_model(std::uint64_t seed, float dropout) {
    Sequential model(seed);
    model.add(Conv2D(64, 7).activation("relu").padding("same").input_shape({1, 28, 28}));
    model.add(MaxPooling2D(2));
    model.add(Conv2D(128, 3).activation("relu").padding("same"));
    model.add(Conv2D(128, 3).activation("relu").padding("same"));
    model.add(MaxPooling2D(2));
    model.add(Conv2D(256, 3).activation("relu").padding("same"));
    model.add(Conv2D(256, 3).activation("relu").padding("same"));
    model.add(MaxPooling2D(2));
    model.add(Flatten());
    model.add(Dense(128).activation("relu"));
    model.add(Dropout(dropout));
    model.add(Dense(64).activation("relu"));
    model.add(Dropout(dropout));
    model.add(Dense(10).activation("softmax"));
    return model;
}
//! [seed_model]

// A LeNet-style model with the same API: two small convolutions, two poolings, three Dense
// layers. About 200 times fewer multiply-adds than the seed model, so it trains in minutes.
Sequential lenet_model(std::uint64_t seed) {
    Sequential model(seed);
    model.add(Conv2D(6, 5).activation("relu").padding("same").input_shape({1, 28, 28}));
    model.add(MaxPooling2D(2));
    model.add(Conv2D(16, 5).activation("relu"));
    model.add(MaxPooling2D(2));
    model.add(Flatten());
    model.add(Dense(120).activation("relu"));
    model.add(Dense(84).activation("relu"));
    model.add(Dense(10).activation("softmax"));
    return model;
}

// For --quick: one convolution, one pooling, one Dense layer.
Sequential tiny_model(std::uint64_t seed) {
    Sequential model(seed);
    model.add(Conv2D(8, 3).activation("relu").padding("same").input_shape({1, 28, 28}));
    model.add(MaxPooling2D(2));
    model.add(Flatten());
    model.add(Dense(10).activation("softmax"));
    return model;
}

Sequential make_model(const std::string& name, std::uint64_t seed) {
    if (name == "seed") {
        return seed_model(seed);
    }
    if (name == "lenet") {
        return lenet_model(seed);
    }
    if (name == "tiny") {
        return tiny_model(seed);
    }
    throw std::invalid_argument("model: expected seed, lenet or tiny, got '" + name + "'");
}

}  // namespace cnn
