#include <memory>
#include <sstream>
#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/check/gradient_check.hpp"
#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/layers/merge.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/losses/softmax_cross_entropy.hpp"
#include "cnn/model/graph.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/optim/sgd.hpp"
#include "test_support.hpp"

using cnn::Tensor4;

namespace {

// A residual block and a concatenation: the input fans out to a convolution and to the Add,
// the block's output fans out to two branches that Concatenate joins again.
cnn::Graph branching_model(std::uint64_t seed) {
    cnn::Graph model(seed, "branching");
    const cnn::Node x = model.input({2, 6, 6});
    const cnn::Node h = model.call(cnn::Conv2D(2, 3).padding("same").activation("relu"), x);
    const cnn::Node r = model.call(cnn::Add(), {x, h});  // x + F(x)
    const cnn::Node a = model.call(cnn::Conv2D(3, 3).padding("same"), r);
    const cnn::Node b = model.call(cnn::AveragePooling2D(1), r);
    const cnn::Node joined = model.call(cnn::Concatenate(), {a, b});  // 3 + 2 channels
    const cnn::Node flat = model.call(cnn::Flatten(), model.call(cnn::MaxPooling2D(2), joined));
    model.output(model.call(cnn::Dense(4).activation("softmax"), flat));
    return model;
}

}  // namespace

TEST_CASE("Graph: a chain is a Sequential model, value for value") {
    cnn::Graph graph(5);
    cnn::Node h = graph.input({1, 6, 6});
    h = graph.call(cnn::Conv2D(3, 3).activation("relu"), h);
    h = graph.call(cnn::Flatten(), h);
    graph.output(graph.call(cnn::Dense(4).activation("softmax"), h));
    cnn::Sequential chain(5);
    chain.add(cnn::Conv2D(3, 3).activation("relu").input_shape({1, 6, 6}));
    chain.add(cnn::Flatten());
    chain.add(cnn::Dense(4).activation("softmax"));
    cnn::Rng rng(1);
    const Tensor4 x = cnn::testing::random_tensor<4>({3, 1, 6, 6}, rng);
    CHECK(cnn::testing::max_abs_diff(graph.predict(x), chain.predict(x)) == 0);
    CHECK(graph.parameter_count() == chain.parameter_count());
}

TEST_CASE("Graph: shapes through fan-out and fan-in, in topological order") {
    cnn::Graph model = branching_model(1);
    std::ostringstream summary;
    model.summary(summary);
    CHECK(summary.str().find("concatenate (Concatenate)" + std::string(12, ' ') + "(None, 5, 6, 6)") != std::string::npos);
    CHECK(summary.str().find("add (Add)" + std::string(28, ' ') + "(None, 2, 6, 6)") != std::string::npos);
    CHECK(summary.str().find("dense (Dense)" + std::string(24, ' ') + "(None, 4)") != std::string::npos);
    const std::vector<const cnn::Layer*> order = model.execution_order();
    REQUIRE(order.size() == 8);
    CHECK(order.front()->name() == "conv2d");
    CHECK(order.back()->name() == "dense");
}

TEST_CASE("Graph: the whole model passes the numerical gradient check through fan-out and fan-in") {
    cnn::Graph model = branching_model(3);
    cnn::Rng rng(7);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 2, 6, 6}, rng);
    const cnn::Labels y = {1, 3};
    CHECK(cnn::testing::check_model_gradients(model, x, y) == 0);
}

TEST_CASE("Graph: an Add's inputs share its gradient, and each reader still gets it whole") {
    // h fans out to four readers; the Add s hands one gradient G to r, g and a, and r hands
    // it on to f and h. In reverse order: g finds G held by others (a copy to write over), and
    // h's sum then goes into g's dx, not into G; the batch normalization f finds G still held
    // by a (dx into new memory); a is G's last holder (written over). The Add d reads s twice,
    // and its gradient is also m's (the Add e shares it): a gradient held three times, whose
    // sum for s goes into new memory. (The check runs the model in inference mode; the
    // normalization's training-mode path is held to backward() in test_batch_normalization.cpp.)
    cnn::Graph model(6, "shared");
    const cnn::Node x = model.input({2, 5, 5});
    const cnn::Node h = model.call(cnn::Conv2D(3, 3).padding("same").activation("relu"), x);
    const cnn::Node a = model.call(cnn::Conv2D(3, 1), h);
    const cnn::Node f =
        model.call(cnn::BatchNormalization(), model.call(cnn::Conv2D(3, 3).padding("same"), h));
    const cnn::Node g = model.call(cnn::Conv2D(3, 1), h);
    const cnn::Node r = model.call(cnn::Add(), {f, h});
    const cnn::Node s = model.call(cnn::Add(), {r, g, a});
    const cnn::Node m = model.call(cnn::Conv2D(3, 1), s);
    const cnn::Node d = model.call(cnn::Add(), {s, s});
    const cnn::Node e = model.call(cnn::Add(), {d, m});
    model.output(model.call(cnn::Dense(3).activation("softmax"), model.call(cnn::Flatten(), e)));
    cnn::Rng rng(8);
    const Tensor4 input = cnn::testing::random_tensor<4>({3, 2, 5, 5}, rng);
    CHECK(cnn::testing::check_model_gradients(model, input, {0, 2, 1}, {1e-4, 1e-2}) == 0);
}

TEST_CASE("Graph: trains with fit like any model") {
    cnn::Graph model = branching_model(2);
    model.compile(cnn::Sgd({0.05f, 0.9f}), "sparse_categorical_crossentropy", {"accuracy"});
    cnn::Rng rng(4);
    const Tensor4 x = cnn::testing::random_tensor<4>({8, 2, 6, 6}, rng);
    const cnn::Labels y = {0, 1, 2, 3, 0, 1, 2, 3};
    cnn::FitOptions options;
    options.epochs = 40;
    options.batch_size = 4;
    options.verbose = cnn::Verbosity::silent;
    const cnn::History h = model.fit(x, y, options);
    CHECK(h.loss.back() < 0.5 * h.loss.front());
}

TEST_CASE("Graph: wiring errors are named") {
    cnn::Graph no_output;
    no_output.call(cnn::Dense(2), no_output.input({3}));
    CHECK_THROWS_WITH_AS(no_output.build(), doctest::Contains("input() and an output()"), std::logic_error);
    cnn::Graph dangling;
    const cnn::Node x = dangling.input({3});
    dangling.call(cnn::Dense(2), x);  // leads nowhere
    dangling.output(dangling.call(cnn::Dense(2).activation("softmax"), x));
    CHECK_THROWS_WITH_AS(dangling.build(), doctest::Contains("dense does not lead to the output"),
                         std::invalid_argument);
    cnn::Graph foreign;
    foreign.input({3});
    CHECK_THROWS_WITH_AS(foreign.call(cnn::Dense(2), cnn::Node{0, 7}), doctest::Contains("not a node"),
                         std::invalid_argument);
    CHECK(foreign.size() == 0);  // the refused layer did not join the model
    cnn::Graph other;
    const cnn::Node theirs = other.input({3});
    CHECK_THROWS_WITH_AS(foreign.call(cnn::Dense(2), theirs), doctest::Contains("not a node of this graph"),
                         std::invalid_argument);
    CHECK_THROWS_AS(foreign.input({3}), std::logic_error);
    cnn::Graph mismatched;
    const cnn::Node m = mismatched.input({2, 4, 4});
    const cnn::Node c = mismatched.call(cnn::Conv2D(3, 3), m);  // (3, 2, 2)
    mismatched.output(mismatched.call(cnn::Add(), {m, c}));
    CHECK_THROWS_WITH_AS(mismatched.build(), doctest::Contains("expected inputs of one shape"),
                         std::invalid_argument);
}

TEST_CASE("Graph: a failed build can be fixed and retried, and every layer then runs once") {
    cnn::Graph model(6);
    const cnn::Node x = model.input({3});
    const cnn::Node stray = model.call(cnn::Dense(2), x);
    model.output(model.call(cnn::Dense(2).activation("softmax"), x));
    CHECK_THROWS_AS(model.build(), std::invalid_argument);  // `stray` leads nowhere
    model.output(model.call(cnn::Dense(2).activation("softmax"), model.call(cnn::Add(), {stray, model.call(cnn::Dense(2), x)})));
    CHECK_THROWS_AS(model.build(), std::invalid_argument);  // now the first softmax leads nowhere
    cnn::Graph fixed(6);
    const cnn::Node y = fixed.input({3});
    const cnn::Node a = fixed.call(cnn::Dense(2), y);
    fixed.output(fixed.call(cnn::Dense(2).activation("softmax"), fixed.call(cnn::Add(), {a, a})));
    fixed.build();
    fixed.build();  // a second call changes nothing
    CHECK(fixed.execution_order().size() == 3);
    // Add({a, a}) is 2a: its gradient reaches a twice, and the two are added up.
    cnn::Rng rng(2);
    const cnn::Tensor4 in = cnn::testing::random_tensor<4>({4, 3, 1, 1}, rng);
    CHECK(cnn::testing::check_model_gradients(fixed, in, {0, 1, 1, 0}) == 0);
}

TEST_CASE("Graph: a last layer without a softmax trains through its own activation") {
    // Model::backward starts at the last layer's output; for a ReLU layer the ReLU's mask must
    // apply, whichever engine computes it.
    cnn::Graph model(3);
    const cnn::Node x = model.input({2, 4, 4});
    model.output(model.call(cnn::Conv2D(3, 3).activation("relu"), x));
    model.build();
    cnn::Rng rng(4);
    const cnn::Tensor4 in = cnn::testing::random_tensor<4>({2, 2, 4, 4}, rng);
    const cnn::Tensor4 y = model.forward(in, true, false);
    const cnn::Tensor4 dy = cnn::testing::random_tensor<4>({2, 3, 2, 2}, rng);
    cnn::zero_gradients(model.parameters());
    model.backward(dy);
    const std::vector<cnn::Parameter> relu_grads = model.parameters();
    const std::vector<float> dw(relu_grads[0].grad, relu_grads[0].grad + relu_grads[0].size);
    // The same layer without the ReLU, given dy masked where y = 0, gives the same gradient.
    cnn::Graph linear(3);
    linear.output(linear.call(cnn::Conv2D(3, 3), linear.input({2, 4, 4})));
    linear.build();
    linear.forward(in, true, false);
    cnn::zero_gradients(linear.parameters());
    linear.backward(xt::where(y > 0.0f, dy, 0.0f));
    const cnn::Parameter p = linear.parameters()[0];
    CHECK(std::equal(dw.begin(), dw.end(), p.grad));
}

namespace {

// Chapter 04's engine, counting which backward pass each layer asked for.
struct BackwardCounts {
    int full = 0, weights_only = 0;
};

class CountingEngine : public cnn::Conv2DEngine {
public:
    explicit CountingEngine(std::shared_ptr<BackwardCounts> counts) : counts_(std::move(counts)) {}
    std::string name() const override { return "counting"; }
    Tensor4 forward(const Tensor4& x, const Tensor4& w, const cnn::Tensor1& b,
                    const cnn::Conv2DGeometry& g, bool relu) override {
        return inner_->forward(x, w, b, g, relu);
    }
    Tensor4 backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y, const Tensor4& w,
                     const cnn::Conv2DGeometry& g, bool relu, Tensor4& dw,
                     cnn::Tensor1& db) override {
        ++counts_->full;
        return inner_->backward(dy, x, y, w, g, relu, dw, db);
    }
    void backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4& y, const Tensor4& w,
                          const cnn::Conv2DGeometry& g, bool relu, Tensor4& dw,
                          cnn::Tensor1& db) override {
        ++counts_->weights_only;
        inner_->backward_weights(dy, x, y, w, g, relu, dw, db);
    }

private:
    std::shared_ptr<BackwardCounts> counts_;
    std::unique_ptr<cnn::Conv2DEngine> inner_ = cnn::make_im2col_engine();
};

cnn::Conv2DEngineFactory counting(const std::shared_ptr<BackwardCounts>& counts) {
    return [counts] { return std::make_unique<CountingEngine>(counts); };
}

}  // namespace

TEST_CASE("models skip the input gradient of the layers that read only the data") {
    const auto first = std::make_shared<BackwardCounts>();
    const auto second = std::make_shared<BackwardCounts>();
    cnn::Rng rng(12);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 2, 6, 6}, rng);
    const cnn::Labels y = {1, 3};
    SUBCASE("Sequential: the first layer only") {
        cnn::Sequential model(3);
        model.add(cnn::Conv2D(2, 3).padding("same").activation("relu").engine(counting(first))
                      .input_shape({2, 6, 6}));
        model.add(cnn::Conv2D(2, 3).engine(counting(second)));
        model.add(cnn::Flatten());
        model.add(cnn::Dense(4).activation("softmax"));
        CHECK(cnn::testing::check_model_gradients(model, x, y) == 0);
    }
    SUBCASE("Graph: a layer reading the input and another value still sends its gradient back") {
        // conv(x) reads only x; Add(x, conv(x)) reads x and conv's output, whose gradient
        // the first convolution needs; the second convolution reads the sum.
        cnn::Graph model(3);
        const cnn::Node in = model.input({2, 6, 6});
        const cnn::Node h = model.call(
            cnn::Conv2D(2, 3).padding("same").activation("relu").engine(counting(first)), in);
        const cnn::Node r = model.call(cnn::Add(), {in, h});
        const cnn::Node c = model.call(cnn::Conv2D(2, 3).engine(counting(second)), r);
        model.output(model.call(cnn::Dense(4).activation("softmax"), model.call(cnn::Flatten(), c)));
        CHECK(cnn::testing::check_model_gradients(model, x, y) == 0);
    }
    // The gradient check ran backward at least once: the first layer never computed dx.
    CHECK(first->weights_only > 0);
    CHECK(first->full == 0);
    CHECK(second->full > 0);
    CHECK(second->weights_only == 0);
}
