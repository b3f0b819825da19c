/// \file
/// \ingroup ch01
/// \brief What every layer is: shapes, a forward pass and a backward pass.
///
/// A layer is the smallest piece a network is built from (Deep Learning from Scratch calls
/// them "layers" from its first network on, and so does this book). Each one
///
/// - learns its input shape when the model is built, checks it, creates its weights and says
///   what shape it produces (build());
/// - computes its output from its input, remembering what its backward pass will need
///   (forward());
/// - given the gradient of the loss with respect to its output, accumulates the gradients of
///   its own weights and returns the gradient with respect to its input (backward());
/// - shows its weights and their gradients to the optimizer (parameters()), and what it
///   learns without gradients to whoever saves the model (state()).
///
/// **What travels between layers.** Always a Tensor4 whose first axis is the batch. Images
/// are (N, C, H, W); a batch of vectors, as Dense layers use them, is (N, D) stored as
/// (N, D, 1, 1): the same numbers in the same order, so a layer turns one into the other with
/// reshaped(), which moves the storage instead of copying it. forward() and backward() take
/// their argument by value for the same reason: a model hands each layer a tensor it no
/// longer needs (std::move), and a layer that keeps its input for the backward pass, or only
/// changes its shape, keeps it without a copy.
///
/// A layer's shape without the batch axis is a Shape: {C, H, W} or {D}. Summaries print it
/// with Keras's None for the batch: (None, C, H, W).
///
/// **Activations.** A layer may end with an activation, as in Keras
/// (`Dense(128).activation("relu")`): forward() applies it after the layer's own operation
/// and backward() undoes it first. A softmax activation is special: training computes it
/// fused with the cross-entropy loss (losses/softmax_cross_entropy.hpp), so the model asks the
/// last layer for its logits (`apply_softmax` false) and the softmax only runs for
/// predictions.
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

/// The non-linearity a layer applies to its output.
enum class Activation { linear, relu, softmax };

/// Reads Keras's names: "linear" (or ""), "relu", "softmax"; anything else is an error.
Activation parse_activation(const std::string& name);

//! [layer]
/// Base of every layer.
class Layer {
public:
    virtual ~Layer() = default;

    /// Keras's class name, e.g. "Dense", for the summary.
    virtual std::string type() const = 0;
    /// Keras's default name prefix, e.g. "dense" (a model numbers them: dense, dense_1, ...).
    virtual std::string default_name() const = 0;

    /// Checks the input shape, creates the weights (drawing from `rng`) and returns the
    /// output shape. Errors name the layer, the expected and the actual shape.
    virtual Shape build(const Shape& input_shape, Rng& rng) = 0;

    /// x is (N, input shape...); returns (N, output shape...). `training` turns on what only
    /// training does (dropout); `apply_softmax` false returns a softmax layer's logits.
    Tensor4 forward(Tensor4 x, bool training = false, bool apply_softmax = true);
    /// dy is the gradient of the output; accumulates the parameter gradients, returns dx.
    Tensor4 backward(Tensor4 dy);

    /// Bytes the layer holds after its last forward pass so that backward() can run: what
    /// its operation keeps plus what its activation keeps (a ReLU's input). Chapter 09 adds
    /// them up to see where the memory of training goes.
    std::size_t kept_for_backward() const;
    /// The trainable tensors (none for most layers).
    virtual std::vector<Parameter> parameters() { return {}; }
    std::size_t parameter_count();
    /// The activation the layer ends with.
    virtual Activation activation() const { return Activation::linear; }
    /// Multiply-adds of one example's forward pass, given the shape the layer produces: what
    /// the cost tables of AlexNet and VGG count (a FLOP count is twice it). 0 for layers whose
    /// work is small beside a convolution's or a Dense layer's: activations, pooling,
    /// normalisation, merges.
    virtual std::size_t multiply_adds(const Shape& output_shape) const {
        (void)output_shape;
        return 0;
    }

protected:
    /// Bytes of what the layer's own operation keeps for its backward pass (its input, a
    /// mask, the winners of a pooling); the layers that keep something override it.
    virtual std::size_t kept_by_operation() const { return 0; }
    /// The layer's own operation, before the activation.
    virtual Tensor4 forward_operation(Tensor4 x, bool training) = 0;
    virtual Tensor4 backward_operation(Tensor4 dy) = 0;
//! [layer]
    /// True when the layer's own operation already ends with its activation (a ReLU fused
    /// into a convolution engine), so forward() and backward() must not apply it again.
    virtual bool applies_own_activation() const { return false; }

public:
    /// The values the layer learns without gradients, Keras's non-trainable weights (none for
    /// most layers; BatchNormalization's moving averages): views whose `grad` is nullptr,
    /// saved and loaded with the weights but never given to the optimizer.
    virtual std::vector<Parameter> state() { return {}; }

    /// For a model's last layer, whose forward() ran with `apply_softmax` false: dlogits is the
    /// gradient with respect to what that forward() returned (for a softmax layer its logits,
    /// the softmax being fused with the loss; for any other layer simply its output); returns dx.
    Tensor4 backward_from_logits(Tensor4 dlogits);

    /// Layers with several inputs (Add, Concatenate: \ref chapter08 "chapter 08") override these
    /// three; for every other layer they are build(), forward() and backward() (or
    /// backward_from_logits()) of its one input. A graph model calls only these.
    virtual Shape build_inputs(const std::vector<Shape>& input_shapes, Rng& rng);
    virtual Tensor4 forward_inputs(std::vector<Tensor4> xs, bool training, bool apply_softmax);
    virtual std::vector<Tensor4> backward_inputs(Tensor4 dy, bool from_logits);

    /// The name a model gave the layer, or its default_name() before it has one.
    std::string name() const { return name_.empty() ? default_name() : name_; }
    void set_name(const std::string& name) { name_ = name; }
    /// The input shape given to a model's first layer, as Keras's input_shape; empty if none.
    const Shape& declared_input_shape() const { return input_shape_; }

protected:
    Shape input_shape_;

private:
    std::string name_;
    Tensor4 relu_input_;  // what the ReLU saw, for its backward pass
};

/// What every Keras layer offers: `input_shape`, for the first layer of a model. The layer's
/// own type is returned so that option calls can be chained in any order:
/// `Dense(10).activation("softmax").input_shape({784})`.
template <class Derived>
class KerasLayer : public Layer {
public:
    Derived& input_shape(const Shape& shape) {
        input_shape_ = shape;
        return static_cast<Derived&>(*this);
    }
};

/// The message of a layer's shape error: "Dense dense_1: expected input (None, D), got
/// (None, 64, 7, 7)" followed by `hint`.
std::string layer_shape_error(const Layer& layer, const std::string& expected, const Shape& got,
                              const std::string& hint = "");

/// Throws std::logic_error naming `layer` unless `built`: for a layer used before build().
void expect_built(const Layer& layer, bool built);

/// Throws std::logic_error naming `layer` unless `ran`: for a backward() before any forward().
void expect_forward_first(const Layer& layer, bool ran);

}  // namespace cnn
