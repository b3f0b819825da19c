// What both fuzz targets share: a private scratch directory, and writing the fuzzer's bytes
// to a file in it (the readers under test take paths, as the programs do).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <unistd.h>

namespace cnn::fuzz {

/// A directory of this process's own, under /dev/shm when there is one (the fuzzer writes
/// a file for every input: memory is faster than a disk), removed when the process exits.
inline const std::filesystem::path& scratch_directory() {
    static const std::filesystem::path directory = [] {
        const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                               ? std::filesystem::path("/dev/shm")
                                               : std::filesystem::temp_directory_path();
        std::filesystem::path d = base / ("cnn-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    static const bool cleanup = [] {
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(directory, ignored);
        });
        return true;
    }();
    (void)cleanup;
    return directory;
}

/// Writes `size` bytes at `data` to `file`, replacing it.
inline void write_bytes(const std::filesystem::path& file, const std::uint8_t* data,
                        std::size_t size) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace cnn::fuzz
