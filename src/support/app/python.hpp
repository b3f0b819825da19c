/// \file
/// \ingroup support
/// \brief Figures measured by a Python script: run it, read its "name value" lines.
///
/// The benchmarks compare this library with PyTorch on the same machine
/// (\ref chapter07 "chapter 07's" program, ch08_layer_bench). The PyTorch half of each
/// comparison is a Python script beside the program that prints one `name value` pair per line:
///
///     torch_version 1.13.0
///     conv1 0.0123
///
/// A script answers `--check` with exit status 0 when what it needs can be imported, so that
/// a machine without PyTorch gets a sentence saying so (PythonFigures::why_not) instead of an
/// error, and the benchmark prints its own figures alone.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace cnn {

class Program;  // support/app/program.hpp

/// A measuring script and what it needs.
struct PythonScript {
    std::string python = "/usr/bin/python3";  ///< the interpreter
    std::filesystem::path script;             ///< the .py file
    std::string needs = "PyTorch";            ///< what `--check` looks for, for the message
    std::string package = "python3-torch";    ///< the Debian package that provides it
    /// NAME=value settings for the script's environment, e.g. glibc's MALLOC_ tunables.
    std::vector<std::string> environment = {};
    /// How long the measuring run may take before it is stopped (a hanging interpreter must
    /// not hang the program that waits for it): 30 minutes, far more than `make bench` needs.
    unsigned time_limit_seconds = 1800;
    /// How long `--check` may take: an import of PyTorch takes seconds.
    unsigned check_time_limit_seconds = 120;
};

/// What a script printed, or why it did not run.
struct PythonFigures {
    bool available = false;  ///< the script ran and its output was read
    std::string why_not;     ///< when not available: why, as a sentence for the reader
    /// Every "name value" pair the script printed, values as printed (a version such as
    /// "1.13.0a0" is no number).
    std::map<std::string, std::string> values;
    /// Who printed them, for messages: the script's file name once run_python_figures() ran it.
    std::string source = "the measuring script";

    /// Whether the script printed `name`.
    /// \param name the figure's name
    /// \return true if it did
    bool has(const std::string& name) const { return values.count(name) > 0; }
    /// The value of `name` as a number; throws std::runtime_error, naming it and `source`, if
    /// the script printed no such line or its value is not a number.
    /// \param name the figure's name
    /// \return its value
    double figure(const std::string& name) const;
    /// The value of `name` as printed, or "" if the script printed no such line.
    /// \param name the figure's name
    /// \return the value's text
    std::string text(const std::string& name) const;
};

/// `s` in single quotes for a POSIX shell, every quote inside escaped: one word, whatever it
/// holds.
/// \param s any text
/// \return the quoted word
std::string shell_quote(const std::string& s);

/// The "name value" pairs of `output`, one per line, separated by blanks; a line with no value
/// throws std::runtime_error.
/// \param output the script's standard output
/// \return the value of each name (a name printed twice keeps its last value)
std::map<std::string, std::string> read_name_value_lines(const std::string& output);

/// Runs `python script --check`. If that fails, returns figures that are not available, with
/// why_not "<needs> not found by <python>; install Debian's <package> (or pass --python) to
/// compare" (or, if it did not answer within check_time_limit_seconds, a sentence saying so).
/// Otherwise runs `python script arguments...` (each argument one word), with `environment`
/// added to its environment, and returns what it printed; throws std::runtime_error, with the
/// command to run by hand, if it fails or is stopped at time_limit_seconds. Both run under
/// coreutils' `timeout`. The script's standard error is discarded.
/// \param script the interpreter, the script, its environment and time limits
/// \param arguments passed to the script, each one word
/// \return the figures, or why there are none
PythonFigures run_python_figures(const PythonScript& script,
                                 const std::vector<std::string>& arguments);

/// Runs a tool that must succeed, such as \ref chapter12 "chapter 12's" PyTorch and ONNX
/// Runtime scripts: `command` (each element one word, e.g. {"/usr/bin/python3", "script.py",
/// "predict", ...}) under coreutils' `timeout`, with `environment` added, its standard error
/// passed through to ours so that its own error message reaches the reader, and its standard
/// output read as "name value" lines.
/// \param command the program and its arguments
/// \param seconds how long it may run before it is stopped
/// \param environment NAME=value settings added to its environment
/// \return what it printed (PythonFigures::source is the script's file name)
/// \throws std::runtime_error, with the command, when it fails, is stopped, or prints a line
///         that is not "name value"
PythonFigures run_tool(const std::vector<std::string>& command, unsigned seconds,
                       const std::vector<std::string>& environment = {});

/// When a benchmark compares with its Python script: `--torch auto|on|off`.
enum class ComparisonMode {
    automatic,  ///< "auto": when the script's needs are installed, and not with --quick
    on,         ///< "on": always; a script that cannot run is an error
    off,        ///< "off": never
};

/// Whether, and with which interpreter, a benchmark compares with its Python script: the
/// `--torch auto|on|off` and `--python PATH` options every comparing program offers.
struct PythonComparison {
    ComparisonMode mode = ComparisonMode::automatic;  ///< when to compare
    std::string python = "/usr/bin/python3";         ///< the interpreter that has torch
};

/// Adds --torch and --python to `program`, writing into `comparison`.
/// \param program the program whose command line offers them
/// \param comparison set when the command line is parsed
void add_comparison_options(Program& program, PythonComparison& comparison);

/// run_python_figures(script with comparison.python, arguments) when comparison.mode asks for
/// it; otherwise figures that are not available, why_not saying the comparison was skipped.
/// With ComparisonMode::on, a script that cannot run throws std::runtime_error with its why_not.
/// \param comparison the mode and the interpreter
/// \param quick whether the run is a `--quick` one (ComparisonMode::automatic then skips the
///        comparison)
/// \param script the script; its interpreter is replaced by comparison.python
/// \param arguments passed to the script
/// \return the figures, or why there are none
PythonFigures compare_with_python(const PythonComparison& comparison, bool quick,
                                  PythonScript script, const std::vector<std::string>& arguments);

/// A script's figures from several processes. A benchmark's speed can differ from process to
/// process while the runs inside one process agree with each other (PyTorch's seed-model
/// training ran anywhere from 229 to 462 images/s on the machine that wrote \ref chapter07
/// "chapter 07"): one process proves nothing. So each figure is reported as the best
/// process's, with the range of all of them.
struct PythonProcesses {
    /// One per process; runs[0] says why when none ran.
    std::vector<PythonFigures> runs;

    /// Whether the script ran.
    /// \return true when runs[0] is available
    bool available() const { return !runs.empty() && runs.front().available; }
    /// Whether the script printed `name`.
    /// \param name the figure's name
    /// \return true if the first process printed it
    bool has(const std::string& name) const { return available() && runs.front().has(name); }
    /// Why there are no figures.
    /// \return runs[0]'s why_not, or "" when nothing was asked
    std::string why_not() const { return runs.empty() ? std::string() : runs.front().why_not; }
    /// A text value as the first process printed it, such as "torch_version".
    /// \param name the value's name
    /// \return its text
    std::string text(const std::string& name) const { return runs.front().text(name); }
    /// The lowest and highest value of `name` over the processes.
    /// \param name the figure's name
    /// \return {lowest, highest}
    /// \throws std::runtime_error as PythonFigures::figure()
    std::pair<double, double> range(const std::string& name) const;
    /// The best process's value: the highest when more is better (images per second), else
    /// the lowest (seconds).
    /// \param name the figure's name
    /// \param more_is_better which end is best
    /// \return that value
    double best(const std::string& name, bool more_is_better) const {
        const auto [low, high] = range(name);
        return more_is_better ? high : low;
    }
};

/// compare_with_python() in `processes` separate processes, one after the other; one when the
/// first gives no figures (the reason is then in runs[0]). A later process that gives none
/// (it can fail only in mode "auto"; mode "on" throws) ends the series: every run kept has
/// figures.
/// \param comparison the mode and the interpreter
/// \param quick whether the run is a `--quick` one
/// \param script the script
/// \param arguments passed to the script
/// \param processes how many processes, at least 1
/// \return the figures of every process
PythonProcesses compare_with_python_processes(const PythonComparison& comparison, bool quick,
                                              const PythonScript& script,
                                              const std::vector<std::string>& arguments,
                                              std::size_t processes);

}  // namespace cnn
