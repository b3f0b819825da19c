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
// Each figure is the median of --repeats passes after one warm-up. A pass is timed alone: its
// inputs are copied beforehand and handed over by move, as a model hands them on, and its
// output is dropped after the clock stops; a backward pass follows an untimed forward pass.
// PyTorch's figures come from torch_layers.py beside this file, measured the same way.
//
// Both processes keep the memory they free (keep_freed_memory()): glibc's malloc hands large
// freed blocks back to the kernel, and whichever side happened to get fresh pages from the
// kernel for an output would be timed for the page faults, not for the layer.
//
// Run: ch08_layer_bench [--out DIR] [--repeats N] [--threads N] [--torch auto|on|off]
//                       [--python PATH]

#include <array>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <malloc.h>

#include <fmt/format.h>

#include "cnn/fast/threads.hpp"
#include "cnn/layers/augmentation.hpp"
#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/merge.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/relu.hpp"
#include "cnn/tensor/random.hpp"
#include "support/app/program.hpp"
#include "support/app/python.hpp"
#include "support/app/timing.hpp"

namespace {

using cnn::Tensor4;
using Shape4 = std::array<std::size_t, 4>;

constexpr std::size_t batch = 64;
// (C, H, W) after each stage of a ResNet with 32, 64 and 128 channels, twice the book's.
const std::vector<Shape4> stages = {{batch, 32, 28, 28}, {batch, 64, 14, 14}, {batch, 128, 7, 7}};
// The augmentation layers work on the input images.
const Shape4 images = {batch, 1, 28, 28};

// glibc's malloc serves blocks of 128 KiB and more (a 6.4 MB tensor) with fresh pages from the
// kernel, and gives them back when they are freed. Touching a fresh page costs a page fault:
// on the machine that wrote this, 3 ms for one (64, 32, 28, 28) tensor, over ten times what a
// ReLU on it takes. These limits keep freed blocks in the process for reuse, in this process
// (mallopt) and in PyTorch's (the same settings in its environment).
const std::size_t mmap_threshold = std::size_t{32} << 20;  // glibc's largest: 32 MiB
const std::size_t trim_threshold = std::size_t{1} << 30;

void keep_freed_memory() {
    if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold)) != 1 ||
        mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold)) != 1) {
        throw std::runtime_error("mallopt refused the thresholds that keep freed memory");
    }
}

std::vector<std::string> keep_freed_memory_environment() {
    return {fmt::format("MALLOC_MMAP_THRESHOLD_={}", mmap_threshold),
            fmt::format("MALLOC_TRIM_THRESHOLD_={}", trim_threshold)};
}

Tensor4 random_tensor(const Shape4& shape, cnn::Rng& rng) {
    Tensor4 t = Tensor4::from_shape(shape);
    for (float& v : t) {
        v = rng.normal();
    }
    return t;
}

// ---------------------------------------------------------------------------------------------
// Timing one layer
// ---------------------------------------------------------------------------------------------

// One layer to time: built, with its inputs and the gradient of its output.
struct Subject {
    cnn::Layer& layer;
    std::vector<Tensor4> xs;  // one input, or two for a merge layer
    Tensor4 dy;               // (N, output shape...)
};

// Builds `layer` for the inputs `xs` (their shapes without the batch axis), with a random dy
// of the output's shape.
Subject subject(cnn::Layer& layer, std::vector<Tensor4> xs, cnn::Rng& rng) {
    std::vector<cnn::Shape> shapes;
    for (const Tensor4& x : xs) {
        shapes.push_back({x.shape(1), x.shape(2), x.shape(3)});
    }
    const cnn::Shape out = layer.build_inputs(shapes, rng);
    Shape4 dy_shape = {xs[0].shape(0), out[0], 1, 1};
    if (out.size() == 3) {
        dy_shape = {xs[0].shape(0), out[0], out[1], out[2]};
    }
    return {layer, std::move(xs), random_tensor(dy_shape, rng)};
}

// The median seconds of one forward pass, on copies of the inputs made before the clock starts.
double time_forward(Subject& s, bool training, std::size_t repeats) {
    return cnn::median_of(repeats, [&] {
        std::vector<Tensor4> xs = s.xs;
        Tensor4 y;
        return cnn::seconds_of([&] { y = s.layer.forward_inputs(std::move(xs), training, true); });
    });
}

// The median seconds of one backward pass, each after an untimed forward pass.
double time_backward(Subject& s, bool training, std::size_t repeats) {
    return cnn::median_of(repeats, [&] {
        s.layer.forward_inputs(s.xs, training, true);
        Tensor4 dy = s.dy;
        std::vector<Tensor4> dx;
        return cnn::seconds_of([&] { dx = s.layer.backward_inputs(std::move(dy), false); });
    });
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

// One line of the table: our time, and the name of PyTorch's figure for the same pass.
struct Row {
    std::string layer, shape, pass;
    double ours = 0;        // seconds
    std::string torch_key;  // LAYER.PASS.NxCxHxW, as torch_layers.py prints it
};

std::string shape_text(const Shape4& s, std::size_t inputs) {
    const std::string one = fmt::format("({}, {}, {}, {})", s[0], s[1], s[2], s[3]);
    return inputs == 1 ? one : fmt::format("{} x {}", inputs, one);
}

Row row(const std::string& layer, const std::string& key, const Shape4& shape, std::size_t inputs,
        const std::string& pass, const std::string& key_pass, double ours) {
    return {
        layer, shape_text(shape, inputs), pass, ours,
        fmt::format("{}.{}.{}x{}x{}x{}", key, key_pass, shape[0], shape[1], shape[2], shape[3])};
}

// BatchNormalization at one shape: training forward and backward, inference forward.
std::vector<Row> measure_batch_norm(const Shape4& shape, std::size_t repeats, cnn::Rng& rng) {
    cnn::BatchNormalization bn;
    Subject s = subject(bn, {random_tensor(shape, rng)}, rng);
    const auto bn_row = [&](const std::string& pass, const std::string& key_pass, double ours) {
        return row("BatchNormalization", "batch_norm", shape, 1, pass, key_pass, ours);
    };
    return {bn_row("forward (training)", "train_forward", time_forward(s, true, repeats)),
            bn_row("backward (training)", "train_backward", time_backward(s, true, repeats)),
            bn_row("forward (inference)", "infer_forward", time_forward(s, false, repeats))};
}

// A layer without weights that trains the same way it infers, at one shape: its forward and
// backward passes in training, on `inputs` inputs of that shape.
std::vector<Row> measure_layer(cnn::Layer& layer, const std::string& name, const std::string& key,
                               std::size_t inputs, const Shape4& shape, std::size_t repeats,
                               cnn::Rng& rng) {
    std::vector<Tensor4> xs;
    for (std::size_t i = 0; i < inputs; ++i) {
        xs.push_back(random_tensor(shape, rng));
    }
    Subject s = subject(layer, std::move(xs), rng);
    return {row(name, key, shape, inputs, "forward", "forward", time_forward(s, true, repeats)),
            row(name, key, shape, inputs, "backward", "backward", time_backward(s, true, repeats))};
}

// The residual join of chapter 08's ResNet, z = BN(f) + s: the backward pass of Add and of the
// BatchNormalization that reads Add's first gradient, timed together. Timed alone, Add is
// bookkeeping in PyTorch, which hands the same tensor to both inputs because its layers write
// every result into new memory; ours write over the gradient they are handed, so Add gives one
// input a copy. The pair shows what that copy costs where the ResNet pays it.
Row measure_residual_join(const Shape4& shape, std::size_t repeats, cnn::Rng& rng) {
    cnn::BatchNormalization bn;
    cnn::Add add;
    const cnn::Shape chw = {shape[1], shape[2], shape[3]};
    bn.build_inputs({chw}, rng);
    add.build_inputs({chw, chw}, rng);
    const Tensor4 f = random_tensor(shape, rng), s = random_tensor(shape, rng);
    const Tensor4 dz = random_tensor(shape, rng);
    const double seconds = cnn::median_of(repeats, [&] {
        add.forward_inputs({bn.forward_inputs({f}, true, true), s}, true, true);
        Tensor4 dy = dz;
        std::vector<Tensor4> dx;
        return cnn::seconds_of([&] {
            dx = add.backward_inputs(std::move(dy), false);       // dz to BN(f) and to s
            dx[0] = std::move(bn.backward_inputs(std::move(dx[0]), false)[0]);  // to f
        });
    });
    return row("Add + BatchNormalization", "residual_join", shape, 2, "backward", "backward",
               seconds);
}

// Every layer that follows the ResNet's convolutions, at each of its shapes, layer by layer.
std::vector<Row> measure_stages(std::size_t repeats, cnn::Rng& rng) {
    std::vector<Row> rows;
    const auto append = [&](std::vector<Row> more) {
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
        std::vector<Row> more =
            measure_layer(concatenate, "Concatenate", "concatenate", 2, shape, repeats, rng);
        // PyTorch's dx are views into dy, strided as dy is; ours are contiguous tensors of
        // their own. The second row holds ours beside PyTorch's views made contiguous: what a
        // layer that reads contiguous memory has to do first.
        Row contiguous = more.back();
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
std::vector<Row> measure_augmentation(std::size_t repeats, cnn::Rng& rng) {
    cnn::RandomFlip flip("horizontal");
    cnn::RandomTranslation translation(0.1f, 0.1f);  // up to 2 pixels each way
    cnn::RandomCrop crop(24, 24);
    const std::vector<std::tuple<cnn::Layer*, std::string, std::string>> layers = {
        {&flip, "RandomFlip", "random_flip"},
        {&translation, "RandomTranslation", "random_translation"},
        {&crop, "RandomCrop", "random_crop"}};
    std::vector<Row> rows;
    for (const auto& [layer, name, key] : layers) {
        Subject s = subject(*layer, {random_tensor(images, rng)}, rng);
        rows.push_back(row(name, key, images, 1, "forward (training)", "train_forward",
                           time_forward(s, true, repeats)));
    }
    return rows;
}

// What PyTorch computes for each layer in torch_layers.py, one line each, none wider than the
// table.
const char* const torch_equivalents[] = {
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

// The machine's load when the measurements started: the 1-minute load average of
// /proc/loadavg, or -1 where there is none. Above about half a busy core per core, other
// programs share the cores, and threads wait for each other.
double load_average() {
    std::ifstream in("/proc/loadavg");
    double load = -1.0;
    in >> load;
    return load;
}

void save_table(const std::vector<Row>& rows, const cnn::PythonFigures& torch, std::size_t repeats,
                double load, const std::filesystem::path& file) {
    cnn::Transcript text(file);
    text.line(fmt::format("load average when the measurements started: {:.2f} on {} cores", load,
                          std::thread::hardware_concurrency()));
    text.line(
        fmt::format("batch {}, {} threads; each figure the median of {} passes after a warm-up, "
                    "in ms;",
                    batch, cnn::thread_count(), repeats));
    text.line("ratio = ours / PyTorch (below 1: ours is faster); freed memory kept for reuse on "
              "both sides");
    text.line(fmt::format("{:<24} {:<24} {:<20} {:>9} {:>9} {:>6}", "layer", "shape", "pass",
                          "ours", "PyTorch", "ratio"));
    for (const Row& r : rows) {
        std::string theirs = fmt::format("{:>9} {:>6}", "-", "-");
        if (torch.available) {
            const double t = torch.figure(r.torch_key);
            theirs = fmt::format("{:>9.3f} {:>6.2f}", t * 1e3, r.ours / t);
        }
        text.line(fmt::format("{:<24} {:<24} {:<20} {:>9.3f} {}", r.layer, r.shape, r.pass,
                              r.ours * 1e3, theirs));
    }
    text.line();
    if (torch.available) {
        text.line("PyTorch " + torch.text("torch_version") +
                  ", same threads and shapes (08_deeper_networks/torch_layers.py):");
        for (const char* line : torch_equivalents) {
            text.line(std::string("  ") + line);
        }
    } else {
        text.line("no PyTorch column: " + torch.why_not);
    }
    text.save();
}

// PyTorch's figures, when `comparison` asks for them (--torch on, or auto without --quick) and
// it is installed.
cnn::PythonFigures measure_torch(const cnn::PythonComparison& comparison, bool quick,
                                 std::size_t repeats) {
    const cnn::PythonScript script{comparison.python,
                                   std::string(CNN_CHAPTER_DIR) + "/torch_layers.py", "PyTorch",
                                   "python3-torch", keep_freed_memory_environment()};
    return cnn::compare_with_python(comparison, quick, script,
                                    {"--threads", std::to_string(cnn::thread_count()), "--batch",
                                     std::to_string(batch), "--repeats", std::to_string(repeats)});
}

}  // namespace

int main(int argc, char** argv) {
    cnn::Program program("ch08_layer_bench",
                         "Chapter 08's layers, forward and backward, timed beside PyTorch's",
                         cnn::ReadsData::no);
    std::size_t threads = 2, repeats = 0;
    cnn::PythonComparison torch_comparison;
    program.cli()
        .add_option("--threads", threads, "Threads for ours and PyTorch's")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    program.cli()
        .add_option("--repeats", repeats,
                    "Passes per timing; the median counts (default 21, 1 with --quick)")
        ->check(CLI::Range(1, 1000));
    cnn::add_comparison_options(program.cli(), torch_comparison);

    return program.run(argc, argv, [&](const cnn::ProgramOptions& options) {
        cnn::set_thread_count(threads);
        keep_freed_memory();
        if (repeats == 0) {
            repeats = options.quick ? 1 : 21;
        }
        const double load = load_average();
        // PyTorch first: `--torch on` without it fails at once.
        const cnn::PythonFigures torch = measure_torch(torch_comparison, options.quick, repeats);
        cnn::Rng rng(options.seed);
        std::vector<Row> rows = measure_stages(repeats, rng);
        for (Row& r : measure_augmentation(repeats, rng)) {
            rows.push_back(std::move(r));
        }
        save_table(rows, torch, repeats, load, options.out / "ch08_layer_bench.txt");
    });
}
