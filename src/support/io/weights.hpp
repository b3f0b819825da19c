/// \file
/// \ingroup support
/// \brief Saving a model's weights to a directory of `.npy` files and loading them back,
/// checked and all-or-nothing.
///
/// A trained model is its weights (Model::weights()): a list of named tensors such as
/// `conv2d/kernel` `(64, 1, 7, 7)` and `conv2d/bias` `(64)`, its trainable parameters, and
/// the values its layers learn without gradients, such as `batch_normalization/moving_mean`
/// `(64)`. Only values are saved and loaded: a Parameter's `grad` is never read, and may be
/// nullptr. save_weights() writes each tensor to its own `.npy` file (support/io/npy.hpp),
/// which NumPy opens directly, plus a `manifest.txt` that lists them in the model's order
/// (checksums shortened here):
///
///     # cnn-steps weights 1: index name shape file sha256
///     0 conv2d/kernel (64,1,7,7) conv2d.kernel.npy 6d1f0c...e4a2
///     1 conv2d/bias (64) conv2d.bias.npy 03b9a1...77c0
///
/// The first line names the format and its version. Each further line holds, separated by
/// single spaces: the parameter's index in the model's list, its name, its shape (no spaces,
/// a 0-D shape is `()`), its file's name, and the SHA-256 of that file as 64 lower-case hex
/// digits (what `sha256sum` prints for it). A file's name is the parameter's name with every
/// `/` replaced by `.`, plus `.npy` (weights_file_name()). Names are made of letters, digits,
/// `_` and `-` in parts separated by single slashes; since `.` can never appear in a name,
/// the mapping is one-to-one, and no name can reach outside the directory.
///
/// Loading checks the saved weights against the model before touching it: the same number of
/// parameters, the same names in the same order, the same shapes, every file present and
/// matching its checksum, every file a well-formed float32 `.npy` of the listed shape. Only
/// when all of that holds are the values copied into the model, so a failed load leaves the
/// model exactly as it was.
///
/// Saving replaces the directory as a whole, never file by file. A crash or power cut in the
/// middle of overwriting ten files one by one would leave five new files beside five old
/// ones: weights that load without complaint (each file is valid) and compute nonsense. So
/// save_weights() writes everything into a fresh directory beside the target and then swaps
/// the directories with renames; see save_weights() for the steps and their one gap.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "support/io/data_error.hpp"
#include "cnn/layers/parameter.hpp"

namespace cnn {

/// The name of the list of parameters inside a weights directory.
inline constexpr const char* weights_manifest_file = "manifest.txt";

/// The first line of every manifest: the format's name and version.
inline constexpr const char* weights_manifest_header =
    "# cnn-steps weights 1: index name shape file sha256";

/// The file a parameter is saved in: its name with each slash replaced by a dot, plus
/// `.npy`, so `conv2d/kernel` becomes `conv2d.kernel.npy` and `dense_1/bias` becomes
/// `dense_1.bias.npy`. Throws std::invalid_argument, naming the parameter, unless the name is
/// one or more parts made of letters, digits, underscores and hyphens, separated by single
/// slashes: `a//b`, `/a`, `a.b`, `a b` and `../a` are refused.
/// \param parameter_name e.g. "conv2d/kernel"
/// \return the file's name, without a directory
std::string weights_file_name(const std::string& parameter_name);

/// Saves the values of `parameters` into `directory`: one `.npy` file per parameter (named
/// by weights_file_name()) and `manifest.txt`, replacing whatever weights were there.
///
/// The steps, chosen so that an interruption at any moment leaves at `directory` either the
/// complete old weights or the complete new ones, never a mix:
///  1. Write every `.npy` file and then the manifest into a new, uniquely named sibling
///     directory `<directory>.new-XXXXXXXX`, and flush all of it to the disk (fsync).
///  2. If `directory` exists, rename it to `<directory>.old-XXXXXXXX`.
///  3. Rename the new directory to `directory`, and flush that rename to the disk.
///  4. Delete the old directory.
///
/// Renaming a directory is atomic, but there is no portable way to swap two directories in
/// one step, so the honest gap is between steps 2 and 3: a crash exactly there leaves no
/// `directory` at all, with the complete old weights in `<directory>.old-*` and the complete
/// new ones in `<directory>.new-*` (load_weights() names them in its error), to be renamed
/// back by hand. A crash during step 1 leaves the old weights in place and an incomplete
/// `.new-*` directory beside them (one without a manifest); a crash during step 4, the new
/// weights in place and some of the old beside them. save_weights() does not delete such
/// leftovers on a later run, since another save may be using them; they are safe to delete.
/// (Linux's `renameat2(RENAME_EXCHANGE)` could close the gap; it is not portable.)
///
/// To protect a learner who passes the wrong path, an existing `directory` is replaced only
/// if it is empty or holds nothing but a manifest written by save_weights() and `.npy` files;
/// anything else (a home directory, a symbolic link, a file) is refused.
///
/// Two processes saving to the same directory at once are not supported.
///
/// Throws DataError naming the directory or file: for an invalid or duplicated parameter
/// name (file names that differ only in letter case count as duplicates, since macOS and
/// Windows would store them as one file), a parameter whose shape does not match its size, a
/// directory that may not be replaced, or any file system error. On an error the old weights,
/// if any, are left at `directory` and the temporary directory is removed.
/// \param parameters the views saved, each with a unique name
/// \param directory the weights' folder, created or replaced
void save_weights(const std::vector<Parameter>& parameters, const std::filesystem::path& directory);

/// Loads the weights saved by save_weights() in `directory` into `parameters`, which must be
/// the same model's: the same number of parameters with the same names, in the same order,
/// with the same shapes.
///
/// Every check is made, and every file read, before any value is copied: on any error the
/// parameters are left unchanged. Throws DataError naming the manifest or the `.npy` file in
/// question if the directory or its manifest is missing or malformed, if the manifest lists
/// more or fewer parameters than the model has, if a name or a shape differs from the
/// model's (naming the parameter, the expected and the found value), if a file is missing,
/// if its SHA-256 differs from the manifest's (a damaged or replaced file), or if read_npy()
/// rejects it.
///
/// Memory: the values are held in a second copy until every file has been checked (about
/// 5.7 MB for \ref chapter06 "chapter 06's" 1,413,834-parameter model).
/// \param parameters the model's views, filled from the files
/// \param directory the weights' folder
void load_weights(const std::vector<Parameter>& parameters, const std::filesystem::path& directory);

}  // namespace cnn
