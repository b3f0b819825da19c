#include "support/app/layer_bench.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>

#include <malloc.h>

#include <fmt/format.h>

#include "cnn/fast/threads.hpp"
#include "support/app/program.hpp"
#include "support/app/timing.hpp"

namespace cnn {

namespace {

const std::size_t mmap_threshold = std::size_t{32} << 20;  // glibc's largest: 32 MiB
const std::size_t trim_threshold = std::size_t{1} << 30;

}  // namespace

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

Tensor4 normal_tensor(const std::array<std::size_t, 4>& shape, Rng& rng) {
    Tensor4 t = Tensor4::from_shape(shape);
    for (float& v : t) {
        v = rng.normal();
    }
    return t;
}

BenchSubject bench_subject(Layer& layer, std::vector<Tensor4> xs, Rng& rng) {
    std::vector<Shape> shapes;
    for (const Tensor4& x : xs) {
        shapes.push_back({x.shape(1), x.shape(2), x.shape(3)});
    }
    const Shape out = layer.build_inputs(shapes, rng);
    std::array<std::size_t, 4> dy_shape = {xs[0].shape(0), out[0], 1, 1};
    if (out.size() == 3) {
        dy_shape = {xs[0].shape(0), out[0], out[1], out[2]};
    }
    return {layer, std::move(xs), normal_tensor(dy_shape, rng)};
}

double time_forward(BenchSubject& s, bool training, std::size_t repeats) {
    return median_of(repeats, [&] {
        std::vector<Tensor4> xs = s.xs;
        Tensor4 y;
        return seconds_of([&] { y = s.layer.forward_inputs(std::move(xs), training, true); });
    });
}

double time_backward(BenchSubject& s, bool training, std::size_t repeats) {
    return median_of(repeats, [&] {
        s.layer.forward_inputs(s.xs, training, true);
        // As a graph model calls it: an Add hands dy itself to its inputs, shared.
        auto dy = std::make_shared<Tensor4>(s.dy);
        std::vector<SharedTensor4> dx;
        return seconds_of([&] {
            dx = s.layer.backward_inputs_shared(std::move(dy), false, InputGradient::compute);
        });
    });
}

std::string bench_shape_text(const std::array<std::size_t, 4>& s, std::size_t inputs) {
    const std::string one = fmt::format("({}, {}, {}, {})", s[0], s[1], s[2], s[3]);
    return inputs == 1 ? one : fmt::format("{} x {}", inputs, one);
}

BenchRow bench_row(const std::string& layer, const std::string& key,
                   const std::array<std::size_t, 4>& shape, std::size_t inputs,
                   const std::string& pass, const std::string& key_pass, double ours) {
    return {
        layer,
        bench_shape_text(shape, inputs),
        pass,
        ours,
        fmt::format("{}.{}.{}x{}x{}x{}", key, key_pass, shape[0], shape[1], shape[2], shape[3]),
        ours,
        ours};
}

bool large_blocks_on_huge_pages() {
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    return tunables != nullptr &&
           std::string(tunables).find("glibc.malloc.hugetlb=1") != std::string::npos;
}

double load_average() {
    std::ifstream in("/proc/loadavg");
    double load = -1.0;
    in >> load;
    return load;
}

std::vector<BenchRow> combine_bench_runs(const std::vector<std::vector<BenchRow>>& runs) {
    if (runs.empty()) {
        throw std::invalid_argument("combine_bench_runs: expected at least one run, got none");
    }
    std::vector<BenchRow> rows = runs.front();
    for (std::size_t r = 1; r < runs.size(); ++r) {
        if (runs[r].size() != rows.size()) {
            throw std::invalid_argument("combine_bench_runs: the runs differ in their rows (run " +
                                        std::to_string(r) + " has " +
                                        std::to_string(runs[r].size()) + ", the first run " +
                                        std::to_string(rows.size()) + ")");
        }
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::vector<double> figures;
        for (const std::vector<BenchRow>& run : runs) {
            if (run[i].torch_key != rows[i].torch_key) {
                throw std::invalid_argument("combine_bench_runs: the runs differ in their rows (row " +
                                            std::to_string(i) + " is " + run[i].torch_key +
                                            " in one run, " + rows[i].torch_key +
                                            " in the first)");
            }
            figures.push_back(run[i].ours);
        }
        rows[i].ours = median(figures);
        const auto [low, high] = std::minmax_element(figures.begin(), figures.end());
        rows[i].ours_low = *low;
        rows[i].ours_high = *high;
    }
    return rows;
}

namespace {

// (largest - smallest) / figure, in percent.
double spread(double low, double high, double figure) {
    return figure > 0 ? 100.0 * (high - low) / figure : 0.0;
}

}  // namespace

void save_bench_table(const std::vector<BenchRow>& rows, const PythonProcesses& torch,
                      const BenchTable& table, const std::filesystem::path& file) {
    Transcript text(file);
    text.line(fmt::format("load average when the measurements started: {:.2f} on {} cores",
                          table.load, std::thread::hardware_concurrency()));
    text.line(
        fmt::format("batch {}, {} threads; each figure the median of {} passes after a warm-up, "
                    "in ms;",
                    table.batch, thread_count(), table.repeats));
    text.line(fmt::format(
        "ours: the median of {} run(s); PyTorch: its best of {} process(es); spread: (largest - "
        "smallest) / the figure;",
        table.runs, torch.available() ? torch.runs.size() : 0));
    text.line(
        "ratio = ours / PyTorch's best (below 1: ours is faster); freed memory kept for reuse on "
        "both sides;");
    text.line(large_blocks_on_huge_pages()
                  ? "blocks over 32 MiB on huge pages on both sides (glibc.malloc.hugetlb=1)"
                  : "blocks over 32 MiB on 4 KiB pages, a page fault each (no "
                    "glibc.malloc.hugetlb=1)");
    text.line(fmt::format("{:<24} {:<24} {:<20} {:>9} {:>6} {:>9} {:>6} {:>6}", "layer", "shape",
                          "pass", "ours", "spread", "PyTorch", "spread", "ratio"));
    for (const BenchRow& r : rows) {
        std::string theirs = fmt::format("{:>9} {:>6} {:>6}", "-", "-", "-");
        if (torch.available()) {
            const auto [low, high] = torch.range(r.torch_key);
            theirs = fmt::format("{:>9.3f} {:>5.0f}% {:>6.2f}", low * 1e3,
                                 spread(low, high, low), r.ours / low);
        }
        text.line(fmt::format("{:<24} {:<24} {:<20} {:>9.3f} {:>5.0f}% {}", r.layer, r.shape,
                              r.pass, r.ours * 1e3, spread(r.ours_low, r.ours_high, r.ours),
                              theirs));
    }
    text.line();
    if (torch.available()) {
        text.line("PyTorch " + torch.text("torch_version") + ", same threads and shapes (" +
                  table.script + "):");
        for (const std::string& line : table.torch_equivalents) {
            text.line("  " + line);
        }
    } else {
        text.line("no PyTorch column: " + torch.why_not());
    }
    text.save();
}

PythonProcesses measure_torch_layers(const PythonComparison& comparison, bool quick,
                                     const std::filesystem::path& script, std::size_t batch,
                                     std::size_t repeats, std::size_t processes) {
    const PythonScript python{comparison.python, script, "PyTorch", "python3-torch",
                              keep_freed_memory_environment()};
    return compare_with_python_processes(
        comparison, quick, python,
        {"--threads", std::to_string(thread_count()), "--batch", std::to_string(batch), "--repeats",
         std::to_string(repeats)},
        processes);
}

int run_layer_bench(int argc, char** argv, const LayerBench& bench) {
    Program program(bench.program, bench.description, ReadsData::no);
    std::size_t threads = 2, repeats = 0;
    PythonComparison torch_comparison;
    program.option("--threads", threads, "Threads for ours and PyTorch's")
        .show_default()
        .within(1, 256);
    program
        .option("--repeats", repeats,
                "Passes per timing; the median counts (default 21, 1 with --quick)")
        .within(1, 1000);
    add_comparison_options(program, torch_comparison);

    return program.run(argc, argv, [&](const ProgramOptions& options) {
        set_thread_count(threads);
        keep_freed_memory();
        if (repeats == 0) {
            repeats = options.quick ? 1 : 21;
        }
        const double load = load_average();
        const std::size_t runs = options.quick ? 1 : bench_processes;
        // PyTorch first: `--torch on` without it fails at once.
        const PythonProcesses torch = measure_torch_layers(
            torch_comparison, options.quick, bench.script, bench.batch, repeats, runs);
        std::vector<std::vector<BenchRow>> ours;
        for (std::size_t run = 0; run < runs; ++run) {
            Rng rng(options.seed);  // the same inputs in every run
            ours.push_back(bench.measure(repeats, rng));
        }
        const BenchTable table{bench.batch, repeats, runs, load, bench.script_name,
                               bench.torch_equivalents};
        save_bench_table(combine_bench_runs(ours), torch, table,
                         options.out / (bench.program + ".txt"));
    });
}

}  // namespace cnn
