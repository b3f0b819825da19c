#include "support/app/program.hpp"

#include <charconv>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cnn/fast/engines.hpp"

namespace cnn {

void Transcript::line(const std::string& text) {
    // Flushed at once: a long run whose output goes to a file shows its results as they come.
    std::cout << text << '\n' << std::flush;
    text_ += text;
    text_ += '\n';
}

std::string matrix_to_text(const Tensor2& m, int decimals, int width, int indent) {
    std::string text;
    for (std::size_t i = 0; i < m.shape(0); ++i) {
        text += std::string(static_cast<std::size_t>(indent), ' ');
        for (std::size_t j = 0; j < m.shape(1); ++j) {
            text += decimals < 0 ? fmt::format("{:>{}g}", m(i, j), width)
                                 : fmt::format("{:>{}.{}f}", m(i, j), width, decimals);
        }
        text += '\n';
    }
    return text;
}

void Transcript::save() const { write_file_atomically(file_, text_); }

namespace {

// What is wrong with `text` as a --seed, or "" if nothing is. CLI11 alone would read "-5"
// into the unsigned seed as 2^64 - 5 and a number of 2^64 or more as 2^64 - 1: a run with
// another seed than the one asked for, without a word.
std::string seed_problem(const std::string& text) {
    std::uint64_t seed = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return fmt::format("expected a whole number from 0 to {}, got '{}'",
                           std::numeric_limits<std::uint64_t>::max(), text);
    }
    return "";
}

}  // namespace

Program::Program(const std::string& name, const std::string& description, ReadsData reads_data,
                 Engines engines)
    : app_(std::make_unique<CLI::App>(description, name)),
      out_text_("out/" + name.substr(0, name.find('_'))) {
    flag("--quick", options_.quick,
         "Run in seconds on the committed data sample (what the tests run)");
    option("--out", out_text_, "Folder for the plots and tables this program writes")
        .show_default()
        .check([](const std::string& text) {
            // An empty path would reach the file system as "Invalid argument []".
            return text.empty() ? "expected a folder for the plots and tables, got ''"
                                : std::string();
        });
    // CLI11 directly: option() takes std::size_t, which std::uint64_t need not be.
    Option(app_->add_option("--seed", options_.seed, "Seed for every random choice"))
        .show_default()
        .check(seed_problem);
    if (reads_data == ReadsData::yes) {
        option("--data", options_.data,
               "Folder with Fashion-MNIST (or MNIST) IDX files; default: $CNN_DATA, then data/, "
               "then /usr/share/datasets/fashion-mnist")
            .existing_folder();
    }
    if (engines == Engines::fast) {
        engines_text_ = "fast";
        option("--engines", engines_text_,
               "What computes the layers: fast (chapter 07's engines) or book (chapter 04's "
               "im2col and chapter 05's loops; the same values, several times slower)")
            .show_default()
            .one_of({"book", "fast"});
    }
}

Program::~Program() = default;

Option Program::option(const std::string& name, std::size_t& value, const std::string& help) {
    return Option(app_->add_option(name, value, help));
}

Option Program::option(const std::string& name, float& value, const std::string& help) {
    return Option(app_->add_option(name, value, help));
}

Option Program::option(const std::string& name, std::string& value, const std::string& help) {
    return Option(app_->add_option(name, value, help));
}

Option Program::option(const std::string& name, std::optional<std::filesystem::path>& value,
                       const std::string& help) {
    return Option(app_->add_option(name, value, help));
}

Option Program::option(const std::string& name, std::vector<std::size_t>& values,
                       const std::string& help) {
    return Option(app_->add_option(name, values, help));
}

Option Program::option(const std::string& name, std::function<void(const std::string&)> take,
                       const std::string& help) {
    return Option(app_->add_option_function<std::string>(name, std::move(take), help));
}

Option Program::flag(const std::string& name, bool& value, const std::string& help) {
    return Option(app_->add_flag(name, value, help));
}

Option Option::within(std::size_t low, std::size_t high) {
    // Not CLI::Range for std::size_t: it reads with strtoull, which takes "-18446744073709551615"
    // as 1, and the option would then run with a value nobody asked for.
    option_->check(
        [low, high](const std::string& text) {
            std::size_t value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            const bool whole =
                !text.empty() && ec == std::errc() && end == text.data() + text.size();
            return whole && value >= low && value <= high
                       ? std::string()
                       : fmt::format("Value {} not in range {} to {}", text, low, high);
        },
        fmt::format("UINT in [{} - {}]", low, high));
    return *this;
}

Option Option::one_of(const std::vector<std::string>& names) {
    option_->check(CLI::IsMember(names));
    return *this;
}

Option Option::existing_folder() {
    option_->check(CLI::ExistingDirectory);
    return *this;
}

Option Option::check(std::function<std::string(const std::string&)> problem) {
    option_->check(std::move(problem));
    return *this;
}

Option Option::show_default() {
    option_->capture_default_str();
    return *this;
}

Option Option::default_text(const std::string& text) {
    option_->default_str(text);
    return *this;
}

Option Option::needs(const Option& other) {
    option_->needs(other.option_);
    return *this;
}

void Program::sections(std::size_t count) {
    option("--only", options_.only, "Run only this section (1-" + std::to_string(count) + ")")
        .within(1, count);
}

int Program::run(int argc, char** argv, const std::function<void(const ProgramOptions&)>& body) {
    try {
        app_->parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app_->exit(e);  // prints help, or the parse error with a hint
    }
    try {
        options_.out = out_text_;
        options_.engines = engines_text_ == "fast" ? Engines::fast : Engines::book;
        if (options_.engines == Engines::fast) {
            use_fast_engines();
        }
        std::filesystem::create_directories(options_.out);
        body(options_);
        return 0;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}

}  // namespace cnn
