#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/model/metrics.hpp"
#include "cnn/model/mlp.hpp"
#include "cnn/model/model.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/optim/sgd.hpp"
#include "test_support.hpp"

namespace {

// Two classes that a line separates: class 1 when x0 + x1 > 0, as (N, 2, 1, 1).
void make_blobs(std::size_t n, cnn::Rng& rng, cnn::Tensor4& x, cnn::Labels& y) {
    x = cnn::Tensor4::from_shape({n, 2, 1, 1});
    y.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        x(i, 0, 0, 0) = rng.uniform(-1, 1);
        x(i, 1, 0, 0) = rng.uniform(-1, 1);
        y[i] = x(i, 0, 0, 0) + x(i, 1, 0, 0) > 0 ? 1 : 0;
    }
}

// Writes down when fit() calls it, and what it sees.
class Recorder : public cnn::Callback {
public:
    std::vector<std::string> events;
    void on_train_begin(cnn::TrainingState& s) override { events.push_back("begin " + std::to_string(s.epochs_done)); }
    void on_epoch_begin(cnn::TrainingState& s) override {
        events.push_back("epoch " + std::to_string(s.epoch));
        s.epoch_note += " (noted)";
    }
    void on_epoch_end(cnn::TrainingState& s) override {
        events.push_back("end " + std::to_string(s.epochs_done) + " " + std::to_string(s.history.loss.size()));
    }
    std::string on_diverged(const cnn::TrainingState&) override { return "; the recorder was told"; }
};

}  // namespace

TEST_CASE("fit: an MLP learns a separable problem, and evaluate agrees with one big batch") {
    cnn::Rng rng(8);
    cnn::Tensor4 x, x_val;
    cnn::Labels y, y_val;
    make_blobs(512, rng, x, y);
    make_blobs(256, rng, x_val, y_val);
    cnn::Sequential model = cnn::mlp({{2}, {16}, 2}, 8);
    model.compile(cnn::Sgd({0.1f, 0.9f}), "sparse_categorical_crossentropy", {"accuracy"});
    const double before = model.evaluate(x_val, y_val).accuracy;
    cnn::FitOptions options;
    options.epochs = 10;
    options.verbose = cnn::Verbosity::epoch_line;
    std::ostringstream log;
    const cnn::History history = model.fit(x, y, options, x_val, y_val, log);
    REQUIRE(history.loss.size() == 10);
    CHECK(history.val_accuracy.back() > 0.95);
    CHECK(history.val_accuracy.back() > before);
    CHECK(history.loss.back() < history.loss.front());
    CHECK(log.str().find("Epoch 10/10\n") != std::string::npos);
    const cnn::Evaluation eval = model.evaluate(x_val, y_val, 7);
    CHECK(eval.accuracy == doctest::Approx(cnn::accuracy(model.predict(x_val), y_val)));
}

TEST_CASE("fit: callbacks are called in order, can annotate epochs and explain a divergence") {
    cnn::Rng rng(3);
    cnn::Tensor4 x;
    cnn::Labels y;
    make_blobs(64, rng, x, y);
    cnn::Sequential model = cnn::mlp({{2}, {4}, 2}, 3);
    model.compile(cnn::Sgd({0.1f}), "sparse_categorical_crossentropy", {"accuracy"});
    const auto recorder = std::make_shared<Recorder>();
    cnn::FitOptions options;
    options.epochs = 2;
    options.verbose = cnn::Verbosity::epoch_line;
    options.callbacks = {recorder};
    std::ostringstream log;
    model.fit(x, y, options, log);
    CHECK(recorder->events ==
          std::vector<std::string>{"begin 0", "epoch 1", "end 1 1", "epoch 2", "end 2 2"});
    CHECK(log.str().find("Epoch 2/2 (noted)\n") != std::string::npos);

    // An input that makes the loss infinite stops training with the callbacks' explanation.
    x(5, 0, 0, 0) = std::numeric_limits<float>::infinity();
    recorder->events.clear();
    options.shuffle = false;
    CHECK_THROWS_WITH_AS(model.fit(x, y, options, log),
                         doctest::Contains("at epoch 1, step 1 of 2; the learning rate (0.1) is "
                                           "probably too high: try one 10 times smaller; the "
                                           "recorder was told"),
                         cnn::TrainingDiverged);
}

TEST_CASE("fit: its arguments are checked before anything trains") {
    cnn::Sequential model = cnn::mlp({{2}, {4}, 2}, 3);
    cnn::Tensor4 x = xt::zeros<float>({4, 2, 1, 1});
    cnn::FitOptions options;
    CHECK_THROWS_WITH_AS(model.fit(x, {0, 1, 0, 1}, options), doctest::Contains("call compile() first"),
                         std::logic_error);
    model.compile(cnn::Sgd({0.1f}), "sparse_categorical_crossentropy", {"accuracy"});
    CHECK_THROWS_WITH_AS(model.fit(x, {0, 1}, options), doctest::Contains("4 images but 2 labels"),
                         std::invalid_argument);
    options.validation_split = 1.0;
    CHECK_THROWS_AS(model.fit(x, {0, 1, 0, 1}, options), std::invalid_argument);
    CHECK(cnn::validation_count(60000, 1.0 / 12.0) == 5000);
    CHECK_THROWS_WITH_AS(model.compile(cnn::Sgd({0.1f}), "mse", {}), doctest::Contains("unknown loss 'mse'"),
                         std::invalid_argument);
}

TEST_CASE("weights() holds the layers' state too, which the summary counts as non-trainable") {
    cnn::Sequential model(1);
    model.add(cnn::Conv2D(4, 3).input_shape({1, 6, 6}));  // 4·1·3·3 + 4 = 40
    model.add(cnn::BatchNormalization());                  // 4·4 = 16, of them 2·4 non-trainable
    model.add(cnn::Flatten());
    model.add(cnn::Dense(3).activation("softmax"));         // 64·3 + 3 = 195
    std::vector<std::string> names;
    for (const cnn::Parameter& p : model.weights()) {
        names.push_back(p.name);
    }
    // Keras's model.weights order: layer by layer, trainable then not.
    CHECK(names == std::vector<std::string>{"conv2d/kernel", "conv2d/bias",
                                            "batch_normalization/gamma", "batch_normalization/beta",
                                            "batch_normalization/moving_mean",
                                            "batch_normalization/moving_variance", "dense/kernel",
                                            "dense/bias"});
    CHECK(model.parameters().size() == 6);  // what the optimizer moves: no moving averages
    CHECK(model.parameter_count() == 40 + 8 + 195);

    std::ostringstream summary;
    model.summary(summary);
    const std::string text = summary.str();
    // The first column widens to the longest label, 40 characters, and a space, so every row
    // keeps its columns: gamma, beta, moving mean and variance of 4 channels are 16 values.
    const std::string name_column(41, ' ');
    const auto row = [&](const std::string& label, const std::string& shape, const std::string& count) {
        return label + name_column.substr(label.size()) + shape + std::string(26 - shape.size(), ' ') +
               count;
    };
    CHECK(text.find(row("conv2d (Conv2D)", "(None, 4, 4, 4)", "40")) != std::string::npos);
    CHECK(text.find(row("batch_normalization (BatchNormalization)", "(None, 4, 4, 4)", "16")) !=
          std::string::npos);
    CHECK(text.find(row("dense (Dense)", "(None, 3)", "195")) != std::string::npos);
    CHECK(text.find("Total params: 251\nTrainable params: 243\nNon-trainable params: 8\n") !=
          std::string::npos);
}

TEST_CASE("train_on_batch: one step of fit, and no step when the loss is not finite") {
    cnn::Rng rng(5);
    cnn::Tensor4 x;
    cnn::Labels y;
    make_blobs(32, rng, x, y);
    cnn::Sequential stepped = cnn::mlp({{2}, {4}, 2}, 5);
    cnn::Sequential fitted = cnn::mlp({{2}, {4}, 2}, 5);
    CHECK_THROWS_WITH_AS(stepped.train_on_batch(x, y), doctest::Contains("compile()"), std::logic_error);
    stepped.compile(cnn::Sgd({0.1f}), "sparse_categorical_crossentropy", {"accuracy"});
    fitted.compile(cnn::Sgd({0.1f}), "sparse_categorical_crossentropy", {"accuracy"});
    const cnn::Evaluation before = stepped.evaluate(x, y);
    const cnn::Evaluation step = stepped.train_on_batch(x, y);
    // The loss and accuracy are those of the batch before the step ...
    CHECK(step.loss == doctest::Approx(before.loss).epsilon(1e-6));
    CHECK(step.accuracy == doctest::Approx(before.accuracy));
    // ... and the step is fit()'s: one epoch of one batch, in order, moves the weights alike.
    cnn::FitOptions options;
    options.epochs = 1;
    options.batch_size = 32;
    options.shuffle = false;
    options.verbose = cnn::Verbosity::silent;
    fitted.fit(x, y, options);
    CHECK(cnn::testing::same_weights(stepped, fitted));
    CHECK(stepped.evaluate(x, y).loss < before.loss);

    // An infinite input makes the loss NaN: the weights stay as they were.
    const auto values = [](cnn::Model& model) {
        std::vector<float> all;
        for (const cnn::Parameter& p : model.weights()) {
            all.insert(all.end(), p.value, p.value + p.size);
        }
        return all;
    };
    const std::vector<float> kept = values(stepped);
    x(3, 0, 0, 0) = std::numeric_limits<float>::infinity();
    CHECK_FALSE(std::isfinite(stepped.train_on_batch(x, y).loss));
    CHECK(values(stepped) == kept);
}
