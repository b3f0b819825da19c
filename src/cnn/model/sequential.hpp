/// \file
/// \ingroup ch01
/// \brief A Keras-style Sequential model: a stack of layers, each feeding the next.
///
/// \ref chapter01 "Chapter 01's" multi-layer perceptron and \ref chapter06 "chapter 06's"
/// convolutional network are both written with it, almost line for line like their Keras originals:
///
///     cnn::Sequential model;
///     model.add(Conv2D(64, 7).activation("relu").padding("same").input_shape({1, 28, 28}));
///     model.add(MaxPooling2D(2));
///     ...
///     model.add(Dense(10).activation("softmax"));
///     model.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
///     cnn::History history = model.fit(x_train, y_train, options);
///
/// The first layer needs an input_shape; every other layer learns its input shape from the
/// layer before it when the model is built (model/model.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cnn/model/model.hpp"

namespace cnn {

/// A stack of layers, each feeding the next.
class Sequential : public Model {
public:
    /// `seed` fixes the initial weights, the shuffling and the dropout masks.
    /// \param seed the seed of the model's Rng
    /// \param name the model's name, for the summary and error messages
    explicit Sequential(std::uint64_t seed = 42, std::string name = "sequential")
        : Model(seed, std::move(name)) {}

    /// Appends a layer; its name is Keras's default (conv2d, conv2d_1, ...). Layers can only be
    /// added before the model is built.
    /// \tparam L the layer's class
    /// \param layer the layer, copied into the model
    /// \return this model, for chaining
    /// \throws std::logic_error once the model is built
    template <class L>
    Sequential& add(L layer) {
        own(std::make_unique<L>(std::move(layer)));
        return *this;
    }

protected:
    Shape build_layers() override;
    std::vector<LayerCall> wiring() override;
    Tensor4 run_forward(Tensor4 x, bool training, bool apply_softmax) override;
    void run_backward(Tensor4 dlogits) override;
    const Layer& output_layer() const override;
};

}  // namespace cnn
