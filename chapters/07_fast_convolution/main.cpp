// Chapter 07: making it fast, measured. Where the time of a convolution goes, and what each
// step of chapter 07's engine buys.
//
//   1. The ladder: every convolution of the seed model, forward + backward, as naive loops
//      (chapter 04), im2col + BLAS (chapter 04), and the fast im2col engine on one thread and on
//      all; beside each, the machine's own matrix product (OpenBLAS sgemm) on the same numbers;
//      last, what the layers run: Winograd's algorithm for the 3x3 convolutions, whose two
//      tiles, F(2x2) and F(4x4), are also timed side by side.
//   2. Where one training step of the seed model spends its time, layer by layer.
//   3. Images per second, training and inference, for the seed and the LeNet-style models, and
//      the memory a training run holds.
//   4. What the products alone would allow: each convolution's matrix products timed with
//      nothing around them, beside its whole pass, and the images per second they bound.
//   When PyTorch is installed, the same measurements in PyTorch, side by side.
//
// Every figure is measured on the machine that runs the program; each output says how (most
// are medians of repeated runs). `make bench` runs it with more repeats.
//
// Run: ch07_fast_convolution [--quick] [--out DIR] [--seed N] [--threads N] [--repeats N]
//                            [--torch auto|on|off] [--python PATH]

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <iostream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xview.hpp>

#include "cnn/fast/conv2d_plan.hpp"
#include "cnn/fast/engines.hpp"
#include "cnn/fast/panel_product.hpp"
#include "cnn/fast/threads.hpp"
#include "cnn/fast/winograd.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/model/zoo.hpp"
#include "cnn/ops/conv2d_im2col.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "cnn/optim/adam.hpp"
#include "cnn/tensor/gemm.hpp"
#include "cnn/tensor/random.hpp"
#include "support/app/program.hpp"
#include "support/app/python.hpp"
#include "support/app/resident_memory.hpp"
#include "support/app/timing.hpp"
#include "support/plot/plot.hpp"

namespace {

namespace fs = std::filesystem;
using cnn::median_seconds;
using cnn::seconds_of;
using cnn::Tensor1;
using cnn::Tensor2;
using cnn::Tensor4;

// How much to measure: the full run, or --quick's few seconds.
struct Budget {
    std::size_t batch;        // images per convolution call and per training step
    std::size_t naive_batch;  // the naive loops are timed on fewer images, then scaled
    std::size_t repeats;      // each time is the median of this many runs
    std::size_t train_steps;  // timed training steps of the seed model (LeNet: 10 times more)
    std::size_t infer_batch;
    std::size_t training_runs;  // timed fit() calls per model; the median counts
    std::size_t torch_processes;  // PyTorch's figures: the best of this many processes
};

// How a time was taken: "one run", or "the median of N runs".
std::string runs_of(const Budget& budget) {
    return budget.repeats == 1 ? std::string("one run")
                               : fmt::format("the median of {} runs", budget.repeats);
}

Tensor4 random_batch(std::array<std::size_t, 4> shape, cnn::Rng& rng) {
    Tensor4 t = Tensor4::from_shape(shape);
    for (float& v : t) {
        v = rng.normal();
    }
    return t;
}


// ---------------------------------------------------------------------------------------------
// PyTorch, when installed: its figures come from torch_reference.py beside this file.
// ---------------------------------------------------------------------------------------------

// PyTorch's speed differs from process to process, so its figures come from several processes,
// each reported as the best process's with the range (cnn::PythonProcesses).
using Torch = cnn::PythonProcesses;

// PyTorch's figures from `processes` runs of the script, when `comparison` asks for them
// (--torch on, or auto without --quick) and it is installed.
Torch measure_torch(const cnn::PythonComparison& comparison, bool quick, const Budget& budget,
                    std::size_t processes) {
    const cnn::PythonScript script{comparison.python,
                                   std::string(CNN_CHAPTER_DIR) + "/torch_reference.py"};
    return cnn::compare_with_python_processes(
        comparison, quick, script,
        {"--threads", std::to_string(cnn::thread_count()), "--batch", std::to_string(budget.batch),
         "--repeats", std::to_string(budget.repeats), "--train-steps",
         std::to_string(budget.train_steps), "--infer-batch", std::to_string(budget.infer_batch)},
        processes);
}

// ---------------------------------------------------------------------------------------------
// 1. The ladder
// ---------------------------------------------------------------------------------------------

struct ConvShape {
    std::string name;
    std::size_t channels, filters, size, kernel;
};

//! [shapes]
// The five convolutions of the seed model, all 'same' with stride 1.
const std::vector<ConvShape> seed_shapes = {{"conv1", 1, 64, 28, 7},
                                            {"conv2", 64, 128, 14, 3},
                                            {"conv3", 128, 128, 14, 3},
                                            {"conv4", 128, 256, 7, 3},
                                            {"conv5", 256, 256, 7, 3}};
//! [shapes]

// One convolution's matrix products with nothing around them: no transforms, no im2col, no
// copies, bias or ReLU. Each is the product its engine computes, with the same shapes, on the
// same threads, in the same groups of images (Conv2DPlan), so its time is what the layer
// would take if everything else were free. The operands' values do not change the time: ones.
struct ProductTimes {
    double forward = 0, backward = 0;  // seconds, each the median of budget.repeats runs
};

// Which passes to time.
enum class Passes { forward, both };

struct LadderRow {
    std::string name;
    ConvShape shape;
    bool first_layer = false;  // its backward pass computes no input gradient (none is needed)
    double flop = 0;  // forward + backward at the full batch
    double naive = 0, im2col = 0, fast_one = 0, fast_all = 0, layers = 0, sgemm = 0;  // seconds
    // What the layers run, each pass on its own, as in training: the first layer's backward
    // computes no input gradient (there is none to pass on). (layers times the two passes
    // together, as the ladder's other columns, with the input gradient: not their sum.)
    double layers_forward = 0, layers_backward = 0;
    cnn::ConvAlgorithm algorithm = cnn::ConvAlgorithm::gemm;  // what the layers' engine
    std::string engine;  // (ConvAlgorithm::automatic) chose, and its name
    // Both Winograd tiles, each pass as in training, for the 3x3 layers (0 for the others).
    std::size_t size = 0;  // the map, size x size
    double f2x2_forward = 0, f2x2_backward = 0, f4x4_forward = 0, f4x4_backward = 0;
    double difference = 0;  // both engines against naive, relative
    // The products alone of what the layers run (section 4): at the batch, and the forward
    // pass's at inference's batch.
    ProductTimes products;
    double inference_products = 0;
};

// Multiply-adds of the forward pass, times 2 FLOP each; backward does it twice (dW, dx).
double flop_of(const ConvShape& s, std::size_t batch) {
    return 3.0 * 2.0 *
           static_cast<double>(batch * s.filters * s.size * s.size * s.channels * s.kernel *
                               s.kernel);
}

// One convolution of the ladder: random filters, a random batch and a random gradient dy to
// send back through it. dw and db collect every timed backward pass; their values do not matter.
struct LadderProblem {
    cnn::Conv2DGeometry g;
    Tensor4 w, x, dy, dw;
    Tensor1 b, db;
    Tensor4 x_few, dy_few;  // the first images, for the naive loops
};

LadderProblem ladder_problem(const ConvShape& s, const Budget& budget, cnn::Rng& rng) {
    LadderProblem p;
    p.g = cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, s.size, s.size, s.kernel, s.kernel, 1,
                                     1);
    p.w = random_batch({s.filters, s.channels, s.kernel, s.kernel}, rng);
    p.b = xt::zeros<float>({s.filters});
    p.x = random_batch({budget.batch, s.channels, s.size, s.size}, rng);
    p.dy = random_batch({budget.batch, s.filters, s.size, s.size}, rng);
    p.dw = xt::zeros<float>(p.w.shape());
    p.db = xt::zeros<float>(p.b.shape());
    p.x_few = xt::view(p.x, xt::range(0, budget.naive_batch));
    p.dy_few = xt::view(p.dy, xt::range(0, budget.naive_batch));
    return p;
}

template <class Tensor>
double relative_difference(const Tensor& expected, const Tensor& actual) {
    return static_cast<double>(xt::amax(xt::abs(expected - actual))()) /
           std::max(1.0, static_cast<double>(xt::amax(xt::abs(expected))()));
}

// What the naive loops compute on the first images: the forward's output and all three
// gradients, which every engine must still compute.
struct Expected {
    Tensor4 y, dx, dw;
    Tensor1 db;
};

Expected naive_on_few(const LadderProblem& p) {
    Expected e{cnn::conv2d_naive_forward(p.x_few, p.w, p.b, p.g),
               {},
               xt::zeros<float>(p.w.shape()),
               xt::zeros<float>(p.b.shape())};
    e.dx = cnn::conv2d_naive_backward(p.dy_few, p.x_few, p.w, p.g, e.dw, e.db);
    return e;
}

// The largest relative difference between `engine` and the naive loops on the first images.
double difference(const Expected& naive, const LadderProblem& p, cnn::Conv2DEngine& engine) {
    Tensor4 dw = xt::zeros<float>(p.w.shape());
    Tensor1 db = xt::zeros<float>(p.b.shape());
    const Tensor4 y = engine.forward(p.x_few, p.w, p.b, p.g, /*relu=*/false);
    const Tensor4 dx = engine.backward(p.dy_few, p.x_few, y, p.w, p.g, /*relu=*/false, dw, db);
    return std::max({relative_difference(naive.y, y), relative_difference(naive.dx, dx),
                     relative_difference(naive.dw, dw), relative_difference(naive.db, db)});
}

//! [ladder_timers]
// Chapter 04's loops, on a few images (they are slow); the caller scales the time to the batch.
double time_naive(LadderProblem& p, const Budget& budget) {
    return median_seconds(std::min<std::size_t>(budget.repeats, 3), [&] {
        cnn::conv2d_naive_forward(p.x_few, p.w, p.b, p.g);
        cnn::conv2d_naive_backward(p.dy_few, p.x_few, p.w, p.g, p.dw, p.db);
    });
}

// Chapter 07's engine, as a layer runs it: the im2col engine on one thread or on all of them,
// or (ConvAlgorithm::automatic) Winograd's algorithm for the 3x3 convolutions with enough
// channels.
double time_engine(LadderProblem& p, const Budget& budget, cnn::Conv2DEngine& engine) {
    return median_seconds(budget.repeats, [&] {
        const Tensor4 y = engine.forward(p.x, p.w, p.b, p.g, /*relu=*/false);
        engine.backward(p.dy, p.x, y, p.w, p.g, /*relu=*/false, p.dw, p.db);
    });
}
//! [ladder_timers]

// The forward and the backward pass of what the layers run, timed apart, each the median of
// budget.repeats runs after a warm-up; the backward pass as a model runs it (the first layer's
// computes no input gradient). Returns {forward, backward} in seconds.
std::pair<double, double> time_layer_passes(LadderProblem& p, const Budget& budget,
                                            cnn::Conv2DEngine& engine, bool first_layer) {
    Tensor4 y, dx;
    const double forward = cnn::median_of(budget.repeats, [&] {
        y = Tensor4();  // the last output is freed outside the timed part
        return seconds_of([&] { y = engine.forward(p.x, p.w, p.b, p.g, /*relu=*/false); });
    });
    const double backward = cnn::median_of(budget.repeats, [&] {
        dx = Tensor4();
        return seconds_of([&] {
            if (first_layer) {
                engine.backward_weights(p.dy, p.x, y, p.w, p.g, /*relu=*/false, p.dw, p.db);
            } else {
                dx = engine.backward(p.dy, p.x, y, p.w, p.g, /*relu=*/false, p.dw, p.db);
            }
        });
    });
    return {forward, backward};
}

// Chapter 07's engines, each checked against the naive loops: the im2col engine on one thread
// and on all of them, then what the layers run. Each engine's workspace lives only while the
// engine is measured.
void measure_fast_engines(LadderProblem& p, const Budget& budget, const Expected& naive,
                          bool first_layer, LadderRow& row) {
    cnn::FastConvOptions one_thread;
    one_thread.threads = 1;
    {
        cnn::FastConv2DEngine gemm(one_thread, cnn::ConvAlgorithm::gemm);
        row.fast_one = time_engine(p, budget, gemm);
    }
    {
        cnn::FastConv2DEngine gemm({}, cnn::ConvAlgorithm::gemm);  // all threads
        row.fast_all = time_engine(p, budget, gemm);
        row.difference = difference(naive, p, gemm);
    }
    cnn::FastConv2DEngine layers;  // ConvAlgorithm::automatic, all threads
    row.layers = time_engine(p, budget, layers);
    const cnn::ConvAlgorithm chosen = layers.algorithm_for(p.x.shape(), p.w, p.g);
    row.algorithm = chosen;
    row.engine = cnn::conv_algorithm_name(chosen);
    row.difference = std::max(row.difference, difference(naive, p, layers));
    if (chosen == cnn::ConvAlgorithm::gemm) {
        std::tie(row.layers_forward, row.layers_backward) =
            time_layer_passes(p, budget, layers, first_layer);
        return;
    }
    // Both Winograd tiles; the layers' passes are those of the tile they chose.
    cnn::FastConv2DEngine f2x2({}, cnn::ConvAlgorithm::winograd),
        f4x4({}, cnn::ConvAlgorithm::winograd_4x4);
    std::tie(row.f2x2_forward, row.f2x2_backward) = time_layer_passes(p, budget, f2x2, first_layer);
    std::tie(row.f4x4_forward, row.f4x4_backward) = time_layer_passes(p, budget, f4x4, first_layer);
    const bool four = chosen == cnn::ConvAlgorithm::winograd_4x4;
    row.layers_forward = four ? row.f4x4_forward : row.f2x2_forward;
    row.layers_backward = four ? row.f4x4_backward : row.f2x2_backward;
}

// Chapter 04's im2col: one image at a time, OpenBLAS on every core inside each product.
double time_im2col(LadderProblem& p, const Budget& budget) {
    const cnn::ScopedBlasThreads blas_on_every_core(cnn::thread_count());
    return median_seconds(budget.repeats, [&] {
        cnn::conv2d_im2col_forward(p.x, p.w, p.b, p.g);
        cnn::conv2d_im2col_backward(p.dy, p.x, p.w, p.g, p.dw, p.db);
    });
}

// OpenBLAS's own threads spin for a while after their last product on several threads,
// taking a core from whatever runs next: time nothing before they have stopped.
void let_blas_threads_settle() {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

//! [ladder_sgemm]
// The reference: OpenBLAS alone, on every core, computing the convolution's three products
// for the whole batch at once, with k = C·FH·FW and p = N·OH·OW:
// forward (FN, k)(k, p), dW = (FN, p)(p, k), dcols = (k, FN)(FN, p).
double time_sgemm(const ConvShape& s, const Budget& budget) {
    const cnn::ScopedBlasThreads blas_on_every_core(cnn::thread_count());
    const std::size_t k = s.channels * s.kernel * s.kernel, p = budget.batch * s.size * s.size;
    const Tensor2 filters = xt::ones<float>({s.filters, k}), cols = xt::ones<float>({k, p});
    const Tensor2 dz = xt::ones<float>({s.filters, p});
    Tensor2 y = Tensor2::from_shape({s.filters, p}), dk = Tensor2::from_shape({s.filters, k});
    Tensor2 dcols = Tensor2::from_shape({k, p});
    using cnn::Op;
    return median_seconds(budget.repeats, [&] {
        cnn::gemm(filters, Op::none, cols, Op::none, y);
        cnn::gemm(dz, Op::none, cols, Op::transpose, dk);
        cnn::gemm(filters, Op::transpose, dz, Op::none, dcols);
    });
}
//! [ladder_sgemm]

// Per thread, the operands of one group's products: left sides, results, and (Winograd's dW)
// right sides in panels. Sized for a full group; a last, smaller group uses their front.
struct ProductOperands {
    std::vector<float> left, result, panels, sums;
};

// Winograd's: for each of the tile's positions, forward M = V U, (columns, FN) = (columns, C)
// (C, FN); backward dW^T += V^T E, (C, FN) = (C, columns) (columns, FN), and dx's M = V U',
// (columns, C) = (columns, FN) (FN, C), with U' the rotated filters' transform. (The engine
// computes dx in a first layer too: only the gemm engine has a pass for dW alone.) The
// output of a 'same' stride-1 layer, and so dx's tiles over its input, are size x size.
ProductTimes time_winograd_products(const ConvShape& s, cnn::WinogradTile tile,
                                    const Budget& budget, Passes passes) {
    const cnn::WinogradGrid grid = cnn::winograd_grid(tile, s.size, s.size);
    const std::size_t tiles = grid.tiles, positions = grid.positions;
    const cnn::Conv2DPlan plan(budget.batch, tiles, {});
    const std::size_t columns = plan.group() * tiles, wide = std::max(s.channels, s.filters);
    const std::vector<float> u(positions * cnn::panel_floats(wide, wide), 1.0f);
    std::vector<ProductOperands> mine(plan.shares());
    for (ProductOperands& o : mine) {
        o.left.assign(positions * columns * wide, 1.0f);
        o.result.resize(positions * columns * wide);
        o.panels.assign(positions * cnn::panel_floats(columns, s.filters), 1.0f);
        o.sums.resize(positions * s.channels * s.filters);
    }
    using cnn::Op;
    ProductTimes t;
    //! [products_forward]
    t.forward = median_seconds(budget.repeats, [&] {
        plan.run_groups([&](const cnn::ImageGroup& group, std::size_t share) {
            const std::size_t n = group.count * tiles;
            for (std::size_t xi = 0; xi < positions; ++xi) {
                cnn::multiply_panels(Op::none, n, s.filters, s.channels,
                                     &mine[share].left[xi * n * s.channels],
                                     &u[xi * cnn::panel_floats(s.channels, s.filters)], 0.0f,
                                     &mine[share].result[xi * n * s.filters]);
            }
        });
    });
    //! [products_forward]
    if (passes == Passes::forward) {
        return t;
    }
    t.backward = median_seconds(budget.repeats, [&] {
        plan.run([&](std::size_t share) {
            ProductOperands& o = mine[share];
            float beta = 0.0f;
            plan.for_each_group(share, [&](const cnn::ImageGroup& group) {
                const std::size_t n = group.count * tiles;
                for (std::size_t xi = 0; xi < positions; ++xi) {
                    cnn::multiply_panels(Op::transpose, s.channels, s.filters, n,
                                         &o.left[xi * n * s.channels],
                                         &o.panels[xi * cnn::panel_floats(n, s.filters)], beta,
                                         &o.sums[xi * s.channels * s.filters]);
                }
                beta = 1.0f;
                for (std::size_t xi = 0; xi < positions; ++xi) {
                    cnn::multiply_panels(Op::none, n, s.channels, s.filters,
                                         &o.left[xi * n * s.filters],
                                         &u[xi * cnn::panel_floats(s.filters, s.channels)], 0.0f,
                                         &o.result[xi * n * s.channels]);
                }
            });
        });
    });
    return t;
}

// im2col's (the gemm engine, conv2d_fast.hpp): with k = C·FH·FW and a group's p columns,
// forward Y = W cols, (FN, p) = (FN, k) (k, p); backward dW += dz cols^T, (FN, k) = (FN, p)
// (p, k), and, except in the first layer, dcols = W^T dz, (k, p) = (k, FN) (FN, p).
ProductTimes time_gemm_products(const ConvShape& s, const Budget& budget, bool first_layer,
                                Passes passes) {
    const std::size_t k = s.channels * s.kernel * s.kernel, pixels = s.size * s.size;
    const cnn::Conv2DPlan plan(budget.batch, pixels, {});
    const std::size_t columns = plan.group() * pixels;
    const std::vector<float> w(s.filters * k, 1.0f);
    std::vector<ProductOperands> mine(plan.shares());
    for (ProductOperands& o : mine) {
        o.left.assign(k * columns, 1.0f);            // cols, then dcols
        o.result.assign(s.filters * columns, 1.0f);  // y, then dz
        o.sums.resize(s.filters * k);
    }
    using cnn::Op;
    ProductTimes t;
    t.forward = median_seconds(budget.repeats, [&] {
        plan.run_groups([&](const cnn::ImageGroup& group, std::size_t share) {
            cnn::gemm(Op::none, Op::none, s.filters, group.count * pixels, k, w.data(),
                      mine[share].left.data(), 0.0f, mine[share].result.data());
        });
    });
    if (passes == Passes::forward) {
        return t;
    }
    t.backward = median_seconds(budget.repeats, [&] {
        plan.run([&](std::size_t share) {
            ProductOperands& o = mine[share];
            plan.for_each_group(share, [&](const cnn::ImageGroup& group) {
                const std::size_t n = group.count * pixels;
                cnn::gemm(Op::none, Op::transpose, s.filters, k, n, o.result.data(), o.left.data(),
                          1.0f, o.sums.data());
                if (!first_layer) {
                    cnn::gemm(Op::transpose, Op::none, k, n, s.filters, w.data(), o.result.data(),
                              0.0f, o.left.data());
                }
            });
        });
    });
    return t;
}

// The products of the engine a layer chose, at budget.batch images.
ProductTimes time_products(const LadderRow& r, const Budget& budget, Passes passes) {
    return r.algorithm == cnn::ConvAlgorithm::gemm
               ? time_gemm_products(r.shape, budget, r.first_layer, passes)
               : time_winograd_products(r.shape, cnn::winograd_tile(r.algorithm), budget, passes);
}

LadderRow measure_ladder(const ConvShape& s, const Budget& budget, cnn::Rng& rng) {
    LadderProblem p = ladder_problem(s, budget, rng);
    LadderRow row;
    row.name = s.name;
    row.shape = s;
    row.first_layer = s.name == seed_shapes.front().name;
    row.size = s.size;
    row.flop = flop_of(s, budget.batch);
    row.naive = time_naive(p, budget) * row.flop / flop_of(s, budget.naive_batch);
    measure_fast_engines(p, budget, naive_on_few(p), row.first_layer, row);
    // The products alone, right after the passes they are compared with (section 4).
    row.products = time_products(row, budget, Passes::both);
    Budget inference = budget;
    inference.batch = budget.infer_batch;
    row.inference_products = time_products(row, inference, Passes::forward).forward;
    row.im2col = time_im2col(p, budget);
    row.sgemm = time_sgemm(s, budget);
    let_blas_threads_settle();  // before the next layer's single-threaded measurements
    return row;
}

std::vector<LadderRow> ladder(const Budget& budget, std::uint64_t seed, const fs::path& out) {
    cnn::Transcript text(out / "ch07_ladder.txt");
    text.line(fmt::format("forward + backward at batch {}, {} threads, in ms; median of {} runs (naive: "
                          "median of {} on {} images, scaled)",
                          budget.batch, cnn::thread_count(), budget.repeats,
                          std::min<std::size_t>(budget.repeats, 3), budget.naive_batch));
    // Milliseconds in the first block, GFLOP/s in the second and third; no line wider than
    // the text column of the site (about 120 characters).
    text.line(fmt::format("{:<6} {:>6} | {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} "
                          "| {:>8} {:>7} | {:>7}",
                          "layer", "GFLOP", "naive", "im2col", "gemm 1t", "gemm", "sgemm",
                          "layers", "GFLOP/s", "sgemm", "% sgemm", "engine", "GFLOP/s",
                          "rel.diff"));
    cnn::Rng rng(seed);
    std::vector<LadderRow> rows;
    for (const ConvShape& s : seed_shapes) {
        const LadderRow r = measure_ladder(s, budget, rng);
        text.line(fmt::format(
            "{:<6} {:>6.2f} | {:>7.1f} {:>7.1f} {:>7.1f} {:>7.1f} {:>7.1f} {:>7.1f} | {:>7.1f} "
            "{:>7.1f} {:>6.0f}% | {:>8} {:>7.1f} | {:>7.0e}",
            r.name, r.flop / 1e9, r.naive * 1e3, r.im2col * 1e3, r.fast_one * 1e3,
            r.fast_all * 1e3, r.sgemm * 1e3, r.layers * 1e3, r.flop / r.fast_all / 1e9,
            r.flop / r.sgemm / 1e9, 100.0 * r.sgemm / r.fast_all,
            r.engine, r.flop / r.layers / 1e9, r.difference));
        rows.push_back(r);
    }
    text.save();

    cnn::BarChart chart;
    chart.title = fmt::format("One convolution, forward + backward, batch {} (this machine)",
                              budget.batch);
    chart.y_label = "milliseconds (log scale)";
    chart.log_y = true;
    chart.value_labels = false;
    chart.width = 960;
    std::vector<double> naive, im2col, one, all, sgemm, layers;
    for (const LadderRow& r : rows) {
        chart.categories.push_back(r.name);
        naive.push_back(r.naive * 1e3);
        im2col.push_back(r.im2col * 1e3);
        one.push_back(r.fast_one * 1e3);
        all.push_back(r.fast_all * 1e3);
        sgemm.push_back(r.sgemm * 1e3);
        layers.push_back(r.layers * 1e3);
    }
    chart.series = {{"naive loops (ch04)", naive},
                    {"im2col + BLAS (ch04)", im2col},
                    {"im2col engine, 1 thread", one},
                    {fmt::format("im2col engine, {} threads", cnn::thread_count()), all},
                    {"sgemm alone, same products", sgemm},
                    {"the layers' engine (Winograd for 3x3)", layers}};
    cnn::save_bar_chart(chart, out / "ch07_ladder.png");
    return rows;
}

// ---------------------------------------------------------------------------------------------
// 2. Where a training step goes
// ---------------------------------------------------------------------------------------------

void step_breakdown(const Budget& budget, std::uint64_t seed, const fs::path& out) {
    cnn::Sequential model = cnn::seed_model(seed);
    model.build();
    cnn::Rng rng(seed);
    const Tensor4 x = random_batch({budget.batch, 1, 28, 28}, rng);
    const std::size_t layers = model.size();
    std::vector<std::vector<double>> forward(layers), backward(layers);
    //! [step]
    for (std::size_t r = 0; r < budget.repeats + 1; ++r) {  // the first run warms up
        Tensor4 h = x;  // each layer gets the one before's output, as the model hands it on
        for (std::size_t i = 0; i < layers; ++i) {
            const bool last = i + 1 == layers;
            forward[i].push_back(seconds_of([&] {
                h = model.layer(i).forward(std::move(h), /*training=*/true, !last);
            }));
        }
        Tensor4 grad = xt::ones_like(h);
        for (std::size_t i = layers; i-- > 0;) {
            // As a model trains: the first layer's input gradient would go to the data.
            const auto input = i == 0 ? cnn::InputGradient::skip : cnn::InputGradient::compute;
            backward[i].push_back(seconds_of([&] {
                grad = i + 1 == layers ? model.layer(i).backward_from_logits(std::move(grad), input)
                                       : model.layer(i).backward(std::move(grad), input);
            }));
        }
    }
    //! [step]
    const auto median_ms = [](std::vector<double> v) {
        v.erase(v.begin());  // the warm-up
        return cnn::median(std::move(v)) * 1e3;
    };
    cnn::Transcript text(out / "ch07_step.txt");
    text.line(fmt::format("one training step of the seed model at batch {}, {} threads; median "
                          "of {} steps, in ms",
                          budget.batch, cnn::thread_count(), budget.repeats));
    text.line(fmt::format("{:<18} {:>9} {:>9} {:>7}", "layer", "forward", "backward", "share"));
    std::vector<double> f_ms, b_ms;
    double total = 0;
    for (std::size_t i = 0; i < layers; ++i) {
        f_ms.push_back(median_ms(forward[i]));
        b_ms.push_back(median_ms(backward[i]));
        total += f_ms.back() + b_ms.back();
    }
    cnn::BarChart chart;
    for (std::size_t i = 0; i < layers; ++i) {
        text.line(fmt::format("{:<18} {:>9.2f} {:>9.2f} {:>6.1f}%", model.layer(i).name(),
                              f_ms[i], b_ms[i], 100.0 * (f_ms[i] + b_ms[i]) / total));
        chart.categories.push_back(model.layer(i).name());
    }
    text.line(fmt::format("{:<18} {:>19.1f} ms: {:.0f} images/s without the loss and the "
                          "optimizer",
                          "all layers", total, static_cast<double>(budget.batch) / total * 1e3));
    text.save();
    chart.title = fmt::format("Where one training step of the seed model goes (batch {})",
                              budget.batch);
    chart.y_label = "milliseconds";
    chart.series = {{"forward", f_ms}, {"backward", b_ms}};
    chart.value_labels = false;
    chart.width = 960;
    cnn::save_bar_chart(chart, out / "ch07_step.png");
}

// ---------------------------------------------------------------------------------------------
// 3. Images per second, and memory
// ---------------------------------------------------------------------------------------------

struct Throughput {
    std::vector<double> train;  // images/s of each timed fit()
    double infer = 0;
    cnn::ResidentMemory before, after;  // around the timed training

    double median_train() const { return cnn::median(train); }
};

Throughput throughput(const std::string& name, std::size_t steps, const Budget& budget,
                      std::uint64_t seed) {
    cnn::Sequential model = cnn::make_model(name, seed);
    model.compile(cnn::Adam(), "sparse_categorical_crossentropy", {"accuracy"});
    cnn::Rng rng(seed);
    const Tensor4 x = random_batch({budget.batch * steps, 1, 28, 28}, rng);
    cnn::Labels y(x.shape(0));
    for (auto& label : y) {
        label = static_cast<std::uint8_t>(rng.below(10));
    }
    //! [throughput]
    cnn::FitOptions fit;
    fit.batch_size = budget.batch;
    fit.verbose = cnn::Verbosity::silent;
    const Tensor4 warm_x = xt::view(x, xt::range(0, 2 * budget.batch));
    model.fit(warm_x, cnn::Labels(y.begin(), y.begin() + 2 * budget.batch), fit);  // warm-up
    Throughput t;
    t.before = cnn::resident_memory();
    for (std::size_t run = 0; run < budget.training_runs; ++run) {
        const cnn::History h = model.fit(x, y, fit);
        t.train.push_back(static_cast<double>(x.shape(0)) / h.train_seconds.front());
    }
    t.after = cnn::resident_memory();
    const Tensor4 images = xt::view(x, xt::range(0, std::min(x.shape(0), budget.infer_batch)));
    t.infer = static_cast<double>(images.shape(0)) /
              median_seconds(budget.repeats, [&] { model.predict(images, budget.infer_batch); });
    //! [throughput]
    return t;
}

// Our images per second for the seed and the LeNet-style models.
struct Throughputs {
    Throughput seed, lenet;
};

// Section 3's table: images per second and memory, beside PyTorch's figures when it ran.
void save_throughput_table(const fs::path& out, const Budget& budget, const Throughputs& ours,
                           const Torch& torch) {
    cnn::Transcript text(out / "ch07_throughput.txt");
    text.line(fmt::format("{} threads; random 28x28 images. Training: Adam at batch {}, {} timed "
                          "fit() of {} steps each (LeNet: {}) after 2 warm-up steps, the median "
                          "counts. Inference: predict() at batch {}, median of {} runs",
                          cnn::thread_count(), budget.batch, budget.training_runs,
                          budget.train_steps, budget.train_steps * 10, budget.infer_batch,
                          budget.repeats));
    if (torch.available()) {
        text.line(fmt::format("PyTorch {}: the best of {} processes (its speed differs from "
                              "process to process), with their range",
                              torch.text("torch_version"), torch.runs.size()));
    }
    const auto beside = [&](const std::string& key, double ours_figure) {
        if (!torch.has(key)) {
            return std::string();
        }
        const auto [low, high] = torch.range(key);
        return fmt::format("  PyTorch {:>6.0f} ({:.0f}-{:.0f})  ours/best {:.2f}", high, low,
                           high, ours_figure / high);
    };
    for (const auto& [name, t] : {std::pair{"seed", ours.seed}, std::pair{"lenet", ours.lenet}}) {
        const auto [low, high] = std::minmax_element(t.train.begin(), t.train.end());
        const std::string spread =
            t.train.size() > 1 ? fmt::format(" ({:.0f}-{:.0f})", *low, *high) : std::string();
        text.line(fmt::format("{:<6} training  {:>6.0f} images/s{}{}", name, t.median_train(),
                              spread, beside(std::string(name) + "_train", t.median_train())));
        text.line(fmt::format("{:<6} inference {:>6.0f} images/s{:>12}{}", name, t.infer, "",
                              beside(std::string(name) + "_infer", t.infer)));
    }
    const Throughput& seed = ours.seed;
    text.line(fmt::format("memory: seed model training resident {:.0f} MB before the timed "
                          "steps, {:.0f} MB after ({:+.1f} MB over {} steps); peak of the "
                          "whole program so far {:.0f} MB",
                          seed.before.now_mb, seed.after.now_mb,
                          seed.after.now_mb - seed.before.now_mb,
                          budget.train_steps * budget.training_runs, seed.after.peak_mb));
    if (!torch.available()) {
        text.line(torch.why_not());
    }
    text.save();
}

// Each convolution of the seed model, forward and backward apart, as the layers run them in
// training, beside PyTorch's best process; "speed" is PyTorch's time over ours (above 1: ours
// is faster).
void save_convolution_table(const fs::path& out, const Budget& budget,
                            const std::vector<LadderRow>& rows, const Torch& torch) {
    cnn::Transcript text(out / "ch07_convolutions.txt");
    const std::string runs = runs_of(budget);
    text.line(fmt::format("each convolution of the seed model at batch {}, {} threads, in ms; "
                          "ours {}, PyTorch {}",
                          budget.batch, cnn::thread_count(), runs,
                          torch.available() ? fmt::format("its best of {} processes (each {})",
                                                          torch.runs.size(), runs)
                                            : std::string("not measured")));
    text.line("conv1's backward computes no input gradient on either side: it would go to the "
              "data");
    text.line(fmt::format("{:<6} {:>9} | {:>8} {:>8} {:>6} | {:>8} {:>8} {:>6}", "layer",
                          "engine", "forward", "PyTorch", "speed", "backward", "PyTorch",
                          "speed"));
    for (const LadderRow& r : rows) {
        std::string forward_torch = fmt::format("{:>8} {:>6}", "-", "-");
        std::string backward_torch = forward_torch;
        if (torch.has(r.name + "_forward")) {
            const double f = torch.best(r.name + "_forward", false);
            const double b = torch.best(r.name + "_backward", false);
            forward_torch = fmt::format("{:>8.2f} {:>6.2f}", f * 1e3, f / r.layers_forward);
            backward_torch = fmt::format("{:>8.2f} {:>6.2f}", b * 1e3, b / r.layers_backward);
        }
        text.line(fmt::format("{:<6} {:>9} | {:>8.2f} {} | {:>8.2f} {}", r.name,
                              r.engine, r.layers_forward * 1e3,
                              forward_torch, r.layers_backward * 1e3, backward_torch));
    }
    text.save();
}

// Section 3's table: Winograd's two tiles on each 3x3 layer, and the one the layers chose
// (winograd_tile_for()).
void save_tile_table(const fs::path& out, const Budget& budget,
                     const std::vector<LadderRow>& rows) {
    cnn::Transcript text(out / "ch07_tiles.txt");
    text.line(fmt::format("Winograd's two tiles on the seed model's 3x3 layers at batch {}, {} "
                          "threads, in ms; each pass as the layers run it, the median of {} runs",
                          budget.batch, cnn::thread_count(), budget.repeats));
    text.line(fmt::format("{:<6} {:>6} | {:>16} | {:>16} | {:>13} | {}", "layer", "map",
                          "F(2x2) fwd   bwd", "F(4x4) fwd   bwd", "F(4x4)/F(2x2)", "chosen"));
    for (const LadderRow& r : rows) {
        if (r.f2x2_forward <= 0) {
            continue;  // not a Winograd layer
        }
        const double ratio =
            (r.f4x4_forward + r.f4x4_backward) / (r.f2x2_forward + r.f2x2_backward);
        text.line(fmt::format("{:<6} {:>6} | {:>9.2f} {:>6.2f} | {:>9.2f} {:>6.2f} | {:>13.2f} | {}",
                              r.name, fmt::format("{}x{}", r.size, r.size), r.f2x2_forward * 1e3,
                              r.f2x2_backward * 1e3, r.f4x4_forward * 1e3, r.f4x4_backward * 1e3,
                              ratio, r.engine));
    }
    text.save();
}

// ... and its chart.
void save_throughput_chart(const fs::path& out, const Throughputs& ours, const Torch& torch) {
    cnn::BarChart chart;
    chart.title = "Images per second on this machine (higher is better)";
    chart.y_label = "images/s (log scale)";
    chart.log_y = true;
    chart.categories = {"seed training", "seed inference", "LeNet training", "LeNet inference"};
    // Whole images per second: the bars' labels print integers in full.
    const auto whole = [](std::vector<double> v) {
        for (double& x : v) {
            x = std::round(x);
        }
        return v;
    };
    chart.series = {{"this library (median)",
                     whole({ours.seed.median_train(), ours.seed.infer, ours.lenet.median_train(),
                            ours.lenet.infer})}};
    if (torch.available()) {
        chart.series.push_back(
            {fmt::format("PyTorch {} (best of {} processes)", torch.text("torch_version"), torch.runs.size()),
             whole({torch.best("seed_train", true), torch.best("seed_infer", true),
                    torch.best("lenet_train", true), torch.best("lenet_infer", true)})});
    }
    chart.width = 960;
    cnn::save_bar_chart(chart, out / "ch07_throughput.png");
}

// ---------------------------------------------------------------------------------------------
// 4. What the products alone allow
// ---------------------------------------------------------------------------------------------

// If nothing but the five convolutions' products took time: the images per second they
// allow, beside ours and PyTorch's best.
std::string bound_line(const std::string& what, std::size_t batch, double seconds, double ours,
                       const Torch& torch, const std::string& key) {
    const double most = static_cast<double>(batch) / seconds;
    std::string line = fmt::format(
        "{} at batch {}: at most {:.0f} images/s; ours ran {:.0f}, {:.0f}% "
        "of it",
        what, batch, most, ours, 100.0 * ours / most);
    if (torch.has(key)) {
        const double best = torch.best(key, true);
        line += fmt::format("; PyTorch's best {:.0f}: at most {:.2f} times it, ours {:.2f}", best,
                            most / best, ours / best);
    }
    return line;
}

// Section 4: each convolution's products alone (timed in section 1) beside its whole passes
// (those of ch07_convolutions.txt), and what the products alone would allow the seed model,
// beside what it did.
void products_alone(const fs::path& out, const Budget& budget, const std::vector<LadderRow>& rows,
                    const Throughput& seed, const Torch& torch) {
    cnn::Transcript text(out / "ch07_products.txt");
    text.line(
        fmt::format("the five convolutions' matrix products alone, as their engines compute "
                    "them (same shapes, threads and groups of images),"));
    text.line(
        fmt::format("beside the whole passes of the convolution table; batch {}, {} "
                    "threads, in ms, {}",
                    budget.batch, cnn::thread_count(), runs_of(budget)));
    text.line(fmt::format("{:<6} {:>7} | {:>8} {:>8} {:>7} | {:>8} {:>8} {:>7}", "layer", "engine",
                          "products", "forward", "of pass", "products", "backward", "of pass"));
    ProductTimes products, passes;
    double inference_products = 0;
    for (const LadderRow& r : rows) {
        const ProductTimes& p = r.products;
        inference_products += r.inference_products;
        text.line(
            fmt::format("{:<6} {:>7} | {:>8.2f} {:>8.2f} {:>6.0f}% | {:>8.2f} {:>8.2f} "
                        "{:>6.0f}%",
                        r.name, r.engine, p.forward * 1e3, r.layers_forward * 1e3,
                        100.0 * p.forward / r.layers_forward, p.backward * 1e3,
                        r.layers_backward * 1e3, 100.0 * p.backward / r.layers_backward));
        products.forward += p.forward;
        products.backward += p.backward;
        passes.forward += r.layers_forward;
        passes.backward += r.layers_backward;
    }
    text.line(fmt::format("{:<14} | {:>8.2f} {:>8.2f} {:>6.0f}% | {:>8.2f} {:>8.2f} {:>6.0f}%",
                          "all five", products.forward * 1e3, passes.forward * 1e3,
                          100.0 * products.forward / passes.forward, products.backward * 1e3,
                          passes.backward * 1e3, 100.0 * products.backward / passes.backward));
    text.line(
        "the seed model, if nothing but these products took time (no transforms, copies, "
        "pooling, dense layers, loss or optimizer):");
    // Inference runs at its own batch, whose groups of images may be larger.
    text.line(bound_line("inference", budget.infer_batch, inference_products, seed.infer, torch,
                         "seed_infer"));
    text.line(bound_line("training ", budget.batch, products.forward + products.backward,
                         seed.median_train(), torch, "seed_train"));
    text.save();
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch07_fast_convolution",
                         "Chapter 07: making convolution fast, measured on this machine and "
                         "against PyTorch",
                         cnn::ReadsData::no);
    std::size_t threads = 0, repeats = 0;
    cnn::PythonComparison torch_comparison;
    program.option("--threads", threads, "Threads to use (default: one per core)").within(1, 256);
    program
        .option("--repeats", repeats,
                "Runs per timing; the median counts (default 5, 1 "
                "with --quick)")
        .within(1, 1000);
    cnn::add_comparison_options(program, torch_comparison);

    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        if (threads > 0) {
            cnn::set_thread_count(threads);  // else OMP_NUM_THREADS, or one per core
        }
        Budget budget = options.quick ? Budget{8, 2, 1, 2, 32, 1, 1} : Budget{64, 2, 5, 20, 256, 3, 3};
        if (repeats > 0) {
            budget.repeats = repeats;
        }
        std::cout << fmt::format("{} threads ({}), batch {}\n\n", cnn::thread_count(),
                                 cnn::has_openmp() ? "OpenMP" : "no OpenMP: one thread",
                                 budget.batch);

        // PyTorch first, when it is compared: a missing one is reported before minutes of
        // measuring, and its processes run on a machine as quiet as ours will.
        const Torch torch =
            measure_torch(torch_comparison, options.quick, budget, budget.torch_processes);

        std::cout << "== 1. The ladder: one convolution, six ways ==\n\n";
        const std::vector<LadderRow> rows = ladder(budget, options.seed, options.out);

        std::cout << "\n== 2. Where a training step goes ==\n\n";
        cnn::use_fast_engines();  // every Conv2D and MaxPooling2D built from here on
        step_breakdown(budget, options.seed, options.out);

        std::cout << "\n== 3. Images per second, and memory ==\n\n";
        const Throughput seed = throughput("seed", budget.train_steps, budget, options.seed);
        const Throughput lenet = throughput("lenet", budget.train_steps * 10, budget, options.seed);

        const Throughputs ours{seed, lenet};
        save_throughput_table(options.out, budget, ours, torch);
        save_convolution_table(options.out, budget, rows, torch);
        save_tile_table(options.out, budget, rows);
        save_throughput_chart(options.out, ours, torch);

        std::cout << "\n== 4. What the products alone allow ==\n\n";
        products_alone(options.out, budget, rows, seed, torch);
        std::cout << "\nplots and tables written to " << options.out.string() << '\n';
    });
}
