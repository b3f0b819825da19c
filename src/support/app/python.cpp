#include "support/app/python.hpp"

#include "support/app/program.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include <sys/wait.h>

namespace cnn {

namespace {

// What a command printed and how it ended.
struct CommandResult {
    std::string output;      // its standard output
    bool ok = false;         // it exited with status 0
    bool timed_out = false;  // it was stopped at its time limit
};

// Runs `command` in the shell under coreutils' `timeout`: stopped (TERM, then KILL 10 s
// later) after `seconds`, so that a hanging child cannot hang the program waiting for it.
// Its standard error is discarded unless `show_errors`, which passes it through to ours.
CommandResult run_command(const std::string& command, unsigned seconds, bool show_errors = false) {
    const std::string limited = "timeout -k 10 " + std::to_string(seconds) + " " + command +
                                (show_errors ? "" : " 2>/dev/null");
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(limited.c_str(), "r"), pclose);
    if (!pipe) {
        return {};
    }
    CommandResult result;
    std::array<char, 4096> buffer{};
    std::size_t got = 0;
    while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
        result.output.append(buffer.data(), got);
    }
    const int status = pclose(pipe.release());
    result.ok = status == 0;
    // timeout exits with 124 when it stopped the command, 137 when it had to kill it.
    result.timed_out =
        WIFEXITED(status) && (WEXITSTATUS(status) == 124 || WEXITSTATUS(status) == 137);
    return result;
}

}  // namespace

PythonFigures run_tool(const std::vector<std::string>& command, unsigned seconds,
                       const std::vector<std::string>& environment) {
    if (command.empty()) {
        throw std::invalid_argument("run_tool: expected a command, got none");
    }
    std::string line = environment.empty() ? "" : "env";
    for (const std::string& setting : environment) {
        line += " " + shell_quote(setting);
    }
    for (const std::string& word : command) {
        line += (line.empty() ? "" : " ") + shell_quote(word);
    }
    const CommandResult run = run_command(line, seconds, true);
    const std::string name = std::filesystem::path(command.size() > 1 ? command[1] : command[0])
                                 .filename()
                                 .string();
    if (run.timed_out) {
        throw std::runtime_error(name + " did not finish within " + std::to_string(seconds) +
                                 " s; run it by hand to see why: " + line);
    }
    if (!run.ok) {
        throw std::runtime_error(name + " failed (its message is above); the command was: " + line);
    }
    PythonFigures figures;
    figures.values = read_name_value_lines(run.output);
    figures.source = name;
    figures.available = true;
    return figures;
}

double PythonFigures::figure(const std::string& name) const {
    const auto it = values.find(name);
    if (it == values.end()) {
        throw std::runtime_error(source + " printed no figure '" + name + "'");
    }
    std::size_t used = 0;
    double value = 0;
    try {
        value = std::stod(it->second, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != it->second.size()) {
        throw std::runtime_error(source + " printed '" + name + " " + it->second +
                                 "', expected a number");
    }
    return value;
}

std::string PythonFigures::text(const std::string& name) const {
    const auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
}

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) {
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return q + "'";
}

std::map<std::string, std::string> read_name_value_lines(const std::string& output) {
    std::map<std::string, std::string> values;
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string name, value;
        if (!(words >> name)) {
            continue;  // a blank line
        }
        if (!(words >> value)) {
            throw std::runtime_error("expected 'name value', got '" + line + "'");
        }
        values[name] = value;
    }
    return values;
}

PythonFigures run_python_figures(const PythonScript& script,
                                 const std::vector<std::string>& arguments) {
    const std::string program = shell_quote(script.python) + " " + shell_quote(script.script);
    PythonFigures figures;
    const CommandResult check = run_command(program + " --check", script.check_time_limit_seconds);
    if (check.timed_out) {
        figures.why_not = script.python + " did not answer " + script.script.filename().string() +
                          " --check within " + std::to_string(script.check_time_limit_seconds) +
                          " s; check the interpreter (or pass --python) to compare";
        return figures;
    }
    if (!check.ok) {
        figures.why_not = script.needs + " not found by " + script.python + "; install Debian's " +
                          script.package + " (or pass --python) to compare";
        return figures;
    }
    std::string command = program;
    if (!script.environment.empty()) {
        command = "env";
        for (const std::string& setting : script.environment) {
            command += " " + shell_quote(setting);
        }
        command += " " + program;
    }
    for (const std::string& a : arguments) {
        command += " " + shell_quote(a);
    }
    const CommandResult run = run_command(command, script.time_limit_seconds);
    if (run.timed_out) {
        throw std::runtime_error(script.script.filename().string() + " did not finish within " +
                                 std::to_string(script.time_limit_seconds) +
                                 " s (PythonScript::time_limit_seconds); run it by hand to see "
                                 "why: " +
                                 command);
    }
    if (!run.ok) {
        throw std::runtime_error(script.script.filename().string() +
                                 " failed; run it by hand to see why: " + command);
    }
    figures.values = read_name_value_lines(run.output);
    figures.source = script.script.filename().string();
    figures.available = true;
    return figures;
}

void add_comparison_options(Program& program, PythonComparison& comparison) {
    // The check runs first, so the function sees only the three names.
    program
        .option(
            "--torch",
            [&comparison](const std::string& mode) {
                comparison.mode = mode == "on"    ? ComparisonMode::on
                                  : mode == "off" ? ComparisonMode::off
                                                  : ComparisonMode::automatic;
            },
            "Compare with PyTorch: auto (when installed; not with --quick), on, off")
        .one_of({"auto", "on", "off"})
        .default_text("auto");
    program.option("--python", comparison.python, "The Python interpreter that has torch")
        .show_default();
}

PythonFigures compare_with_python(const PythonComparison& comparison, bool quick,
                                  PythonScript script, const std::vector<std::string>& arguments) {
    const bool off = comparison.mode == ComparisonMode::off;
    if (off || (comparison.mode == ComparisonMode::automatic && quick)) {
        PythonFigures skipped;
        skipped.why_not = script.needs + " comparison skipped (" +
                          (off ? "--torch off" : "--quick; --torch on compares") + ")";
        return skipped;
    }
    script.python = comparison.python;
    PythonFigures figures = run_python_figures(script, arguments);
    if (comparison.mode == ComparisonMode::on && !figures.available) {
        throw std::runtime_error(figures.why_not);
    }
    return figures;
}

std::pair<double, double> PythonProcesses::range(const std::string& name) const {
    double low = runs.front().figure(name), high = low;
    for (const PythonFigures& run : runs) {
        low = std::min(low, run.figure(name));
        high = std::max(high, run.figure(name));
    }
    return {low, high};
}

PythonProcesses compare_with_python_processes(const PythonComparison& comparison, bool quick,
                                              const PythonScript& script,
                                              const std::vector<std::string>& arguments,
                                              std::size_t processes) {
    PythonProcesses result;
    result.runs.push_back(compare_with_python(comparison, quick, script, arguments));
    while (result.available() && result.runs.size() < processes) {
        PythonFigures next = compare_with_python(comparison, quick, script, arguments);
        if (!next.available) {
            break;  // a later process failed (mode "auto"): the figures of those that ran
        }
        result.runs.push_back(std::move(next));
    }
    return result;
}

}  // namespace cnn
