#include "support/io/checkpoint.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "support/io/atomic_file.hpp"
#include "support/io/checkpoint_description.hpp"
#include "support/io/checksum.hpp"
#include "support/io/weights.hpp"

namespace cnn {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
    throw DataError(path.string() + ": " + what);
}

using Buffers = std::vector<std::vector<float>>;

// Views of `buffers` (resized to the model's parameters) named "<prefix>/<parameter>", or
// just "<parameter>" without a prefix.
std::vector<Parameter> views(const std::vector<Parameter>& model, const std::string& prefix,
                             Buffers& buffers) {
    std::vector<Parameter> out;
    buffers.resize(model.size());
    for (std::size_t i = 0; i < model.size(); ++i) {
        buffers[i].resize(model[i].size);
        out.push_back(Parameter{prefix.empty() ? model[i].name : prefix + "/" + model[i].name,
                                buffers[i].data(), nullptr,
                                model[i].size, model[i].shape});
    }
    return out;
}

std::string join(const std::vector<double>& values) {
    std::string text;
    for (double v : values) {
        text += " " + fmt::format("{}", v);  // the shortest text that reads back as v
    }
    return text;
}

// Fails unless every value of `parameters` is a finite number. A NaN or an infinity is what
// a diverged run leaves; a checkpoint holding one is no place to resume from.
void expect_finite(const std::vector<Parameter>& parameters, const fs::path& where,
                   const std::string& what) {
    for (const Parameter& p : parameters) {
        const float* begin = p.value;
        const float* end = begin + p.size;
        const float* bad = std::find_if(begin, end, [](float v) { return !std::isfinite(v); });
        if (bad != end) {
            fail(where, fmt::format("{}expected finite weights, found {} in '{}' at index {} "
                                    "(the values of a run that diverged)",
                                    what, *bad, p.name, bad - begin));
        }
    }
}

// Fails unless the manifests of the weights and optimizer folders in `directory` are the
// ones its checkpoint.txt, read into `d`, lists.
void check_manifests(const fs::path& directory, const CheckpointDescription& d) {
    for (const auto& [part, sha256] : {std::make_pair("weights", d.weights_sha256),
                                       std::make_pair("optimizer", d.optimizer_sha256)}) {
        const fs::path manifest = directory / part / weights_manifest_file;
        std::error_code ec;
        if (!fs::exists(manifest, ec)) {
            fail(manifest, std::string("missing; ") + checkpoint_file + " lists it");
        }
        const std::string found = sha256_hex(manifest);
        if (found != sha256) {
            fail(manifest, "SHA-256 mismatch: " + (directory / checkpoint_file).string() +
                               " expects " + sha256 + ", found " + found +
                               "; this is not the manifest saved with the checkpoint");
        }
    }
}

// What save_checkpoint() writes into its directory: checkpoint.txt, a regular file, and the
// directories weights and optimizer; none of them a symbolic link.
bool is_checkpoint_entry(const fs::directory_entry& entry) {
    const std::string name = entry.path().filename().string();
    std::error_code ec;  // an entry that cannot be examined is not known to be ours
    if (entry.is_symlink(ec) || ec) {
        return false;
    }
    if (name == checkpoint_file) {
        return entry.is_regular_file(ec);
    }
    return (name == "weights" || name == "optimizer") && entry.is_directory(ec);
}

// What check_replaceable() needs to know a checkpoint directory from one of the learner's.
DirectoryOwner checkpoint_owner() {
    return {"save_checkpoint", "a checkpoint", checkpoint_file, checkpoint_header,
            is_checkpoint_entry};
}

void save_checkpoint_impl(Model& model, const TrainingProgress& progress,
                          const fs::path& directory) {
    // The weights part holds everything the model learnt, its state too (moving averages);
    // the optimizer's buffers exist only for the trainable parameters.
    const std::vector<Parameter> weights = model.weights();
    const std::vector<Parameter> parameters = model.parameters();
    OptimizerState state = model.optimizer().state();
    // Copies of the optimizer's buffers, as parameters named m/conv2d/kernel and so on.
    std::vector<Parameter> slots;
    Buffers copies;
    copies.reserve(parameters.size() * state.slot_names.size());
    for (std::size_t k = 0; k < state.slot_names.size(); ++k) {
        if (state.slots[k].empty()) {
            continue;  // no step taken yet
        }
        if (state.slots[k].size() != parameters.size()) {
            throw std::logic_error("save_checkpoint: the optimizer holds " +
                                   std::to_string(state.slots[k].size()) +
                                   " buffers for the model's " +
                                   std::to_string(parameters.size()) + " parameters");
        }
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            copies.push_back(state.slots[k][i]);
            slots.push_back(Parameter{state.slot_names[k] + "/" + parameters[i].name,
                                      copies.back().data(), nullptr, copies.back().size(),
                                      parameters[i].shape});
        }
    }
    expect_finite(weights, directory, "cannot save the checkpoint: ");
    expect_finite(slots, directory, "cannot save the checkpoint: ");
    const History& h = progress.history;
    check_replaceable(directory, checkpoint_owner());
    replace_directory(directory, "checkpoint", [&](const fs::path& staging) {
        save_weights(weights, staging / "weights");
        save_weights(slots, staging / "optimizer");
        std::string text = std::string(checkpoint_header) + "\n";
        text += fmt::format("epoch {}\nexamples {}\nvalidation_examples {}\nbatch_size {}\n"
                            "shuffle {}\n",
                            progress.epoch, progress.examples, progress.validation_examples,
                            progress.batch_size, progress.shuffle ? 1 : 0);
        text += fmt::format("optimizer {} {}\n", state.kind, state.steps);
        text += "rng " + model.rng().state() + "\n";
        text += "loss" + join(h.loss) + "\naccuracy" + join(h.accuracy) + "\nval_loss" +
                join(h.val_loss) + "\nval_accuracy" + join(h.val_accuracy) + "\nseconds" +
                join(h.seconds) + "\ntrain_seconds" + join(h.train_seconds) + "\n";
        text += "weights " + sha256_hex(staging / "weights" / weights_manifest_file) + "\n";
        text += "optimizer " + sha256_hex(staging / "optimizer" / weights_manifest_file) + "\n";
        text += "checksum " + sha256_of_text(text) + "\n";
        write_file_atomically(staging / checkpoint_file, text);
    });
}

TrainingProgress load_checkpoint_impl(Model& model, const fs::path& directory,
                                      const TrainingProgress* expected) {
    const fs::path file = directory / checkpoint_file;
    const CheckpointDescription d = read_checkpoint_description(directory);
    if (expected != nullptr) {
        const TrainingProgress& p = d.progress;
        const auto differ = [&](const char* what, std::size_t saved, std::size_t now) {
            if (saved != now) {
                throw std::invalid_argument(fmt::format(
                    "fit: cannot resume from {}: it was made with {} {}, this run has {}; "
                    "resume with the same data and options, or start afresh in another "
                    "directory",
                    directory.string(), what, saved, now));
            }
        };
        differ("training examples", p.examples, expected->examples);
        differ("validation examples", p.validation_examples, expected->validation_examples);
        differ("batch size", p.batch_size, expected->batch_size);
        differ("shuffle", p.shuffle, expected->shuffle);
    }
    const std::vector<Parameter> model_weights = model.weights();  // parameters and state
    const std::vector<Parameter> parameters = model.parameters();  // the optimizer's
    const OptimizerState current = model.optimizer().state();
    if (d.optimizer != current.kind) {
        fail(file, "the checkpoint holds the state of the optimizer '" + d.optimizer +
                       "', but the model was compiled with '" + current.kind + "'");
    }
    check_manifests(directory, d);
    Rng rng(0);
    try {
        rng.set_state(d.rng);
    } catch (const std::invalid_argument& error) {
        fail(file, std::string("the generator's state: ") + error.what());
    }

    // Everything is read into copies first. The optimizer's buffers exist only after a first
    // step: before it, its directory holds an empty manifest.
    Buffers weights;
    const std::vector<Parameter> weight_views = views(model_weights, "", weights);
    load_weights(weight_views, directory / "weights");
    expect_finite(weight_views, directory / "weights", "");
    const bool has_slots = d.optimizer_steps > 0;
    std::vector<Buffers> slots(current.slot_names.size());
    std::vector<Parameter> slot_views;
    for (std::size_t k = 0; has_slots && k < current.slot_names.size(); ++k) {
        for (Parameter& p : views(parameters, current.slot_names[k], slots[k])) {
            slot_views.push_back(std::move(p));
        }
    }
    load_weights(slot_views, directory / "optimizer");
    expect_finite(slot_views, directory / "optimizer", "");

    // All checked: now, and only now, the model changes.
    for (std::size_t i = 0; i < model_weights.size(); ++i) {
        std::copy(weights[i].begin(), weights[i].end(), model_weights[i].value);
    }
    model.optimizer().restore(
        OptimizerState{d.optimizer, d.optimizer_steps, current.slot_names, std::move(slots)});
    model.rng() = rng;
    return d.progress;
}

}  // namespace

void save_checkpoint(Model& model, const TrainingProgress& progress,
                     const fs::path& directory) {
    try {
        save_checkpoint_impl(model, progress, directory);
    } catch (const fs::filesystem_error& error) {
        fail(directory, std::string("cannot save the checkpoint: ") + error.what());
    } catch (const std::runtime_error& error) {
        if (dynamic_cast<const DataError*>(&error) != nullptr) {
            throw;
        }
        fail(directory, std::string("cannot save the checkpoint: ") + error.what());
    }
}

bool has_checkpoint(const fs::path& directory) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(directory, ec))) {
        return true;
    }
    fs::path target = directory.lexically_normal();
    if (!target.has_filename()) {
        target = target.parent_path();
    }
    const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const std::string name = target.filename().string();
    std::vector<std::string> left;
    for (const fs::directory_entry& entry : fs::directory_iterator(parent, ec)) {
        const std::string sibling = entry.path().filename().string();
        if (sibling.rfind(name + ".old-", 0) == 0 || sibling.rfind(name + ".new-", 0) == 0) {
            left.push_back(sibling);
        }
    }
    if (!left.empty()) {
        std::sort(left.begin(), left.end());
        std::string names;
        for (const std::string& s : left) {
            names += " " + s;
        }
        fail(directory, "no checkpoint, but an interrupted save left" + names + " beside it " +
                            "(.old-* holds the previous checkpoint, .new-* the new one if it " +
                            "has a " + checkpoint_file + "); recover_checkpoint(), which a " +
                            "resumed run calls first, puts the newest complete one back");
    }
    return false;
}

namespace {

// True if `name` is `<base>.<kind>-XXXXXXXX`, with XXXXXXXX eight hexadecimal digits: a
// directory replace_directory() or check_can_save_directory() made beside `<base>`.
bool is_copy_name(const std::string& name, const std::string& base) {
    for (const char* kind : {".new-", ".old-", ".probe-"}) {
        const std::string prefix = base + kind;
        if (name.size() == prefix.size() + 8 && name.compare(0, prefix.size(), prefix) == 0 &&
            std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                        [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; })) {
            return true;
        }
    }
    return false;
}

// The copies an interrupted save left beside `target` (real directories only), sorted.
std::vector<fs::path> copies_beside(const fs::path& target) {
    std::vector<fs::path> copies;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(parent_directory(target), ec)) {
        std::error_code type_error;
        if (is_copy_name(entry.path().filename().string(), target.filename().string()) &&
            !entry.is_symlink(type_error) && entry.is_directory(type_error)) {
            copies.push_back(entry.path());
        }
    }
    std::sort(copies.begin(), copies.end());
    return copies;
}

// The epoch of the complete checkpoint in `directory`, or nothing if it is none: its
// checkpoint.txt (written last) must read, and the manifests must be those it lists.
std::optional<std::size_t> complete_epoch(const fs::path& directory) {
    try {
        const CheckpointDescription d = read_checkpoint_description(directory);
        check_manifests(directory, d);
        return d.progress.epoch;
    } catch (const DataError&) {
        return std::nullopt;
    }
}

std::string names_of(const std::vector<fs::path>& paths) {
    std::string names;
    for (const fs::path& path : paths) {
        names += (names.empty() ? "" : ", ") + path.filename().string();
    }
    return names;
}

}  // namespace

std::string recover_checkpoint(const fs::path& directory) {
    const fs::path target = without_trailing_separator(directory);
    const std::vector<fs::path> copies = copies_beside(target);
    if (copies.empty()) {
        return "";  // nothing interrupted: no need to read the checkpoint in place
    }
    std::error_code ec;
    const bool target_exists = fs::exists(fs::symlink_status(target, ec));
    const std::optional<std::size_t> target_epoch = complete_epoch(target);
    if (target_exists && !target_epoch) {
        return "";  // nothing to do; or a folder that is no checkpoint, never to be replaced
    }
    // The newest complete checkpoint wins; at equal epochs, the one in place.
    std::optional<fs::path> best;
    std::size_t best_epoch = 0;
    if (target_epoch) {
        best = target;
        best_epoch = *target_epoch;
    }
    for (const fs::path& copy : copies) {
        const std::optional<std::size_t> epoch = complete_epoch(copy);
        if (epoch && (!best || *epoch > best_epoch)) {
            best = copy;
            best_epoch = *epoch;
        }
    }
    if (best && *best != target) {
        fs::remove_all(target);  // an older complete checkpoint, or nothing
        fs::rename(*best, target);
    }
    for (const fs::path& copy : copies) {
        if (!best || copy != *best) {
            fs::remove_all(copy);
        }
    }
    const std::string left = target.string() + ": an interrupted save left " + names_of(copies);
    return best ? fmt::format(
                      "{}; kept the checkpoint of epoch {}{}, the newest complete one, "
                      "and removed the rest",
                      left, best_epoch,
                      *best == target ? "" : " (" + best->filename().string() + ")")
                : left + "; no complete checkpoint among them, so they were removed";
}

TrainingProgress read_checkpoint_progress(const fs::path& directory) {
    return read_checkpoint_description(directory).progress;
}

TrainingProgress load_checkpoint(Model& model, const fs::path& directory) {
    return load_checkpoint_impl(model, directory, nullptr);
}

TrainingProgress resume_from_checkpoint(Model& model, const fs::path& directory,
                                        const TrainingProgress& expected) {
    return load_checkpoint_impl(model, directory, &expected);
}

namespace {

TrainingProgress progress_of(const TrainingState& state) {
    return {state.epochs_done, state.examples,          state.validation_examples,
            state.options.batch_size, state.options.shuffle, state.history};
}

}  // namespace

ModelCheckpoint::ModelCheckpoint(fs::path directory, bool resume)
    : directory_(std::move(directory)), resume_(resume) {
    if (directory_.empty()) {
        throw std::invalid_argument("ModelCheckpoint: expected a directory to save checkpoints in");
    }
}

namespace {

// Continues the run from the checkpoint in `directory`: loads it into the model and sets
// where the run stands.
void resume_run(const fs::path& directory, TrainingState& state) {
    // Resumed to fewer epochs than it holds, the run would report those with the weights of
    // more. Checked before anything is loaded.
    const std::size_t saved_epochs = read_checkpoint_progress(directory).epoch;
    if (saved_epochs > state.options.epochs) {
        throw std::invalid_argument(fmt::format(
            "fit: cannot resume from {}: it holds {} completed epochs, more than the {} this "
            "run asks for; ask for {} or more epochs, or start afresh in another directory",
            directory.string(), saved_epochs, state.options.epochs, saved_epochs));
    }
    const TrainingProgress done =
        resume_from_checkpoint(state.model, directory, progress_of(state));
    state.epochs_done = done.epoch;
    state.history = done.history;
    if (state.options.verbose != Verbosity::silent) {
        fmt::print(state.out, "Resuming from {}: {} of {} epochs done\n", directory.string(),
                   done.epoch, state.options.epochs);
    }
}

}  // namespace

void ModelCheckpoint::on_train_begin(TrainingState& state) {
    const std::string recovered = recover_checkpoint(directory_);
    if (!recovered.empty() && state.options.verbose != Verbosity::silent) {
        fmt::print(state.out, "{}\n", recovered);
    }
    if (resume_ && has_checkpoint(directory_)) {
        resume_run(directory_, state);
    } else if (resume_ && state.options.verbose != Verbosity::silent) {
        fmt::print(state.out, "No checkpoint to resume from in {}: training from the start\n",
                   directory_.string());
    }
    // A folder the first save would fail on is refused now, not after an epoch of training.
    check_replaceable(directory_, checkpoint_owner());
    check_can_save_directory(directory_, "checkpoint");
}

void ModelCheckpoint::on_epoch_end(TrainingState& state) {
    save_checkpoint(state.model, progress_of(state), directory_);
}

std::string ModelCheckpoint::on_diverged(const TrainingState& state) {
    if (state.epochs_done == 0) {
        return fmt::format(" (no epoch was completed, so there is no checkpoint in {})",
                           directory_.string());
    }
    return fmt::format("; the last good checkpoint (epoch {}) is in {}", state.epochs_done,
                       directory_.string());
}

}  // namespace cnn
