#include <cmath>
#include <sstream>
#include <stdexcept>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "cnn/check/gradient_check.hpp"
#include "cnn/fast/engines.hpp"
#include "cnn/fast/threads.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/dropout.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/losses/softmax_cross_entropy.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/model/zoo.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/optim/sgd.hpp"
#include "support/io/data_error.hpp"
#include "support/io/weights.hpp"
#include "test_support.hpp"

using cnn::Conv2D;
using cnn::Dense;
using cnn::Dropout;
using cnn::Flatten;
using cnn::MaxPooling2D;
using cnn::Tensor4;

namespace {

cnn::Sequential tiny_model(std::uint64_t seed) {
    cnn::Sequential model(seed);
    model.add(Conv2D(3, 3).activation("relu").padding("same").input_shape({2, 6, 6}));
    model.add(MaxPooling2D(2));
    model.add(Flatten());
    model.add(Dense(5).activation("relu"));
    model.add(Dense(4).activation("softmax"));
    return model;
}

}  // namespace

TEST_CASE("Géron's model: every output shape and parameter count, derived by hand") {
    cnn::Sequential model = cnn::seed_model(7);
    model.build();
    // Shapes: 'same' keeps 28, pooling halves (28 -> 14 -> 7 -> 3, the last rounded down).
    // Parameters: a Conv2D has FN (C FH FW + 1), a Dense (D + 1) M.
    struct Row {
        const char* name;
        cnn::Shape shape;
        std::size_t params;
    };
    const Row rows[] = {
        {"conv2d", {64, 28, 28}, 64 * (1 * 49 + 1)},           // 3,200
        {"max_pooling2d", {64, 14, 14}, 0},
        {"conv2d_1", {128, 14, 14}, 128 * (64 * 9 + 1)},       // 73,856
        {"conv2d_2", {128, 14, 14}, 128 * (128 * 9 + 1)},      // 147,584
        {"max_pooling2d_1", {128, 7, 7}, 0},
        {"conv2d_3", {256, 7, 7}, 256 * (128 * 9 + 1)},        // 295,168
        {"conv2d_4", {256, 7, 7}, 256 * (256 * 9 + 1)},        // 590,080
        {"max_pooling2d_2", {256, 3, 3}, 0},
        {"flatten", {2304}, 0},                                 // 256 * 3 * 3
        {"dense", {128}, (2304 + 1) * 128},                     // 295,040
        {"dropout", {128}, 0},
        {"dense_1", {64}, (128 + 1) * 64},                      // 8,256
        {"dropout_1", {64}, 0},
        {"dense_2", {10}, (64 + 1) * 10},                       // 650
    };
    REQUIRE(model.size() == 14);
    for (std::size_t i = 0; i < model.size(); ++i) {
        CAPTURE(i);
        CHECK(model.layer(i).name() == rows[i].name);
        CHECK(model.output_shape(i) == rows[i].shape);
        CHECK(model.layer(i).parameter_count() == rows[i].params);
    }
    CHECK(model.parameter_count() == 1413834);  // what Keras reports for this model
    std::ostringstream summary;
    model.summary(summary);
    CHECK(summary.str().find("conv2d (Conv2D)                  (None, 64, 28, 28)        3200") != std::string::npos);
    CHECK(summary.str().find("max_pooling2d_1 (MaxPooling2D)   (None, 128, 7, 7)") != std::string::npos);
    CHECK(summary.str().find("Total params: 1,413,834") != std::string::npos);
    CHECK(summary.str().find("Non-trainable params: 0") != std::string::npos);
}

TEST_CASE("building a model with mismatched shapes names the layer and both shapes") {
    cnn::Sequential no_flatten;
    no_flatten.add(Conv2D(4, 3).input_shape({1, 8, 8}));
    no_flatten.add(Dense(10).activation("softmax"));
    CHECK_THROWS_WITH_AS(no_flatten.build(),
                         doctest::Contains("Dense dense: expected input (None, D), got (None, 4, 6, 6)"),
                         std::invalid_argument);
    cnn::Sequential too_big;
    too_big.add(Conv2D(4, 9).input_shape({1, 8, 8}));
    CHECK_THROWS_WITH_AS(too_big.build(), doctest::Contains("Conv2D conv2d on input (None, 1, 8, 8)"),
                         cnn::GeometryError);
    cnn::Sequential no_input;
    no_input.add(Dense(3));
    CHECK_THROWS_WITH_AS(no_input.build(), doctest::Contains("needs an input_shape"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Conv2D(3, 3).activation("rleu"), doctest::Contains("unknown activation 'rleu'"),
                         std::invalid_argument);
    cnn::Sequential model = tiny_model(1);
    CHECK_THROWS_WITH_AS(model.predict(xt::zeros<float>({2, 1, 6, 6})),
                         doctest::Contains("expects input (None, 2, 6, 6), got (2, 1, 6, 6)"),
                         std::invalid_argument);
    cnn::Sequential no_softmax(1);
    no_softmax.add(Dense(3).input_shape({4}));
    CHECK_THROWS_AS(no_softmax.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"}),
                    std::invalid_argument);
    CHECK_THROWS_AS(model.compile(cnn::Adam(), "mse", {"accuracy"}), std::invalid_argument);
}

TEST_CASE("a whole model passes the numerical gradient check") {
    cnn::Sequential model = tiny_model(3);
    model.build();
    cnn::Rng rng(5);
    Tensor4 x = cnn::testing::random_tensor<4>({2, 2, 6, 6}, rng);
    const cnn::Labels y = {1, 3};
    CHECK(cnn::testing::check_model_gradients(model, x, y) == 0);
}

TEST_CASE("training: the first loss is near ln 10, a tiny batch is learned by heart, seeds repeat") {
    cnn::Rng rng(9);
    const Tensor4 x = cnn::testing::random_tensor<4>({16, 1, 8, 8}, rng);
    cnn::Labels y(16);
    for (std::size_t i = 0; i < 16; ++i) {
        y[i] = i % 10;
    }
    const auto make = [](std::uint64_t seed) {
        cnn::Sequential model(seed);
        model.add(Conv2D(8, 3).activation("relu").padding("same").input_shape({1, 8, 8}));
        model.add(MaxPooling2D(2));
        model.add(Flatten());
        model.add(Dense(32).activation("relu"));
        model.add(Dense(10).activation("softmax"));
        model.compile(cnn::Adam({0.01f}), "sparse_categorical_crossentropy", {"accuracy"});
        return model;
    };
    cnn::Sequential model = make(1);
    // Untrained, the 10 classes are about equally likely: loss about ln 10 = 2.303.
    CHECK(model.evaluate(x, y).loss == doctest::Approx(std::log(10.0)).epsilon(0.15));
    cnn::FitOptions options;
    options.epochs = 60;
    options.batch_size = 8;
    options.verbose = cnn::Verbosity::silent;
    std::ostringstream log;
    const cnn::History h = model.fit(x, y, options, log);
    CHECK(h.loss.size() == 60);
    CHECK(h.loss.back() < 0.05);
    CHECK(model.evaluate(x, y).accuracy == 1.0);
    CHECK(log.str().empty());

    // The same seed gives the same run, number for number.
    cnn::Sequential again = make(1);
    const cnn::History h2 = again.fit(x, y, options, log);
    CHECK(h2.loss == h.loss);
    CHECK(cnn::testing::max_abs_diff(again.predict(x), model.predict(x)) == 0);
}

TEST_CASE("fit: validation_split holds out the end of the data, and dropout only acts in training") {
    cnn::Rng rng(2);
    const Tensor4 x = cnn::testing::random_tensor<4>({12, 1, 4, 4}, rng);
    const cnn::Labels y = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2};
    cnn::Sequential model(3);
    model.add(Flatten().input_shape({1, 4, 4}));
    model.add(Dropout(0.5f));
    model.add(Dense(3).activation("softmax"));
    model.compile(cnn::Sgd({0.1f, 0.0f}), "sparse_categorical_crossentropy", {"accuracy"});
    cnn::FitOptions options;
    options.validation_split = 0.25;
    options.verbose = cnn::Verbosity::epoch_line;
    std::ostringstream log;
    const cnn::History h = model.fit(x, y, options, log);
    CHECK(h.val_loss.size() == 1);
    CHECK(log.str().find("Epoch 1/1\n") == 0);
    CHECK(log.str().find("1/1 [") != std::string::npos);  // 9 training images, batches of 32
    CHECK(log.str().find("val_accuracy") != std::string::npos);
    // Without training, dropout is off: two predictions agree exactly ...
    CHECK(cnn::testing::max_abs_diff(model.predict(x), model.predict(x)) == 0);
    // ... and in training it is on: two passes drop different values.
    CHECK(cnn::testing::max_abs_diff(model.forward(x, true), model.forward(x, true)) > 0);
    cnn::Sequential built = tiny_model(1);
    built.build();
    CHECK_THROWS_AS(built.add(Dense(3)), std::logic_error);
    // Predictions are probabilities.
    const cnn::Tensor2 p = model.predict(x);
    CHECK(xt::sum(xt::view(p, 3))() == doctest::Approx(1.0));
}

TEST_CASE("save_weights and load_weights: identical predictions, and a mismatched model is refused") {
    cnn::testing::TempDir dir;
    cnn::Sequential model = tiny_model(11);
    cnn::Rng rng(1);
    const Tensor4 x = cnn::testing::random_tensor<4>({3, 2, 6, 6}, rng);
    cnn::save_weights(model.parameters(), dir / "weights");
    cnn::Sequential other = tiny_model(12);
    CHECK(cnn::testing::max_abs_diff(other.predict(x), model.predict(x)) > 0);
    cnn::load_weights(other.parameters(), dir / "weights");
    CHECK(cnn::testing::max_abs_diff(other.predict(x), model.predict(x)) == 0);

    cnn::Sequential wider(11);
    wider.add(Conv2D(4, 3).activation("relu").padding("same").input_shape({2, 6, 6}));
    wider.add(MaxPooling2D(2));
    wider.add(Flatten());
    wider.add(Dense(5).activation("relu"));
    wider.add(Dense(4).activation("softmax"));
    CHECK_THROWS_AS(cnn::load_weights(wider.parameters(), dir / "weights"), cnn::DataError);
}

namespace {

// Every weight of a model, in order.
std::vector<float> all_weights(cnn::Sequential& model) {
    std::vector<float> values;
    for (const cnn::Parameter& p : model.parameters()) {
        values.insert(values.end(), p.value, p.value + p.size);
    }
    return values;
}

// Runs the library on `threads` threads for one scope: OpenMP's, which split the batch in the
// convolution engine, and OpenBLAS's, for products outside it. The old numbers come back after.
class Threads {
public:
    explicit Threads(std::size_t threads) : before_(cnn::thread_count()), blas_(threads) {
        cnn::set_thread_count(threads);
    }
    ~Threads() { cnn::set_thread_count(before_); }
    Threads(const Threads&) = delete;
    Threads& operator=(const Threads&) = delete;

private:
    std::size_t before_;
    cnn::ScopedBlasThreads blas_;
};

}  // namespace

TEST_CASE("determinism: one thread repeats bit for bit, two threads stay within a stated tolerance") {
    // A batch of 32 that two threads split between them, and products large enough that
    // OpenBLAS would split them too.
    cnn::Rng rng(21);
    const Tensor4 x = cnn::testing::random_tensor<4>({96, 1, 16, 16}, rng);
    cnn::Labels y(96);
    for (std::size_t i = 0; i < y.size(); ++i) {
        y[i] = i % 10;
    }
    struct Run {
        cnn::History history;
        std::vector<float> weights;
    };
    const auto run = [&](std::size_t threads) {
        Threads scope(threads);
        cnn::Sequential model(4);
        // Chapter 07's engine, which splits the batch between the threads.
        model.add(Conv2D(16, 3).activation("relu").padding("same").input_shape({1, 16, 16})
                      .engine(cnn::fast_conv2d_engine()));
        model.add(MaxPooling2D(2));
        model.add(Flatten());
        model.add(Dense(128).activation("relu"));
        model.add(Dropout(0.2f));
        model.add(Dense(10).activation("softmax"));
        model.compile(cnn::Adam({0.003f}), "sparse_categorical_crossentropy", {"accuracy"});
        cnn::FitOptions options;
        options.epochs = 3;
        options.batch_size = 32;
        options.verbose = cnn::Verbosity::silent;
        Run r;
        std::ostringstream log;
        r.history = model.fit(x, y, options, log);
        r.weights = all_weights(model);
        return r;
    };
    const Run a = run(1), b = run(1);
    CHECK(a.history.loss == b.history.loss);  // exactly: same operations in the same order
    CHECK(a.history.accuracy == b.history.accuracy);
    CHECK(a.weights == b.weights);

    const Run c = run(2);
    REQUIRE(c.weights.size() == a.weights.size());
    double worst = 0.0, largest = 0.0;
    for (std::size_t i = 0; i < a.weights.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::abs(a.weights[i] - c.weights[i])));
        largest = std::max(largest, static_cast<double>(std::abs(a.weights[i])));
    }
    double worst_loss = 0.0;
    for (std::size_t e = 0; e < a.history.loss.size(); ++e) {
        worst_loss = std::max(worst_loss, std::abs(a.history.loss[e] - c.history.loss[e]));
    }
    MESSAGE("1 vs 2 threads: largest weight difference " << worst << " (largest weight "
            << largest << "), largest loss difference " << worst_loss);
    CHECK(worst <= 1e-4 * largest);
    CHECK(worst_loss <= 1e-4);
}

TEST_CASE("a built model with dropout can be moved and still trains with its own generator") {
    cnn::Rng rng(13);
    const Tensor4 x = cnn::testing::random_tensor<4>({8, 1, 4, 4}, rng);
    const cnn::Labels y = {0, 1, 2, 0, 1, 2, 0, 1};
    const auto make = [] {
        cnn::Sequential model(5);
        model.add(Flatten().input_shape({1, 4, 4}));
        model.add(Dropout(0.5f));
        model.add(Dense(3).activation("softmax"));
        model.compile(cnn::Sgd({0.1f}), "sparse_categorical_crossentropy", {"accuracy"});
        return model;
    };
    cnn::FitOptions options;
    options.epochs = 3;
    options.verbose = cnn::Verbosity::silent;
    cnn::Sequential stays = make();
    const cnn::History a = stays.fit(x, y, options);
    cnn::Sequential original = make();
    original.build();
    cnn::Sequential moved = std::move(original);  // Dropout keeps the generator's address
    const cnn::History b = moved.fit(x, y, options);
    CHECK(a.loss == b.loss);
}
