#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/fast/engines.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "test_support.hpp"

using cnn::Tensor4;

namespace {

// A Conv2D layer of `filters` fh x fw filters with strides s (rows) and sc (columns; 0: s),
// built on (c, h, w).
cnn::Conv2D built(std::size_t filters, std::size_t fh, std::size_t fw, std::size_t s,
                  const char* padding, const cnn::Shape& input, cnn::Rng& rng,
                  const char* activation = "linear", std::size_t sc = 0) {
    cnn::Conv2D layer = cnn::Conv2D(filters, fh).kernel_size(fh, fw).strides(s, sc == 0 ? s : sc)
                            .padding(padding).activation(activation);
    layer.build(input, rng);
    return layer;
}

}  // namespace

TEST_CASE("Conv2D: parameter count, He initialisation, zero bias") {
    cnn::Rng rng(1);
    // The first layer of chapter 06's model: 64 filters 7x7 over 1 channel.
    cnn::Conv2D first = built(64, 7, 7, 1, "same", {1, 28, 28}, rng);
    CHECK(first.parameter_count() == 64 * (1 * 7 * 7 + 1));  // 3,200, as Keras reports
    cnn::Conv2D wide = built(256, 3, 3, 1, "same", {128, 7, 7}, rng);
    CHECK(wide.parameter_count() == 256 * (128 * 9 + 1));   // 295,168
    // He: variance 2 / fan_in, fan_in = C FH FW = 1152.
    double sum2 = 0;
    for (float v : wide.weights()) {
        sum2 += double(v) * v;
    }
    CHECK(sum2 / double(wide.weights().size()) == doctest::Approx(2.0 / 1152).epsilon(0.02));
    CHECK(xt::all(xt::equal(wide.bias(), 0.0f)));
    wide.set_name("conv2d_3");
    CHECK(wide.parameters()[0].name == "conv2d_3/kernel");
    CHECK(wide.engine().name() == "im2col");  // chapter 04's engine unless a program says otherwise
}

TEST_CASE("Conv2D: 'same' keeps the size, stride 2 halves it, and the layer matches the naive loops") {
    cnn::Rng rng(2);
    cnn::Conv2D layer = built(4, 3, 3, 2, "same", {3, 9, 8}, rng);
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 3, 9, 8}, rng);
    const Tensor4 y = layer.forward(x);
    CHECK(y.shape() == std::array<std::size_t, 4>{2, 4, 5, 4});  // ceil(9/2), ceil(8/2)
    const auto g = layer.geometry(9, 8);
    CHECK(cnn::testing::max_abs_diff(y, cnn::conv2d_naive_forward(x, layer.weights(), layer.bias(), g)) < 1e-5);

    // backward accumulates into the parameters' gradients until they are zeroed.
    const Tensor4 dy = cnn::testing::random_tensor<4>({2, 4, 5, 4}, rng);
    const std::vector<cnn::Parameter> params = layer.parameters();
    cnn::zero_gradients(params);
    layer.backward(dy);
    const std::vector<float> once(params[0].grad, params[0].grad + params[0].size);
    layer.backward(dy);
    CHECK(params[0].grad[7] == doctest::Approx(2 * once[7]));
}

TEST_CASE("Conv2D: numerical gradient checks where bugs hide") {
    struct Case {
        std::size_t filters, fh, fw, stride;
        const char* padding;
        cnn::Shape input;
        const char* activation;
        std::size_t stride_cols = 0;
    };
    // Even kernels, stride > 1, 'same' with asymmetric pads (even kernel, or stride 2 on an odd
    // size), batch 2, several channels. (The ReLU activation has a test of its own below: a
    // nudge can cross its kink, where difference quotients are wrong.)
    for (const Case& c : {Case{2, 3, 3, 1, "valid", {1, 5, 5}, "linear"},
                          Case{3, 2, 2, 1, "same", {2, 5, 4}, "linear"},
                          Case{2, 4, 2, 2, "same", {3, 7, 6}, "linear"},
                          Case{4, 3, 3, 2, "valid", {2, 7, 7}, "linear"},
                          Case{3, 3, 3, 1, "same", {2, 5, 5}, "linear"},
                          Case{2, 3, 2, 2, "same", {2, 7, 6}, "linear", 1}}) {  // unequal strides
        CAPTURE(c.fh);
        CAPTURE(c.fw);
        CAPTURE(c.stride);
        CAPTURE(c.padding);
        cnn::Rng rng(31 + c.fh * 7 + c.stride);
        cnn::Conv2D layer =
            built(c.filters, c.fh, c.fw, c.stride, c.padding, c.input, rng, c.activation, c.stride_cols);
        const Tensor4 x = cnn::testing::random_tensor<4>({2, c.input[0], c.input[1], c.input[2]}, rng);
        CHECK(cnn::testing::check_layer_gradients(layer, x, rng, {1e-3, 5e-3}) == 0);
    }
}

TEST_CASE("Conv2D: with a ReLU, forward is max(0, conv) and backward masks dy with conv > 0") {
    cnn::Rng a(41), b(41), rng(42);
    cnn::Conv2D relu = built(3, 3, 3, 1, "same", {2, 5, 5}, a, "relu");
    cnn::Conv2D linear = built(3, 3, 3, 1, "same", {2, 5, 5}, b);  // the same weights
    const Tensor4 x = cnn::testing::random_tensor<4>({2, 2, 5, 5}, rng);
    const Tensor4 z = linear.forward(x);
    CHECK(cnn::testing::max_abs_diff(relu.forward(x), xt::maximum(z, 0.0f)) == 0);
    const Tensor4 dy = cnn::testing::random_tensor<4>({2, 3, 5, 5}, rng);
    cnn::zero_gradients(relu.parameters());
    cnn::zero_gradients(linear.parameters());
    const Tensor4 dx = relu.backward(dy);
    const Tensor4 masked = xt::where(z > 0.0f, dy, 0.0f);
    CHECK(cnn::testing::max_abs_diff(dx, linear.backward(masked)) == 0);
    for (std::size_t i = 0; i < 2; ++i) {
        const cnn::Parameter p = relu.parameters()[i], q = linear.parameters()[i];
        CHECK(std::equal(p.grad, p.grad + p.size, q.grad));
    }
}

TEST_CASE("Conv2D: an engine is chosen per layer, or for every layer built afterwards") {
    // An engine that counts its calls and computes with chapter 04's.
    struct Counting : cnn::Conv2DEngine {
        std::shared_ptr<int> calls;
        std::unique_ptr<cnn::Conv2DEngine> inner = cnn::make_im2col_engine();
        explicit Counting(std::shared_ptr<int> c) : calls(std::move(c)) {}
        std::string name() const override { return "counting"; }
        Tensor4 forward(const Tensor4& x, const Tensor4& w, const cnn::Tensor1& b,
                        const cnn::Conv2DGeometry& g, bool relu) override {
            ++*calls;
            return inner->forward(x, w, b, g, relu);
        }
        Tensor4 backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y, const Tensor4& w,
                         const cnn::Conv2DGeometry& g, bool relu, Tensor4& dw, cnn::Tensor1& db) override {
            ++*calls;
            return inner->backward(dy, x, y, w, g, relu, dw, db);
        }
    };
    const auto calls = std::make_shared<int>(0);
    const cnn::Conv2DEngineFactory counting = [calls] { return std::make_unique<Counting>(calls); };
    cnn::Rng rng(4);
    cnn::Conv2D one = cnn::Conv2D(2, 3).engine(counting);
    one.build({1, 5, 5}, rng);
    one.backward(one.forward(cnn::testing::random_tensor<4>({1, 1, 5, 5}, rng)));
    CHECK(*calls == 2);
    CHECK(one.engine().name() == "counting");
    cnn::Conv2D copy = one;  // a copy gets an engine of its own, from the same factory
    CHECK(&copy.engine() != &one.engine());
    CHECK(copy.engine().name() == "counting");

    cnn::set_default_conv2d_engine(counting);
    cnn::Conv2D later(2, 3);
    later.build({1, 5, 5}, rng);
    cnn::set_default_conv2d_engine(nullptr);  // back to chapter 04's
    cnn::Conv2D after(2, 3);
    after.build({1, 5, 5}, rng);
    CHECK(later.engine().name() == "counting");
    CHECK(after.engine().name() == "im2col");
}

TEST_CASE("Conv2D: bad options and inputs are errors that name the layer") {
    cnn::Rng rng(3);
    CHECK_THROWS_WITH_AS(cnn::Conv2D(0, 3).build({1, 8, 8}, rng), doctest::Contains("filters"),
                         std::invalid_argument);
    cnn::Conv2D layer = built(4, 5, 5, 1, "valid", {3, 8, 8}, rng);
    layer.set_name("conv_a");
    CHECK_THROWS_WITH_AS(layer.forward(xt::zeros<float>({1, 2, 8, 8})),
                         doctest::Contains("Conv2D conv_a: expected input (N, 3, H, W), got (1, 2, 8, 8)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(layer.forward(xt::zeros<float>({1, 3, 4, 8})),
                         doctest::Contains("does not fit"), cnn::GeometryError);
    CHECK_THROWS_WITH_AS(cnn::Conv2D(4, 9).build({1, 8, 8}, rng), doctest::Contains("on input (None, 1, 8, 8)"),
                         cnn::GeometryError);
    CHECK_THROWS_WITH_AS(cnn::Conv2D(4, 3).build({8, 8}, rng), doctest::Contains("expected input (None, C, H, W)"),
                         std::invalid_argument);
    CHECK_THROWS_AS(cnn::Conv2D(4, 3).padding("full"), std::invalid_argument);
    cnn::Conv2D fresh = built(4, 3, 3, 1, "valid", {3, 4, 4}, rng);
    CHECK_THROWS_AS(fresh.backward(xt::zeros<float>({1, 4, 2, 2})), std::logic_error);
    CHECK_THROWS_WITH_AS(cnn::Conv2D(4, 3).forward(xt::zeros<float>({1, 3, 4, 4})),
                         doctest::Contains("has not been built"), std::logic_error);
}

TEST_CASE("Conv2D: InputGradient::skip accumulates the same gradients and returns no dx") {
    // Both engines, with and without a ReLU (fused by the fast engine, applied by the layer
    // with chapter 04's), stride 2 and uneven 'same' padding.
    for (const bool fast : {false, true}) {
        for (const char* activation : {"linear", "relu"}) {
            CAPTURE(fast);
            CAPTURE(activation);
            const auto make = [&] {
                cnn::Conv2D layer = cnn::Conv2D(3, 4).strides(2).padding("same")
                                        .activation(activation);
                if (fast) {
                    layer.engine(cnn::fast_conv2d_engine());
                }
                cnn::Rng init(9);
                layer.build({2, 7, 6}, init);
                return layer;
            };
            cnn::Conv2D both = make(), weights_only = make();
            cnn::Rng rng(10);
            const Tensor4 x = cnn::testing::random_tensor<4>({2, 2, 7, 6}, rng);
            const Tensor4 y = both.forward(x, true);
            weights_only.forward(x, true);
            const Tensor4 dy = cnn::testing::random_tensor<4>(
                {y.shape(0), y.shape(1), y.shape(2), y.shape(3)}, rng);
            cnn::zero_gradients(both.parameters());
            cnn::zero_gradients(weights_only.parameters());
            CHECK(both.backward(dy).shape() == x.shape());
            CHECK(weights_only.backward(dy, cnn::InputGradient::skip).size() == 0);
            for (std::size_t i = 0; i < 2; ++i) {
                const cnn::Parameter p = both.parameters()[i], q = weights_only.parameters()[i];
                CAPTURE(p.name);
                const float largest = *std::max_element(p.grad, p.grad + p.size, [](float a, float b) {
                    return std::abs(a) < std::abs(b);
                });
                CHECK(std::abs(largest) > 0.0f);
                for (std::size_t k = 0; k < p.size; ++k) {
                    REQUIRE(q.grad[k] == doctest::Approx(p.grad[k]).epsilon(1e-5));
                }
            }
        }
    }
}
