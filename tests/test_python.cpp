// Tests of support/app/python.hpp: reading "name value" lines, quoting for the shell, and a
// measuring script run for real, with /bin/sh standing in for Python so that the test needs
// neither Python nor PyTorch.
#include <fstream>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "support/app/python.hpp"
#include "test_support.hpp"

namespace {

// A script for /bin/sh that behaves as a measuring script: `--check` exits with `check_status`,
// any other call prints `output` and exits with `run_status`.
std::filesystem::path write_script(const cnn::testing::TempDir& dir, int check_status,
                                   const std::string& output, int run_status = 0) {
    const auto file = dir / "measure's.sh";  // a quote in the name, for shell_quote
    std::ofstream(file) << "if [ \"$1\" = --check ]; then exit " << check_status << "; fi\n"
                        << "echo \"args $#\"\nprintf '" << output << "'\nexit " << run_status
                        << "\n";
    return file;
}

}  // namespace

TEST_CASE("read_name_value_lines: one pair per line, blank lines skipped, a lone name refused") {
    const auto values = cnn::read_name_value_lines("torch_version 1.13.0a0\n\nconv1 0.0123\n");
    CHECK(values.size() == 2);
    CHECK(values.at("torch_version") == "1.13.0a0");
    CHECK(values.at("conv1") == "0.0123");
    CHECK_THROWS_WITH_AS(cnn::read_name_value_lines("conv1\n"),
                         "expected 'name value', got 'conv1'", std::runtime_error);
}

TEST_CASE("PythonFigures: figures as numbers, text as printed, a clear error for the rest") {
    cnn::PythonFigures f;
    f.values = {{"bn_forward", "2.5e-3"}, {"torch_version", "1.13.0a0"}};
    CHECK(f.has("bn_forward"));
    CHECK_FALSE(f.has("relu"));
    CHECK(f.figure("bn_forward") == doctest::Approx(0.0025));
    CHECK(f.text("torch_version") == "1.13.0a0");
    CHECK(f.text("relu").empty());
    CHECK_THROWS_WITH_AS(f.figure("torch_version"),
                         "the measuring script printed 'torch_version 1.13.0a0', expected a number",
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(f.figure("relu"), "the measuring script printed no figure 'relu'",
                         std::runtime_error);
}

TEST_CASE("run_python_figures: a figure that is no number names the script that printed it") {
    cnn::testing::TempDir dir;
    const cnn::PythonFigures f =
        cnn::run_python_figures({"/bin/sh", write_script(dir, 0, "conv1 fast\\n")}, {});
    CHECK_THROWS_WITH_AS(f.figure("conv1"), "measure's.sh printed 'conv1 fast', expected a number",
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(f.figure("relu"), "measure's.sh printed no figure 'relu'",
                         std::runtime_error);
}

TEST_CASE("shell_quote: one word whatever it holds") {
    CHECK(cnn::shell_quote("a b") == "'a b'");
    CHECK(cnn::shell_quote("it's") == "'it'\\''s'");
}

TEST_CASE("run_python_figures: runs the script with its arguments and reads its figures") {
    cnn::testing::TempDir dir;
    const cnn::PythonScript script{"/bin/sh", write_script(dir, 0, "relu 0.5\\n")};
    const cnn::PythonFigures f = cnn::run_python_figures(script, {"--repeats", "3", "two words"});
    REQUIRE(f.available);
    CHECK(f.why_not.empty());
    CHECK(f.figure("args") == 3);  // each argument one word
    CHECK(f.figure("relu") == 0.5);

    cnn::PythonScript with_environment = script;
    with_environment.environment = {"CNN_TEST_SETTING=7"};
    std::ofstream(dir / "env.sh") << "[ \"$1\" = --check ] || echo setting $CNN_TEST_SETTING\n";
    with_environment.script = dir / "env.sh";
    CHECK(cnn::run_python_figures(with_environment, {}).figure("setting") == 7);
}

TEST_CASE("run_python_figures: a script or interpreter that hangs is stopped at its time limit") {
    cnn::testing::TempDir dir;
    std::ofstream(dir / "hangs.sh") << "[ \"$1\" = --check ] || sleep 30\necho never 1\n";
    cnn::PythonScript hangs{"/bin/sh", dir / "hangs.sh"};
    hangs.time_limit_seconds = 1;
    CHECK_THROWS_WITH_AS(cnn::run_python_figures(hangs, {}),
                         doctest::Contains("hangs.sh did not finish within 1 s "
                                           "(PythonScript::time_limit_seconds); run it by hand "
                                           "to see why: "),
                         std::runtime_error);
    std::ofstream(dir / "check-hangs.sh") << "sleep 30\n";
    cnn::PythonScript check_hangs{"/bin/sh", dir / "check-hangs.sh"};
    check_hangs.check_time_limit_seconds = 1;
    const cnn::PythonFigures unanswered = cnn::run_python_figures(check_hangs, {});
    CHECK_FALSE(unanswered.available);
    CHECK(unanswered.why_not ==
          "/bin/sh did not answer check-hangs.sh --check within 1 s; "
          "check the interpreter (or pass --python) to compare");
}

TEST_CASE("run_python_figures: says why when --check fails, throws when the run fails") {
    cnn::testing::TempDir dir;
    const cnn::PythonFigures missing =
        cnn::run_python_figures({"/bin/sh", write_script(dir, 1, "")}, {});
    CHECK_FALSE(missing.available);
    CHECK(missing.why_not ==
          "PyTorch not found by /bin/sh; install Debian's python3-torch (or "
          "pass --python) to compare");
    const cnn::PythonFigures no_python =
        cnn::run_python_figures({"/nonexistent/python3", write_script(dir, 0, "")}, {});
    CHECK_FALSE(no_python.available);
    CHECK_THROWS_WITH_AS(cnn::run_python_figures({"/bin/sh", write_script(dir, 0, "", 2)}, {"-x"}),
                         doctest::Contains("measure's.sh failed; run it by hand to see why: "
                                           "'/bin/sh' '"),
                         std::runtime_error);
}

TEST_CASE("compare_with_python: --torch off and auto with --quick skip, on demands the script") {
    cnn::testing::TempDir dir;
    const cnn::PythonScript works{"/unused", write_script(dir, 0, "relu 0.5\\n")};
    cnn::PythonComparison c;
    c.python = "/bin/sh";  // replaces the script's interpreter
    for (const auto mode : {cnn::ComparisonMode::automatic, cnn::ComparisonMode::on}) {
        c.mode = mode;
        CHECK(cnn::compare_with_python(c, false, works, {}).figure("relu") == 0.5);
    }
    const cnn::PythonFigures quick_auto = [&] {
        c.mode = cnn::ComparisonMode::automatic;
        return cnn::compare_with_python(c, true, works, {});
    }();
    CHECK_FALSE(quick_auto.available);
    CHECK(quick_auto.why_not == "PyTorch comparison skipped (--quick; --torch on compares)");
    c.mode = cnn::ComparisonMode::on;  // --quick does not skip what was asked for
    CHECK(cnn::compare_with_python(c, true, works, {}).available);
    c.mode = cnn::ComparisonMode::off;
    const cnn::PythonFigures off = cnn::compare_with_python(c, false, works, {});
    CHECK_FALSE(off.available);
    CHECK(off.why_not == "PyTorch comparison skipped (--torch off)");

    const cnn::PythonScript missing{"/unused", write_script(dir, 1, "")};
    // A machine without PyTorch: figures without the comparison.
    c.mode = cnn::ComparisonMode::automatic;
    CHECK_FALSE(cnn::compare_with_python(c, false, missing, {}).available);
    c.mode = cnn::ComparisonMode::on;
    CHECK_THROWS_WITH_AS(cnn::compare_with_python(c, false, missing, {}),
                         "PyTorch not found by /bin/sh; install Debian's python3-torch (or "
                         "pass --python) to compare",
                         std::runtime_error);
}

TEST_CASE("add_comparison_options: --torch and --python, bad modes refused") {
    cnn::PythonComparison c;
    const auto add = [&c](cnn::Program& program) { cnn::add_comparison_options(program, c); };
    cnn::testing::TempDir out;
    const std::string folder = out.path().string();
    CHECK(cnn::testing::run_program(add, {"--torch", "on", "--python", "/opt/py", "--out", folder})
              .status == 0);
    CHECK(c.mode == cnn::ComparisonMode::on);
    CHECK(c.python == "/opt/py");
    CHECK(cnn::testing::run_program(add, {"--torch", "off", "--out", folder}).status == 0);
    CHECK(c.mode == cnn::ComparisonMode::off);
    CHECK(cnn::testing::run_program(add, {"--torch", "auto", "--out", folder}).status == 0);
    CHECK(c.mode == cnn::ComparisonMode::automatic);
    const cnn::testing::ProgramRun help = cnn::testing::run_program(add, {"--help"});
    CHECK(help.out.find("--torch TEXT:{auto,on,off}=auto") != std::string::npos);
    CHECK(help.out.find("--python TEXT=/opt/py") != std::string::npos);  // the value when added
    for (const std::string bad : {"maybe", "1"}) {  // only the names: not the enum's numbers
        CAPTURE(bad);
        const cnn::testing::ProgramRun ran =
            cnn::testing::run_program(add, {"--torch", bad, "--out", folder});
        CHECK(ran.status != 0);
        CHECK_FALSE(ran.body_ran);
        CHECK(ran.err.find("--torch: " + bad + " not in {auto,on,off}") != std::string::npos);
    }
}
