#include "support/app/python.hpp"

#include <array>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace cnn {

namespace {

// Runs `command` in the shell, returning its standard output and whether it exited with 0.
std::pair<std::string, bool> run_command(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>/dev/null").c_str(), "r"),
                                               pclose);
    if (!pipe) {
        return {"", false};
    }
    std::string output;
    std::array<char, 4096> buffer{};
    std::size_t got = 0;
    while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
        output.append(buffer.data(), got);
    }
    return {output, pclose(pipe.release()) == 0};
}

}  // namespace

double PythonFigures::figure(const std::string& name) const {
    const auto it = values.find(name);
    if (it == values.end()) {
        throw std::runtime_error("the measuring script printed no figure '" + name + "'");
    }
    std::size_t used = 0;
    double value = 0;
    try {
        value = std::stod(it->second, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != it->second.size()) {
        throw std::runtime_error("the measuring script printed '" + name + " " + it->second +
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
    if (!run_command(program + " --check").second) {
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
    const auto [output, ok] = run_command(command);
    if (!ok) {
        throw std::runtime_error(script.script.filename().string() +
                                 " failed; run it by hand to see why: " + command);
    }
    figures.values = read_name_value_lines(output);
    figures.available = true;
    return figures;
}

void add_comparison_options(CLI::App& cli, PythonComparison& comparison) {
    cli.add_option("--torch", comparison.mode,
                   "Compare with PyTorch: auto (when installed; not with --quick), on, off")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "on", "off"}));
    cli.add_option("--python", comparison.python, "The Python interpreter that has torch")
        ->capture_default_str();
}

PythonFigures compare_with_python(const PythonComparison& comparison, bool quick,
                                  PythonScript script, const std::vector<std::string>& arguments) {
    if (comparison.mode != "auto" && comparison.mode != "on" && comparison.mode != "off") {
        throw std::invalid_argument("compare_with_python: expected mode 'auto', 'on' or 'off', got '" +
                                    comparison.mode + "'");
    }
    if (comparison.mode == "off" || (comparison.mode == "auto" && quick)) {
        PythonFigures skipped;
        skipped.why_not = script.needs + " comparison skipped (" +
                          (comparison.mode == "off" ? "--torch off" : "--quick; --torch on compares") +
                          ")";
        return skipped;
    }
    script.python = comparison.python;
    PythonFigures figures = run_python_figures(script, arguments);
    if (comparison.mode == "on" && !figures.available) {
        throw std::runtime_error(figures.why_not);
    }
    return figures;
}

}  // namespace cnn
