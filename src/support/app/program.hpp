/// \file
/// \ingroup support
/// \brief What every chapter program shares: the same flags, the output folder, and errors.
///
/// Every chapter program accepts `--help`, `--quick` (seconds, on the committed data sample;
/// what the tests run), `--out DIR` (where plots and tables go), `--seed N` and, when it reads
/// data, `--data DIR`. Any exception that escapes the chapter's code is caught here, printed as
/// `error: ...` on standard error, and turned into exit status 1: a learner who passes a wrong
/// file gets a sentence, not a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/io/atomic_file.hpp"
#include "cnn/tensor/tensor.hpp"

// The command-line parser, CLI11: only program.cpp includes it (its header alone takes seconds
// to compile in every file that includes it).
namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace cnn {

/// A small matrix as text, one row per line: each value right-aligned in `width` characters,
/// with `decimals` digits after the point (or, with decimals < 0, as short as it prints),
/// every line indented by `indent` spaces.
/// \param m the matrix (rows, cols)
/// \param decimals digits after the point; < 0 for the shortest form
/// \param width characters per value, at least
/// \param indent spaces before every line
/// \return the lines, each ending in a newline
std::string matrix_to_text(const Tensor2& m, int decimals = -1, int width = 6, int indent = 3);

/// Lines a program prints that also belong in a file of their own, such as one result table
/// that a docs page shows apart from the rest of the output. Each line goes to standard output
/// at once; save() writes the file whole (to a temporary name, then renamed), so a failed run
/// never leaves a half-written table behind.
class Transcript {
public:
    /// Keeps lines for `file`, which save() writes.
    /// \param file the file the lines go to
    explicit Transcript(std::filesystem::path file) : file_(std::move(file)) {}
    /// Prints `text` and a newline to standard output and keeps it for save().
    /// \param text one line, without its newline
    void line(const std::string& text = "");
    /// Writes every line kept so far to the file.
    void save() const;

private:
    std::filesystem::path file_;
    std::string text_;
};

/// Whether a program reads a data set (and so offers --data).
enum class ReadsData { no, yes };

/// What computes the layers. Each layer runs the engine of the chapter that built it (Conv2D
/// \ref chapter04 "chapter 04's" im2col, MaxPooling2D \ref chapter05 "chapter 05's" loops) unless
/// the program asks for
/// \ref chapter07 "chapter 07's" faster ones, which compute the same values (cnn/fast/engines.hpp).
/// A program that trains for minutes, such as \ref chapter06 "chapter 06's", starts with them and
/// offers `--engines book` to run the chapters' own.
enum class Engines { book, fast };

/// The flags every chapter program understands.
struct ProgramOptions {
    bool quick = false;                          ///< --quick: small data, few epochs
    std::filesystem::path out;                   ///< --out: folder for plots and tables
    std::uint64_t seed = 42;                     ///< --seed: every random choice follows it
    std::optional<std::filesystem::path> data;   ///< --data: where the data set is
    Engines engines = Engines::book;             ///< --engines: what computes the layers
    std::size_t only = 0;                        ///< --only: the one section to run; 0 for all
    /// Whether the program runs `section`: every section, unless `--only` names another.
    /// \param section a section's number, from 1
    /// \return true when `--only` is absent or names `section`
    bool wants(std::size_t section) const { return only == 0 || only == section; }
};

/// One flag of a chapter program, added by Program::option() or Program::flag(), to which
/// checks and help are added in a chain:
///
///     program.option("--epochs", epochs, "Training epochs").within(1, 1000);
///
/// Before the program's body runs, a value that fails a check is refused with the flag's name,
/// what was expected and what came, and the program exits with a non-zero status. An Option
/// refers to its Program's parser and is valid as long as the Program lives; each call of a
/// chain returns a copy of it.
class Option {
public:
    /// Refuses anything but a whole number from `low` to `high`, written in decimal digits (a
    /// minus sign, too, is refused: no value wraps around into the range).
    /// \param low the smallest value accepted
    /// \param high the largest value accepted
    /// \return this option, for the next call of the chain
    Option within(std::size_t low, std::size_t high);
    /// Refuses any value but one of `names`.
    /// \param names the values accepted
    /// \return this option
    Option one_of(const std::vector<std::string>& names);
    /// Refuses a path that is not an existing folder.
    /// \return this option
    Option existing_folder();
    /// Refuses a value for which `problem` returns a sentence (what was expected, what came);
    /// an empty string accepts it.
    /// \param problem the check, given the value as typed
    /// \return this option
    Option check(std::function<std::string(const std::string&)> problem);
    /// Shows the variable's value when the flag was added as the default in `--help`.
    /// \return this option
    Option show_default();
    /// Shows `text` as the default in `--help`.
    /// \param text the default as the user would type it
    /// \return this option
    Option default_text(const std::string& text);
    /// Refuses this flag unless `other` is given too.
    /// \param other a flag of the same program
    /// \return this option
    Option needs(const Option& other);

private:
    friend class Program;
    explicit Option(CLI::Option* option) : option_(option) {}
    CLI::Option* option_;
};

/// A chapter program's command line and its error handling.
class Program {
public:
    /// `name` is the executable's name, e.g. "ch01_mlp_limits"; `--out` defaults to
    /// `out/<chNN>` in the current directory. With `engines` fast, the program offers
    /// `--engines book|fast` (default fast) and installs the engine chosen before the body runs.
    /// \param name the executable's name
    /// \param description the first line of `--help`
    /// \param reads_data whether to offer `--data`
    /// \param engines whether to offer `--engines`, with fast as the default
    Program(const std::string& name, const std::string& description, ReadsData reads_data,
            Engines engines = Engines::book);

    /// Frees the parser (defined where CLI11 is known).
    ~Program();
    /// Not copied: the flags refer to variables of one program.
    Program(const Program&) = delete;
    /// Not copied either.
    /// \return never: deleted
    Program& operator=(const Program&) = delete;

    /// Adds a flag that takes a value, such as `--epochs 5`, before run(): the value goes to
    /// `value`, which must outlive run(); without the flag, `value` keeps what it holds.
    /// \param name the flag, e.g. "--epochs"
    /// \param value where the value goes
    /// \param help its line in `--help`
    /// \return the flag, for checks (Option)
    Option option(const std::string& name, std::size_t& value, const std::string& help);
    /// \copydoc option(const std::string&, std::size_t&, const std::string&)
    Option option(const std::string& name, float& value, const std::string& help);
    /// \copydoc option(const std::string&, std::size_t&, const std::string&)
    Option option(const std::string& name, std::string& value, const std::string& help);
    /// A path that may be absent: `value` holds one only when the flag is given.
    /// \param name the flag
    /// \param value where the path goes
    /// \param help its line in `--help`
    /// \return the flag, for checks
    Option option(const std::string& name, std::optional<std::filesystem::path>& value,
                  const std::string& help);
    /// A flag with one or more numbers, such as `--decay-at 10 15`; each check applies to
    /// every number.
    /// \param name the flag
    /// \param values where the numbers go, in order
    /// \param help its line in `--help`
    /// \return the flag, for checks
    Option option(const std::string& name, std::vector<std::size_t>& values,
                  const std::string& help);
    /// A flag whose value, once its checks pass, is handed to `take`.
    /// \param name the flag
    /// \param take called with the value as typed
    /// \param help its line in `--help`
    /// \return the flag, for checks
    Option option(const std::string& name, std::function<void(const std::string&)> take,
                  const std::string& help);
    /// Adds a flag without a value, such as `--floor`: `value` becomes true when it is given.
    /// \param name the flag
    /// \param value set to true by the flag
    /// \param help its line in `--help`
    /// \return the flag, for `needs`
    Option flag(const std::string& name, bool& value, const std::string& help);

    /// Offers `--only N`, to run one of the program's `count` numbered sections
    /// (ProgramOptions::wants()); any other N is refused with the range.
    /// \param count how many sections the program has, at least 1
    void sections(std::size_t count);

    /// Parses the command line, creates the output folder and calls `body`. Returns the exit
    /// status for main(): 0 on success, 1 after printing `error: ...` for any exception,
    /// CLI11's own status for --help and for bad flags.
    /// \param argc main()'s argc
    /// \param argv main()'s argv
    /// \param body the program's work, given the parsed options
    /// \return the exit status
    int run(int argc, char** argv, const std::function<void(const ProgramOptions&)>& body);

private:
    std::unique_ptr<CLI::App> app_;
    ProgramOptions options_;
    std::string out_text_;
    std::string engines_text_ = "book";
};

}  // namespace cnn
