/// \file
/// \ingroup support
/// \brief SHA-256 checksums of data files, and checking them against a `SHA256SUMS` list.
///
/// A dataset that was cut short or swapped for another still parses, and a model trained on
/// it gives numbers that differ from the book's for no visible reason. A checksum catches
/// that before training starts. The committed sample in `data/fashion-mnist-sample/` ships
/// with a `SHA256SUMS` file in the format `sha256sum` writes and `sha256sum -c` checks:
///
///     c65d0050fa025a5a...724dff7a  train-images-idx3-ubyte.gz
///
/// one line per file: 64 hexadecimal digits, two spaces (or a space and `*`), the file name.
#pragma once

#include <filesystem>
#include <string>

namespace cnn {

/// The SHA-256 digest of the file's bytes as 64 lower-case hexadecimal digits, computed with
/// OpenSSL's EVP interface while streaming the file in chunks (any file size, little memory).
/// Throws DataError (from support/io/idx.hpp) naming the file if it cannot be opened or read.
/// \param file the file hashed
/// \return the digest, 64 characters
std::string sha256_hex(const std::filesystem::path& file);

/// The SHA-256 digest of the bytes of `text`, in the same form as sha256_hex(): what a file
/// holding exactly `text` would give. Throws std::runtime_error if OpenSSL fails.
/// \param text the bytes hashed
/// \return the digest, 64 characters
std::string sha256_of_text(const std::string& text);

/// Checks `file` against the `SHA256SUMS` file in the same directory, if there is one and it
/// lists the file's name. Throws DataError naming the file, the expected and the found hash
/// on a mismatch, or naming `SHA256SUMS` and the line if that list is malformed. No
/// `SHA256SUMS`, or one that does not list the file, means there is nothing to check: a
/// learner's own copy of a dataset needs no checksum file.
/// \param file the file checked
void verify_against_sums(const std::filesystem::path& file);

}  // namespace cnn
