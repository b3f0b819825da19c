// ch11_layer_bench: the layers chapter 11's U-Net decoder grows its maps with, timed beside
// PyTorch's equivalents. `make bench` runs it after ch08_layer_bench.
//
// At batch 32, on the inputs of the decoder's three steps (128x12x12 -> 64x24x24,
// 64x24x24 -> 32x48x48, 32x48x48 -> 16x96x96), the forward and backward pass of
//
// - UpSampling2D(2), "nearest" and "bilinear" (PyTorch: F.interpolate with scale_factor 2,
//   mode "nearest", and "bilinear" with align_corners=False, the same half-pixel centres);
// - Conv2DTranspose(C/2, 2, strides=2), the decoder's own (PyTorch: nn.ConvTranspose2d with
//   kernel 2 and stride 2);
// - Conv2DTranspose(C/2, 3, strides=2, padding="same") (PyTorch: nn.ConvTranspose2d with
//   kernel 3, stride 2, padding=1 and output_padding=1, which gives the same size, 2H x 2W,
//   for the same work; the window it keeps of the (2H + 1) x (2W + 1) stamps sits one row and
//   column lower: Keras's 'same' drops the last row and column, PyTorch's padding=1 the first,
//   and output_padding=1 adds one back at the end).
//
// The convolutions run chapter 07's fast engine (fast_conv2d_engine()); their backward pass
// computes dx, dW and db, PyTorch's autograd.grad the same three. Each figure is the median of
// --repeats passes after one warm-up, each pass timed alone, in a process that keeps the memory
// it frees, as support/app/layer_bench.hpp says; torch_layers.py beside this file measures
// PyTorch's the same way, with the same number of threads.
//
// Run: ch11_layer_bench [--out DIR] [--repeats N] [--threads N] [--torch auto|on|off]
//                       [--python PATH]
// It prints, and saves as ch11_layer_bench.txt, the load average, then one row per layer, input
// shape and pass: our milliseconds, PyTorch's, and their ratio (below 1: ours is faster), then
// PyTorch's version and what it computes for each layer.

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cnn/fast/engines.hpp"
#include "cnn/layers/conv2d_transpose.hpp"
#include "cnn/layers/upsampling2d.hpp"
#include "cnn/tensor/random.hpp"
#include "support/app/layer_bench.hpp"

namespace {

using cnn::BenchRow;
using Shape4 = std::array<std::size_t, 4>;

constexpr std::size_t batch = 32;
// The inputs of the U-Net decoder's three steps; each step halves the channels and doubles H
// and W.
const std::vector<Shape4> decoder_inputs = {
    {batch, 128, 12, 12}, {batch, 64, 24, 24}, {batch, 32, 48, 48}};

// One layer's forward and backward pass in training, at one input shape.
std::vector<BenchRow> measure(cnn::Layer& layer, const std::string& name, const std::string& key,
                              const Shape4& shape, std::size_t repeats, cnn::Rng& rng) {
    cnn::BenchSubject s = cnn::bench_subject(layer, {cnn::normal_tensor(shape, rng)}, rng);
    return {cnn::bench_row(name, key, shape, 1, "forward", "forward",
                           cnn::time_forward(s, true, repeats)),
            cnn::bench_row(name, key, shape, 1, "backward", "backward",
                           cnn::time_backward(s, true, repeats))};
}

std::vector<BenchRow> measure_all(std::size_t repeats, cnn::Rng& rng) {
    std::vector<BenchRow> rows;
    const auto append = [&](std::vector<BenchRow> more) {
        rows.insert(rows.end(), more.begin(), more.end());
    };
    for (const Shape4& shape : decoder_inputs) {
        cnn::UpSampling2D nearest(2);
        append(measure(nearest, "UpSampling2D nearest", "upsample_nearest", shape, repeats, rng));
    }
    for (const Shape4& shape : decoder_inputs) {
        cnn::UpSampling2D bilinear(2);
        bilinear.interpolation("bilinear");
        append(
            measure(bilinear, "UpSampling2D bilinear", "upsample_bilinear", shape, repeats, rng));
    }
    for (const std::size_t kernel : {2, 3}) {
        for (const Shape4& shape : decoder_inputs) {
            // 'same' for the 3x3 kernel; the 2x2 one is the same either way (no overhang).
            cnn::Conv2DTranspose layer = cnn::Conv2DTranspose(shape[1] / 2, kernel)
                                             .strides(2)
                                             .padding(kernel == 2 ? "valid" : "same")
                                             .engine(cnn::fast_conv2d_engine());
            append(measure(layer, fmt::format("Conv2DTranspose {0}x{0} s2", kernel),
                           fmt::format("conv_transpose_{0}x{0}", kernel), shape, repeats, rng));
        }
    }
    return rows;
}

// What PyTorch computes for each layer in torch_layers.py, one line each, none wider than the
// table.
const std::vector<std::string> torch_equivalents = {
    "UpSampling2D nearest: F.interpolate(x, scale_factor=2, mode=\"nearest\")",
    "UpSampling2D bilinear: F.interpolate(x, scale_factor=2, mode=\"bilinear\",",
    "  align_corners=False)",
    "Conv2DTranspose 2x2 s2: nn.ConvTranspose2d(C, C / 2, kernel_size=2, stride=2)",
    "Conv2DTranspose 3x3 s2: ours with padding 'same'; nn.ConvTranspose2d(C, C / 2,",
    "  kernel_size=3, stride=2, padding=1, output_padding=1): the same size 2H x 2W, its",
    "  window one row and column lower (Keras's 'same' crops the last, PyTorch the first)",
    "backward: torch.autograd.grad of x (and of the weights and biases), for a given dy",
};

}  // namespace

int main(int argc, char** argv) {
    return cnn::run_layer_bench(
        argc, argv,
        {"ch11_layer_bench", "Chapter 11's upsampling layers, forward and backward, timed beside "
                             "PyTorch's",
         batch, std::string(CNN_CHAPTER_DIR) + "/torch_layers.py",
         "11_semantic_segmentation/torch_layers.py", torch_equivalents, measure_all});
}
