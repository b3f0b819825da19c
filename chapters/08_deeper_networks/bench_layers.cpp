// ch08_layer_bench: the layers of chapter 08's networks, timed beside PyTorch's equivalents.
// `make bench` runs it after chapter 07's program.
//
// Every layer chapter 08 adds, and the two its ResNet takes from earlier chapters (ReLU as a
// layer, GlobalAveragePooling2D), at batch 64 and the shapes after each stage of a ResNet
// twice as wide as the book's resnet_model() (32x28x28, 64x14x14, 128x7x7), or, for the
// augmentation layers, on the input images (1x28x28): BatchNormalization (training forward
// and backward, inference forward), Add and Concatenate of two inputs, ReLU, GlobalAveragePooling2D (forward and
// backward each), and RandomFlip, RandomTranslation and RandomCrop (training forward).
//
// Each figure is the median of --repeats passes after one warm-up, each pass timed alone, in a
// process that keeps the memory it frees, as support/app/layer_bench.hpp (shared with chapter
// 11's ch11_layer_bench) says. PyTorch's figures come from torch_layers.py beside this file,
// measured the same way.
//
// Run: ch08_layer_bench [--out DIR] [--repeats N] [--threads N] [--torch auto|on|off]
//                       [--python PATH]

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cnn/layers/augmentation.hpp"
#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/merge.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/relu.hpp"
#include "cnn/tensor/random.hpp"
#include "support/app/layer_bench.hpp"
#include "support/app/timing.hpp"

namespace {

using cnn::BenchRow;
using cnn::Tensor4;
using Shape4 = std::array<std::size_t, 4>;

constexpr std::size_t batch = 64;
// (C, H, W) after each stage of a ResNet with 32, 64 and 128 channels, twice the book's.
const std::vector<Shape4> stages = {{batch, 32, 28, 28}, {batch, 64, 14, 14}, {batch, 128, 7, 7}};
// The augmentation layers work on the input images.
const Shape4 images = {batch, 1, 28, 28};

// BatchNormalization at one shape: training forward and backward, inference forward.
std::vector<BenchRow> measure_batch_norm(const Shape4& shape, std::size_t repeats, cnn::Rng& rng) {
    cnn::BatchNormalization bn;
    cnn::BenchSubject s = cnn::bench_subject(bn, {cnn::normal_tensor(shape, rng)}, rng);
    const auto bn_row = [&](const std::string& pass, const std::string& key_pass, double ours) {
        return cnn::bench_row("BatchNormalization", "batch_norm", shape, 1, pass, key_pass, ours);
    };
    return {bn_row("forward (training)", "train_forward", cnn::time_forward(s, true, repeats)),
            bn_row("backward (training)", "train_backward", cnn::time_backward(s, true, repeats)),
            bn_row("forward (inference)", "infer_forward", cnn::time_forward(s, false, repeats))};
}

// A layer without weights that trains the same way it infers, at one shape: its forward and
// backward passes in training, on `inputs` inputs of that shape.
std::vector<BenchRow> measure_layer(cnn::Layer& layer, const std::string& name,
                                    const std::string& key, std::size_t inputs, const Shape4& shape,
                                    std::size_t repeats, cnn::Rng& rng) {
    std::vector<Tensor4> xs;
    for (std::size_t i = 0; i < inputs; ++i) {
        xs.push_back(cnn::normal_tensor(shape, rng));
    }
    cnn::BenchSubject s = cnn::bench_subject(layer, std::move(xs), rng);
    return {cnn::bench_row(name, key, shape, inputs, "forward", "forward",
                           cnn::time_forward(s, true, repeats)),
            cnn::bench_row(name, key, shape, inputs, "backward", "backward",
                           cnn::time_backward(s, true, repeats))};
}

// The residual join of chapter 08's ResNet, z = BN(f) + s: the backward pass of Add and of the
// BatchNormalization that reads Add's first gradient, timed together, as a graph model runs
// them. Add hands dz itself to both inputs, shared (as PyTorch's autograd does); the
// BatchNormalization, finding dz still held for s, writes its dx into new memory.
BenchRow measure_residual_join(const Shape4& shape, std::size_t repeats, cnn::Rng& rng) {
    cnn::BatchNormalization bn;
    cnn::Add add;
    const cnn::Shape chw = {shape[1], shape[2], shape[3]};
    bn.build_inputs({chw}, rng);
    add.build_inputs({chw, chw}, rng);
    const Tensor4 f = cnn::normal_tensor(shape, rng), s = cnn::normal_tensor(shape, rng);
    const Tensor4 dz = cnn::normal_tensor(shape, rng);
    const auto compute = cnn::InputGradient::compute;
    const double seconds = cnn::median_of(repeats, [&] {
        add.forward_inputs({bn.forward_inputs({f}, true, true), s}, true, true);
        auto dy = std::make_shared<Tensor4>(dz);
        std::vector<cnn::SharedTensor4> dx;
        return cnn::seconds_of([&] {
            dx = add.backward_inputs_shared(std::move(dy), false, compute);  // dz to BN(f), s
            dx[0] = std::move(bn.backward_inputs_shared(std::move(dx[0]), false, compute)[0]);
        });
    });
    return cnn::bench_row("Add + BatchNormalization", "residual_join", shape, 2, "backward",
                          "backward", seconds);
}

// Every layer that follows the ResNet's convolutions, at each of its shapes, layer by layer.
std::vector<BenchRow> measure_stages(std::size_t repeats, cnn::Rng& rng) {
    std::vector<BenchRow> rows;
    const auto append = [&](std::vector<BenchRow> more) {
        rows.insert(rows.end(), more.begin(), more.end());
    };
    for (const Shape4& shape : stages) {
        append(measure_batch_norm(shape, repeats, rng));
    }
    for (const Shape4& shape : stages) {
        cnn::Add add;
        append(measure_layer(add, "Add", "add", 2, shape, repeats, rng));
    }
    for (const Shape4& shape : stages) {
        rows.push_back(measure_residual_join(shape, repeats, rng));
    }
    for (const Shape4& shape : stages) {
        cnn::Concatenate concatenate;
        std::vector<BenchRow> more =
            measure_layer(concatenate, "Concatenate", "concatenate", 2, shape, repeats, rng);
        // PyTorch's dx are views into dy, strided as dy is; ours are contiguous tensors of
        // their own. The second row holds ours beside PyTorch's views made contiguous: what a
        // layer that reads contiguous memory has to do first.
        BenchRow contiguous = more.back();
        contiguous.pass = "backward, contiguous";
        contiguous.torch_key = fmt::format("concatenate.backward_contiguous.{}x{}x{}x{}", shape[0],
                                           shape[1], shape[2], shape[3]);
        more.push_back(contiguous);
        append(std::move(more));
    }
    for (const Shape4& shape : stages) {
        cnn::ReLU relu;
        append(measure_layer(relu, "ReLU", "relu", 1, shape, repeats, rng));
    }
    for (const Shape4& shape : stages) {
        cnn::GlobalAveragePooling2D gap;
        append(measure_layer(gap, "GlobalAveragePooling2D", "global_average_pooling", 1, shape,
                             repeats, rng));
    }
    return rows;
}

// The augmentation layers as chapter 08 uses them, in training, on the input images.
std::vector<BenchRow> measure_augmentation(std::size_t repeats, cnn::Rng& rng) {
    cnn::RandomFlip flip("horizontal");
    cnn::RandomTranslation translation(0.1f, 0.1f);  // up to 2 pixels each way
    cnn::RandomCrop crop(24, 24);
    const std::vector<std::tuple<cnn::Layer*, std::string, std::string>> layers = {
        {&flip, "RandomFlip", "random_flip"},
        {&translation, "RandomTranslation", "random_translation"},
        {&crop, "RandomCrop", "random_crop"}};
    std::vector<BenchRow> rows;
    for (const auto& [layer, name, key] : layers) {
        cnn::BenchSubject s = cnn::bench_subject(*layer, {cnn::normal_tensor(images, rng)}, rng);
        rows.push_back(cnn::bench_row(name, key, images, 1, "forward (training)", "train_forward",
                                      cnn::time_forward(s, true, repeats)));
    }
    return rows;
}

// What PyTorch computes for each layer in torch_layers.py, one line each, none wider than the
// table.
const std::vector<std::string> torch_equivalents = {
    "BatchNormalization: nn.BatchNorm2d, train() and eval();",
    "  backward: torch.autograd.grad of x, gamma and beta",
    "Add: a + b; its backward hands dy itself to both inputs, no copy",
    "Add + BatchNormalization: bn(f) + s, the residual join;",
    "  backward: torch.autograd.grad of f, s, gamma and beta",
    "Concatenate: torch.cat(dim=1); its backward returns views (slices) of dy, no copy;",
    "  'contiguous': then .contiguous() on each (ours: the backward figure again, already",
    "  contiguous)",
    "ReLU: torch.relu; backward: autograd's threshold_backward",
    "GlobalAveragePooling2D: x.mean(dim=(2, 3));",
    "  backward: autograd's, dy expanded over H and W and divided by H W",
    "RandomFlip(\"horizontal\"): torch.rand(N) < 0.5, then torch.where(chosen, x.flip(3), x)",
    "RandomTranslation(0.1, 0.1): F.pad by 2 pixels, then each image's shifted window",
    "  sliced out (torch.randint shifts)",
    "RandomCrop(24, 24): each image's window sliced out (torch.randint corners), torch.stack",
};

}  // namespace

int main(int argc, char** argv) {
    const auto measure = [](std::size_t repeats, cnn::Rng& rng) {
        std::vector<BenchRow> rows = measure_stages(repeats, rng);
        for (BenchRow& r : measure_augmentation(repeats, rng)) {
            rows.push_back(std::move(r));
        }
        return rows;
    };
    return cnn::run_layer_bench(
        argc, argv,
        {"ch08_layer_bench", "Chapter 08's layers, forward and backward, timed beside PyTorch's",
         batch, std::string(CNN_CHAPTER_DIR) + "/torch_layers.py",
         "08_deeper_networks/torch_layers.py", torch_equivalents, measure});
}
