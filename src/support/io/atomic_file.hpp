/// \file
/// \ingroup support
/// \brief Writing a file or a directory so that it is either complete or not there at all.
///
/// A program killed halfway through writing a file leaves half a file, which a later run (or
/// the build, which takes an existing output as done) may mistake for a good one. Writing to a
/// temporary name beside the file and renaming it into place at the end avoids that: on POSIX
/// file systems the rename replaces the old file in one step.
///
/// A directory of files (saved weights, a checkpoint) is replaced the same way, as a whole:
/// replace_directory() fills a new directory beside it and swaps the two with renames.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace cnn {

/// For tests of interrupted saves: when set, called with a short name of each step of
/// write_file_atomically() and replace_directory() that changes the file system, just before
/// the step. The test of interrupted checkpoints (tests/test_checkpoint.cpp) ends a child
/// process there, as a kill would; nothing else sets it.
inline std::function<void(const char* step)> file_system_step_hook;

/// Writes `text` to `file` whole: first to `<file>.partial`, renamed into place only once
/// everything is written. On failure the partial file is removed and std::runtime_error names
/// the file.
/// \param file the file written or replaced
/// \param text its new contents
void write_file_atomically(const std::filesystem::path& file, const std::string& text);

/// `directory` without a trailing separator (`out/weights/` becomes `out/weights`): the path
/// whose last part is the name replace_directory() renames.
/// \param directory a path, with or without a trailing separator
/// \return the same path without it
std::filesystem::path without_trailing_separator(const std::filesystem::path& directory);

/// The directory holding `target`; "." for a bare name such as `weights`.
/// \param target a path
/// \return its parent directory, or "." when it has none
std::filesystem::path parent_directory(const std::filesystem::path& target);

/// Who writes a directory that replace_directory() replaces, and what it puts there: how
/// check_replaceable() tells such a directory from one of the learner's.
struct DirectoryOwner {
    std::string writer;       ///< the function that writes it, e.g. `save_weights`
    std::string contents;     ///< what it holds, for messages: `saved weights`, `a checkpoint`
    std::string marker_file;  ///< the file that marks it as the writer's: `manifest.txt`
    std::string marker_line;  ///< the first line of `marker_file` (a trailing `\r` is ignored)
    /// True for an entry that the writer puts in such a directory. An entry that cannot be
    /// examined is not known to be the writer's: false.
    std::function<bool(const std::filesystem::directory_entry& entry)> is_own_entry;
};

/// Throws DataError, naming `target`, unless replace_directory() may replace `target` with
/// what `owner.writer` saves: `target` does not exist, or it is a real directory (not a
/// symbolic link) that is empty or holds nothing but entries `owner.is_own_entry` accepts,
/// among them `owner.marker_file` starting with `owner.marker_line`. A wrong path must never
/// cost a learner their files: a home directory, a symbolic link or a file is refused.
/// \param target the directory to be replaced
/// \param owner who writes such a directory and how its contents are recognised
void check_replaceable(const std::filesystem::path& target, const DirectoryOwner& owner);

/// Checks that replace_directory() could save at `directory` now, before the work whose
/// result it is to save: the path ends in a name, the directory holding it exists or can be
/// created, and a directory can be made there (one, `<name>.probe-XXXXXXXX`, is made and
/// removed at once). check_replaceable() checks what is at `directory` itself. Throws
/// DataError naming the path otherwise.
/// \param directory where the result will be saved
/// \param what what will be saved there, for messages, e.g. "checkpoint"
void check_can_save_directory(const std::filesystem::path& directory, const std::string& what);

/// Replaces the directory `directory` as a whole (this is how save_weights() and
/// save_checkpoint() save), in steps chosen so that an interruption at any moment leaves at
/// `directory` either the complete old contents or the complete new ones, never a mix:
///  1. Call `fill` with a new, empty, uniquely named sibling directory
///     `<directory>.new-XXXXXXXX` to write into, then flush all of it to the disk (fsync).
///  2. If `directory` exists, rename it to `<directory>.old-XXXXXXXX`.
///  3. Rename the new directory to `directory`, and flush that rename to the disk.
///  4. Delete the old directory.
///
/// A crash between steps 2 and 3 leaves no `directory`, with the old contents in `.old-*` and
/// the new ones in `.new-*`, to be renamed back by hand. `what` names the contents in
/// messages ("weights", "checkpoint"). The caller checks that an existing `directory` may be
/// replaced (check_replaceable()). Throws DataError naming the directory on any file system
/// error, or whatever `fill` throws; on any error the new directory is removed and
/// `directory` is left as it was.
/// \param directory the directory replaced
/// \param what what it holds, for messages
/// \param fill writes the new contents into the staging directory it is given
void replace_directory(const std::filesystem::path& directory, const std::string& what,
                       const std::function<void(const std::filesystem::path& staging)>& fill);

}  // namespace cnn
