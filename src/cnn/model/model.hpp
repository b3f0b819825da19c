/// \file
/// \ingroup ch01
/// \brief A Keras-style model: layers wired together, then compile, fit, evaluate, predict.
///
/// Model is what every model shares, whatever its wiring: Sequential (model/sequential.hpp)
/// stacks layers one after the other; Graph (model/graph.hpp, \ref chapter08 "chapter 08") wires
/// them as any directed acyclic graph. Either way:
///
///     model.compile(cnn::Sgd({0.1f}), "sparse_categorical_crossentropy", {"accuracy"});
///     cnn::History history = model.fit(x_train, y_train, options);
///     cnn::Evaluation test = model.evaluate(x_test, y_test);
///
/// When the model is built (by summary(), compile() or fit(), whichever comes first) every
/// layer learns its input shape from the layers before it, checks it, and creates its
/// weights; a mismatch is an error that names the layer and both shapes, before any data
/// flows.
///
/// Training minimises the cross-entropy of the softmax output. The two are computed fused,
/// from the last layer's logits, which is exact and numerically stable
/// (losses/softmax_cross_entropy.hpp); the softmax itself only runs in predict().
#pragma once

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cnn/layers/layer.hpp"
#include "cnn/model/callbacks.hpp"
#include "cnn/optim/optimizer.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Loss and accuracy of a model on a data set.
struct Evaluation {
    double loss = 0.0;      ///< mean cross-entropy per example, in nats
    double accuracy = 0.0;  ///< fraction of examples whose most probable class is the label
};

/// How much fit() prints.
enum class Verbosity {
    silent,      ///< nothing
    epoch_line,  ///< one line per epoch
    automatic,   ///< a live progress bar on a terminal, one line per epoch otherwise
};

/// What summary() prints besides Keras's columns.
struct SummaryOptions {
    /// A column of each layer's forward FLOPs per example (2 per multiply-add, from
    /// Layer::multiply_adds()) and their total: what the cost tables of AlexNet and VGG show.
    bool flops = false;
};

/// How fit() trains.
struct FitOptions {
    std::size_t epochs = 1;       ///< passes over the training data
    std::size_t batch_size = 32;  ///< examples per step (the last batch of an epoch may be smaller)
    /// Fraction of the training data held out, from its end, to measure after every epoch
    /// (Keras's validation_split); ignored when validation data is passed to fit().
    double validation_split = 0.0;
    bool shuffle = true;                       ///< a new order of the examples every epoch
    Verbosity verbose = Verbosity::automatic;  ///< how much fit() prints
    /// Called at fixed moments of training (model/callbacks.hpp), in this order.
    std::vector<std::shared_ptr<Callback>> callbacks;
};

/// How many of `examples` fit() holds out, from the end, for FitOptions::validation_split:
/// the fraction rounded down.
/// \param examples the number of training examples
/// \param validation_split the fraction held out, in [0, 1)
/// \return examples * validation_split, rounded down
std::size_t validation_count(std::size_t examples, double validation_split);

/// Training stopped because the loss stopped being a finite number (NaN or infinity),
/// usually because the steps were too large. The message says when, names the learning rate
/// and what the callbacks add (where the last good checkpoint is).
class TrainingDiverged : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ProgressBar;

/// One step of a model's forward pass: a layer, what it reads and the shapes (without the
/// batch axis) that flow in and out. What an exporter needs to write the model for another
/// framework (\ref chapter12 "chapter 12").
struct LayerCall {
    Layer* layer = nullptr;  ///< the layer
    /// The layers whose outputs it reads, in order; nullptr stands for the model's input.
    std::vector<const Layer*> inputs;
    std::vector<Shape> input_shapes;  ///< the shape of each input
    Shape output_shape;               ///< the shape it produces
};

/// Layers and how data flows through them; the training loop and everything else they share.
class Model {
public:
    /// `seed` fixes the initial weights, the shuffling and the dropout masks.
    /// \param seed the seed of the model's Rng
    /// \param name the model's name, for the summary and error messages
    Model(std::uint64_t seed, std::string name);
    virtual ~Model() = default;
    /// Takes the other model's layers, generator and optimizer.
    Model(Model&&) = default;
    /// Takes the other model's layers, generator and optimizer.
    /// \return this model
    Model& operator=(Model&&) = default;

    /// Infers every layer's shapes and creates the weights (once; later calls do nothing).
    void build();
    /// Keras's summary table: layer (type), output shape, parameters (trainable and not),
    /// then the totals: all, trainable, non-trainable (the layers' state()); for a graph
    /// model also what each layer reads (Keras's "Connected to").
    /// \param out where the table goes
    /// \param options extra columns (FLOPs)
    void summary(std::ostream& out = std::cout, const SummaryOptions& options = {});

    /// Chooses the optimizer and the loss; only "sparse_categorical_crossentropy" (integer
    /// labels, softmax output) and the metric "accuracy" are implemented, and the last layer
    /// must end with a softmax.
    /// \tparam O the optimizer's class, e.g. Adam
    /// \param optimizer the optimizer, copied into the model
    /// \param loss "sparse_categorical_crossentropy"
    /// \param metrics what fit() reports besides the loss: "accuracy", or none
    /// \throws std::invalid_argument for another loss or metric, or a last layer without a
    ///         softmax
    template <class O>
    void compile(O optimizer, const std::string& loss, const std::vector<std::string>& metrics) {
        compile(std::unique_ptr<Optimizer>(std::make_unique<O>(std::move(optimizer))), loss,
                metrics);
    }
    /// compile() with an optimizer chosen at run time. Builds the model first.
    /// \param optimizer the optimizer, owned by the model from now on
    /// \param loss "sparse_categorical_crossentropy"
    /// \param metrics "accuracy", or none
    /// \throws std::invalid_argument for another loss or metric, or a last layer without a
    ///         softmax
    void compile(std::unique_ptr<Optimizer> optimizer, const std::string& loss,
                 const std::vector<std::string>& metrics);

    /// Trains on x (N, input shape...) with labels y; validation data from
    /// options.validation_split. After every batch the loss is checked: if it is NaN or
    /// infinite, training stops with TrainingDiverged.
    /// \param x the training examples (N, input shape...)
    /// \param y one class index per example, N of them
    /// \param options epochs, batch size, validation split, shuffling, printing, callbacks
    /// \param out where the progress goes
    /// \return the loss and accuracy of every epoch, on the training and validation data
    /// \throws std::invalid_argument for a validation_split outside [0, 1), a number of labels
    ///         other than N, no training example, or data of the wrong shape
    /// \throws std::logic_error before compile()
    /// \throws TrainingDiverged when the loss is no longer finite
    History fit(const Tensor4& x, const Labels& y, const FitOptions& options,
                std::ostream& out = std::cout);
    /// Trains on x, y and measures x_val, y_val after every epoch.
    /// \param x the training examples (N, input shape...), at least one
    /// \param y one class index per example
    /// \param options as above; its validation_split is ignored
    /// \param x_val the validation examples (M, input shape...); M may be 0
    /// \param y_val one class index per validation example
    /// \param out where the progress goes
    /// \return the loss and accuracy of every epoch
    /// \throws std::invalid_argument when the numbers of examples and labels differ, x is
    ///         empty, or the data has the wrong shape
    /// \throws std::logic_error before compile()
    /// \throws TrainingDiverged when the loss is no longer finite
    History fit(const Tensor4& x, const Labels& y, const FitOptions& options, const Tensor4& x_val,
                const Labels& y_val, std::ostream& out = std::cout);

    /// One training step on one batch, Keras's train_on_batch: the gradients are zeroed, x
    /// runs forward (dropout on), the loss and its gradient are computed, the gradient runs
    /// back through every layer and the optimizer moves the weights. Returns the batch's loss
    /// and accuracy before the step. When the loss is not a finite number, no gradient is
    /// computed and the weights stay as they were: the caller decides what to do (fit() stops
    /// with TrainingDiverged). Needs compile() first.
    /// \param x the batch (N, input shape...)
    /// \param y one class index per example
    /// \return the batch's mean loss and accuracy, computed before the weights moved
    /// \throws std::logic_error before compile()
    /// \throws std::invalid_argument when x has the wrong shape or y another length
    Evaluation train_on_batch(const Tensor4& x, const Labels& y);
    /// Mean loss and accuracy on x, y (no dropout).
    /// \param x the examples (N, input shape...)
    /// \param y one class index per example
    /// \param batch_size examples per forward pass (memory, not results, depends on it)
    /// \return the mean loss and accuracy; zeros when N is 0
    /// \throws std::invalid_argument when x has the wrong shape or y another length
    Evaluation evaluate(const Tensor4& x, const Labels& y, std::size_t batch_size = 256);
    /// Class probabilities (N, K) for x (no dropout).
    /// \param x the examples (N, input shape...)
    /// \param batch_size examples per forward pass
    /// \return (N, K), each row summing to 1
    /// \throws std::invalid_argument when x has the wrong shape
    Tensor2 predict(const Tensor4& x, std::size_t batch_size = 256);

    /// Runs every layer on x. `training` turns dropout on; `apply_softmax` false gives logits.
    /// Builds the model first.
    /// \param x the examples (N, input shape...)
    /// \param training true for a training pass
    /// \param apply_softmax false for the last layer's logits
    /// \return the last layer's output (N, K, 1, 1) for a classifier
    Tensor4 forward(Tensor4 x, bool training, bool apply_softmax = true);
    /// Sends dlogits (the loss gradient at the last layer's logits) back through every layer.
    /// \param dlogits (N, K, 1, 1), after a forward() with `training` true
    void backward(Tensor4 dlogits);

    /// Every layer's trainable weights with their gradients, layer by layer: what the
    /// optimizer moves. Builds the model first.
    /// \return the views, in layer order
    std::vector<Parameter> parameters();
    /// The number of trainable values (the summary's "Trainable params").
    /// \return count_values() of parameters()
    std::size_t parameter_count();
    /// Everything the model has learnt, as Keras's model.weights: layer by layer, each
    /// layer's parameters() then its state() (the non-trainable values, whose `grad` is
    /// nullptr). What saving and loading a model's weights and checkpoints must cover.
    /// \return the views, in that order
    std::vector<Parameter> weights();
    /// The steps of forward(), in its order: every layer after the layers it reads, the output
    /// layer last. Builds the model first.
    /// \return one call per layer that leads to the output
    std::vector<LayerCall> calls();
    /// The layers, in the order they were added.
    /// \return how many there are
    std::size_t size() const { return layers_.size(); }
    /// Layer i, in the order they were added.
    /// \param i the index, below size()
    /// \return the layer
    /// \throws std::out_of_range for i >= size()
    Layer& layer(std::size_t i) { return *layers_.at(i); }
    /// Layer i, in the order they were added.
    /// \param i the index, below size()
    /// \return the layer
    /// \throws std::out_of_range for i >= size()
    const Layer& layer(std::size_t i) const { return *layers_.at(i); }
    /// The shape layer i produces (after build()).
    /// \param i the index, below size()
    /// \return the shape without the batch axis; empty before build()
    /// \throws std::out_of_range for i >= size()
    const Shape& output_shape(std::size_t i) const { return output_shapes_.at(i); }
    /// The shape of one input example, known after build().
    /// \return the shape without the batch axis; empty before build()
    const Shape& input_shape() const { return input_shape_; }
    /// The name the model was made with.
    /// \return the name
    const std::string& name() const { return name_; }

    /// The generator behind the initial weights, the shuffling and the dropout masks.
    /// \return the generator, which keeps its address when the model is moved
    Rng& rng() { return *rng_; }
    /// The optimizer given to compile(); throws std::logic_error before compile().
    /// \return the optimizer
    Optimizer& optimizer();

protected:
    /// Takes ownership of `layer` and names it Keras's way (conv2d, conv2d_1, ...).
    /// \param layer the layer, not yet part of any model
    /// \return the layer, now owned by the model
    /// \throws std::logic_error once the model is built
    Layer& own(std::unique_ptr<Layer> layer);
    /// Throws std::logic_error once the model is built: layers can no longer be added.
    void expect_not_built() const;
    /// What the wiring decides: the input shape, and every layer built in an order where
    /// its inputs come first (set_output_shape() for each).
    /// \return the shape of one input example, without the batch axis
    virtual Shape build_layers() = 0;
    /// Records the shape a layer produces, for summary() and output_shape().
    /// \param layer one of the model's layers
    /// \param shape its output shape, without the batch axis
    /// \throws std::logic_error if `layer` is not one of the model's
    void set_output_shape(const Layer& layer, Shape shape);
    /// The wiring of calls(): each layer that leads to the output and what it reads, in the
    /// order forward() runs them (the shapes are filled in by calls()).
    /// \return the calls, without their shapes
    virtual std::vector<LayerCall> wiring() = 0;
    /// Runs the layers on x (the model's own copy); the last one gets `apply_softmax`.
    /// \param x the examples (N, input shape...)
    /// \param training passed to every layer
    /// \param apply_softmax passed to the last layer
    /// \return the output layer's output
    virtual Tensor4 run_forward(Tensor4 x, bool training, bool apply_softmax) = 0;
    /// Runs them backwards from the gradient at the last layer's logits.
    /// \param dlogits the gradient of the loss with respect to the logits
    virtual void run_backward(Tensor4 dlogits) = 0;
    /// The layer whose output is the model's.
    /// \return the output layer
    virtual const Layer& output_layer() const = 0;
    /// What layer i reads, one name per line, for summary()'s "Connected to" column; empty
    /// for a stack, where every layer reads the one before it.
    /// \param i the layer's index, below size()
    /// \return the names, one per line
    virtual std::string connections(std::size_t i) const {
        (void)i;
        return {};
    }

private:
    void expect_input(const Tensor4& x, const char* where);  // builds the model first
    // The parts of fit(): one epoch of steps, then its History entries and summary line.
    /// train_on_batch() with the model's parameters() already gathered.
    Evaluation train_step(const Tensor4& x, const Labels& y, const std::vector<Parameter>& parameters);
    Evaluation train_epoch(const Tensor4& x, const Labels& y,
                           const std::vector<std::vector<std::size_t>>& batches,
                           const std::vector<Parameter>& parameters, const TrainingState& state,
                           ProgressBar& progress);
    void record_epoch(TrainingState& state, const Evaluation& trained, ProgressBar& progress,
                      const Tensor4& x_val, const Labels& y_val);

    std::string name_;
    // On the heap, so that its address survives moving the model: Dropout layers keep it.
    std::unique_ptr<Rng> rng_;
    std::vector<std::unique_ptr<Layer>> layers_;
    std::vector<Shape> output_shapes_;
    Shape input_shape_;
    bool built_ = false;
    std::unique_ptr<Optimizer> optimizer_;  // set by compile()
    std::vector<std::pair<std::string, std::size_t>> name_counts_;
};

}  // namespace cnn
