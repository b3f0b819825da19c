#include "support/io/checkpoint_description.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "support/io/checksum.hpp"
#include "support/io/data_error.hpp"

namespace cnn {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
    throw DataError(path.string() + ": " + what);
}

// Reads checkpoint.txt line by line, each "key value...", the keys in a fixed order.
class ProgressReader {
public:
    explicit ProgressReader(fs::path file) : file_(std::move(file)) {
        require_regular_file(file_);
        std::ifstream in(file_, std::ios::binary);
        std::ostringstream text;
        if (!in || !(text << in.rdbuf())) {
            fail(file_, "cannot read the checkpoint's description");
        }
        text_ = text.str();
        in_.str(text_);
    }

    // The file's first `bytes` bytes, as read.
    std::string text_before(std::size_t bytes) const { return text_.substr(0, bytes); }

    // How many bytes the lines read so far take up.
    std::size_t bytes_read() {
        const std::streampos at = in_.tellg();
        return at < 0 ? text_.size() : static_cast<std::size_t>(at);
    }

    // The rest of the next line, which must start with "key ".
    std::string next(const std::string& key) {
        std::string line;
        ++line_number_;
        if (!std::getline(in_, line)) {
            error("expected a line '" + key + " ...', found the end of the file");
        }
        if (line.compare(0, key.size() + 1, key + " ") != 0 && line != key) {
            error("expected a line '" + key + " ...', found '" + line.substr(0, 80) + "'");
        }
        return line.size() > key.size() ? line.substr(key.size() + 1) : "";
    }

    std::size_t count(const std::string& key) {
        const std::string text = next(key);
        std::size_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
            error("expected a whole number after '" + key + "', found '" + text + "'");
        }
        return value;
    }

    std::vector<double> numbers(const std::string& key, std::size_t expected) {
        std::istringstream fields(next(key));
        std::vector<double> values;
        for (std::string word; fields >> word;) {
            double value = 0.0;
            const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
            if (ec != std::errc() || end != word.data() + word.size()) {
                error("expected numbers after '" + key + "', found '" + word + "'");
            }
            if (!std::isfinite(value)) {  // from_chars reads "nan" and "inf" too
                error("expected finite numbers after '" + key + "', found '" + word + "'");
            }
            values.push_back(value);
        }
        if (values.size() != expected) {
            error(fmt::format("expected {} numbers after '{}' (one per epoch), found {}", expected,
                              key, values.size()));
        }
        return values;
    }

    void expect_end() {
        std::string rest;
        if (in_ >> rest) {
            ++line_number_;
            error("expected the end of the file, found '" + rest.substr(0, 80) + "'");
        }
    }

    [[noreturn]] void error(const std::string& what) const {
        fail(file_, "line " + std::to_string(line_number_) + ": " + what);
    }

private:
    fs::path file_;
    std::string text_;
    std::istringstream in_;
    std::size_t line_number_ = 0;
};

}  // namespace

CheckpointDescription read_checkpoint_description(const fs::path& directory) {
    const fs::path file = directory / checkpoint_file;
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) {
        fail(directory, fs::exists(directory, ec)
                            ? "expected a checkpoint directory, found a file"
                            : "no checkpoint: the directory does not exist");
    }
    if (!fs::exists(file, ec)) {
        fail(file, "no checkpoint: the file is missing");
    }
    ProgressReader reader(file);
    if (reader.next("#") != std::string(checkpoint_header).substr(2)) {
        reader.error(std::string("expected the first line to be '") + checkpoint_header + "'");
    }
    CheckpointDescription d;
    TrainingProgress& p = d.progress;
    p.epoch = reader.count("epoch");
    p.examples = reader.count("examples");
    p.validation_examples = reader.count("validation_examples");
    p.batch_size = reader.count("batch_size");
    const std::size_t shuffle = reader.count("shuffle");
    if (shuffle > 1) {
        reader.error("expected shuffle 0 or 1, found " + std::to_string(shuffle));
    }
    p.shuffle = shuffle == 1;
    std::istringstream optimizer(reader.next("optimizer"));
    std::string steps_text, extra;
    optimizer >> d.optimizer >> steps_text;
    const auto [end, ec2] = std::from_chars(
        steps_text.data(), steps_text.data() + steps_text.size(), d.optimizer_steps);
    const bool known = d.optimizer == "adam" || d.optimizer == "nadam" || d.optimizer == "sgd";
    if (!known || steps_text.empty() || ec2 != std::errc() ||
        end != steps_text.data() + steps_text.size() || (optimizer >> extra)) {
        reader.error("expected 'optimizer KIND STEPS' with KIND adam, nadam or sgd");
    }
    d.rng = reader.next("rng");
    const std::size_t validated = p.validation_examples > 0 ? p.epoch : 0;
    p.history.loss = reader.numbers("loss", p.epoch);
    p.history.accuracy = reader.numbers("accuracy", p.epoch);
    p.history.val_loss = reader.numbers("val_loss", validated);
    p.history.val_accuracy = reader.numbers("val_accuracy", validated);
    p.history.seconds = reader.numbers("seconds", p.epoch);
    p.history.train_seconds = reader.numbers("train_seconds", p.epoch);
    d.weights_sha256 = reader.next("weights");
    d.optimizer_sha256 = reader.next("optimizer");
    // The last line seals the others: an edit that still parses (one Adam step more, a
    // changed number of the History) would resume a different run without a word.
    const std::size_t sealed = reader.bytes_read();
    const std::string stored = reader.next("checksum");
    const std::string found = sha256_of_text(reader.text_before(sealed));
    if (stored != found) {
        reader.error("checksum mismatch: expected the SHA-256 of the lines above, " + found +
                     ", found " + stored.substr(0, 80) + "; the file was changed after it " +
                     "was saved, so resuming from it would not continue the same run");
    }
    reader.expect_end();
    return d;
}

}  // namespace cnn
