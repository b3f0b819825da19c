// libFuzzer target for reading a checkpoint's description (support/io/checkpoint_description.hpp).
//
// read_checkpoint_description() reads checkpoint.txt, whose last line is the SHA-256 of all the
// others: a mutated file almost never carries a matching one, so the fuzzer alone would rarely
// get past that line to the end of the reader. The harness therefore seals half its inputs
// itself. The first byte chooses: even, the rest of the input is the text above the checksum
// line, and the harness appends "checksum <its SHA-256>"; odd, the rest is written as it is.
// The reader must either return or throw DataError, and what it returns must hold together:
// one History entry per epoch (validation entries only when it measured validation examples),
// every number finite, and a known optimizer.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "support/io/checkpoint_description.hpp"
#include "support/io/checksum.hpp"
#include "support/io/data_error.hpp"

namespace {

bool all_finite(const std::vector<double>& values) {
    for (double v : values) {
        if (!std::isfinite(v)) {
            return false;
        }
    }
    return true;
}

// Whether a description the reader accepted holds together.
bool consistent(const cnn::CheckpointDescription& d) {
    const cnn::TrainingProgress& p = d.progress;
    const cnn::History& h = p.history;
    const std::size_t validated = p.validation_examples > 0 ? p.epoch : 0;
    return h.loss.size() == p.epoch && h.accuracy.size() == p.epoch &&
           h.seconds.size() == p.epoch && h.train_seconds.size() == p.epoch &&
           h.val_loss.size() == validated && h.val_accuracy.size() == validated &&
           all_finite(h.loss) && all_finite(h.accuracy) && all_finite(h.val_loss) &&
           all_finite(h.val_accuracy) && all_finite(h.seconds) && all_finite(h.train_seconds) &&
           (d.optimizer == "adam" || d.optimizer == "nadam" || d.optimizer == "sgd");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::filesystem::path directory = cnn::fuzz::scratch_directory() / "checkpoint";
    std::filesystem::create_directories(directory);
    std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    if (data[0] % 2 == 0) {
        text += "checksum " + cnn::sha256_of_text(text) + "\n";
    }
    cnn::fuzz::write_bytes(directory / cnn::checkpoint_file,
                           reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    try {
        if (!consistent(cnn::read_checkpoint_description(directory))) {
            __builtin_trap();  // accepted, but does not hold together
        }
    } catch (const cnn::DataError&) {
    }
    return 0;
}
