// Tests of support/app/layer_bench.hpp: the keys that match PyTorch's figures to ours, the
// subjects timed, and the table both layer benchmarks print.
#include <array>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/relu.hpp"
#include "support/app/layer_bench.hpp"
#include "test_support.hpp"

using cnn::Tensor4;

namespace {

using cnn::testing::read_text;

// The table save_bench_table() writes, its printing to standard output kept out of the log.
std::string table_text(const std::vector<cnn::BenchRow>& rows, const cnn::PythonProcesses& torch,
                       const cnn::BenchTable& table) {
    cnn::testing::TempDir dir;
    std::ostringstream printed;
    std::streambuf* old = std::cout.rdbuf(printed.rdbuf());
    try {
        cnn::save_bench_table(rows, torch, table, dir / "table.txt");
    } catch (...) {
        std::cout.rdbuf(old);
        throw;
    }
    std::cout.rdbuf(old);
    const std::string saved = read_text(dir / "table.txt");
    CHECK(saved == printed.str());  // printed and saved alike
    return saved;
}

}  // namespace

TEST_CASE("bench_row: the shape as the table shows it, the key as the PyTorch scripts print it") {
    const cnn::BenchRow one =
        cnn::bench_row("ReLU", "relu", {64, 32, 28, 28}, 1, "forward", "forward", 0.002);
    CHECK(one.shape == "(64, 32, 28, 28)");
    CHECK(one.torch_key == "relu.forward.64x32x28x28");
    CHECK(one.ours == 0.002);
    const cnn::BenchRow two =
        cnn::bench_row("Add", "add", {8, 4, 2, 2}, 2, "backward (training)", "train_backward", 1);
    CHECK(two.shape == "2 x (8, 4, 2, 2)");
    CHECK(two.torch_key == "add.train_backward.8x4x2x2");
    CHECK(two.pass == "backward (training)");
}

TEST_CASE("keep_freed_memory_environment: glibc's tunables for PyTorch's process") {
    // (keep_freed_memory() itself is not called here: it would change malloc for every test
    // after this one, and test_resident_memory.cpp measures what malloc hands back.)
    const std::vector<std::string> env = cnn::keep_freed_memory_environment();
    REQUIRE(env.size() == 2);
    CHECK(env[0] == "MALLOC_MMAP_THRESHOLD_=33554432");
    CHECK(env[1] == "MALLOC_TRIM_THRESHOLD_=1073741824");
}

TEST_CASE("bench_subject: the layer built for its inputs, dy of the output's shape, timings on copies") {
    cnn::Rng rng(3);
    const Tensor4 x = cnn::normal_tensor({4, 3, 5, 6}, rng);
    CHECK(x.shape() == std::array<std::size_t, 4>{4, 3, 5, 6});
    CHECK(cnn::testing::max_abs_diff(x, Tensor4(xt::zeros<float>(x.shape()))) > 0.5);

    cnn::ReLU relu;
    cnn::BenchSubject s = cnn::bench_subject(relu, {x}, rng);
    CHECK(s.dy.shape() == x.shape());
    CHECK(cnn::time_forward(s, true, 3) >= 0.0);
    CHECK(cnn::time_backward(s, true, 3) >= 0.0);
    CHECK(s.xs.size() == 1);
    CHECK(cnn::testing::max_abs_diff(s.xs[0], x) == 0);  // the layer got copies

    // A layer whose output is a vector: dy is (N, D, 1, 1).
    cnn::GlobalAveragePooling2D gap;
    const cnn::BenchSubject v = cnn::bench_subject(gap, {x}, rng);
    CHECK(v.dy.shape() == std::array<std::size_t, 4>{4, 3, 1, 1});
    CHECK_THROWS_AS(cnn::time_forward(s, true, 0), std::invalid_argument);
}

TEST_CASE("combine_bench_runs: each row's median over the runs, with their range") {
    const auto run = [](double relu, double add) {
        return std::vector<cnn::BenchRow>{
            cnn::bench_row("ReLU", "relu", {2, 3, 4, 5}, 1, "forward", "forward", relu),
            cnn::bench_row("Add", "add", {2, 3, 4, 5}, 2, "forward", "forward", add)};
    };
    const std::vector<cnn::BenchRow> rows = cnn::combine_bench_runs({run(3, 7), run(1, 9), run(2, 8)});
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].ours == 2);  // 1, 2, 3: the middle one
    CHECK(rows[0].ours_low == 1);
    CHECK(rows[0].ours_high == 3);
    CHECK(rows[1].ours == 8);
    CHECK(rows[1].ours_low == 7);
    CHECK(rows[1].ours_high == 9);
    std::vector<cnn::BenchRow> stale = run(4, 5);
    stale[0].ours_low = 0;  // whatever a row brings, one run's range is its own figure
    stale[0].ours_high = 99;
    const cnn::BenchRow alone = cnn::combine_bench_runs({stale})[0];
    CHECK(alone.ours_low == 4);
    CHECK(alone.ours_high == 4);
    CHECK(cnn::combine_bench_runs({run(4, 5), run(6, 7)})[0].ours == 4);  // the lower middle
    CHECK_THROWS_AS(cnn::combine_bench_runs({}), std::invalid_argument);
    std::vector<cnn::BenchRow> shorter = run(1, 2);
    shorter.pop_back();
    CHECK_THROWS_WITH_AS(cnn::combine_bench_runs({run(1, 2), shorter}),
                         doctest::Contains("the runs differ in their rows"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::combine_bench_runs({{}, run(1, 2)}),
                         doctest::Contains("run 1 has 2, the first run 0"), std::invalid_argument);
    std::vector<cnn::BenchRow> renamed = run(1, 2);
    renamed[1].torch_key = "concatenate.forward.2x3x4x5";
    CHECK_THROWS_WITH_AS(cnn::combine_bench_runs({run(1, 2), renamed}),
                         doctest::Contains("row 1 is concatenate.forward.2x3x4x5 in one run"),
                         std::invalid_argument);
}

TEST_CASE("save_bench_table: ours beside PyTorch's best process with spreads and the ratio") {
    std::vector<cnn::BenchRow> rows = {
        cnn::bench_row("ReLU", "relu", {2, 3, 4, 5}, 1, "forward", "forward", 0.003)};
    rows[0].ours_low = 0.0027;  // our runs spread over 0.3 ms of 3: 10%
    rows[0].ours_high = 0.003;
    cnn::BenchTable table;
    table.batch = 2;
    table.repeats = 5;
    table.runs = 3;
    table.load = 0.25;
    table.script = "NN_chapter/torch_layers.py";
    table.torch_equivalents = {"ReLU: torch.relu"};

    // PyTorch's three processes: 2.5, 2 and 2.2 ms. The best is 2 ms, their spread 25% of it.
    cnn::PythonProcesses torch;
    for (const char* ms : {"0.0025", "0.002", "0.0022"}) {
        cnn::PythonFigures run;
        run.available = true;
        run.values = {{"torch_version", "1.13.0"}, {"relu.forward.2x3x4x5", ms}};
        torch.runs.push_back(run);
    }
    const std::string text = table_text(rows, torch, table);
    CHECK(text.find("load average when the measurements started: 0.25") != std::string::npos);
    CHECK(text.find("batch 2, ") != std::string::npos);
    CHECK(text.find("median of 5 passes") != std::string::npos);
    CHECK(text.find("ours: the median of 3 run(s); PyTorch: its best of 3 process(es)") !=
          std::string::npos);
    // 3 ms ours, 2 ms PyTorch's best: a ratio of 1.5.
    CHECK(text.find("ReLU                     (2, 3, 4, 5)             forward             "
                    "     3.000    10%     2.000    25%   1.50") != std::string::npos);
    CHECK(text.find("PyTorch 1.13.0, same threads and shapes (NN_chapter/torch_layers.py):\n"
                    "  ReLU: torch.relu\n") != std::string::npos);

    cnn::PythonProcesses missing = torch;
    missing.runs[1].values.erase("relu.forward.2x3x4x5");
    CHECK_THROWS_WITH_AS(table_text(rows, missing, table),
                         doctest::Contains("relu.forward.2x3x4x5"), std::runtime_error);

    cnn::PythonProcesses none;
    cnn::PythonFigures skipped;
    skipped.why_not = "the comparison was skipped (--torch off)";
    none.runs.push_back(skipped);
    const std::string alone = table_text(rows, none, table);
    CHECK(alone.find("3.000    10%         -      -      -") != std::string::npos);
    CHECK(alone.find("no PyTorch column: the comparison was skipped (--torch off)") !=
          std::string::npos);
}
