/// \file
/// \ingroup support
/// \brief Reading and writing NumPy's `.npy` files of float32 arrays, the files saved weights
/// are made of.
///
/// A `.npy` file is one array: a short text header that says what the array is, then its raw
/// bytes. It is the format `numpy.save` writes and `numpy.load` reads, so weights saved by
/// this book open in Python with one line, and the other way round. Version 1.0 of the format:
///
/// | offset | bytes   | content                                                          |
/// |--------|---------|------------------------------------------------------------------|
/// | 0      | 6       | the magic string `\x93NUMPY` (byte 0x93, then the ASCII "NUMPY") |
/// | 6      | 2       | the format version: major 1, minor 0                             |
/// | 8      | 2       | HEADER_LEN, a little-endian unsigned 16-bit integer              |
/// | 10     | HEADER_LEN | the header: a Python dictionary literal in ASCII (below)      |
/// | 10 + HEADER_LEN | 4 x product(shape) | the values, float32, little-endian, C order |
///
/// For a float32 array of shape (2, 3) the header reads
///
///     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
///
/// `descr` is the element type (`<` little-endian, `f` float, `4` bytes), `fortran_order`
/// False means C order (row-major: the last index varies fastest, as in our tensors), and
/// `shape` is a Python tuple, so a 1-D shape is written `(5,)` and a 0-D (scalar) one `()`.
/// The header is padded with spaces and ends in `\n` so that the data starts at a multiple of
/// 64 bytes from the start of the file; NumPy has padded to 64 bytes since version 1.14 (to
/// 16 before), so the data can be memory-mapped with any alignment a vector unit wants.
/// Version 2.0 of the format differs only in a 4-byte HEADER_LEN, for headers over 64 KiB.
///
/// write_npy() writes byte for byte what `numpy.save` (NumPy 1.24) writes for a C-order
/// float32 array, including the spare spaces NumPy 1.24 added before the padding so a header
/// can be rewritten in place when an array grows along its first axis. read_npy() reads
/// what `numpy.save` writes for such arrays and the harmless variations any other writer may
/// use (key order, quotes, spacing, trailing commas, 16-byte padding, version 2.0).
///
/// Arrays of zero size, such as shape (0,) or (3, 0), are allowed: NumPy writes them as a
/// header with no data after it, and they read back the same way, with an empty `data`.
///
/// The header is untrusted input. The reader checks every field, never trusts a size before
/// comparing it with the bytes the file really holds, and reports any problem as a DataError
/// (from support/io/idx.hpp) whose message starts with the file's path.
#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include "support/io/data_error.hpp"

namespace cnn {

/// A float32 array as read from a `.npy` file.
struct NpyArray {
    std::vector<std::size_t> shape;  ///< e.g. {64, 1, 7, 7}; empty for a 0-D (scalar) array
    std::vector<float> data;         ///< product(shape) values in C order (last index fastest)
};

/// The longest header read_npy() accepts, in bytes: the same limit `numpy.load` applies by
/// default (its `max_header_size`). A float32 array's header is 128 bytes unless it has
/// dozens of dimensions; a longer one is taken to be corrupt rather than parsed.
inline constexpr std::size_t npy_max_header_bytes = 10000;

/// Writes `data`, product(shape) floats in C order, to `file` as a version 1.0 `.npy` file of
/// dtype `<f4`, exactly as `numpy.save` would. An empty `shape` writes a 0-D array of one
/// value. The file is written whole under a temporary name beside it, then renamed into
/// place (cnn::write_file_atomically), so a failed write never leaves half a file at `file`.
///
/// Throws DataError naming the file if product(shape) * 4 bytes does not fit in a size_t, if
/// `data` is null while the array is not empty, or if the file cannot be written.
/// \param file the file written or replaced
/// \param data product(shape) floats; may be null for an empty array
/// \param shape the array's shape
void write_npy(const std::filesystem::path& file, const float* data,
               const std::vector<std::size_t>& shape);

/// Reads the `.npy` file `file`, which must hold a little-endian float32 array in C order.
///
/// Throws DataError, starting with the path and saying what was expected and what was found,
/// if the file is missing or unreadable; if the magic string is wrong; if the version is not
/// 1.0 or 2.0; if the header is longer than npy_max_header_bytes or longer than the file; if
/// the header is not a dictionary of exactly `descr`, `fortran_order` and `shape`; if
/// `descr` is not `'<f4'` (the message names the type found, e.g. `'<f8'`, 64-bit float);
/// if `fortran_order` is True; if `shape` is not a tuple of non-negative integers; if the
/// size the shape describes overflows; or if the data after the header is not exactly
/// 4 x product(shape) bytes (a truncated file or trailing bytes). Memory is allocated only
/// after the shape has been checked against the file's real size, so a lying header cannot
/// make the reader allocate more than the file holds.
/// \param file the `.npy` file
/// \return its shape and values
NpyArray read_npy(const std::filesystem::path& file);

}  // namespace cnn
