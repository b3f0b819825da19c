/// \file
/// \ingroup support
/// \brief Training checkpoints: everything fit() needs to continue an interrupted run exactly
/// where it stopped, saved after every epoch and swapped in as a whole.
///
/// Continuing a run "exactly" takes more than the weights. Adam remembers two running
/// averages per weight and how many steps it took (SGD with momentum, a velocity per weight);
/// the random generator decides the next epoch's shuffling and dropout masks; and the History
/// so far belongs in the final learning curves. A checkpoint holds all of it, so a run
/// interrupted after epoch 2 of 5 and resumed ends with the same weights, bit for bit, as
/// one that was never interrupted.
///
/// A checkpoint is a directory:
///
///     checkpoint.txt    what the run had done: epoch, sizes, optimizer, generator, History
///     weights/          the model's weights (Model::weights(): its parameters and its
///                       layers' state), as save_weights() writes them (.npy files)
///     optimizer/        the optimizer's buffers, in the same format: for Adam m/<parameter>
///                       and v/<parameter>, for SGD velocity/<parameter>
///
/// so NumPy reads every tensor (`numpy.load("weights/conv2d.kernel.npy")`). `checkpoint.txt`
/// is text, one `key value...` line each, in this order:
///
///     # cnn-steps checkpoint 2
///     epoch 2                      epochs completed
///     examples 55000               training examples
///     validation_examples 5000
///     batch_size 64
///     shuffle 1
///     optimizer adam 1720          adam, nadam or sgd, and its step count (the optimizer's
///                                  options are not saved: resume with the same ones)
///     rng 1234 5678 ... spare 0 0  the generator's state (Rng::state())
///     loss 0.61 0.39               the History, one number per epoch completed
///     accuracy 0.77 0.86
///     val_loss 0.45 0.37
///     val_accuracy 0.83 0.86
///     seconds 31.2 30.9
///     train_seconds 29.8 29.5
///     weights 6d1f...e4a2          SHA-256 of weights/manifest.txt
///     optimizer 03b9...77c0        SHA-256 of optimizer/manifest.txt
///     checksum 5e1a...90bd         SHA-256 of every byte above this line
///
/// The numbers of the History are written in the shortest form that reads back as the same
/// double. The two checksums tie the three parts together; each manifest in turn holds the
/// checksum of every `.npy` file (see support/io/weights.hpp), and the last line seals the
/// file itself, so that no edit goes unnoticed. Weights that are not finite (NaN, infinity)
/// are neither saved nor loaded: a diverged run's values are no point to resume from.
///
/// Saving writes the whole directory beside the old one and swaps the two with renames
/// (replace_directory(), the steps of save_weights()), so a crash at any moment leaves the
/// previous complete checkpoint or the new complete one. Loading checks everything (format,
/// checksums, names and shapes against the model, the optimizer's kind) before changing
/// anything: a failed load leaves the model as it was.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "cnn/model/model.hpp"
#include "support/io/checkpoint_description.hpp"

namespace cnn {

/// Saves `model`'s weights, its optimizer's state, its generator's state and `progress` as a
/// checkpoint in `directory`, replacing the checkpoint there as a whole. The model must be
/// compiled. An existing `directory` is replaced only if it is empty or holds nothing but a
/// checkpoint (checkpoint.txt, starting with checkpoint_header, and the weights and optimizer
/// folders); anything else is refused.
///
/// Throws DataError naming the directory or file on any refusal (weights that are not finite
/// among them) or file system error, with the old checkpoint, if any, left in place.
/// \param model a compiled model
/// \param progress where the run stands
/// \param directory the checkpoint's folder, created or replaced
void save_checkpoint(Model& model, const TrainingProgress& progress,
                     const std::filesystem::path& directory);

/// True if `directory` exists (it must then hold a checkpoint, which
/// load_checkpoint() checks); false if it does not. Throws DataError if it does not exist
/// but an interrupted save left its copies beside it (`<directory>.old-*`, `.new-*`), which
/// must not be mistaken for "no checkpoint yet": recover_checkpoint() sorts those out.
/// \param directory the checkpoint's folder
/// \return whether it exists
bool has_checkpoint(const std::filesystem::path& directory);

/// Sorts out what an interrupted save (see replace_directory()) left beside `directory`:
/// the copies `<directory>.new-*`, `.old-*` and `.probe-*`. The newest complete checkpoint
/// among them and `directory` itself (checkpoint.txt reads, manifests match) is put in place
/// at `directory`, and every other copy is removed. Returns a note of what it found and did
/// ("" if there was nothing to do). A `directory` that exists but holds no complete
/// checkpoint (a folder of the learner's) is never replaced: then nothing is done and "" is
/// returned. ModelCheckpoint calls it before training. Throws std::filesystem::filesystem_error
/// if a rename or removal fails.
/// \param directory the checkpoint's folder
/// \return the note, one or more lines; "" when nothing was done
std::string recover_checkpoint(const std::filesystem::path& directory);

/// Reads only the checkpoint.txt of the checkpoint in `directory`: where the run stood.
/// Throws DataError, naming the file, line, what was expected and what was found, if it is
/// missing or malformed, its checksum line does not match it, or its History holds a number
/// that is not finite.
/// \param directory the checkpoint's folder
/// \return the epoch, the data's sizes and the History
TrainingProgress read_checkpoint_progress(const std::filesystem::path& directory);

/// Loads the checkpoint in `directory` into `model` (compiled with the same kind of
/// optimizer): weights, optimizer state and generator state; returns where the run stood.
/// Throws DataError if anything is missing, malformed, damaged (a checksum differs), not
/// finite (a weight, a buffer or a number of the History) or does not fit the model (names,
/// shapes, optimizer); the model is then left unchanged.
/// \param model a model compiled with the kind of optimizer the checkpoint holds
/// \param directory the checkpoint's folder
/// \return the epoch, the data's sizes and the History
TrainingProgress load_checkpoint(Model& model, const std::filesystem::path& directory);

/// What fit() calls to resume: load_checkpoint(), after checking that the checkpoint was
/// made with the sizes, batch size and shuffling of `expected` (without them the resumed run
/// could not repeat the interrupted one). Throws std::invalid_argument naming the first
/// difference, before the model is changed.
/// \param model a model compiled with the kind of optimizer the checkpoint holds
/// \param directory the checkpoint's folder
/// \param expected the run's own sizes, batch size and shuffling (its epoch and History are
///        not compared)
/// \return the checkpoint's progress
TrainingProgress resume_from_checkpoint(Model& model, const std::filesystem::path& directory,
                                        const TrainingProgress& expected);

/// The callback that makes fit() save a checkpoint in `directory` after every epoch and,
/// with `resume`, continue from the one there: fit() then trains the epochs after the one it
/// saved, up to FitOptions::epochs in all, giving the same weights and History as a run that
/// was never interrupted. Without a checkpoint there yet, training starts from the beginning.
/// (Keras's ModelCheckpoint and BackupAndRestore in one.)
///
/// Before the first epoch, fit() throws DataError if `directory` could not be saved to (it
/// holds files of the learner's, is a file, or its parent cannot be created or written).
/// Resuming throws DataError if the checkpoint is damaged or belongs to another model, and
/// std::invalid_argument if it was made with other data sizes, batch size or shuffling, or
/// holds more epochs than FitOptions::epochs. If training diverges, the error says where the
/// last good checkpoint is.
class ModelCheckpoint : public Callback {
public:
    /// Throws std::invalid_argument if `directory` is empty.
    /// \param directory the checkpoint's folder
    /// \param resume continue from the checkpoint there, if there is one
    explicit ModelCheckpoint(std::filesystem::path directory, bool resume = false);
    void on_train_begin(TrainingState& state) override;
    void on_epoch_end(TrainingState& state) override;
    std::string on_diverged(const TrainingState& state) override;

private:
    std::filesystem::path directory_;
    bool resume_;
};

}  // namespace cnn
