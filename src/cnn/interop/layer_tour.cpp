#include "cnn/interop/layer_tour.hpp"

#include <string>
#include <vector>

#include "cnn/layers/augmentation.hpp"
#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/conv2d_transpose.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/dropout.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/merge.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/relu.hpp"
#include "cnn/layers/softmax.hpp"
#include "cnn/layers/upsampling2d.hpp"

namespace cnn {

Graph layer_tour_model(std::uint64_t seed) {
    Graph model(seed, "layer_tour");
    // Rows and columns differ everywhere (the input, kernels, strides, factors), so that a
    // swap of the two in any attribute changes the numbers.
    Node x = model.input({2, 12, 10});
    x = model.call(RandomFlip("horizontal"), x);
    x = model.call(RandomTranslation(0.1f, 0.1f), x);
    x = model.call(RandomCrop(9, 8), x);  // margins 3 and 2: the window starts at row 1, column 1
    const Node h = model.call(Conv2D(4, 3).padding("same").activation("relu"), x);     // (4, 9, 8)
    Node f = model.call(Conv2D(4, 4).kernel_size(4, 3).padding("same"), h);  // pads 1 and 2; 1 and 1
    f = model.call(BatchNormalization(), f);
    f = model.call(ReLU(), f);
    const Node e = model.call(Conv2D(4, 1), h);
    Node r = model.call(Add(), {h, f, e});                                   // three inputs
    r = model.call(MaxPooling2D(2).strides(1).padding("same"), r);           // pads 0 and 1
    const Node d = model.call(Conv2D(6, 3).strides(2, 1), r);                // (6, 4, 6)
    const Node nearest = model.call(UpSampling2D(2, 3), d);                  // (6, 8, 18)
    const Node stamped = model.call(Conv2DTranspose(6, 3).strides(2, 3).padding("same"), d);
    UpSampling2D bilinear(2, 3);
    bilinear.interpolation("bilinear");
    const Node blended = model.call(bilinear, d);
    Node k = model.call(Concatenate(), {nearest, stamped, blended});         // (18, 8, 18)
    k = model.call(Conv2DTranspose(4, 1).strides(2), k);  // kernel < stride: (4, 16, 36)
    k = model.call(AveragePooling2D(3).strides(2).padding("same"), k);      // pads 0 and 1: (4, 8, 18)
    Node g = model.call(GlobalAveragePooling2D(), k);
    g = model.call(Dense(8), g);
    g = model.call(BatchNormalization(), g);                                 // on (N, D)
    Node l = model.call(Flatten(), k);
    l = model.call(Dense(8).activation("relu"), l);
    Node y = model.call(Add(), {g, l});
    y = model.call(Dropout(0.5f), y);
    y = model.call(Dense(5), y);
    model.output(model.call(Softmax(), y));
    model.build();

    Rng& rng = model.rng();
    for (Parameter& p : model.weights()) {
        const std::string part = p.name.substr(p.name.rfind('/') + 1);
        for (std::size_t i = 0; i < p.size; ++i) {
            if (part == "moving_mean" || part == "beta") {
                p.value[i] = rng.normal();
            } else if (part == "moving_variance") {
                p.value[i] = rng.uniform(0.5f, 2.0f);
            } else if (part == "gamma") {
                p.value[i] = rng.uniform(0.5f, 1.5f);
            } else if (part == "bias") {
                p.value[i] = 0.1f * rng.normal();  // not zero, so that a lost bias shows
            }
        }
    }
    return model;
}

}  // namespace cnn
