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
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cnn/layers/parameter.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// A layer's shape without the batch axis: {C, H, W} or {D}.
using Shape = std::vector<std::size_t>;

/// A gradient that several values of a graph model may hold at once: Add hands its dy to every
/// input as it is, and a layer writes over it only once nobody else holds it
/// (Layer::backward_inputs_shared(), \ref chapter08 "chapter 08").
using SharedTensor4 = std::shared_ptr<Tensor4>;

/// "(None, 64, 28, 28)": a shape with Keras's None for the batch axis.
/// \param shape a layer's shape without the batch axis, e.g. {64, 28, 28}
/// \return the shape in parentheses, "None" first
std::string batch_shape_to_string(const Shape& shape);

/// The non-linearity a layer applies to its output.
enum class Activation { linear, relu, softmax };

/// Whether a backward pass computes the gradient with respect to the layer's input. A model
/// skips it for the layers that read the model's input: that gradient would go to the data,
/// which nothing trains (\ref chapter09 "chapter 09" asks for it, to see which pixels matter).
enum class InputGradient {
    compute,  ///< backward() returns dx
    skip,     ///< backward() accumulates the parameters' gradients and returns an empty tensor
};

/// Reads Keras's names: "linear" (or ""), "relu", "softmax"; anything else is an error.
/// \param name the activation's name, as a Keras program writes it
/// \return the activation it names
/// \throws std::invalid_argument for any other name
Activation parse_activation(const std::string& name);

// [layer_contract]
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
    Tensor4 backward(Tensor4 dy, InputGradient input = InputGradient::compute);
    // [layer_contract]

    /// Bytes the layer holds after its last forward pass so that backward() can run: what
    /// its operation keeps plus what its activation keeps (a ReLU's input). Chapter 09 adds
    /// them up to see where the memory of training goes.
    std::size_t kept_for_backward() const;
    /// Scratch memory the layer's engine keeps between calls, whether or not a backward pass
    /// follows.
    /// \return bytes (0 for most layers; a fast Conv2D's buffers)
    virtual std::size_t workspace_bytes() const { return 0; }
    /// Who owns that scratch memory: layers whose engines share one name the same owner, and
    /// memory counts count it once (\ref chapter09 "chapter 09").
    /// \return the owner's address; by default the layer's own
    virtual const void* workspace_owner() const { return this; }
    // [layer_parameters]
    /// The trainable tensors (none for most layers).
    virtual std::vector<Parameter> parameters() { return {}; }
    std::size_t parameter_count();
    /// The activation the layer ends with.
    virtual Activation activation() const { return Activation::linear; }
    // [layer_parameters]
    /// Multiply-adds of one example's forward pass, given the shape the layer produces: what
    /// the cost tables of AlexNet and VGG count (a FLOP count is twice it). 0 for layers whose
    /// work is small beside a convolution's or a Dense layer's: activations, pooling,
    /// normalisation, merges.
    virtual std::size_t multiply_adds(const Shape& output_shape) const {
        (void)output_shape;
        return 0;
    }

    // [layer_operation]
protected:
    /// Bytes of what the layer's own operation keeps for its backward pass (its input, a
    /// mask, the winners of a pooling); the layers that keep something override it.
    virtual std::size_t kept_by_operation() const { return 0; }
    /// The layer's own operation, before the activation.
    virtual Tensor4 forward_operation(Tensor4 x, bool training) = 0;
    virtual Tensor4 backward_operation(Tensor4 dy) = 0;
    // [layer_operation]
    /// backward_operation() for InputGradient::skip: the parameter gradients alone. The default
    /// computes dx too and drops it; the layers whose input gradient is costly (Conv2D) override
    /// it.
    /// \param dy the gradient with respect to forward_operation()'s output
    virtual void backward_parameters_operation(Tensor4 dy) {
        (void)backward_operation(std::move(dy));
    }
    /// backward_operation() of a dy that other layers still read: dx goes to new memory and
    /// dy stays as it is. Only a one-input layer whose dx costs no more in new memory than
    /// over dy overrides it (BatchNormalization); the default has no such path, and its caller
    /// copies dy instead.
    /// \param dy the gradient with respect to forward_operation()'s output, left unchanged
    /// \return dx, or std::nullopt when the layer has no such path
    virtual std::optional<Tensor4> backward_operation_reading(const Tensor4& dy) {
        (void)dy;
        return std::nullopt;
    }
    /// True when the layer's own operation already ends with its activation (a ReLU fused
    /// into a convolution engine), so forward() and backward() must not apply it again.
    /// \return false unless a layer overrides it
    virtual bool applies_own_activation() const { return false; }

public:
    /// The values the layer learns without gradients, Keras's non-trainable weights (none for
    /// most layers; BatchNormalization's moving averages): views whose `grad` is nullptr,
    /// saved and loaded with the weights but never given to the optimizer.
    /// \return views of the state tensors, in a fixed order; empty for most layers
    virtual std::vector<Parameter> state() { return {}; }

    /// For a model's last layer, whose forward() ran with `apply_softmax` false: dlogits is the
    /// gradient with respect to what that forward() returned (for a softmax layer its logits,
    /// the softmax being fused with the loss; for any other layer simply its output); returns dx.
    /// \param dlogits the gradient of the loss with respect to that output, its shape
    /// \param input whether to compute dx (as for backward())
    /// \return dx, the gradient with respect to the layer's input, the input's shape; empty for
    ///         InputGradient::skip
    Tensor4 backward_from_logits(Tensor4 dlogits, InputGradient input = InputGradient::compute);

    /// Layers with several inputs (Add, Concatenate: \ref chapter08 "chapter 08") override these
    /// three (and Add backward_inputs_shared() too); for every other layer they are build(),
    /// forward() and backward() (or backward_from_logits()) of its one input. A graph model
    /// calls build_inputs(), forward_inputs() and backward_inputs_shared(), which hands a
    /// gradient nobody else holds to backward_inputs().
    /// \param input_shapes the shape of each input, without the batch axis, in input order
    /// \param rng draws the initial weights
    /// \return the output shape
    /// \throws std::invalid_argument when a one-input layer is given another number of inputs
    virtual Shape build_inputs(const std::vector<Shape>& input_shapes, Rng& rng);
    /// forward() over several inputs (see build_inputs()).
    /// \param xs the inputs, each (N, input shape...), in the order build_inputs() saw them
    /// \param training as for forward()
    /// \param apply_softmax as for forward()
    /// \return the output (N, output shape...)
    /// \throws std::invalid_argument when a one-input layer is given another number of inputs
    virtual Tensor4 forward_inputs(std::vector<Tensor4> xs, bool training, bool apply_softmax);
    /// backward() over several inputs (see build_inputs()).
    /// \param dy the gradient of the loss with respect to the output
    /// \param from_logits true for a model's last layer: backward_from_logits() instead of
    ///        backward()
    /// \param input InputGradient::skip when no input's gradient is wanted (a layer that reads
    ///        only the model's input); layers with several inputs may ignore it
    /// \return the gradient with respect to each input, in input order (empty tensors for
    ///         InputGradient::skip, when the layer honours it)
    virtual std::vector<Tensor4> backward_inputs(Tensor4 dy, bool from_logits,
                                                 InputGradient input = InputGradient::compute);
    /// backward_inputs() as a graph model calls it, on a gradient it may share with other
    /// values (\ref chapter08 "chapter 08"). A dy nobody else holds is handed to
    /// backward_inputs() to write over, as a one-holder tensor always was. A dy that others
    /// hold must stay as it is: a layer that can write dx elsewhere does
    /// (backward_operation_reading()); any other gets a copy of dy to write over. Add
    /// overrides it to hand dy itself to every input, without a copy.
    /// \param dy the gradient with respect to the output, not null
    /// \param from_logits as for backward_inputs()
    /// \param input as for backward_inputs()
    /// \return the gradient with respect to each input, in input order, none of them null
    /// \throws std::invalid_argument as backward_inputs(), or for a null dy
    /// \throws std::logic_error as backward_inputs() (a backward pass before any forward
    ///         pass, a softmax not from the logits)
    virtual std::vector<SharedTensor4> backward_inputs_shared(SharedTensor4 dy, bool from_logits,
                                                              InputGradient input);

    /// The name a model gave the layer, or its default_name() before it has one.
    /// \return e.g. "conv2d_1"
    std::string name() const { return name_.empty() ? default_name() : name_; }
    /// Gives the layer its name; a model does it when the layer is added.
    /// \param name the layer's name in summaries, errors and weight files, e.g. "dense_1"
    void set_name(const std::string& name) { name_ = name; }
    /// The input shape given to a model's first layer, as Keras's input_shape.
    /// \return the shape without the batch axis; empty if none was given
    const Shape& declared_input_shape() const { return input_shape_; }

protected:
    /// The shape KerasLayer::input_shape() set, without the batch axis; empty if none.
    Shape input_shape_;

private:
    // backward_operation(), or backward_parameters_operation() for InputGradient::skip.
    Tensor4 run_operation_backward(Tensor4 dy, InputGradient input);
    // backward() of a dy that stays as it is, where the layer can; std::nullopt otherwise.
    // (It calls backward_operation_reading() directly: meant for one-input layers, whose
    // backward_inputs() is the base class's.)
    std::optional<Tensor4> backward_reading(const Tensor4& dy, bool from_logits,
                                            InputGradient input);
    // Whether dy goes to the operation as it is, with no activation to undo first.
    bool dy_reaches_operation(bool from_logits) const;

    std::string name_;
    Tensor4 relu_input_;  // what the ReLU saw, for its backward pass
};

// The parameters of the declarations a chapter page quotes, kept out of the quoted lines.
/// \fn std::string Layer::type() const
/// \return the class name, e.g. "Conv2D"
///
/// \fn std::string Layer::default_name() const
/// \return the name prefix, e.g. "conv2d"
///
/// \fn Shape Layer::build(const Shape& input_shape, Rng& rng)
/// \param input_shape the shape of one input example, without the batch axis: {C, H, W} or {D}
/// \param rng draws the initial weights (layers without weights draw nothing)
/// \return the shape of one output example, without the batch axis
/// \throws std::invalid_argument when the layer cannot take `input_shape`
///
/// \fn Tensor4 Layer::forward(Tensor4 x, bool training, bool apply_softmax)
/// \param x the batch (N, input shape...), (N, D) stored as (N, D, 1, 1)
/// \param training true during fit(): dropout drops, batch normalization uses batch statistics
/// \param apply_softmax false for the logits of a layer with a softmax activation
/// \return the output (N, output shape...)
///
/// \fn Tensor4 Layer::backward(Tensor4 dy, InputGradient input)
/// \param dy the gradient of the loss with respect to the last forward()'s output, its shape
/// \param input InputGradient::skip when nobody needs dx (a model's first layer)
/// \return dx, the gradient with respect to that forward()'s input, its shape; an empty
///         tensor for InputGradient::skip
/// \throws std::logic_error for a softmax activation, which trains only through
///         backward_from_logits()
///
/// \fn std::size_t Layer::kept_for_backward() const
/// \return the number of bytes: kept_by_operation() and, with a ReLU activation, its input
///
/// \fn std::size_t Layer::kept_by_operation() const
/// \return the number of bytes; 0 unless a layer overrides it
///
/// \fn std::vector<Parameter> Layer::parameters()
/// \return views of the weights and their gradients, in a fixed order; empty for most layers
///
/// \fn std::size_t Layer::parameter_count()
/// \brief How many values the optimizer trains in this layer (the summary's "Param #").
/// \return the number of trainable values: count_values() of parameters()
///
/// \fn Activation Layer::activation() const
/// \return Activation::linear unless a layer overrides it
///
/// \fn std::size_t Layer::multiply_adds(const Shape& output_shape) const
/// \param output_shape the shape build() returned, without the batch axis
/// \return multiply-adds per example
///
/// \fn Tensor4 Layer::forward_operation(Tensor4 x, bool training)
/// \param x the batch (N, input shape...)
/// \param training as for forward()
/// \return the operation's output (N, output shape...), before the activation
///
/// \fn Tensor4 Layer::backward_operation(Tensor4 dy)
/// \brief The backward pass of the layer's own operation, after the activation's: accumulates
/// the parameter gradients and returns dx.
/// \param dy the gradient with respect to forward_operation()'s output
/// \return the gradient with respect to forward_operation()'s input

/// What every Keras layer offers: `input_shape`, for the first layer of a model. The layer's
/// own type is returned so that option calls can be chained in any order:
/// `Dense(10).activation("softmax").input_shape({784})`.
/// \tparam Derived the layer class itself (Dense, Conv2D, ...)
template <class Derived>
class KerasLayer : public Layer {
public:
    /// Declares the input shape, as Keras's `input_shape`: needed on a model's first layer.
    /// \param shape the shape of one example, without the batch axis: {C, H, W} or {D}
    /// \return this layer, for chaining
    Derived& input_shape(const Shape& shape) {
        input_shape_ = shape;
        return static_cast<Derived&>(*this);
    }
};

/// The message of a layer's shape error: "Dense dense_1: expected input (None, D), got
/// (None, 64, 7, 7)" followed by `hint`.
/// \param layer the layer whose type and name start the message
/// \param expected the shape it accepts, as text, e.g. "(None, D)"
/// \param got the shape it was given, without the batch axis
/// \param hint appended as is (start it with a separator, e.g. ": flatten first")
/// \return the message
std::string layer_shape_error(const Layer& layer, const std::string& expected, const Shape& got,
                              const std::string& hint = "");

/// Throws std::logic_error naming `layer` unless `built`: for a layer used before build().
/// \param layer the layer, named in the message
/// \param built whether its build() has run
void expect_built(const Layer& layer, bool built);

/// Throws std::logic_error naming `layer` unless `ran`: for a backward() before any forward().
/// \param layer the layer, named in the message
/// \param ran whether its forward() has run
void expect_forward_first(const Layer& layer, bool ran);

}  // namespace cnn
