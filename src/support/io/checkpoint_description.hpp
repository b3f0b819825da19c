/// \file
/// \ingroup support
/// \brief checkpoint.txt: what a checkpoint records besides its tensors, and its reader.
///
/// A checkpoint (checkpoint.hpp) is a folder: the weights, the optimizer's buffers, and
/// checkpoint.txt, one "key value..." line per fact in a fixed order (the epoch, the data's
/// sizes, the optimizer and its step count, the generator's state, the History, the SHA-256 of
/// the two manifests), sealed by a last line holding the SHA-256 of all the others. Reading it
/// needs no model, so it lives here on its own, where the fuzz target fuzz_checkpoint can reach
/// it without the teaching library.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "cnn/model/callbacks.hpp"  // History

namespace cnn {

/// The name of a checkpoint's text file.
inline constexpr const char* checkpoint_file = "checkpoint.txt";
/// The first line of checkpoint.txt: the format's name and version.
inline constexpr const char* checkpoint_header = "# cnn-steps checkpoint 2";

/// Where a training run stands: what a checkpoint records besides the tensors.
struct TrainingProgress {
    std::size_t epoch = 0;                ///< epochs completed
    std::size_t examples = 0;             ///< training examples per epoch
    std::size_t validation_examples = 0;  ///< examples measured after each epoch
    std::size_t batch_size = 0;           ///< examples per step
    bool shuffle = true;                  ///< whether each epoch shuffles the examples
    History history;                      ///< one entry per completed epoch
};

/// Everything checkpoint.txt holds.
struct CheckpointDescription {
    TrainingProgress progress;         ///< the epoch, the data's sizes and the History
    std::string optimizer;             ///< "adam", "nadam" or "sgd"
    std::size_t optimizer_steps = 0;   ///< the optimizer's step count
    std::string rng;                   ///< the model's generator's state, as text
    std::string weights_sha256;        ///< SHA-256 of weights/manifest.txt
    std::string optimizer_sha256;      ///< SHA-256 of optimizer/manifest.txt
};

/// Reads and checks `directory`/checkpoint.txt: the header, every line's key in order, whole
/// numbers and finite numbers where they belong, one History entry per epoch, and the last
/// line's SHA-256 of the others. Throws DataError naming the file and the line on any fault,
/// and for a directory or file that is missing or not a regular file.
/// \param directory the checkpoint's folder
/// \return what checkpoint.txt holds
CheckpointDescription read_checkpoint_description(const std::filesystem::path& directory);

}  // namespace cnn
