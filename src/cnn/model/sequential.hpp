/// \file
/// \ingroup ch06
/// \brief A Keras-style Sequential model: add layers, compile, fit, evaluate, predict.
///
/// The model of the study notes, written with this class, reads almost line for line like its
/// Keras original:
///
///     cnn::Sequential model;
///     model.add(Conv2D(64, 7).activation("relu").padding("same").input_shape({1, 28, 28}));
///     model.add(MaxPooling2D(2));
///     ...
///     model.add(Dense(10).activation("softmax"));
///     model.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
///     cnn::History history = model.fit(x_train, y_train, options);
///
/// When the model is built (by summary(), compile() or fit(), whichever comes first) every
/// layer learns its input shape from the layer before it, checks it, and creates its weights; a
/// mismatch is an error that names the layer and both shapes, before any data flows.
///
/// Training minimises the cross-entropy of the softmax output. As in chapter 01 the two are
/// computed fused, from the last layer's logits, which is exact and numerically stable; the
/// softmax itself only runs in predict().
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "cnn/model/layer.hpp"
#include "cnn/model/train.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/optim/sgd.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The optimizers a model can be compiled with.
using Optimizer = std::variant<Sgd, Adam>;

/// How much fit() prints.
enum class Verbosity {
    silent,      ///< nothing
    epoch_line,  ///< one line per epoch
    automatic,   ///< a live progress bar on a terminal, one line per epoch otherwise
};

/// How fit() trains.
struct FitOptions {
    std::size_t epochs = 1;
    std::size_t batch_size = 32;
    /// Fraction of the training data held out, from its end, to measure after every epoch
    /// (Keras's validation_split); ignored when validation data is passed to fit().
    double validation_split = 0.0;
    bool shuffle = true;
    Verbosity verbose = Verbosity::automatic;
    /// When set, a checkpoint of the whole training state (cnn/model/checkpoint.hpp) replaces
    /// the one in this directory after every epoch, so an interrupted run can be resumed.
    std::filesystem::path checkpoint_directory;
    /// Continue from the checkpoint in checkpoint_directory, if there is one: fit() loads it
    /// and trains the epochs after the one it saved, up to `epochs` in all, giving the same
    /// weights and History as a run that was never interrupted. Without a checkpoint there
    /// yet, training starts from the beginning.
    bool resume = false;
    /// When set, called before every epoch with its number (from 1); the optimizer trains
    /// that epoch with the learning rate it returns (Keras's LearningRateScheduler). A function
    /// of the epoch alone, so a resumed run follows it exactly as an uninterrupted one.
    /// fit() throws std::invalid_argument, before the epoch, if it returns a rate that is not
    /// > 0.
    std::function<float(std::size_t epoch)> learning_rate_schedule;
};

/// How many of `examples` fit() holds out, from the end, for FitOptions::validation_split:
/// the fraction rounded down.
std::size_t validation_count(std::size_t examples, double validation_split);

/// The schedule "divide by 10 at these epochs": `initial` until the first epoch of `drops`,
/// 10 times less from there to the next, and so on. For FitOptions::learning_rate_schedule.
std::function<float(std::size_t epoch)> step_decay(float initial, std::vector<std::size_t> drops);

/// What fit() measured, one entry per epoch (Keras's History.history).
struct History {
    std::vector<double> loss, accuracy;          ///< training, as the epoch went
    std::vector<double> val_loss, val_accuracy;  ///< on the validation data, after the epoch
    std::vector<double> seconds;                 ///< wall time of each epoch, validation included
    std::vector<double> train_seconds;           ///< the part of it spent training
};

/// Training stopped because the loss stopped being a finite number (NaN or infinity),
/// usually because the steps were too large. The message says when, names the learning rate
/// and where the last good checkpoint is, if any.
class TrainingDiverged : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A stack of layers, each feeding the next.
class Sequential {
public:
    /// `seed` fixes the initial weights, the shuffling and the dropout masks.
    explicit Sequential(std::uint64_t seed = 42, std::string name = "sequential");

    /// Appends a layer; its name is Keras's default (conv2d, conv2d_1, ...). Layers can only be
    /// added before the model is built.
    template <class L>
    Sequential& add(L layer) {
        expect_not_built();
        auto owned = std::make_unique<L>(std::move(layer));
        owned->set_name(next_name(owned->default_name()));
        layers_.push_back(std::move(owned));
        built_ = false;
        return *this;
    }

    /// Infers every layer's shapes and creates the weights (once; later calls do nothing).
    void build();
    /// Keras's summary table: layer (type), output shape, parameters, then the totals.
    void summary(std::ostream& out = std::cout);

    /// Chooses the optimizer and the loss; only "sparse_categorical_crossentropy" (integer
    /// labels, softmax output) and the metric "accuracy" are implemented, and the last layer
    /// must end with a softmax.
    void compile(Optimizer optimizer, const std::string& loss,
                 const std::vector<std::string>& metrics);

    /// Trains on x (N, input shape...) with labels y; validation data from options.validation_split.
    ///
    /// After every batch the loss is checked: if it is NaN or infinite, training stops with
    /// TrainingDiverged, and the checkpoint of the last completed epoch (if
    /// options.checkpoint_directory is set) is left as it was. Resuming from a checkpoint
    /// (options.resume) throws DataError if it is damaged or belongs to another model, and
    /// std::invalid_argument if it was made with other data sizes, batch size or shuffling.
    History fit(const Tensor4& x, const Labels& y, const FitOptions& options,
                std::ostream& out = std::cout);
    /// Trains on x, y and measures x_val, y_val after every epoch.
    History fit(const Tensor4& x, const Labels& y, const FitOptions& options, const Tensor4& x_val,
                const Labels& y_val, std::ostream& out = std::cout);

    /// Mean loss and accuracy on x, y (no dropout).
    Evaluation evaluate(const Tensor4& x, const Labels& y, std::size_t batch_size = 256);
    /// Class probabilities (N, K) for x (no dropout).
    Tensor2 predict(const Tensor4& x, std::size_t batch_size = 256);

    /// Runs every layer on x. `training` turns dropout on; `apply_softmax` false gives logits.
    Tensor4 forward(const Tensor4& x, bool training, bool apply_softmax = true);
    /// Sends dlogits (the loss gradient at the last layer's logits) back through every layer.
    void backward(const Tensor4& dlogits);

    std::vector<Parameter> parameters();
    std::size_t parameter_count();
    std::size_t size() const { return layers_.size(); }
    Layer& layer(std::size_t i) { return *layers_.at(i); }
    /// The shape each layer produces (after build()).
    const Shape& output_shape(std::size_t i) const { return output_shapes_.at(i); }
    const Shape& input_shape() const { return input_shape_; }
    const std::string& name() const { return name_; }

    /// Writes every weight to `directory` (see io/weights.hpp), atomically.
    void save_weights(const std::filesystem::path& directory);
    /// Reads weights written by save_weights() into this (built) model; shapes must match.
    void load_weights(const std::filesystem::path& directory);

    /// The generator behind the initial weights, the shuffling and the dropout masks.
    Rng& rng() { return *rng_; }
    /// The optimizer given to compile(); throws std::logic_error before compile().
    Optimizer& optimizer();

private:
    std::string next_name(const std::string& prefix);
    void step(const std::vector<Parameter>& parameters);
    void expect_input(const Tensor4& x, const char* where);  // builds the model first
    void expect_not_built() const;

    std::string name_;
    // On the heap, so that its address survives moving the model: Dropout layers keep it.
    std::unique_ptr<Rng> rng_;
    std::vector<std::unique_ptr<Layer>> layers_;
    std::vector<Shape> output_shapes_;
    Shape input_shape_;
    bool built_ = false;
    std::optional<Optimizer> optimizer_;  // set by compile()
    std::vector<std::pair<std::string, std::size_t>> name_counts_;
};

}  // namespace cnn
