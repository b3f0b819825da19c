// Writing IDX files byte by byte, as the format describes them (see idx.hpp), for the tests
// of the reader and of the data sets built on it; and catching the DataError a bad file gets.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <zlib.h>

#include "support/io/idx.hpp"  // DataError

namespace cnn::testing {

using Bytes = std::vector<std::uint8_t>;

/// An IDX header: two zero bytes, the type code, the rank, then each dimension big-endian.
inline Bytes idx_header(std::uint8_t type_code, const std::vector<std::uint32_t>& dims) {
    Bytes bytes = {0, 0, type_code, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims) {
        bytes.insert(bytes.end(),
                     {static_cast<std::uint8_t>(d >> 24), static_cast<std::uint8_t>(d >> 16),
                      static_cast<std::uint8_t>(d >> 8), static_cast<std::uint8_t>(d)});
    }
    return bytes;
}

/// Writes `bytes` as they are.
inline void write_raw(const std::filesystem::path& file, const Bytes& bytes) {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

/// Writes `bytes` gzipped, through zlib's own writer.
inline void write_gz(const std::filesystem::path& file, const Bytes& bytes) {
    gzFile gz = gzopen(file.string().c_str(), "wb");
    REQUIRE(gz != nullptr);
    const int written = gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
    const int closed = gzclose(gz);
    REQUIRE(written == static_cast<int>(bytes.size()));
    REQUIRE(closed == Z_OK);
}

/// An IDX file of unsigned bytes with the given dims and payload; gzipped when the name ends
/// in .gz, raw otherwise.
inline void write_idx(const std::filesystem::path& file, const std::vector<std::uint32_t>& dims,
                      const Bytes& data) {
    Bytes bytes = idx_header(0x08, dims);
    bytes.insert(bytes.end(), data.begin(), data.end());
    if (file.extension() == ".gz") {
        write_gz(file, bytes);
    } else {
        write_raw(file, bytes);
    }
}

/// The what() of the cnn::DataError that `read` throws, or "" if it throws none.
template <class F>
std::string data_error_of(F read) {
    try {
        read();
    } catch (const DataError& error) {
        return error.what();
    }
    return "";
}

}  // namespace cnn::testing
