#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <utility>
#include <vector>

#include "cnn/fast/conv2d_fast.hpp"
#include "cnn/fast/conv2d_plan.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "cnn/ops/relu.hpp"
#include "cnn/fast/threads.hpp"
#include "conv2d_fixtures.hpp"
#include "test_support.hpp"

using cnn::Conv2DGeometry;
using cnn::Conv2DPlan;
using cnn::Epilogue;
using cnn::FastConvOptions;
using cnn::Tensor1;
using cnn::Tensor4;
using cnn::testing::max_abs_diff;
using cnn::testing::relative_diff;

namespace {

// A random convolution problem where bugs hide: odd, even and non-square kernels, strides
// up to 3, padding up to 2 on each side independently, Keras 'same' every fourth time.
struct Problem {
    Tensor4 x, w;
    Tensor1 b;
    Conv2DGeometry g;
};

Problem random_problem(cnn::Rng& rng, int trial, std::size_t max_batch) {
    const std::size_t n = 1 + rng.below(max_batch), c = 1 + rng.below(4), fn = 1 + rng.below(5);
    const std::size_t fh = 1 + rng.below(4), fw = 1 + rng.below(4);
    // Inputs from 1 pixel up: also smaller than the kernel, where only padding makes it fit
    // (Keras's 'same' always does, e.g. W = 2 and FW = 7: a window row of pure padding).
    const std::size_t h = 1 + rng.below(fh + 6), w = 1 + rng.below(fw + 6);
    Problem p;
    p.g.stride_rows = 1 + rng.below(3);
    p.g.stride_cols = 1 + rng.below(3);
    p.g.pad_rows = {rng.below(3), rng.below(3)};
    p.g.pad_cols = {rng.below(3), rng.below(3)};
    if (trial % 4 == 0) {
        p.g = Conv2DGeometry::keras(cnn::PaddingMode::same, h, w, fh, fw, p.g.stride_rows,
                                    p.g.stride_cols);
    }
    p.g.policy = cnn::SizePolicy::floor;  // any size: the geometry is not the subject here
    p.x = cnn::testing::random_tensor<4>({n, c, h, w}, rng);
    p.w = cnn::testing::random_tensor<4>({fn, c, fh, fw}, rng);
    p.b = cnn::testing::random_tensor<1>({fn}, rng);
    return p;
}

}  // namespace

TEST_CASE("fast convolution equals the naive loops: random geometries, thread counts, groups, each half of backward") {
    cnn::Rng rng(2024);
    cnn::GemmWorkspace workspace;  // shared by every trial: buffers must grow and be reused
    int tried = 0;
    for (int trial = 0; trial < 120; ++trial) {
        const Problem p = random_problem(rng, trial, 7);
        try {
            cnn::conv2d_output_shape(p.x, p.w, p.g);
        } catch (const cnn::GeometryError&) {
            continue;  // the kernel does not fit even padded: chapter 03's error, tested there
        }
        ++tried;
        FastConvOptions o;
        o.threads = 1 + rng.below(3);            // 1, 2 or 3 shares, also more than images
        o.min_columns = 1 + rng.below(120);      // groups of one image up to all of a share
        const bool relu = trial % 2 == 1;
        o.epilogue = relu ? Epilogue::bias_relu : Epilogue::bias;
        CAPTURE(trial);
        CAPTURE(o.threads);
        CAPTURE(o.min_columns);

        Tensor4 y_naive = cnn::conv2d_naive_forward(p.x, p.w, p.b, p.g);
        if (relu) {
            y_naive = cnn::relu_forward(y_naive);
        }
        const Tensor4 y = cnn::conv2d_fast_forward(p.x, p.w, p.b, p.g, o, workspace);
        CHECK(relative_diff(y, y_naive) < 1e-5);

        const Tensor4 dy = cnn::testing::random_tensor<4>(cnn::conv2d_output_shape(p.x, p.w, p.g), rng);
        // The reference: the ReLU's backward by chapter 01, then chapter 04's naive backward.
        Tensor4 dw1 = xt::zeros<float>(p.w.shape()), dw2 = dw1;
        Tensor1 db1 = xt::zeros<float>(p.b.shape()), db2 = db1;
        const Tensor4 dz = relu ? cnn::relu_backward(dy, y_naive) : dy;
        const Tensor4 dx1 = cnn::conv2d_naive_backward(dz, p.x, p.w, p.g, dw1, db1);
        const Tensor4 dx2 =
            cnn::conv2d_fast_backward(dy, p.x, y, p.w, p.g, o, workspace, dw2, db2);
        CHECK(relative_diff(dx2, dx1) < 1e-5);
        CHECK(relative_diff(dw2, dw1) < 1e-5);
        CHECK(max_abs_diff(db2, db1) < 1e-4);
        // The filters' gradient alone, as a model's first layer asks for it: through the
        // ReLU's mask when there is one.
        Tensor4 dw3 = xt::zeros<float>(p.w.shape());
        Tensor1 db3 = xt::zeros<float>(p.b.shape());
        cnn::conv2d_fast_backward_weights(dy, p.x, relu ? y : Tensor4(), p.w, p.g, o, workspace,
                                          dw3, db3);
        CHECK(relative_diff(dw3, dw1) < 1e-5);
        CHECK(max_abs_diff(db3, db1) < 1e-4);
        if (!relu) {
            // The input gradient alone, as chapter 11's Conv2DTranspose asks for it.
            const std::array<std::size_t, 4> x_shape = {p.x.shape(0), p.x.shape(1), p.x.shape(2),
                                                        p.x.shape(3)};
            CHECK(relative_diff(cnn::conv2d_fast_backward_input(dy, p.w, x_shape, p.g, o, workspace),
                                dx1) < 1e-5);
        }
    }
    CHECK(tried >= 60);
}

TEST_CASE("fast convolution accumulates into dw and db, as every backward pass here does") {
    cnn::Rng rng(5);
    const Problem p = random_problem(rng, 1, 4);
    cnn::GemmWorkspace workspace;
    const FastConvOptions o;
    const Tensor4 y = cnn::conv2d_fast_forward(p.x, p.w, p.b, p.g, o, workspace);
    const Tensor4 dy = cnn::testing::random_tensor<4>(cnn::conv2d_output_shape(p.x, p.w, p.g), rng);
    Tensor4 dw = xt::zeros<float>(p.w.shape());
    Tensor1 db = xt::zeros<float>(p.b.shape());
    cnn::conv2d_fast_backward(dy, p.x, y, p.w, p.g, o, workspace, dw, db);
    const Tensor4 once = dw;
    const Tensor1 db_once = db;
    cnn::conv2d_fast_backward(dy, p.x, y, p.w, p.g, o, workspace, dw, db);
    CHECK(max_abs_diff(dw, Tensor4(2.0f * once)) < 1e-5);
    CHECK(max_abs_diff(db, Tensor1(2.0f * db_once)) < 1e-5);
}

TEST_CASE("fast convolution: agrees with PyTorch, and passes the numerical gradient check") {
    // The fused ReLU is checked against chapter 01's relu_backward above: a finite difference
    // across its kink would measure the step of the difference, not the gradient.
    cnn::GemmWorkspace workspace;
    FastConvOptions o;
    o.threads = 2;
    cnn::testing::check_against_conv2d_fixtures(
        [&](const Tensor4& x, const Tensor4& w, const Tensor1& b, const Conv2DGeometry& g) {
            return cnn::conv2d_fast_forward(x, w, b, g, o, workspace);
        },
        [&](const Tensor4& dy, const Tensor4& x, const Tensor4& w, const Conv2DGeometry& g,
            Tensor4& dw, Tensor1& db) {
            return cnn::conv2d_fast_backward(dy, x, Tensor4(), w, g, o, workspace, dw, db);
        },
        /*numerical=*/true);
}

TEST_CASE("fast convolution: the thread count changes only the order of float sums") {
    // Forward, every output is one image's own product: the same bits for any thread count.
    // Backward, dW and db add the threads' shares: a different thread count adds the same
    // terms in another order. Over a batch of 32 the rounding stays below 1e-5 relative
    // (float has 24 bits, about 6e-8 per addition, times a few hundred terms).
    cnn::Rng rng(77);
    const Tensor4 x = cnn::testing::random_tensor<4>({32, 3, 12, 12}, rng);
    const Tensor4 w = cnn::testing::random_tensor<4>({8, 3, 3, 3}, rng);
    const Tensor1 b = cnn::testing::random_tensor<1>({8}, rng);
    const Conv2DGeometry g = Conv2DGeometry::keras(cnn::PaddingMode::same, 12, 12, 3, 3, 1, 1);
    const Tensor4 dy = cnn::testing::random_tensor<4>({32, 8, 12, 12}, rng);
    struct Run {
        Tensor4 y, dx, dw;
    };
    const auto run = [&](std::size_t threads) {
        FastConvOptions o;
        o.threads = threads;
        o.min_columns = 1;  // one image per product, whatever the thread count
        cnn::GemmWorkspace workspace;
        Run r{cnn::conv2d_fast_forward(x, w, b, g, o, workspace), {}, xt::zeros<float>(w.shape())};
        Tensor1 db = xt::zeros<float>(b.shape());
        r.dx = cnn::conv2d_fast_backward(dy, x, r.y, w, g, o, workspace, r.dw, db);
        return r;
    };
    const Run one = run(1), two = run(2), again = run(2);
    CHECK(one.y == two.y);
    CHECK(one.dx == two.dx);  // every image's dx is its own
    CHECK(relative_diff(two.dw, one.dw) < 1e-5);
    CHECK(two.dw == again.dw);  // the same thread count: the same bits
}

TEST_CASE("fast convolution rejects shapes that do not fit, before any thread starts") {
    cnn::GemmWorkspace workspace;
    const FastConvOptions o;
    const Tensor4 x = xt::zeros<float>({2, 3, 5, 5});
    const Tensor4 w = xt::zeros<float>({4, 3, 3, 3});
    const Conv2DGeometry g;
    CHECK_THROWS_WITH_AS(cnn::conv2d_fast_forward(x, w, xt::zeros<float>({3}), g, o, workspace),
                         doctest::Contains("one bias per filter, (4)"), std::invalid_argument);
    CHECK_THROWS_AS(cnn::conv2d_fast_forward(x, xt::zeros<float>({4, 2, 3, 3}),
                                             xt::zeros<float>({4}), g, o, workspace),
                    std::invalid_argument);
    Tensor4 dw = xt::zeros<float>(w.shape());
    Tensor1 db = xt::zeros<float>({4});
    CHECK_THROWS_WITH_AS(cnn::conv2d_fast_backward(xt::zeros<float>({2, 4, 2, 3}), x, Tensor4(), w,
                                                   g, o, workspace, dw, db),
                         doctest::Contains("expected dy (2, 4, 3, 3)"), std::invalid_argument);
    FastConvOptions relu;
    relu.epilogue = Epilogue::bias_relu;
    CHECK_THROWS_WITH_AS(cnn::conv2d_fast_backward(xt::zeros<float>({2, 4, 3, 3}), x, Tensor4(), w,
                                                   g, relu, workspace, dw, db),
                         doctest::Contains("got dy (2, 4, 3, 3), y (0, 0, 0, 0)"),
                         std::invalid_argument);
    // Each half of backward alone.
    CHECK_THROWS_WITH_AS(cnn::conv2d_fast_backward_input(xt::zeros<float>({2, 4, 2, 3}), w,
                                                         {2, 3, 5, 5}, g, o, workspace),
                         doctest::Contains("expected dy (2, 4, 3, 3)"), std::invalid_argument);
    CHECK_THROWS_AS(cnn::conv2d_fast_backward_input(xt::zeros<float>({2, 4, 3, 3}), w,
                                                    {2, 2, 5, 5}, g, o, workspace),
                    std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::conv2d_fast_backward_weights(xt::zeros<float>({2, 4, 2, 3}), x,
                                                           Tensor4(), w, g, o, workspace, dw, db),
                         doctest::Contains("expected dy (2, 4, 3, 3)"), std::invalid_argument);
}

TEST_CASE("the plan both engines share: shares in order, groups wide enough, sums in order") {
    // 10 images of 49 columns (7x7 outputs) on 3 threads, products of at least 100 columns:
    // shares [0, 3), [3, 6) and [6, 10), taken 3 images (147 columns) at a time.
    FastConvOptions o;
    o.threads = 3;
    o.min_columns = 100;
    const Conv2DPlan plan(10, 49, o);
    CHECK(plan.shares() == 3);
    CHECK(plan.group() == 3);
    std::vector<std::pair<std::size_t, std::size_t>> groups;
    for (std::size_t share = 0; share < plan.shares(); ++share) {
        plan.for_each_group(share, [&](const cnn::ImageGroup& group) {
            groups.emplace_back(group.first, group.count);
        });
    }
    CHECK(groups == std::vector<std::pair<std::size_t, std::size_t>>{
                        {0, 3}, {3, 3}, {6, 3}, {9, 1}});
    CHECK(plan.part(8, 0).first == 0);  // 8 channels, say, split the same way
    CHECK(plan.part(8, 1).first == 2);
    CHECK(plan.part(8, 2).last == 8);
    // Never more threads than images, nor more images per group than a share holds.
    o.threads = 8;
    o.min_columns = 1000;
    const Conv2DPlan few(2, 1, o);
    CHECK(few.shares() == 2);
    CHECK(few.group() == 1);

    // Each thread's sum apart, then added in thread order: ((total + share 0) + share 1).
    cnn::ThreadSums sums;
    sums.resize(2, 3);
    float* first = sums.zeroed(0);
    float* second = sums.zeroed(1);
    for (std::size_t i = 0; i < 3; ++i) {
        first[i] = 1.0f + static_cast<float>(i);
        second[i] = 10.0f;
    }
    std::vector<float> total = {100.0f, 200.0f, 300.0f};
    sums.add_to(total.data());
    CHECK(total == std::vector<float>{111.0f, 212.0f, 313.0f});
    float two[2];
    sums.sum(1, 2, two);
    CHECK(two[0] == 12.0f);
    CHECK(two[1] == 13.0f);

    // A smaller call after a larger one (layers that share a workspace): the buffers keep
    // their size, and zeroed(), add_to() and sum() use the first `size` floats only. The
    // values past them stay, and must not reach the totals.
    sums.resize(1, 2);
    CHECK(sums.bytes() == 2 * 3 * sizeof(float));  // nothing freed, nothing added
    float* only = sums.zeroed(0);
    CHECK(only[2] == 3.0f);  // past the size: untouched
    only[0] = 5.0f;
    only[1] = 6.0f;
    std::vector<float> sentinel = {1.0f, 1.0f, -7.0f};  // [2] lies past the size
    sums.add_to(sentinel.data());
    CHECK(sentinel == std::vector<float>{6.0f, 7.0f, -7.0f});  // one share now, not two
    float one[2];
    sums.sum(0, 2, one);
    CHECK(one[0] == 5.0f);
    CHECK(one[1] == 6.0f);
}

TEST_CASE(
    "Conv2DPlan::run_groups hands out for_each_group's groups, each once, to the plan's threads") {
    for (const std::size_t images : {1, 2, 7, 64}) {
        for (const std::size_t threads : {1, 2, 3}) {
            for (const std::size_t min_columns : {1, 10, 100}) {
                cnn::FastConvOptions o;
                o.threads = threads;
                o.min_columns = min_columns;
                const cnn::Conv2DPlan plan(images, 9, o);
                CAPTURE(images);
                CAPTURE(threads);
                CAPTURE(min_columns);
                std::vector<std::pair<std::size_t, std::size_t>> expected;
                for (std::size_t share = 0; share < plan.shares(); ++share) {
                    plan.for_each_group(share, [&](const cnn::ImageGroup& g) {
                        expected.emplace_back(g.first, g.count);
                    });
                }
                std::mutex lock;
                std::vector<std::pair<std::size_t, std::size_t>> ran;
                bool shares_ok = true;
                plan.run_groups([&](const cnn::ImageGroup& g, std::size_t share) {
                    const std::lock_guard<std::mutex> hold(lock);
                    ran.emplace_back(g.first, g.count);
                    shares_ok = shares_ok && share < plan.shares();
                });
                std::sort(ran.begin(), ran.end());
                CHECK(ran == expected);  // for_each_group's are in image order already
                CHECK(shares_ok);
            }
        }
    }
}
