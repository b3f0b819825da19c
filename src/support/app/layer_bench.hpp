/// \file
/// \ingroup support
/// \brief Timing layers beside PyTorch's equivalents: what ch08_layer_bench and
/// ch11_layer_bench share.
///
/// Each benchmark builds the layers it times, times their passes here and prints one table,
/// ours beside PyTorch's, with their ratio. PyTorch's figures come from a script beside the
/// benchmark (python.hpp) that measures the same way:
///
/// - each figure is the median of `repeats` passes after one warm-up (median_of());
/// - a pass is timed alone: its inputs are copied beforehand and handed over by move, as a
///   model hands them on, and its output is dropped after the clock stops; a backward pass
///   follows an untimed forward pass (time_forward(), time_backward());
/// - both processes keep the memory they free (keep_freed_memory()): glibc's malloc hands large
///   freed blocks back to the kernel, and whichever side happened to get fresh pages from the
///   kernel for an output would be timed for the page faults, not for the layer; blocks too
///   large to keep go on huge pages where the environment asks for them
///   (large_blocks_on_huge_pages()).
///
///     cnn::keep_freed_memory();
///     cnn::BenchSubject s = cnn::bench_subject(layer, {cnn::normal_tensor(shape, rng)}, rng);
///     rows.push_back(cnn::bench_row("ReLU", "relu", shape, 1, "forward", "forward",
///                                   cnn::time_forward(s, true, repeats)));
///     cnn::save_bench_table(rows, torch, table, out / "bench.txt");
///
/// A benchmark's main() describes itself in a LayerBench and hands it to run_layer_bench(),
/// which gives every benchmark the same options, order of work and table.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cnn/layers/layer.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"
#include "support/app/python.hpp"

namespace cnn {

/// Keeps the memory this process frees for its own reuse: glibc's mmap threshold at its
/// largest (32 MiB) and a trim threshold of 1 GiB (mallopt). Without it glibc serves blocks of
/// 128 KiB and more with fresh pages from the kernel and gives them back when freed; touching a
/// fresh page costs a page fault (3 ms for one (64, 32, 28, 28) tensor on the machine that
/// wrote ch08_layer_bench, over ten times what a ReLU on it takes).
/// \throws std::runtime_error if mallopt refuses the thresholds
void keep_freed_memory();

/// The same settings as keep_freed_memory(), for another process's environment (the PyTorch
/// script's): glibc's MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ tunables.
/// \return NAME=value settings, for PythonScript::environment
std::vector<std::string> keep_freed_memory_environment();

/// A tensor of independent draws from the standard normal distribution.
/// \param shape (N, C, H, W)
/// \param rng the generator drawn from
/// \return the tensor
Tensor4 normal_tensor(const std::array<std::size_t, 4>& shape, Rng& rng);

/// One layer to time: built, with its inputs and the gradient of its output.
struct BenchSubject {
    Layer& layer;             ///< the layer, built for `xs`
    std::vector<Tensor4> xs;  ///< one input, or two for a merge layer
    Tensor4 dy;               ///< the gradient of the output (N, output shape...)
};

/// Builds `layer` for the inputs `xs` (their shapes without the batch axis), with a random dy
/// of the output's shape.
/// \param layer the layer timed; it must outlive the subject
/// \param xs its inputs, each (N, C, H, W)
/// \param rng draws the weights and dy
/// \return the layer, its inputs and dy
BenchSubject bench_subject(Layer& layer, std::vector<Tensor4> xs, Rng& rng);

/// The median seconds of one forward pass, on copies of the inputs made before the clock starts.
/// \param s the layer and its inputs
/// \param training whether the pass is a training one
/// \param repeats how many timed passes after the warm-up, at least 1
/// \return the median, in seconds
double time_forward(BenchSubject& s, bool training, std::size_t repeats);

/// The median seconds of one backward pass, each after an untimed forward pass, on a copy of dy
/// made before the clock starts, called as a graph model calls it
/// (Layer::backward_inputs_shared(): an Add shares dy with its inputs).
/// \param s the layer, its inputs and dy
/// \param training whether the forward pass before it is a training one
/// \param repeats how many timed passes after the warm-up, at least 1
/// \return the median, in seconds
double time_backward(BenchSubject& s, bool training, std::size_t repeats);

/// One line of a benchmark's table: our time, and the name of PyTorch's figure for the same
/// pass.
struct BenchRow {
    std::string layer;      ///< the layer, as the table names it
    std::string shape;      ///< its input's shape, as text (bench_shape_text())
    std::string pass;       ///< e.g. "forward", "backward (training)"
    double ours = 0;        ///< our median, in seconds
    std::string torch_key;  ///< LAYER.PASS.NxCxHxW, as the PyTorch script prints it
    /// The smallest of our figures over several runs (combine_bench_runs()); `ours` for one.
    double ours_low = 0;
    /// The largest of our figures over several runs; `ours` for one.
    double ours_high = 0;
};

/// Several runs of the same rows as one: each row's `ours` the median of its runs' figures
/// (the middle one for an odd count, the lower middle for an even one), with their range.
/// \param runs the runs, at least one, each with the same rows in the same order
/// \return the rows of runs[0], with `ours`, `ours_low` and `ours_high` over the runs
/// \throws std::invalid_argument when there are no runs or they differ in their rows
std::vector<BenchRow> combine_bench_runs(const std::vector<std::vector<BenchRow>>& runs);

/// An input shape as the table shows it: "(N, C, H, W)", or "2 x (N, C, H, W)" for two inputs.
/// \param shape (N, C, H, W)
/// \param inputs how many inputs of that shape
/// \return the text
std::string bench_shape_text(const std::array<std::size_t, 4>& shape, std::size_t inputs);

/// A row, with its PyTorch key KEY.KEY_PASS.NxCxHxW.
/// \param layer the layer's name in the table
/// \param key the layer's name in the script's keys
/// \param shape the input's shape (N, C, H, W)
/// \param inputs how many inputs of that shape
/// \param pass the pass's name in the table
/// \param key_pass the pass's name in the script's keys
/// \param ours our median, in seconds
/// \return the row
BenchRow bench_row(const std::string& layer, const std::string& key,
                   const std::array<std::size_t, 4>& shape, std::size_t inputs,
                   const std::string& pass, const std::string& key_pass, double ours);

/// Whether glibc maps the blocks it does not keep (over 32 MiB, keep_freed_memory()) on
/// transparent huge pages: GLIBC_TUNABLES holds glibc.malloc.hugetlb=1 (glibc 2.35 and later),
/// as `make bench` sets it for both sides. A block on 4 KiB pages costs a page fault per 4 KiB
/// the first time it is written: at the decoder's largest maps, (32, 32, 96, 96) floats
/// (37.7 MB), that took over half of an upsampling's time on the machine that wrote this.
/// Settings in GLIBC_TUNABLES apply from a program's start, so the environment sets them.
/// \return true when the setting is in the environment
bool large_blocks_on_huge_pages();

/// The machine's load: the 1-minute load average of /proc/loadavg. Above about half a busy
/// core per core, other programs share the cores, and threads wait for each other.
/// \return the load average, or -1 where there is none
double load_average();

/// What a table says around its rows.
struct BenchTable {
    std::size_t batch = 0;    ///< the batch size every shape starts with
    std::size_t repeats = 1;  ///< passes per median
    std::size_t runs = 1;     ///< our runs per row (combine_bench_runs())
    double load = -1.0;       ///< load_average() when the measurements started
    /// The PyTorch script, as the table names it, e.g. "08_deeper_networks/torch_layers.py".
    std::string script;
    /// What PyTorch computes for each layer, one line each, none wider than the table.
    std::vector<std::string> torch_equivalents;
};

/// Prints the table (and saves it to `file`): the load, the batch, threads, repeats and runs,
/// then per row the layer, shape and pass, our milliseconds (the median of our runs) and their
/// spread, PyTorch's (its best process) and their spread, and the ratio ours / PyTorch's best;
/// then PyTorch's version and equivalents, or why there is no PyTorch column. A spread is
/// (largest - smallest) / the figure shown, in percent.
/// \param rows the rows, in order
/// \param torch the script's figures from each process; each row's torch_key must be among
///        them when available
/// \param table the lines around the rows
/// \param file where the table is saved
/// \throws std::runtime_error when the script printed no figure for a row
void save_bench_table(const std::vector<BenchRow>& rows, const PythonProcesses& torch,
                      const BenchTable& table, const std::filesystem::path& file);

/// PyTorch's figures from `script` in `processes` separate processes, when `comparison` asks
/// for them (--torch on, or auto without --quick) and PyTorch is installed:
/// compare_with_python_processes() with the arguments
/// `--threads thread_count() --batch batch --repeats repeats`, in an environment that keeps
/// freed memory as keep_freed_memory() does.
/// \param comparison the mode and the interpreter
/// \param quick whether the run is a `--quick` one
/// \param script the PyTorch script
/// \param batch the batch size
/// \param repeats passes per median
/// \param processes how many processes
/// \return the figures of each process, or why there are none
/// \throws std::runtime_error as compare_with_python()
PythonProcesses measure_torch_layers(const PythonComparison& comparison, bool quick,
                                     const std::filesystem::path& script, std::size_t batch,
                                     std::size_t repeats, std::size_t processes);

/// How many PyTorch processes, and runs of ours, a benchmark takes without --quick: PyTorch's
/// speed can differ from process to process (python.hpp's PythonProcesses), so one proves
/// nothing.
constexpr std::size_t bench_processes = 3;

/// One benchmark program of layers beside PyTorch: what its main() hands run_layer_bench().
struct LayerBench {
    std::string program;      ///< e.g. "ch11_layer_bench"; the table is saved as PROGRAM.txt
    std::string description;  ///< one line for --help
    std::size_t batch = 0;    ///< the batch size every shape starts with
    std::filesystem::path script;  ///< the PyTorch script that measures PyTorch's figures
    /// The script as the table names it, e.g. "08_deeper_networks/torch_layers.py".
    std::string script_name;
    /// What PyTorch computes for each layer, one line each, none wider than the table.
    std::vector<std::string> torch_equivalents;
    /// Times our layers: the rows, in order, each figure a median of `repeats` passes.
    std::function<std::vector<BenchRow>(std::size_t repeats, Rng& rng)> measure;
};

/// The whole benchmark program: its options (--threads, default 2; --repeats, default 21 or 1
/// with --quick; --torch and --python, add_comparison_options()), then keep_freed_memory(), the
/// load average, PyTorch's figures from bench_processes separate processes (first, so that
/// `--torch on` without PyTorch fails at once), ours from bench_processes runs
/// (combine_bench_runs()), and the table saved as PROGRAM.txt in --out. With --quick, one
/// process and one run.
/// \param argc as main() receives it
/// \param argv as main() receives it
/// \param bench the benchmark
/// \return the exit code: 0, or 1 after a clear error (Program::run())
int run_layer_bench(int argc, char** argv, const LayerBench& bench);

}  // namespace cnn
