/// \file
/// \ingroup support
/// \brief DataError: what every reader of files throws on bad input.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace cnn {

/// A data file (IDX, checksum list, .npy, weights, checkpoint, dataset directory) is missing,
/// unreadable or malformed. The message starts with the path of the file in question, then
/// says what was expected and what was found.
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Throws DataError naming `file` unless it is a regular file or a symbolic link to one:
/// "cannot open the file: it does not exist", or "expected `what`, found" a directory, a
/// named pipe, a device or a socket. Every reader checks this before it opens a file: opening
/// a named pipe waits for a writer, forever if none comes, and a device such as /dev/zero
/// never ends.
/// \param file the path checked
/// \param what what the file should be, for the message
inline void require_regular_file(const std::filesystem::path& file,
                                 const std::string& what = "a regular file") {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(file, ec);  // follows symbolic links
    if (status.type() == fs::file_type::not_found) {
        throw DataError(file.string() + ": cannot open the file: it does not exist");
    }
    if (ec) {
        throw DataError(file.string() + ": cannot open the file: " + ec.message());
    }
    const char* found = fs::is_directory(status)        ? "a directory"
                        : fs::is_fifo(status)           ? "a named pipe (FIFO)"
                        : fs::is_character_file(status) ? "a character device"
                        : fs::is_block_file(status)     ? "a block device"
                        : fs::is_socket(status)         ? "a socket"
                                                        : nullptr;
    if (!fs::is_regular_file(status)) {
        throw DataError(file.string() + ": expected " + what + ", found " +
                        (found != nullptr ? found : "a special file"));
    }
}

}  // namespace cnn
