// Tests of inspect/memory.hpp and Layer::kept_for_backward(): the bytes each layer keeps,
// counted by hand from the layer shapes.
#include <doctest/doctest.h>

#include "cnn/fast/engines.hpp"
#include "cnn/inspect/memory.hpp"
#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/dropout.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/model/sequential.hpp"
#include "test_support.hpp"

TEST_CASE("training_memory: weights, gradients, outputs and what each layer keeps, by hand") {
    cnn::Sequential model(1);
    model.add(cnn::Conv2D(2, 3).padding("same").activation("relu").input_shape({1, 6, 6}));
    model.add(cnn::MaxPooling2D(2));
    model.add(cnn::BatchNormalization());
    model.add(cnn::Flatten());
    model.add(cnn::Dropout(0.5f));
    model.add(cnn::Dense(3).activation("softmax"));
    cnn::Rng rng(2);
    const cnn::Tensor4 batch = cnn::testing::random_tensor<4>({4, 1, 6, 6}, rng);
    model.build();
    std::vector<std::vector<float>> state_before;
    for (const cnn::Parameter& p : model.weights()) {
        state_before.emplace_back(p.value, p.value + p.size);
    }
    const std::vector<cnn::LayerMemory> m = cnn::training_memory(model, batch);
    // The training pass leaves the weights and batch normalization's moving averages as they were.
    std::size_t k = 0;
    for (const cnn::Parameter& p : model.weights()) {
        CHECK_MESSAGE(std::vector<float>(p.value, p.value + p.size) == state_before[k++], p.name);
    }
    REQUIRE(m.size() == 6);
    // conv2d: 2 * 1 * 3 * 3 + 2 weights; keeps its input (4 * 1 * 6 * 6 floats) and, for the
    // ReLU, its output (4 * 2 * 6 * 6).
    CHECK(m[0].weight_bytes == 20 * 4);
    CHECK(m[0].gradient_bytes == 20 * 4);
    CHECK(m[0].output_bytes == 4 * 2 * 6 * 6 * 4);
    CHECK(m[0].kept_bytes == (4 * 36 + 4 * 2 * 36) * 4);
    CHECK(m[0].workspace_bytes == 0);  // chapter 04's engine keeps no scratch memory
    // max_pooling2d: one winner index, 4 bytes, per output value (4 * 2 * 3 * 3).
    CHECK(m[1].weight_bytes == 0);
    CHECK(m[1].kept_bytes == 4 * 2 * 9 * 4);
    // batch_normalization: gamma and beta trainable, two moving statistics not; keeps the
    // normalised input (4 * 2 * 3 * 3) and 1 / sigma per channel.
    CHECK(m[2].weight_bytes == 4 * 2 * 4);
    CHECK(m[2].gradient_bytes == 2 * 2 * 4);
    CHECK(m[2].kept_bytes == (72 + 2) * 4);
    // flatten keeps nothing; dropout its mask; dense its input.
    CHECK(m[3].kept_bytes == 0);
    CHECK(m[4].kept_bytes == 4 * 18 * 4);
    CHECK(m[5].weight_bytes == (18 * 3 + 3) * 4);
    CHECK(m[5].kept_bytes == 4 * 18 * 4);
    CHECK(m[5].output_bytes == 4 * 3 * 4);
    CHECK(m[5].type == "Dense");
    CHECK(m[5].name == "dense");
}

TEST_CASE("shared_workspace_bytes: a scratch that layers share is counted once") {
    // Three fast convolutions of one factory share one scratch; a fourth has its own.
    const cnn::Conv2DEngineFactory shared = cnn::fast_conv2d_engine();
    cnn::Sequential model(3);
    model.add(cnn::Conv2D(16, 3).padding("same").engine(shared).input_shape({16, 8, 8}));
    model.add(cnn::Conv2D(16, 3).padding("same").engine(shared));
    model.add(cnn::Conv2D(32, 3).padding("same").engine(shared));
    model.add(cnn::Conv2D(4, 3).padding("same").engine(cnn::fast_conv2d_engine()));
    model.add(cnn::Flatten());
    model.add(cnn::Dense(2));
    cnn::Rng rng(4);
    const std::vector<cnn::LayerMemory> m =
        cnn::training_memory(model, cnn::testing::random_tensor<4>({2, 16, 8, 8}, rng));
    REQUIRE(m.size() == 6);
    CHECK(m[0].workspace_owner == m[1].workspace_owner);
    CHECK(m[0].workspace_owner == m[2].workspace_owner);
    CHECK(m[3].workspace_owner != m[0].workspace_owner);
    CHECK(m[0].workspace_bytes == m[2].workspace_bytes);  // each reports the one they share
    CHECK(m[0].workspace_bytes > 0);
    CHECK(m[3].workspace_bytes > 0);
    CHECK(m[5].workspace_bytes == 0);
    const std::size_t expected = m[0].workspace_bytes + m[3].workspace_bytes;
    CHECK(cnn::shared_workspace_bytes(m) == expected);
    CHECK(cnn::shared_workspace_bytes(model) == expected);
}
