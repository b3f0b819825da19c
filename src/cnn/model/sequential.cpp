#include "cnn/model/sequential.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cnn/app/program.hpp"  // thousands()
#include "cnn/io/weights.hpp"
#include "cnn/losses/softmax_cross_entropy.hpp"
#include "cnn/model/batches.hpp"
#include "cnn/model/checkpoint.hpp"
#include "cnn/model/metrics.hpp"
#include "cnn/model/progress.hpp"

namespace cnn {

namespace {


// The examples `indices` of x (N, ...), in that order.
Tensor4 take_examples(const Tensor4& x, const std::vector<std::size_t>& indices) {
    const std::size_t per = x.size() / std::max<std::size_t>(1, x.shape(0));
    Tensor4 out = Tensor4::from_shape({indices.size(), x.shape(1), x.shape(2), x.shape(3)});
    for (std::size_t i = 0; i < indices.size(); ++i) {
        std::copy_n(x.data() + indices[i] * per, per, out.data() + i * per);
    }
    return out;
}

// The learning rate of either optimizer, for the message of a diverged run.
float learning_rate(const Optimizer& optimizer) {
    return std::visit([](const auto& o) { return o.options().learning_rate; }, optimizer);
}

void set_learning_rate(Optimizer& optimizer, float rate) {
    std::visit([rate](auto& o) { o.set_learning_rate(rate); }, optimizer);
}

std::vector<std::size_t> range(std::size_t first, std::size_t last) {
    std::vector<std::size_t> r;
    for (std::size_t i = first; i < last; ++i) {
        r.push_back(i);
    }
    return r;
}

}  // namespace

Sequential::Sequential(std::uint64_t seed, std::string name)
    : name_(std::move(name)), rng_(std::make_unique<Rng>(seed)) {}

void Sequential::expect_not_built() const {
    if (built_) {
        throw std::logic_error("Sequential " + name_ + ": layers cannot be added after the model "
                               "is built (by summary(), compile() or fit()): that would reset its "
                               "weights");
    }
}

std::string Sequential::next_name(const std::string& prefix) {
    for (auto& [known, count] : name_counts_) {
        if (known == prefix) {
            return prefix + "_" + std::to_string(count++);
        }
    }
    name_counts_.emplace_back(prefix, 1);
    return prefix;
}

void Sequential::build() {
    if (built_) {
        return;
    }
    if (layers_.empty()) {
        throw std::logic_error("Sequential " + name_ + ": the model has no layers");
    }
    input_shape_ = layers_.front()->declared_input_shape();
    if (input_shape_.empty()) {
        throw std::invalid_argument("Sequential " + name_ + ": the first layer (" +
                                    layers_.front()->name() +
                                    ") needs an input_shape, e.g. input_shape({1, 28, 28})");
    }
    output_shapes_.clear();
    Shape shape = input_shape_;
    for (const auto& layer : layers_) {
        shape = layer->build(shape, *rng_);
        output_shapes_.push_back(shape);
    }
    built_ = true;
}

//! [summary]
void Sequential::summary(std::ostream& out) {
    build();
    // Keras's layout, with a first column wide enough for names like
    // "max_pooling2d_1 (MaxPooling2D)" (older Keras versions cut them short).
    const std::string rule(69, '_'), double_rule(69, '=');
    fmt::print(out, "Model: \"{}\"\n{}\n", name_, rule);
    fmt::print(out, "{:<33}{:<26}{:<10}\n{}\n", "Layer (type)", "Output Shape", "Param #",
               double_rule);
    std::size_t total = 0;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        Layer& layer = *layers_[i];
        const std::size_t count = layer.parameter_count();
        total += count;
        fmt::print(out, "{:<33}{:<26}{:<10}\n{}\n",
                   fmt::format("{} ({})", layer.name(), layer.type()),
                   batch_shape_to_string(output_shapes_[i]), count,
                   i + 1 < layers_.size() ? rule : double_rule);
    }
    fmt::print(out, "Total params: {}\nTrainable params: {}\nNon-trainable params: 0\n{}\n",
               thousands(total), thousands(total), rule);
}
//! [summary]

void Sequential::compile(Optimizer optimizer, const std::string& loss,
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
    if (layers_.back()->activation() != Activation::softmax) {
        throw std::invalid_argument("compile: 'sparse_categorical_crossentropy' expects the last "
                                    "layer (" + layers_.back()->name() +
                                    ") to end with a softmax activation");
    }
    optimizer_ = std::move(optimizer);
}

void Sequential::expect_input(const Tensor4& x, const char* where) {
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

Tensor4 Sequential::forward(const Tensor4& x, bool training, bool apply_softmax) {
    build();
    Tensor4 h = x;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        const bool last = i + 1 == layers_.size();
        h = layers_[i]->forward(h, training, !last || apply_softmax);
    }
    return h;
}

void Sequential::backward(const Tensor4& dlogits) {
    Tensor4 grad = layers_.back()->backward_from_logits(dlogits);
    for (std::size_t i = layers_.size() - 1; i-- > 0;) {
        grad = layers_[i]->backward(grad);
    }
}

std::vector<Parameter> Sequential::parameters() {
    build();
    std::vector<Parameter> all;
    for (const auto& layer : layers_) {
        for (Parameter& p : layer->parameters()) {
            all.push_back(std::move(p));
        }
    }
    return all;
}

std::size_t Sequential::parameter_count() { return count_values(parameters()); }

Optimizer& Sequential::optimizer() {
    if (!optimizer_) {
        throw std::logic_error("Sequential " + name_ + ": no optimizer before compile()");
    }
    return *optimizer_;
}

void Sequential::step(const std::vector<Parameter>& parameters) {
    std::visit([&](auto& optimizer) { optimizer.step(parameters); }, *optimizer_);
}

History Sequential::fit(const Tensor4& x, const Labels& y, const FitOptions& options,
                        std::ostream& out) {
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

//! [fit]
History Sequential::fit(const Tensor4& x, const Labels& y, const FitOptions& options,
                        const Tensor4& x_val, const Labels& y_val, std::ostream& out) {
    if (!optimizer_) {
        throw std::logic_error("fit: call compile() first");
    }
    expect_input(x, "fit");
    if (y.size() != x.shape(0) || y_val.size() != x_val.shape(0)) {
        throw std::invalid_argument(fmt::format("fit: {} images but {} labels (validation: {} and {})",
                                                x.shape(0), y.size(), x_val.shape(0), y_val.size()));
    }
    const bool interactive = options.verbose == Verbosity::automatic && &out == &std::cout &&
                             ProgressBar::stdout_is_terminal();
    const std::vector<Parameter> parameters = this->parameters();
    const std::filesystem::path& checkpoint = options.checkpoint_directory;
    TrainingProgress done;  // what the epochs so far (or the checkpoint resumed) produced
    done.examples = x.shape(0);
    done.validation_examples = x_val.shape(0);
    done.batch_size = options.batch_size;
    done.shuffle = options.shuffle;
    if (options.resume) {
        if (checkpoint.empty()) {
            throw std::invalid_argument("fit: resume needs a checkpoint_directory to resume from");
        }
        if (has_checkpoint(checkpoint)) {
            done = resume_from_checkpoint(*this, checkpoint, done);
            if (options.verbose != Verbosity::silent) {
                fmt::print(out, "Resuming from {}: {} of {} epochs done\n", checkpoint.string(),
                           done.epoch, options.epochs);
            }
        }
    }
    History& history = done.history;
    for (std::size_t epoch = done.epoch + 1; epoch <= options.epochs; ++epoch) {
        const auto batches = options.shuffle ? shuffled_batches(x.shape(0), options.batch_size, *rng_)
                                             : ordered_batches(x.shape(0), options.batch_size);
        std::string rate_change;
        if (options.learning_rate_schedule) {
            const float rate = options.learning_rate_schedule(epoch);
            if (!(rate > 0.0f) || !std::isfinite(rate)) {
                throw std::invalid_argument(fmt::format(
                    "fit: the learning-rate schedule gave {} for epoch {}; expected a rate > 0",
                    rate, epoch));
            }
            if (rate != learning_rate(*optimizer_)) {
                set_learning_rate(*optimizer_, rate);
                rate_change = fmt::format(" - learning rate {:g}", rate);
            }
        }
        if (options.verbose != Verbosity::silent) {
            fmt::print(out, "Epoch {}/{}{}\n", epoch, options.epochs, rate_change);
        }
        ProgressBar progress(out, batches.size(), interactive,
                             options.verbose == Verbosity::silent);
        double loss_sum = 0.0, correct = 0.0, seen = 0.0;
        for (std::size_t b = 0; b < batches.size(); ++b) {
            const Labels labels = take_labels(y, batches[b]);
            zero_gradients(parameters);
            const Tensor2 logits = batch_to_matrix(forward(take_examples(x, batches[b]), true, false));
            const SoftmaxCrossEntropy result = softmax_cross_entropy_forward(logits, labels);
            if (!std::isfinite(result.loss)) {
                progress.abandon();
                throw TrainingDiverged(fmt::format(
                    "fit: the loss became {} at epoch {}, step {} of {}; the learning rate ({}) "
                    "is probably too high: try one 10 times smaller{}",
                    std::isnan(result.loss) ? "NaN" : "infinite", epoch, b + 1, batches.size(),
                    learning_rate(*optimizer_),
                    checkpoint.empty() ? std::string("")
                    : done.epoch == 0
                        ? fmt::format(" (no epoch was completed, so there is no checkpoint in {})",
                                      checkpoint.string())
                        : fmt::format("; the last good checkpoint (epoch {}) is in {}", done.epoch,
                                      checkpoint.string())));
            }
            backward(matrix_to_batch(softmax_cross_entropy_backward(result.probs, labels)));
            step(parameters);
            const double count = static_cast<double>(labels.size());
            loss_sum += result.loss * count;
            correct += accuracy(logits, labels) * count;
            seen += count;
            progress.update(b + 1, loss_sum / seen, correct / seen);
        }
        history.train_seconds.push_back(progress.elapsed());
        history.loss.push_back(loss_sum / seen);
        history.accuracy.push_back(correct / seen);
        std::string extra;
        if (x_val.shape(0) > 0) {
            const Evaluation v = evaluate(x_val, y_val);
            history.val_loss.push_back(v.loss);
            history.val_accuracy.push_back(v.accuracy);
            extra = fmt::format(" - val_loss: {:.4f} - val_accuracy: {:.4f}", v.loss, v.accuracy);
        }
        history.seconds.push_back(
            progress.finish(history.loss.back(), history.accuracy.back(), extra));
        done.epoch = epoch;
        if (!checkpoint.empty()) {
            save_checkpoint(*this, done, checkpoint);
        }
    }
    return history;
}
//! [fit]

std::size_t validation_count(std::size_t examples, double validation_split) {
    return static_cast<std::size_t>(static_cast<double>(examples) * validation_split);
}

std::function<float(std::size_t epoch)> step_decay(float initial, std::vector<std::size_t> drops) {
    return [initial, drops = std::move(drops)](std::size_t epoch) {
        float rate = initial;
        for (const std::size_t drop : drops) {
            rate = epoch >= drop ? rate / 10.0f : rate;
        }
        return rate;
    };
}

Evaluation Sequential::evaluate(const Tensor4& x, const Labels& y, std::size_t batch_size) {
    expect_input(x, "evaluate");
    if (y.size() != x.shape(0)) {
        throw std::invalid_argument(fmt::format("evaluate: {} images but {} labels", x.shape(0), y.size()));
    }
    double loss_sum = 0.0, correct = 0.0;
    for (const std::vector<std::size_t>& batch : ordered_batches(x.shape(0), batch_size)) {
        const Labels labels = take_labels(y, batch);
        const Tensor2 logits = batch_to_matrix(forward(take_examples(x, batch), false, false));
        const double count = static_cast<double>(batch.size());
        loss_sum += softmax_cross_entropy_forward(logits, labels).loss * count;
        correct += accuracy(logits, labels) * count;
    }
    const double n = static_cast<double>(x.shape(0));
    return n == 0 ? Evaluation{} : Evaluation{loss_sum / n, correct / n};
}

Tensor2 Sequential::predict(const Tensor4& x, std::size_t batch_size) {
    expect_input(x, "predict");
    Tensor2 probs;
    for (const std::vector<std::size_t>& batch : ordered_batches(x.shape(0), batch_size)) {
        const Tensor2 part = batch_to_matrix(forward(take_examples(x, batch), false, true));
        if (probs.size() == 0) {
            probs = Tensor2::from_shape({x.shape(0), part.shape(1)});
        }
        std::copy(part.begin(), part.end(), probs.begin() + static_cast<std::ptrdiff_t>(batch.front() * part.shape(1)));
    }
    return probs;
}

void Sequential::save_weights(const std::filesystem::path& directory) {
    cnn::save_weights(parameters(), directory);
}

void Sequential::load_weights(const std::filesystem::path& directory) {
    cnn::load_weights(parameters(), directory);
}

}  // namespace cnn
