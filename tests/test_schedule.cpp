#include <memory>
#include <sstream>
#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/model/mlp.hpp"
#include "cnn/model/schedule.hpp"
#include "cnn/optim/sgd.hpp"
#include "test_support.hpp"

TEST_CASE("step_decay: divided by 10 from each epoch given") {
    const cnn::Schedule decay = cnn::step_decay(1e-3f, {11, 14});
    CHECK(decay(1) == 1e-3f);
    CHECK(decay(10) == 1e-3f);
    CHECK(decay(11) == 1e-3f / 10.0f);
    CHECK(decay(13) == 1e-3f / 10.0f);
    CHECK(decay(14) == 1e-3f / 10.0f / 10.0f);
}

TEST_CASE("LearningRateScheduler: sets the rate before each epoch and says when it changes") {
    cnn::Rng rng(1);
    const cnn::Tensor4 x = cnn::testing::random_tensor<4>({8, 3, 1, 1}, rng);
    const cnn::Labels y = {0, 1, 0, 1, 0, 1, 0, 1};
    cnn::Sequential model = cnn::mlp({{3}, {4}, 2}, 1);
    model.compile(cnn::Sgd({0.1f}), "sparse_categorical_crossentropy", {"accuracy"});
    cnn::FitOptions options;
    options.epochs = 3;
    options.verbose = cnn::Verbosity::epoch_line;
    options.callbacks = {std::make_shared<cnn::LearningRateScheduler>(cnn::step_decay(0.1f, {3}))};
    std::ostringstream log;
    model.fit(x, y, options, log);
    CHECK(log.str().find("Epoch 2/3\n") != std::string::npos);  // unchanged: nothing said
    CHECK(log.str().find("Epoch 3/3 - learning rate 0.01\n") != std::string::npos);
    CHECK(model.optimizer().learning_rate() == doctest::Approx(0.01f));
    CHECK_THROWS_AS(cnn::LearningRateScheduler(nullptr), std::invalid_argument);
}
