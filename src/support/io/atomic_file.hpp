/// \file
/// \ingroup support
/// \brief Writing a file so that it is either complete or not there at all.
///
/// A program killed halfway through writing a file leaves half a file, which a later run (or
/// the build, which takes an existing output as done) may mistake for a good one. Writing to a
/// temporary name beside the file and renaming it into place at the end avoids that: on POSIX
/// file systems the rename replaces the old file in one step.
#pragma once

#include <filesystem>
#include <string>

namespace cnn {

/// Writes `text` to `file` whole: first to `<file>.partial`, renamed into place only once
/// everything is written. On failure the partial file is removed and std::runtime_error names
/// the file.
void write_file_atomically(const std::filesystem::path& file, const std::string& text);

}  // namespace cnn
