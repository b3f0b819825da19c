/// \file
/// \ingroup support
/// \brief Reading IDX files, the format MNIST and Fashion-MNIST ship in, gzipped or raw.
///
/// An IDX file is a tiny header followed by one flat array, stored row-major:
///
/// | offset | bytes    | content                                                    |
/// |--------|----------|------------------------------------------------------------|
/// | 0      | 2        | zero, zero                                                 |
/// | 2      | 1        | type code: 0x08 = unsigned byte (the only one MNIST uses)  |
/// | 3      | 1        | rank r: 1 for a label file, 3 for an image file            |
/// | 4      | 4 r      | the r dimensions, each a big-endian 32-bit unsigned int    |
/// | 4 + 4r | product  | the values, one byte each for type 0x08                    |
///
/// so `train-images-idx3-ubyte` holds (60000, 28, 28) pixels and `train-labels-idx1-ubyte`
/// holds (60000) labels. The files are distributed gzipped; the reader inflates a file that
/// starts with the gzip signature through zlib and reads any other file as it is, so `.gz` and
/// raw files read the same way. A gzip stream counts as complete only once zlib has checked
/// its trailer, the CRC-32 and length of the data: a file cut anywhere, even in those last
/// 8 bytes, is refused.
///
/// The header is untrusted input. The reader checks every field, never believes a size
/// before the bytes have arrived, and reports any problem as a DataError whose message
/// starts with the file's path.
#pragma once

#include "support/io/data_error.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace cnn {

/// The contents of an IDX file of unsigned bytes.
struct IdxArray {
    std::vector<std::size_t> dims;   ///< the dimensions from the header, e.g. {60000, 28, 28}
    std::vector<std::uint8_t> data;  ///< product(dims) bytes, row-major (last index fastest)
};

/// The largest payload read_idx() accepts: 1 GiB. The largest IDX file of this family,
/// EMNIST ByClass's training images, holds about 547 MB; a header announcing more than the
/// limit is taken to be corrupt rather than trusted with that much memory.
inline constexpr std::size_t idx_max_payload_bytes = std::size_t{1} << 30;

/// Reads the IDX file `file` (gzipped or raw) whose rank must be `expected_rank`
/// (1 for labels, 3 for images).
///
/// Throws DataError if the file is missing, not a regular file or unreadable, if its gzip
/// stream is corrupt or cut short (its trailer missing or not matching the data), if the
/// magic number, type code or rank is not the expected one, if a dimension is zero or their
/// product exceeds idx_max_payload_bytes, or if the payload is shorter or longer than the
/// header says. Memory use follows the bytes actually read, never the header's claim, so a
/// lying header cannot make the reader allocate gigabytes.
/// \param file the IDX file, `.gz` or raw
/// \param expected_rank the number of dimensions the file must have
/// \return its dimensions and bytes
IdxArray read_idx(const std::filesystem::path& file, std::size_t expected_rank);

}  // namespace cnn
