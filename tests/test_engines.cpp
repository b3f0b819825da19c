#include <array>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/fast/engines.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/model/zoo.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "test_support.hpp"

using cnn::Tensor4;

TEST_CASE("fast engines: a Conv2D layer computes what chapter 04's engine computes") {
    for (const char* activation : {"linear", "relu"}) {
        CAPTURE(activation);
        cnn::Rng rng(3);
        cnn::Conv2D slow = cnn::Conv2D(16, 3).padding("same").activation(activation);
        slow.build({16, 9, 7}, rng);
        cnn::Conv2D fast = slow;
        fast = cnn::Conv2D(slow.options()).engine(cnn::fast_conv2d_engine());
        cnn::Rng same(3);
        fast.build({16, 9, 7}, same);  // the same weights, drawn from the same seed
        CHECK(fast.engine().name() == "fast");
        CHECK(fast.engine().fuses_relu());
        const Tensor4 x = cnn::testing::random_tensor<4>({3, 16, 9, 7}, rng);
        const Tensor4 y_slow = slow.forward(x, true), y_fast = fast.forward(x, true);
        CHECK(cnn::testing::relative_diff(y_fast, y_slow) < 1e-5);
        const Tensor4 dy = cnn::testing::random_tensor<4>({3, 16, 9, 7}, rng);
        cnn::zero_gradients(slow.parameters());
        cnn::zero_gradients(fast.parameters());
        CHECK(cnn::testing::relative_diff(fast.backward(dy), slow.backward(dy)) < 1e-5);
        CHECK(cnn::testing::relative_diff(fast.weights(), slow.weights()) == 0);
        const cnn::Parameter dw_fast = fast.parameters()[0], dw_slow = slow.parameters()[0];
        double worst = 0.0;
        for (std::size_t i = 0; i < dw_fast.size; ++i) {
            worst = std::max(worst, std::abs(double(dw_fast.grad[i]) - dw_slow.grad[i]));
        }
        CHECK(worst < 1e-3);
    }
}

TEST_CASE("fast engines: the Conv2D layer's numerical gradient check, Winograd and im2col") {
    struct Case {
        std::size_t kernel, size;
        cnn::ConvAlgorithm expected;
    };
    // 3x3 with 16 channels and filters: Winograd, F(2x2) on 5x5 maps and F(4x4) on 7x7 ones
    // (winograd_tile_for); 4x4: im2col.
    for (const Case& k : {Case{3, 5, cnn::ConvAlgorithm::winograd},
                          Case{3, 7, cnn::ConvAlgorithm::winograd_4x4},
                          Case{4, 5, cnn::ConvAlgorithm::gemm}}) {
        CAPTURE(k.kernel);
        CAPTURE(k.size);
        cnn::Rng rng(6 + k.kernel);
        cnn::Conv2D layer = cnn::Conv2D(16, k.kernel).padding("same").engine(cnn::fast_conv2d_engine());
        layer.build({16, k.size, k.size}, rng);
        const auto& engine = dynamic_cast<const cnn::FastConv2DEngine&>(layer.engine());
        CHECK(engine.algorithm_for({2, 16, k.size, k.size}, layer.weights(),
                                   layer.geometry(k.size, k.size)) == k.expected);
        CHECK(cnn::testing::check_layer_gradients(
                  layer, cnn::testing::random_tensor<4>({2, 16, k.size, k.size}, rng), rng,
                  {1e-2, 1e-2}) == 0);
    }
}

TEST_CASE("fast engines: max pooling gives chapter 05's values and winners bit for bit") {
    cnn::Rng rng(5);
    const Tensor4 x = cnn::testing::random_tensor<4>({4, 3, 9, 9}, rng);
    cnn::MaxPooling2D slow = cnn::MaxPooling2D(3).strides(2);
    slow.build({3, 9, 9}, rng);
    cnn::MaxPooling2D fast = cnn::MaxPooling2D(3).strides(2).engine(cnn::fast_max_pooling2d_engine(2));
    fast.build({3, 9, 9}, rng);
    CHECK(cnn::testing::max_abs_diff(fast.forward(x), slow.forward(x)) == 0);
    const Tensor4 dy = cnn::testing::random_tensor<4>({4, 3, 4, 4}, rng);
    CHECK(cnn::testing::max_abs_diff(fast.backward(dy), slow.backward(dy)) == 0);
}

TEST_CASE("use_fast_engines: models built afterwards run them, and predict as before") {
    cnn::Rng rng(8);
    const Tensor4 x = cnn::testing::random_tensor<4>({5, 1, 28, 28}, rng);
    cnn::Sequential plain = cnn::lenet_model(4);
    const cnn::Tensor2 expected = plain.predict(x);
    cnn::use_fast_engines();
    cnn::Sequential fast = cnn::lenet_model(4);
    const cnn::Tensor2 got = fast.predict(x);
    cnn::set_default_conv2d_engine(nullptr);
    cnn::set_default_max_pooling2d_engine(nullptr);
    CHECK(dynamic_cast<cnn::Conv2D&>(fast.layer(0)).engine().name() == "fast");
    CHECK(dynamic_cast<cnn::Conv2D&>(plain.layer(0)).engine().name() == "im2col");
    CHECK(cnn::testing::max_abs_diff(got, expected) < 1e-5);
}

TEST_CASE("fast engines: inference keeps no ReLU mask, and a backward() after it recomputes it") {
    cnn::Rng rng(9);
    cnn::Conv2D layer = cnn::Conv2D(4, 3).activation("relu").engine(cnn::fast_conv2d_engine());
    layer.build({2, 5, 5}, rng);
    cnn::Conv2D book = cnn::Conv2D(4, 3).activation("relu").engine(cnn::make_im2col_engine);
    book.build({2, 5, 5}, rng);
    book.weights() = layer.weights();  // the same layer, computed by chapter 04's engine
    book.bias() = layer.bias();
    const Tensor4 x = cnn::testing::random_tensor<4>({1, 2, 5, 5}, rng);
    const Tensor4 dy = cnn::testing::random_tensor<4>({1, 4, 3, 3}, rng);
    layer.forward(x, /*training=*/true);
    const Tensor4 trained = layer.backward(dy);
    layer.forward(x, /*training=*/false);  // keeps the input, not the mask
    CHECK(layer.kept_for_backward() == x.size() * sizeof(float));
    const Tensor4 inferred = layer.backward(dy);
    CHECK(inferred == trained);
    book.forward(x, /*training=*/false);
    CHECK(cnn::testing::max_abs_diff(book.backward(dy), inferred) < 1e-5);
}

TEST_CASE("every engine's forward_keeping() returns forward()'s y and a copy of it, bit for bit") {
    // Winograd (F(2x2) and F(4x4)) and im2col, with and without the ReLU; then chapter 04's
    // engine through the default. The copy arrives in a tensor of the wrong shape, then in
    // one of y's shape, whose memory is reused.
    cnn::Rng rng(47);
    const Tensor4 x = cnn::testing::random_tensor<4>({3, 17, 9, 10}, rng);
    const Tensor4 w = cnn::testing::random_tensor<4>({19, 17, 3, 3}, rng);
    const cnn::Tensor1 b = cnn::testing::random_tensor<1>({19}, rng);
    const cnn::Conv2DGeometry g =
        cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 9, 10, 3, 3, 1, 1);
    std::vector<std::unique_ptr<cnn::Conv2DEngine>> engines;
    for (auto algorithm : {cnn::ConvAlgorithm::winograd, cnn::ConvAlgorithm::winograd_4x4,
                           cnn::ConvAlgorithm::gemm}) {
        engines.push_back(cnn::fast_conv2d_engine({}, algorithm)());
    }
    engines.push_back(cnn::make_im2col_engine());
    for (std::size_t e = 0; e < engines.size(); ++e) {
        for (const bool relu : {false, true}) {
            CAPTURE(e);
            CAPTURE(relu);
            if (relu && !engines[e]->fuses_relu()) {
                continue;
            }
            const Tensor4 expected = engines[e]->forward(x, w, b, g, relu);
            Tensor4 kept = Tensor4::from_shape({1, 2, 3, 4});
            CHECK(engines[e]->forward_keeping(x, w, b, g, relu, kept) == expected);
            CHECK(kept == expected);
            const float* memory = kept.data();
            std::fill(kept.begin(), kept.end(), -7.0f);
            CHECK(engines[e]->forward_keeping(x, w, b, g, relu, kept) == expected);
            CHECK(kept == expected);
            CHECK(kept.data() == memory);
        }
    }
}

TEST_CASE(
    "fast engines: a Conv2D layer trained through its fused ReLU keeps the mask it returned") {
    cnn::Rng rng(5);
    cnn::Conv2D layer =
        cnn::Conv2D(20, 3).activation("relu").padding("same").engine(cnn::fast_conv2d_engine());
    layer.build({18, 7, 7}, rng);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 18, 7, 7}, rng);
    const Tensor4 y = layer.forward(x, /*training=*/true);
    CHECK(layer.kept_for_backward() == (x.size() + y.size()) * sizeof(float));
    // What backward() masks dy with is that y: every dy where y is 0 is dropped. With dy all
    // ones, the bias's gradient counts the outputs above 0.
    cnn::zero_gradients(layer.parameters());
    layer.backward(xt::ones<float>(y.shape()));
    const cnn::Parameter db = layer.parameters()[1];
    double positive = 0.0, summed = 0.0;
    for (float v : y) {
        positive += v > 0.0f ? 1.0 : 0.0;
    }
    for (std::size_t i = 0; i < db.size; ++i) {
        summed += db.grad[i];
    }
    CHECK(positive > 0.0);
    CHECK(positive < static_cast<double>(y.size()));
    CHECK(summed == positive);
}

TEST_CASE("fast engines: a training forward pass that throws leaves a layer that trains on") {
    // The failed call must not leave the kept mask as a shape without memory, which the next
    // call of the same shape would write through.
    cnn::Rng rng(12);
    cnn::Conv2D layer = cnn::Conv2D(16, 3).activation("relu").engine(cnn::fast_conv2d_engine());
    layer.build({16, 6, 6}, rng);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 16, 6, 6}, rng);
    const Tensor4 y = layer.forward(x, /*training=*/true);
    const Tensor4 dy = cnn::testing::random_tensor<4>(y.shape(), rng);
    const Tensor4 dx = layer.backward(dy);
    const Tensor4 too_small = cnn::testing::random_tensor<4>({2, 16, 2, 2}, rng);
    CHECK_THROWS(layer.forward(too_small, /*training=*/true));  // 'valid' 3x3 needs 3x3 or more
    CHECK(layer.forward(x, /*training=*/true) == y);
    CHECK(layer.backward(dy) == dx);
}

TEST_CASE("fast engines: workspace_bytes() counts the buffers kept between calls") {
    cnn::Rng rng(4);
    cnn::Conv2D gemm = cnn::Conv2D(2, 3).engine(cnn::fast_conv2d_engine());
    gemm.build({1, 6, 6}, rng);
    CHECK(gemm.workspace_bytes() == 0);  // nothing before the first call
    gemm.forward(cnn::testing::random_tensor<4>({4, 1, 6, 6}, rng));
    // At least one image's im2col matrix (9, 4 x 4) and its product (2, 4 x 4).
    CHECK(gemm.workspace_bytes() >= (9 * 16 + 2 * 16) * sizeof(float));
    // Winograd (3x3, 16 channels and filters) keeps the transformed filters, 16 x 16 x 16.
    cnn::Conv2D winograd = cnn::Conv2D(16, 3).padding("same").engine(cnn::fast_conv2d_engine());
    winograd.build({16, 8, 8}, rng);
    winograd.forward(cnn::testing::random_tensor<4>({2, 16, 8, 8}, rng));
    CHECK(winograd.workspace_bytes() >= 16 * 16 * 16 * sizeof(float));
    // Chapter 04's engine keeps nothing.
    cnn::Conv2D book = cnn::Conv2D(2, 3).engine(cnn::make_im2col_engine);
    book.build({1, 6, 6}, rng);
    book.forward(cnn::testing::random_tensor<4>({4, 1, 6, 6}, rng));
    CHECK(book.workspace_bytes() == 0);
}

namespace {

// One layer's forward and backward results, for comparing two ways of computing them.
struct LayerRun {
    Tensor4 y, dx;
    std::vector<std::vector<float>> gradients;  // dW and db, as the layer accumulated them
};

LayerRun run_layer(cnn::Conv2D& layer, const Tensor4& x, cnn::Rng& rng) {
    LayerRun r;
    r.y = layer.forward(x, /*training=*/true);
    r.dx = layer.backward(cnn::testing::random_tensor<4>(r.y.shape(), rng));
    for (const cnn::Parameter& p : layer.parameters()) {
        r.gradients.emplace_back(p.grad, p.grad + p.size);
    }
    return r;
}

}  // namespace

TEST_CASE("fast engines: one factory's engines share one scratch, freed with the last of them") {
    const cnn::Conv2DEngineFactory factory = cnn::fast_conv2d_engine();
    auto first = factory();
    auto second = factory();
    CHECK(first->workspace_owner() == second->workspace_owner());
    CHECK(cnn::fast_conv2d_engine()()->workspace_owner() != first->workspace_owner());
    CHECK(cnn::FastConv2DEngine().workspace_owner() != first->workspace_owner());
    cnn::Rng rng(6);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 16, 8, 8}, rng);
    const Tensor4 w = cnn::testing::random_tensor<4>({16, 16, 3, 3}, rng);
    const auto g = cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 8, 8, 3, 3, 1, 1);
    first->forward(x, w, xt::zeros<float>({16}), g, false);
    CHECK(second->workspace_bytes() == first->workspace_bytes());  // the same buffers
    CHECK(second->workspace_bytes() > 0);
    first.reset();
    second.reset();
    CHECK(factory()->workspace_bytes() == 0);  // the last engine took the buffers with it
    CHECK_THROWS_WITH_AS(cnn::FastConv2DEngine({}, cnn::ConvAlgorithm::automatic, nullptr),
                         "FastConv2DEngine: expected a ConvScratch to use, got none",
                         std::invalid_argument);
}

TEST_CASE("fast engines: layers that share a scratch compute what layers with their own do") {
    // Large and small layers in turn, Winograd's tiles and the im2col engine: a smaller layer
    // after a larger one uses the front of buffers the larger one grew, and must find nothing
    // of its predecessor there. Each result is compared bit for bit with a layer of its own.
    struct Shape {
        std::size_t channels, filters, kernel, size;
    };
    const std::vector<Shape> shapes{{32, 48, 3, 14}, {16, 16, 3, 7},  {3, 8, 5, 12},
                                    {32, 32, 3, 7},  {16, 24, 3, 14}, {3, 4, 3, 9}};
    const cnn::Conv2DEngineFactory shared = cnn::fast_conv2d_engine();
    cnn::Rng rng(7);
    std::vector<cnn::Conv2D> sharing, alone;
    for (const Shape& s : shapes) {
        cnn::Conv2D layer = cnn::Conv2D(s.filters, s.kernel).padding("same").activation("relu");
        cnn::Conv2D with_shared = cnn::Conv2D(layer).engine(shared);
        with_shared.build({s.channels, s.size, s.size}, rng);
        cnn::Conv2D with_own = cnn::Conv2D(layer).engine(cnn::fast_conv2d_engine());
        with_own.build({s.channels, s.size, s.size}, rng);
        with_own.weights() = with_shared.weights();
        with_own.bias() = with_shared.bias();
        sharing.push_back(std::move(with_shared));
        alone.push_back(std::move(with_own));
    }
    for (int round = 0; round < 2; ++round) {
        for (std::size_t i = 0; i < shapes.size(); ++i) {
            CAPTURE(i);
            const Tensor4 x = cnn::testing::random_tensor<4>(
                {3, shapes[i].channels, shapes[i].size, shapes[i].size}, rng);
            cnn::Rng same_dy(100 + i);
            cnn::Rng same_dy_again(100 + i);
            const LayerRun a = run_layer(sharing[i], x, same_dy);
            const LayerRun b = run_layer(alone[i], x, same_dy_again);
            CHECK(a.y == b.y);
            CHECK(a.dx == b.dx);
            CHECK(a.gradients == b.gradients);
        }
    }
    CHECK(sharing.front().workspace_owner() == sharing.back().workspace_owner());
    CHECK(alone.front().workspace_owner() != alone.back().workspace_owner());
}

TEST_CASE("fast engines: two models that share a scratch, trained on two threads, take turns") {
    // Each thread trains its own two layers: a Winograd one, forward and backward, and an
    // im2col one, forward and the weights' gradients alone (a first layer's backward). All four
    // come from one factory, so without the engines' mutex the two threads' calls would write
    // into the same buffers at once. Every step must give what it gave one at a time.
    const cnn::Conv2DEngineFactory shared = cnn::fast_conv2d_engine();
    cnn::Rng rng(8);
    struct Model {
        cnn::Conv2D winograd, gemm;
        Tensor4 x1, dy1, x2, dy2;
    };
    std::vector<Model> models;
    for (int t = 0; t < 2; ++t) {
        Model m{cnn::Conv2D(16, 3).padding("same").activation("relu").engine(shared),
                cnn::Conv2D(8, 5).activation("relu").engine(shared),
                cnn::testing::random_tensor<4>({4, 16, 10, 10}, rng),
                cnn::testing::random_tensor<4>({4, 16, 10, 10}, rng),
                cnn::testing::random_tensor<4>({4, 3, 12, 12}, rng),
                cnn::testing::random_tensor<4>({4, 8, 8, 8}, rng)};
        m.winograd.build({16, 10, 10}, rng);
        m.gemm.build({3, 12, 12}, rng);
        models.push_back(std::move(m));
    }
    // One step of both layers: y, dx and the gradients of the first, y and the gradients of
    // the second.
    const auto step = [](Model& m) {
        std::vector<Tensor4> out;
        std::vector<std::vector<float>> gradients;
        for (cnn::Conv2D* layer : {&m.winograd, &m.gemm}) {
            cnn::zero_gradients(layer->parameters());
        }
        out.push_back(m.winograd.forward(m.x1, /*training=*/true));
        out.push_back(m.winograd.backward(m.dy1));
        out.push_back(m.gemm.forward(m.x2, /*training=*/true));
        m.gemm.backward(m.dy2, cnn::InputGradient::skip);
        for (cnn::Conv2D* layer : {&m.winograd, &m.gemm}) {
            for (const cnn::Parameter& p : layer->parameters()) {
                gradients.emplace_back(p.grad, p.grad + p.size);
            }
        }
        return std::pair{out, gradients};
    };
    const std::array expected{step(models[0]), step(models[1])};  // one at a time
    std::atomic<int> ready{0};
    std::array<int, 2> wrong{0, 0};
    const auto race = [&](std::size_t t) {
        ++ready;
        while (ready < 2) {
        }  // both start together
        for (int i = 0; i < 30; ++i) {
            wrong[t] += step(models[t]) == expected[t] ? 0 : 1;
        }
    };
    std::thread first(race, 0), second(race, 1);
    first.join();
    second.join();
    CHECK(wrong[0] == 0);
    CHECK(wrong[1] == 0);
}

namespace {

// An engine with only forward() and backward(), chapter 04's arithmetic: backward_input() and
// backward_weights() are Conv2DEngine's defaults.
class OnlyBackwardEngine : public cnn::Conv2DEngine {
public:
    std::string name() const override { return "only backward"; }
    Tensor4 forward(const Tensor4& x, const Tensor4& w, const cnn::Tensor1& b,
                    const cnn::Conv2DGeometry& g, bool relu) override {
        return book_->forward(x, w, b, g, relu);
    }
    Tensor4 backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y, const Tensor4& w,
                     const cnn::Conv2DGeometry& g, bool relu, Tensor4& dw,
                     cnn::Tensor1& db) override {
        return book_->backward(dy, x, y, w, g, relu, dw, db);
    }

private:
    std::unique_ptr<cnn::Conv2DEngine> book_ = cnn::make_im2col_engine();
};

}  // namespace

TEST_CASE("every engine's backward_input() and backward_weights() are the two halves of its backward()") {
    struct Case {
        std::size_t channels, filters, kernel, stride;
        cnn::PaddingMode padding;
    };
    // Winograd's 3x3 (16 channels and filters), and the geometries of chapter 11's
    // Conv2DTranspose: 2x2 stride 2, 3x3 stride 2 'same'.
    const std::vector<Case> cases = {{16, 16, 3, 1, cnn::PaddingMode::same},
                                     {6, 4, 2, 2, cnn::PaddingMode::valid},
                                     {5, 3, 3, 2, cnn::PaddingMode::same}};
    for (const Case& c : cases) {
        CAPTURE(c.kernel);
        CAPTURE(c.stride);
        cnn::Rng rng(31);
        const Tensor4 x = cnn::testing::random_tensor<4>({3, c.channels, 8, 8}, rng);
        const Tensor4 w = cnn::testing::random_tensor<4>({c.filters, c.channels, c.kernel, c.kernel}, rng);
        const cnn::Conv2DGeometry g =
            cnn::Conv2DGeometry::keras(c.padding, 8, 8, c.kernel, c.kernel, c.stride, c.stride);
        const Tensor4 dy = cnn::testing::random_tensor<4>(cnn::conv2d_output_shape(x, w, g), rng);
        std::vector<std::unique_ptr<cnn::Conv2DEngine>> engines;
        engines.push_back(cnn::make_im2col_engine());
        engines.push_back(cnn::fast_conv2d_engine()());
        engines.push_back(cnn::fast_conv2d_engine({}, cnn::ConvAlgorithm::gemm)());
        engines.push_back(std::make_unique<OnlyBackwardEngine>());
        for (const auto& engine : engines) {
            CAPTURE(engine->name());
            Tensor4 dw_both = xt::zeros<float>(w.shape()), dw = dw_both;
            cnn::Tensor1 db_both = xt::zeros<float>({c.filters}), db = db_both;
            const Tensor4 dx_both = engine->backward(dy, x, Tensor4(), w, g, false, dw_both, db_both);
            const Tensor4 dx = engine->backward_input(dy, w, {3, c.channels, 8, 8}, g);
            CHECK(cnn::testing::relative_diff(dx, dx_both) < 1e-5);
            engine->backward_weights(dy, x, Tensor4(), w, g, false, dw, db);
            CHECK(cnn::testing::relative_diff(dw, dw_both) < 1e-5);
            CHECK(cnn::testing::max_abs_diff(db, db_both) < 1e-4);
            // They accumulate, as backward() does.
            engine->backward_weights(dy, x, Tensor4(), w, g, false, dw, db);
            CHECK(cnn::testing::relative_diff(dw, Tensor4(2.0f * dw_both)) < 1e-5);
            if (engine->fuses_relu()) {
                // With a fused ReLU, as a model's first layer asks for them: dy through y's mask.
                const cnn::Tensor1 b = cnn::testing::random_tensor<1>({c.filters}, rng);
                const Tensor4 y = engine->forward(x, w, b, g, true);
                Tensor4 dw_relu = xt::zeros<float>(w.shape()), dw_relu_both = dw_relu;
                cnn::Tensor1 db_relu = xt::zeros<float>({c.filters}), db_relu_both = db_relu;
                engine->backward(dy, x, y, w, g, true, dw_relu_both, db_relu_both);
                engine->backward_weights(dy, x, y, w, g, true, dw_relu, db_relu);
                CHECK(cnn::testing::relative_diff(dw_relu, dw_relu_both) < 1e-5);
                CHECK(cnn::testing::max_abs_diff(db_relu, db_relu_both) < 1e-4);
                CHECK(cnn::testing::relative_diff(dw_relu, dw_both) > 1e-3);  // the mask mattered
            }
            // A dy of the wrong shape is an error that says so.
            const Tensor4 wrong = xt::zeros<float>(std::array<std::size_t, 4>{3, c.filters, 1, 1});
            CHECK_THROWS_AS(engine->backward_input(wrong, w, {3, c.channels, 8, 8}, g),
                            std::invalid_argument);
            CHECK_THROWS_AS(engine->backward_weights(wrong, x, Tensor4(), w, g, false, dw, db),
                            std::invalid_argument);
        }
    }
}
