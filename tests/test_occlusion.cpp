// Tests of inspect/occlusion.hpp on a model whose probabilities are computed by hand.
#include <cmath>
#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/inspect/occlusion.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/model/sequential.hpp"
#include "test_support.hpp"

using cnn::Tensor2;
using cnn::Tensor4;

namespace {

// Flatten, Dense(2) with a softmax on 1x3x3 images: logit 0 = 2 * (the centre pixel), logit 1
// = 0, so p(class 0) = 1 / (1 + exp(-2 * centre)).
cnn::Sequential centre_model() {
    cnn::Sequential model(1);
    model.add(cnn::Flatten().input_shape({1, 3, 3}));
    model.add(cnn::Dense(2).activation("softmax"));
    model.build();
    auto& dense = dynamic_cast<cnn::Dense&>(model.layer(1));
    dense.weights() = xt::zeros<float>({9, 2});
    dense.weights()(4, 0) = 2.0f;
    dense.bias() = xt::zeros<float>({2});
    return model;
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

}  // namespace

TEST_CASE("occlusion_map: the drop of the class probability where the patch covers the evidence") {
    cnn::Sequential model = centre_model();
    Tensor4 image = xt::full_like(Tensor4(xt::zeros<float>({1, 1, 3, 3})), 0.3f);
    image(0, 0, 1, 1) = 1.0f;
    // A 1x1 patch of grey 0.5 matters only on the centre: sigmoid(2) - sigmoid(1) = 0.149738.
    cnn::OcclusionOptions one;
    one.patch = 1;
    const Tensor2 map = cnn::occlusion_map(model, image, 0, one);
    Tensor2 expected = xt::zeros<float>({3, 3});
    expected(1, 1) = static_cast<float>(sigmoid(2.0) - sigmoid(1.0));
    CHECK(cnn::testing::max_abs_diff(map, expected) < 1e-6);
    CHECK(expected(1, 1) == doctest::Approx(0.149738).epsilon(1e-5));
    // For class 1 the same patch raises the probability: a negative drop.
    CHECK(cnn::occlusion_map(model, image, 1, one)(1, 1) == doctest::Approx(-0.149738).epsilon(1e-4));
    // A 3x3 patch, cut at the borders, covers the centre wherever it is centred.
    cnn::OcclusionOptions three;
    three.patch = 3;
    three.batch_size = 4;  // 9 positions in batches of 4, 4 and 1
    const Tensor2 wide = cnn::occlusion_map(model, image, 0, three);
    CHECK(cnn::testing::max_abs_diff(wide, xt::full_like(expected, expected(1, 1))) < 1e-6);
    // Painting black (0) instead: sigmoid(2) - sigmoid(0).
    three.fill = 0.0f;
    CHECK(cnn::occlusion_map(model, image, 0, three)(0, 2) ==
          doctest::Approx(sigmoid(2.0) - 0.5).epsilon(1e-5));
}

TEST_CASE("occlusion_map: a 3x3 patch on a 5x5 image reaches one pixel each way, no further") {
    // The evidence is the centre pixel (2, 2); the patch centred on (i, j) covers it when
    // |i - 2| <= 1 and |j - 2| <= 1: the drop is sigmoid(2) - sigmoid(1) there, 0 elsewhere.
    cnn::Sequential model(1);
    model.add(cnn::Flatten().input_shape({1, 5, 5}));
    model.add(cnn::Dense(2).activation("softmax"));
    model.build();
    auto& dense = dynamic_cast<cnn::Dense&>(model.layer(1));
    dense.weights() = xt::zeros<float>({25, 2});
    dense.weights()(12, 0) = 2.0f;
    dense.bias() = xt::zeros<float>({2});
    Tensor4 image = xt::zeros<float>({1, 1, 5, 5});
    image(0, 0, 2, 2) = 1.0f;
    cnn::OcclusionOptions three;
    three.patch = 3;
    const Tensor2 map = cnn::occlusion_map(model, image, 0, three);
    for (std::size_t i = 0; i < 5; ++i) {
        for (std::size_t j = 0; j < 5; ++j) {
            const bool covers = i >= 1 && i <= 3 && j >= 1 && j <= 3;
            CAPTURE(i);
            CAPTURE(j);
            CHECK(map(i, j) == doctest::Approx(covers ? sigmoid(2.0) - sigmoid(1.0) : 0.0).epsilon(1e-5));
        }
    }
}

TEST_CASE("occlusion_map: clear errors") {
    cnn::Sequential model = centre_model();
    const Tensor4 image = xt::zeros<float>({1, 1, 3, 3});
    cnn::OcclusionOptions even;
    even.patch = 4;
    CHECK_THROWS_WITH_AS(cnn::occlusion_map(model, image, 0, even),
                         doctest::Contains("odd side, to be centred on a pixel; got 4"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::occlusion_map(model, xt::zeros<float>({2, 1, 3, 3}), 0),
                         "occlusion_map: expected one image (1, C, H, W), got (2, 1, 3, 3)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::occlusion_map(model, image, 2),
                         "occlusion_map: class 2 requested, but the model has 2", std::invalid_argument);
}
