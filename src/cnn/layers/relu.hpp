/// \file
/// \ingroup ch01
/// \brief ReLU as a layer of its own (Keras's `ReLU()`), for when it is not a layer's activation.
///
/// The arithmetic is ops/relu.hpp; the layer base applies it (layers/layer.hpp), so this
/// layer's own operation passes its input through unchanged.
#pragma once

#include <string>

#include "cnn/layers/layer.hpp"

namespace cnn {

/// max(x, 0), element by element, on any shape.
class ReLU : public KerasLayer<ReLU> {
public:
    std::string type() const override { return "ReLU"; }
    std::string default_name() const override { return "re_lu"; }
    Shape build(const Shape& input_shape, Rng&) override { return input_shape; }
    Activation activation() const override { return Activation::relu; }

protected:
    Tensor4 forward_operation(Tensor4 x, bool) override { return x; }
    Tensor4 backward_operation(Tensor4 dy) override { return dy; }
};

}  // namespace cnn
