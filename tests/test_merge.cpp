#include <array>
#include <memory>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xview.hpp>

#include "cnn/check/gradient_check.hpp"
#include "cnn/fast/threads.hpp"
#include "cnn/layers/merge.hpp"
#include "test_support.hpp"

using cnn::Tensor4;

TEST_CASE("Add: the sum of its inputs by hand, and each input gets the whole gradient") {
    cnn::Rng rng(1);
    cnn::Add add;
    CHECK(add.build_inputs({{2, 1, 2}, {2, 1, 2}}, rng) == cnn::Shape{2, 1, 2});
    const Tensor4 a = {{{{1, 2}}, {{3, 4}}}}, b = {{{{10, 20}}, {{30, 40}}}};
    const Tensor4 y = add.forward_inputs({a, b}, false, true);
    CHECK(cnn::testing::max_abs_diff(y, Tensor4{{{{11, 22}}, {{33, 44}}}}) == 0);
    const Tensor4 dy = {{{{1, -1}}, {{0.5f, 2}}}};
    const std::vector<Tensor4> dx = add.backward_inputs(dy, false);
    REQUIRE(dx.size() == 2);
    CHECK(cnn::testing::max_abs_diff(dx[0], dy) == 0);
    CHECK(cnn::testing::max_abs_diff(dx[1], dy) == 0);
    CHECK_THROWS_WITH_AS(add.build_inputs({{2, 1, 2}, {2, 2, 1}}, rng),
                         doctest::Contains("expected inputs of one shape"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::Add().build({2, 1, 2}, rng), doctest::Contains("expected 2 or more inputs"),
                         std::invalid_argument);
}

TEST_CASE("Add in a graph model: every input gets dy itself, shared, not a copy") {
    cnn::Rng rng(11);
    cnn::Add add;
    add.build_inputs({{2, 1, 2}, {2, 1, 2}, {2, 1, 2}}, rng);
    const Tensor4 a = {{{{1, 2}}, {{3, 4}}}};
    add.forward_inputs({a, a, a}, true, true);
    const auto dy = std::make_shared<Tensor4>(Tensor4{{{{1, -1}}, {{0.5f, 2}}}});
    const std::vector<cnn::SharedTensor4> dx =
        add.backward_inputs_shared(dy, false, cnn::InputGradient::compute);
    REQUIRE(dx.size() == 3);
    for (const cnn::SharedTensor4& d : dx) {
        CHECK(d == dy);  // the same tensor, nothing copied
    }
    CHECK_THROWS_WITH_AS(add.backward_inputs_shared(nullptr, false, cnn::InputGradient::compute),
                         doctest::Contains("got none"), std::invalid_argument);
    const auto wrong = std::make_shared<Tensor4>(Tensor4::from_shape({2, 2, 1, 2}));
    CHECK_THROWS_WITH_AS(add.backward_inputs_shared(wrong, false, cnn::InputGradient::compute),
                         doctest::Contains("expected dy (1, 2, 1, 2), as the last forward() "
                                           "output, got (2, 2, 1, 2)"),
                         std::invalid_argument);
}

TEST_CASE("Concatenate: channels one after the other, image by image, and the gradient cut back") {
    cnn::Rng rng(2);
    cnn::Concatenate cat;
    CHECK(cat.build_inputs({{1, 2, 2}, {2, 2, 2}}, rng) == cnn::Shape{3, 2, 2});
    // Two images; input a has one channel, input b two.
    const Tensor4 a = {{{{1, 2}, {3, 4}}}, {{{5, 6}, {7, 8}}}};
    const Tensor4 b = {{{{10, 11}, {12, 13}}, {{14, 15}, {16, 17}}},
                       {{{20, 21}, {22, 23}}, {{24, 25}, {26, 27}}}};
    const Tensor4 y = cat.forward_inputs({a, b}, false, true);
    REQUIRE(y.shape() == std::array<std::size_t, 4>{2, 3, 2, 2});
    CHECK(y(0, 0, 1, 1) == 4);   // image 0, channel 0: a's
    CHECK(y(0, 1, 0, 0) == 10);  // image 0, channel 1: b's first
    CHECK(y(1, 0, 0, 1) == 6);   // image 1, channel 0: a's
    CHECK(y(1, 2, 1, 0) == 26);  // image 1, channel 2: b's second
    const std::vector<Tensor4> dx = cat.backward_inputs(y, false);
    REQUIRE(dx.size() == 2);
    CHECK(cnn::testing::max_abs_diff(dx[0], a) == 0);  // the gradient of identity is cut back
    CHECK(cnn::testing::max_abs_diff(dx[1], b) == 0);
    CHECK_THROWS_WITH_AS(cat.build_inputs({{1, 2, 2}, {1, 3, 2}}, rng),
                         doctest::Contains("differ in their channels only"), std::invalid_argument);
    CHECK(cnn::Concatenate().build_inputs({{3}, {4}}, rng) == cnn::Shape{7});  // flat inputs
}

TEST_CASE("merge layers: three inputs, and numerical gradient checks of every input") {
    cnn::Rng rng(3);
    const std::vector<Tensor4> xs = {cnn::testing::random_tensor<4>({2, 1, 3, 2}, rng),
                                     cnn::testing::random_tensor<4>({2, 2, 3, 2}, rng),
                                     cnn::testing::random_tensor<4>({2, 1, 3, 2}, rng)};
    cnn::Concatenate cat;
    CHECK(cat.build_inputs({{1, 3, 2}, {2, 3, 2}, {1, 3, 2}}, rng) == cnn::Shape{4, 3, 2});
    cnn::Add add;
    add.build_inputs({{1, 3, 2}, {1, 3, 2}, {1, 3, 2}}, rng);
    const std::vector<Tensor4> same = {xs[0], xs[2], xs[0]};
    for (cnn::Layer* layer : {static_cast<cnn::Layer*>(&cat), static_cast<cnn::Layer*>(&add)}) {
        CAPTURE(layer->type());
        std::vector<Tensor4> in = layer == &cat ? xs : same;
        const Tensor4 y = layer->forward_inputs(in, true, true);
        const Tensor4 r = cnn::testing::random_tensor<4>({y.shape(0), y.shape(1), y.shape(2), y.shape(3)}, rng);
        const std::vector<Tensor4> dx = layer->backward_inputs(r, false);
        REQUIRE(dx.size() == 3);
        for (std::size_t k = 0; k < 3; ++k) {
            const auto loss = [&] { return cnn::testing::dot(layer->forward_inputs(in, true, true), r); };
            const cnn::GradientCheckResult result =
                cnn::check_gradient("dx" + std::to_string(k), loss, in[k].data(), dx[k].data(), in[k].size());
            CHECK_MESSAGE(result.passed(), result.summary());
        }
    }
    CHECK_THROWS_WITH_AS(add.backward_inputs(xt::zeros<float>({2, 2, 3, 2}), false),
                         doctest::Contains("expected dy (2, 1, 3, 2)"), std::invalid_argument);
    cnn::Add unbuilt;
    CHECK_THROWS_WITH_AS(unbuilt.forward_inputs(xs, false, true), doctest::Contains("has not been built"),
                         std::logic_error);
}

TEST_CASE("merge layers on three threads: every value where the loops of one thread put it") {
    // Large enough for run_ranges() to split the values (Add) and the images (Concatenate)
    // between three threads, with ranges of unequal length: 7 images, three inputs.
    const std::size_t saved = cnn::thread_count();
    cnn::set_thread_count(3);
    cnn::Rng rng(4);
    const std::array<std::size_t, 4> small = {7, 2, 28, 28}, large = {7, 3, 28, 28};
    const std::vector<Tensor4> xs = {cnn::testing::random_tensor<4>(small, rng),
                                     cnn::testing::random_tensor<4>(large, rng),
                                     cnn::testing::random_tensor<4>(small, rng)};
    cnn::Concatenate cat;
    cat.build_inputs({{2, 28, 28}, {3, 28, 28}, {2, 28, 28}}, rng);
    const Tensor4 y = cat.forward_inputs(xs, true, true);
    REQUIRE(y.shape() == std::array<std::size_t, 4>{7, 7, 28, 28});
    for (std::size_t n = 0; n < 7; ++n) {
        CHECK(cnn::testing::max_abs_diff(xt::view(y, n, xt::range(0, 2)), xt::view(xs[0], n)) == 0);
        CHECK(cnn::testing::max_abs_diff(xt::view(y, n, xt::range(2, 5)), xt::view(xs[1], n)) == 0);
        CHECK(cnn::testing::max_abs_diff(xt::view(y, n, xt::range(5, 7)), xt::view(xs[2], n)) == 0);
    }
    const std::vector<Tensor4> dx = cat.backward_inputs(y, false);
    REQUIRE(dx.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(cnn::testing::max_abs_diff(dx[i], xs[i]) == 0);
    }

    cnn::Add add;
    add.build_inputs({{2, 28, 28}, {2, 28, 28}, {2, 28, 28}}, rng);
    const std::vector<Tensor4> same = {xs[0], xs[2], xs[0]};
    const Tensor4 expected = xs[0] + xs[2] + xs[0];
    CHECK(cnn::testing::max_abs_diff(add.forward_inputs(same, true, true), expected) < 1e-6);
    const std::vector<Tensor4> grads = add.backward_inputs(xs[2], false);
    REQUIRE(grads.size() == 3);
    for (const Tensor4& g : grads) {
        CHECK(cnn::testing::max_abs_diff(g, xs[2]) == 0);
    }
    cnn::set_thread_count(saved);
}
