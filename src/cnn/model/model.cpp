#include "cnn/model/model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cnn/losses/softmax_cross_entropy.hpp"
#include "cnn/model/batches.hpp"
#include "cnn/model/metrics.hpp"
#include "cnn/model/progress.hpp"

namespace cnn {

namespace {

std::vector<std::size_t> range(std::size_t first, std::size_t last) {
    std::vector<std::size_t> r;
    for (std::size_t i = first; i < last; ++i) {
        r.push_back(i);
    }
    return r;
}

// A model's output (N, K, 1, 1) as the matrix (N, K), without a copy.
Tensor2 as_matrix(Tensor4 y) {
    const std::size_t n = y.shape(0), k = n == 0 ? 0 : y.size() / n;
    return reshaped<2>(std::move(y), {n, k});
}

}  // namespace

Model::Model(std::uint64_t seed, std::string name)
    : name_(std::move(name)), rng_(std::make_unique<Rng>(seed)) {}

void Model::expect_not_built() const {
    if (built_) {
        throw std::logic_error("model " + name_ + ": layers cannot be added after the model is "
                               "built (by summary(), compile() or fit()): that would reset its "
                               "weights");
    }
}

Layer& Model::own(std::unique_ptr<Layer> layer) {
    expect_not_built();
    const std::string prefix = layer->default_name();
    std::string name = prefix;
    auto known = std::find_if(name_counts_.begin(), name_counts_.end(),
                              [&](const auto& entry) { return entry.first == prefix; });
    if (known == name_counts_.end()) {
        name_counts_.emplace_back(prefix, 1);
    } else {
        name = prefix + "_" + std::to_string(known->second++);
    }
    layer->set_name(name);
    layers_.push_back(std::move(layer));
    output_shapes_.emplace_back();
    return *layers_.back();
}

std::vector<LayerCall> Model::calls() {
    build();
    std::vector<LayerCall> steps = wiring();
    const auto shape_of = [&](const Layer* layer) -> const Shape& {
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            if (layers_[i].get() == layer) {
                return output_shapes_[i];
            }
        }
        if (layer == nullptr) {
            return input_shape_;
        }
        throw std::logic_error("model " + name_ + ": " + layer->name() + " is not one of its layers");
    };
    for (LayerCall& step : steps) {
        for (const Layer* input : step.inputs) {
            step.input_shapes.push_back(shape_of(input));
        }
        step.output_shape = shape_of(step.layer);
    }
    return steps;
}

void Model::set_output_shape(const Layer& layer, Shape shape) {
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        if (layers_[i].get() == &layer) {
            output_shapes_[i] = std::move(shape);
            return;
        }
    }
    throw std::logic_error("model " + name_ + ": " + layer.name() + " is not one of its layers");
}

void Model::build() {
    if (built_) {
        return;
    }
    if (layers_.empty()) {
        throw std::logic_error("model " + name_ + ": the model has no layers");
    }
    input_shape_ = build_layers();
    built_ = true;
}

namespace {

// "a\nb" -> {"a", "b"}; "" -> {""}.
std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines(1);
    for (const char c : text) {
        if (c == '\n') {
            lines.emplace_back();
        } else {
            lines.back() += c;
        }
    }
    return lines;
}

}  // namespace

void Model::summary(std::ostream& out, const SummaryOptions& options) {
    build();
    // Keras's layout. The first column is at least as wide as Keras 2's, and wider when a
    // name needs it ("batch_normalization_1 (BatchNormalization)").
    std::size_t name_width = 33;
    bool connected = false;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        name_width = std::max(name_width, layers_[i]->name().size() + layers_[i]->type().size() + 4);
        connected = connected || !connections(i).empty();
    }
    const std::size_t width = name_width + 36 + (options.flops ? 10 : 0) + (connected ? 34 : 0);
    const std::string rule(width, '_'), double_rule(width, '=');
    const auto row = [&](const std::string& layer, const std::string& shape,
                         const std::string& params, const std::string& flops,
                         const std::string& inputs) {
        std::string text = fmt::format("{:<{}}{:<26}{:<10}", layer, name_width, shape, params);
        text += options.flops ? fmt::format("{:<10}", flops) : "";
        text += connected ? inputs : "";
        return text;
    };
    fmt::print(out, "Model: \"{}\"\n{}\n", name_, rule);
    fmt::print(out, "{}\n{}\n", row("Layer (type)", "Output Shape", "Param #", "FLOPs", "Connected to"),
               double_rule);
    //! [summary_rows]
    std::size_t trainable = 0, non_trainable = 0, multiply_adds = 0;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        Layer& layer = *layers_[i];
        const std::size_t count = layer.parameter_count(), state = count_values(layer.state());
        const std::size_t macs = layer.multiply_adds(output_shapes_[i]);
        trainable += count;
        non_trainable += state;
        multiply_adds += macs;
        // A layer reading several others lists them one per line, as Keras does.
        std::vector<std::string> inputs = split_lines(connections(i));
        fmt::print(out, "{}\n",
                   row(fmt::format("{} ({})", layer.name(), layer.type()),
                       batch_shape_to_string(output_shapes_[i]), std::to_string(count + state),
                       si_prefixed(2.0 * static_cast<double>(macs)), inputs.front()));
        for (std::size_t k = 1; k < inputs.size(); ++k) {
            fmt::print(out, "{}\n", row("", "", "", "", inputs[k]));
        }
        fmt::print(out, "{}\n", i + 1 < layers_.size() ? rule : double_rule);
    }
    fmt::print(out, "Total params: {}\nTrainable params: {}\nNon-trainable params: {}\n",
               thousands(trainable + non_trainable), thousands(trainable),
               thousands(non_trainable));
    //! [summary_rows]
    if (options.flops) {
        fmt::print(out, "Forward FLOPs per example: {} ({} multiply-adds)\n",
                   si_prefixed(2.0 * static_cast<double>(multiply_adds)),
                   thousands(multiply_adds));
    }
    fmt::print(out, "{}\n", rule);
}

void Model::compile(std::unique_ptr<Optimizer> optimizer, const std::string& loss,
                    const std::vector<std::string>& metrics) {
    if (loss != "sparse_categorical_crossentropy") {
        throw std::invalid_argument("compile: unknown loss '" + loss +
                                    "': this library implements 'sparse_categorical_crossentropy'");
    }
    for (const std::string& metric : metrics) {
        if (metric != "accuracy") {
            throw std::invalid_argument("compile: unknown metric '" + metric +
                                        "': this library implements 'accuracy'");
        }
    }
    build();
    if (output_layer().activation() != Activation::softmax) {
        throw std::invalid_argument("compile: 'sparse_categorical_crossentropy' expects the last "
                                    "layer (" + output_layer().name() +
                                    ") to end with a softmax activation");
    }
    optimizer_ = std::move(optimizer);
}

Optimizer& Model::optimizer() {
    if (!optimizer_) {
        throw std::logic_error("model " + name_ + ": no optimizer before compile()");
    }
    return *optimizer_;
}

void Model::expect_input(const Tensor4& x, const char* where) {
    build();
    Shape given(x.shape().begin() + 1, x.shape().end());
    while (given.size() > input_shape_.size() && given.back() == 1) {
        given.pop_back();  // (N, D, 1, 1) carries a flat shape (D)
    }
    if (given != input_shape_) {
        throw std::invalid_argument(std::string(where) + ": the model " + name_ + " expects input " +
                                    batch_shape_to_string(input_shape_) + ", got " +
                                    shape_to_string(x.shape()));
    }
}

Tensor4 Model::forward(Tensor4 x, bool training, bool apply_softmax) {
    build();
    return run_forward(std::move(x), training, apply_softmax);
}

void Model::backward(Tensor4 dlogits) { run_backward(std::move(dlogits)); }

std::vector<Parameter> Model::parameters() {
    build();
    std::vector<Parameter> all;
    for (const auto& layer : layers_) {
        for (Parameter& p : layer->parameters()) {
            all.push_back(std::move(p));
        }
    }
    return all;
}

std::size_t Model::parameter_count() { return count_values(parameters()); }

std::vector<Parameter> Model::weights() {
    build();
    std::vector<Parameter> all;
    for (const auto& layer : layers_) {
        const std::vector<Parameter> trainable = layer->parameters(), state = layer->state();
        all.insert(all.end(), trainable.begin(), trainable.end());
        all.insert(all.end(), state.begin(), state.end());
    }
    return all;
}

std::size_t validation_count(std::size_t examples, double validation_split) {
    return static_cast<std::size_t>(static_cast<double>(examples) * validation_split);
}

History Model::fit(const Tensor4& x, const Labels& y, const FitOptions& options, std::ostream& out) {
    if (!(options.validation_split >= 0.0 && options.validation_split < 1.0)) {
        throw std::invalid_argument("fit: expected validation_split in [0, 1), got " +
                                    std::to_string(options.validation_split));
    }
    // Keras holds out the *last* fraction of the data, before any shuffling.
    const std::size_t n = x.shape(0);
    if (y.size() != n) {
        throw std::invalid_argument(fmt::format("fit: {} images but {} labels", n, y.size()));
    }
    const std::size_t held = validation_count(n, options.validation_split);
    if (held == 0) {
        return fit(x, y, options, Tensor4::from_shape({0, x.shape(1), x.shape(2), x.shape(3)}), {}, out);
    }
    const std::vector<std::size_t> train = range(0, n - held), val = range(n - held, n);
    return fit(take_examples(x, train), take_labels(y, train), options, take_examples(x, val),
               take_labels(y, val), out);
}

History Model::fit(const Tensor4& x, const Labels& y, const FitOptions& options,
                   const Tensor4& x_val, const Labels& y_val, std::ostream& out) {
    if (!optimizer_) {
        throw std::logic_error("fit: call compile() first");
    }
    expect_input(x, "fit");
    if (x_val.shape(0) > 0) {
        expect_input(x_val, "fit (validation data)");
    }
    if (y.size() != x.shape(0) || y_val.size() != x_val.shape(0)) {
        throw std::invalid_argument(fmt::format("fit: {} images but {} labels (validation: {} and {})",
                                                x.shape(0), y.size(), x_val.shape(0), y_val.size()));
    }
    if (x.shape(0) == 0) {
        throw std::invalid_argument("fit: expected at least one training example, got none");
    }
    const bool interactive = options.verbose == Verbosity::automatic && &out == &std::cout &&
                             ProgressBar::stdout_is_terminal();
    //! [fit_epochs]
    const std::vector<Parameter> parameters = this->parameters();
    TrainingState state{*this, options, out, x.shape(0), x_val.shape(0), 0, 0, History{}, ""};
    for (const auto& callback : options.callbacks) {
        callback->on_train_begin(state);  // a checkpoint may resume here
    }
    for (std::size_t epoch = state.epochs_done + 1; epoch <= options.epochs; ++epoch) {
        const auto batches = options.shuffle ? shuffled_batches(x.shape(0), options.batch_size, *rng_)
                                             : ordered_batches(x.shape(0), options.batch_size);
        state.epoch = epoch;
        state.epoch_note.clear();
        for (const auto& callback : options.callbacks) {
            callback->on_epoch_begin(state);  // a schedule may change the learning rate here
        }
        if (options.verbose != Verbosity::silent) {
            fmt::print(out, "Epoch {}/{}{}\n", epoch, options.epochs, state.epoch_note);
        }
        ProgressBar progress(out, batches.size(), interactive, options.verbose == Verbosity::silent);
        const Evaluation trained = train_epoch(x, y, batches, parameters, state, progress);
        record_epoch(state, trained, progress, x_val, y_val);
        for (const auto& callback : options.callbacks) {
            callback->on_epoch_end(state);  // a checkpoint is saved here
        }
    }
    return state.history;
    //! [fit_epochs]
}

Evaluation Model::train_on_batch(const Tensor4& x, const Labels& y) {
    return train_step(x, y, parameters());
}

//! [train_step]
Evaluation Model::train_step(const Tensor4& x, const Labels& y,
                             const std::vector<Parameter>& parameters) {
    optimizer();  // throws before compile()
    zero_gradients(parameters);
    const Tensor2 logits = as_matrix(forward(x, true, false));
    const SoftmaxCrossEntropy result = softmax_cross_entropy_forward(logits, y);
    if (!std::isfinite(result.loss)) {
        return {result.loss, accuracy(logits, y)};
    }
    Tensor2 dlogits = softmax_cross_entropy_backward(result.probs, y);
    backward(reshaped<4>(std::move(dlogits), {y.size(), logits.shape(1), 1, 1}));
    optimizer_->step(parameters);
    return {result.loss, accuracy(logits, y)};
}
//! [train_step]

Evaluation Model::train_epoch(const Tensor4& x, const Labels& y,
                              const std::vector<std::vector<std::size_t>>& batches,
                              const std::vector<Parameter>& parameters, const TrainingState& state,
                              ProgressBar& progress) {
    double loss_sum = 0.0, correct = 0.0, seen = 0.0;
    //! [train_epoch_steps]
    for (std::size_t b = 0; b < batches.size(); ++b) {
        const Labels labels = take_labels(y, batches[b]);
        const Evaluation result = train_step(take_examples(x, batches[b]), labels, parameters);
        if (!std::isfinite(result.loss)) {
            progress.abandon();
            std::string message = fmt::format(
                "fit: the loss became {} at epoch {}, step {} of {}; the learning rate ({}) is "
                "probably too high: try one 10 times smaller",
                std::isnan(result.loss) ? "NaN" : "infinite", state.epoch, b + 1, batches.size(),
                optimizer_->learning_rate());
            for (const auto& callback : state.options.callbacks) {
                message += callback->on_diverged(state);
            }
            throw TrainingDiverged(message);
        }
        const double count = static_cast<double>(labels.size());
        loss_sum += result.loss * count;
        correct += result.accuracy * count;
        seen += count;
        progress.update(b + 1, loss_sum / seen, correct / seen);
    }
    //! [train_epoch_steps]
    return {loss_sum / seen, correct / seen};
}

void Model::record_epoch(TrainingState& state, const Evaluation& trained, ProgressBar& progress,
                         const Tensor4& x_val, const Labels& y_val) {
    History& history = state.history;
    history.train_seconds.push_back(progress.elapsed());
    history.loss.push_back(trained.loss);
    history.accuracy.push_back(trained.accuracy);
    std::string extra;
    if (x_val.shape(0) > 0) {
        const Evaluation v = evaluate(x_val, y_val);
        history.val_loss.push_back(v.loss);
        history.val_accuracy.push_back(v.accuracy);
        extra = fmt::format(" - val_loss: {:.4f} - val_accuracy: {:.4f}", v.loss, v.accuracy);
    }
    history.seconds.push_back(progress.finish(trained.loss, trained.accuracy, extra));
    state.epochs_done = state.epoch;
}

Evaluation Model::evaluate(const Tensor4& x, const Labels& y, std::size_t batch_size) {
    expect_input(x, "evaluate");
    if (y.size() != x.shape(0)) {
        throw std::invalid_argument(fmt::format("evaluate: {} images but {} labels", x.shape(0), y.size()));
    }
    double loss_sum = 0.0, correct = 0.0;
    for (const std::vector<std::size_t>& batch : ordered_batches(x.shape(0), batch_size)) {
        const Labels labels = take_labels(y, batch);
        const Tensor2 logits = as_matrix(forward(take_examples(x, batch), false, false));
        const double count = static_cast<double>(batch.size());
        loss_sum += softmax_cross_entropy_forward(logits, labels).loss * count;
        correct += accuracy(logits, labels) * count;
    }
    const double n = static_cast<double>(x.shape(0));
    return n == 0 ? Evaluation{} : Evaluation{loss_sum / n, correct / n};
}

Tensor2 Model::predict(const Tensor4& x, std::size_t batch_size) {
    expect_input(x, "predict");
    Tensor2 probs;
    for (const std::vector<std::size_t>& batch : ordered_batches(x.shape(0), batch_size)) {
        const Tensor2 part = as_matrix(forward(take_examples(x, batch), false, true));
        if (probs.size() == 0) {
            probs = Tensor2::from_shape({x.shape(0), part.shape(1)});
        }
        std::copy(part.begin(), part.end(),
                  probs.begin() + static_cast<std::ptrdiff_t>(batch.front() * part.shape(1)));
    }
    return probs;
}

}  // namespace cnn
