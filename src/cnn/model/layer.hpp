/// \file
/// \ingroup ch06
/// \brief What every layer of a Sequential model is: shapes, a forward and a backward pass.
///
/// Between layers, data always travels as a 4-D tensor whose first axis is the batch. Images
/// are (N, C, H, W); a batch of vectors, as Dense layers use them, is (N, D) stored as
/// (N, D, 1, 1), the same numbers in the same order. A layer's shape without the batch axis is a
/// Shape: {C, H, W} or {D}. Summaries print it with Keras's None for the batch: (None, C, H, W).
///
/// A layer may end with an activation, as in Keras (`Conv2D(...).activation("relu")`): the layer
/// applies it after its own operation and undoes it first in its backward pass. A softmax
/// activation is special: training computes it fused with the cross-entropy loss (chapter 01),
/// so the model asks the last layer for its logits and the softmax only runs for predictions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cnn/layers/parameter.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// A layer's shape without the batch axis: {C, H, W} or {D}.
using Shape = std::vector<std::size_t>;

/// "(None, 64, 28, 28)": a shape with Keras's None for the batch axis.
std::string batch_shape_to_string(const Shape& shape);

/// A batch of vectors travelling as (N, D, 1, 1), seen as the matrix (N, D) (a copy).
Tensor2 batch_to_matrix(const Tensor4& x);
/// The matrix (N, D) as the batch (N, D, 1, 1) that flows between layers (a copy).
Tensor4 matrix_to_batch(const Tensor2& m);

/// The non-linearity a layer applies to its output.
enum class Activation { linear, relu, softmax };

/// Reads Keras's names: "linear" (or ""), "relu", "softmax"; anything else is an error.
Activation parse_activation(const std::string& name);

/// Base of every layer a Sequential model holds.
class Layer {
public:
    virtual ~Layer() = default;

    /// Keras's class name, e.g. "Conv2D", for the summary.
    virtual std::string type() const = 0;
    /// Keras's default name prefix, e.g. "conv2d" (numbered by the model: conv2d_1, ...).
    virtual std::string default_name() const = 0;

    /// Checks the input shape, creates the weights, and returns the output shape. Called once,
    /// by the model, in order; errors name the layer, the expected and the actual shape.
    virtual Shape build(const Shape& input_shape, Rng& rng) = 0;

    /// x is (N, input shape...); returns (N, output shape...). `training` turns on dropout;
    /// `apply_softmax` false returns the logits of a softmax layer (for the fused loss).
    Tensor4 forward(const Tensor4& x, bool training, bool apply_softmax = true);
    /// dy is the gradient of the output; accumulates parameter gradients, returns dx.
    Tensor4 backward(const Tensor4& dy);
    /// For the last layer of a model trained with the fused loss: dlogits is the gradient with
    /// respect to the logits (the output before the softmax); returns dx.
    Tensor4 backward_from_logits(const Tensor4& dlogits) { return backward_operation(dlogits); }

    /// The trainable tensors (none for most layers).
    virtual std::vector<Parameter> parameters() { return {}; }
    std::size_t parameter_count();

    const std::string& name() const { return name_; }
    void set_name(const std::string& name) { name_ = name; }
    Activation activation() const { return activation_; }
    /// The input shape given to the first layer, as Keras's input_shape; empty if not given.
    const Shape& declared_input_shape() const { return input_shape_; }

protected:
    /// The layer's own operation, before the activation.
    virtual Tensor4 forward_operation(const Tensor4& x, bool training) = 0;
    virtual Tensor4 backward_operation(const Tensor4& dy) = 0;
    /// True when the layer's own operation already ends with its activation (a fused ReLU),
    /// so forward() and backward() must not apply it again.
    virtual bool applies_own_activation() const { return false; }

    Activation activation_ = Activation::linear;
    Shape input_shape_;
    std::string name_;

private:
    Tensor4 relu_input_;  // what the ReLU saw, for its backward pass
};

}  // namespace cnn
