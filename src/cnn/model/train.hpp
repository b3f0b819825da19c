/// \file
/// \ingroup ch01
/// \brief A small training loop for classifiers: epochs of shuffled mini-batches, with progress.
///
/// One training step: forward a batch to get logits, measure the loss, backward to get every
/// gradient, let the optimizer move the weights. An epoch runs one step per batch until every
/// training example has been seen once. After each epoch the loop measures the model on data
/// it does not train on and prints one line, so a learner sees the model improve (or not).
///
/// The loop works with any model that has `Tensor2 forward(const Tensor2&)`,
/// `void backward(const Tensor2&)` and `std::vector<Parameter> parameters()`, such as Mlp.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cnn/layers/parameter.hpp"
#include "cnn/losses/softmax_cross_entropy.hpp"
#include "cnn/model/batches.hpp"
#include "cnn/model/metrics.hpp"
#include "cnn/optim/sgd.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Loss and accuracy of a model on a data set.
struct Evaluation {
    double loss = 0.0;
    double accuracy = 0.0;
};

/// What one epoch of training measured.
struct EpochLog {
    std::size_t epoch = 0;        ///< 1-based
    Evaluation train;             ///< mean over the epoch's batches, as they were trained
    Evaluation validation;        ///< on the held-out data, after the epoch
    double seconds = 0.0;         ///< wall time of the epoch, evaluation included
};

/// How train_classifier() runs.
struct TrainOptions {
    std::size_t epochs = 5;
    std::size_t batch_size = 64;
    bool verbose = true;  ///< print one line per epoch
};

/// Loss and accuracy of `model` on x (N, D) with labels y, in batches of `batch_size`.
template <class Model>
Evaluation evaluate_classifier(Model& model, const Tensor2& x, const Labels& y,
                               std::size_t batch_size = 500) {
    double loss_sum = 0.0;
    double correct = 0.0;
    for (const std::vector<std::size_t>& batch : ordered_batches(x.shape(0), batch_size)) {
        const Tensor2 logits = model.forward(take_rows(x, batch));
        const Labels labels = take_labels(y, batch);
        const double n = static_cast<double>(batch.size());
        loss_sum += softmax_cross_entropy_forward(logits, labels).loss * n;
        correct += accuracy(logits, labels) * n;
    }
    const double total = static_cast<double>(x.shape(0));
    return total == 0.0 ? Evaluation{} : Evaluation{loss_sum / total, correct / total};
}

//! [train_classifier]
/// Trains `model` on x (N, D) with labels y for `options.epochs` epochs and returns one
/// EpochLog per epoch. x_val, y_val are measured after every epoch; `rng` shuffles the batches.
template <class Model>
std::vector<EpochLog> train_classifier(Model& model, Sgd& optimizer, const Tensor2& x,
                                       const Labels& y, const Tensor2& x_val,
                                       const Labels& y_val, const TrainOptions& options,
                                       Rng& rng, std::ostream& out) {
    std::vector<EpochLog> history;
    const std::vector<Parameter> parameters = model.parameters();
    for (std::size_t epoch = 1; epoch <= options.epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        EpochLog log;
        log.epoch = epoch;
        for (const std::vector<std::size_t>& batch :
             shuffled_batches(x.shape(0), options.batch_size, rng)) {
            const Labels labels = take_labels(y, batch);
            const Tensor2 logits = model.forward(take_rows(x, batch));        // forward
            const SoftmaxCrossEntropy result = softmax_cross_entropy_forward(logits, labels);
            zero_gradients(parameters);
            model.backward(softmax_cross_entropy_backward(result.probs, labels));  // backward
            optimizer.step(parameters);                                          // update
            const double weight = static_cast<double>(batch.size()) / static_cast<double>(x.shape(0));
            log.train.loss += result.loss * weight;
            log.train.accuracy += accuracy(logits, labels) * weight;
        }
        log.validation = evaluate_classifier(model, x_val, y_val);
        log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (options.verbose) {
            fmt::print(out, "epoch {:>2}/{}  loss {:.4f}  accuracy {:.4f}  val_loss {:.4f}  "
                            "val_accuracy {:.4f}  ({:.1f} s)\n",
                       epoch, options.epochs, log.train.loss, log.train.accuracy,
                       log.validation.loss, log.validation.accuracy, log.seconds);
            out.flush();
        }
        history.push_back(log);
    }
    return history;
}
//! [train_classifier]

}  // namespace cnn
