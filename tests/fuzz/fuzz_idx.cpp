// libFuzzer target for cnn::read_idx (support/io/idx.hpp): any bytes, raw or gzipped, must give
// an IdxArray that agrees with its own header, or a DataError; never a crash, a sanitizer
// report, another exception or a huge allocation.
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "support/io/idx.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path file = cnn::fuzz::scratch_directory() / "input-idx";
    cnn::fuzz::write_bytes(file, data, size);
    // Ask for the rank the header claims when there is one, so the fuzzer gets past the
    // rank check and into the dimensions and the payload; rank 1 otherwise.
    const std::size_t rank = size >= 4 && data[3] != 0 ? data[3] : 1;
    try {
        const cnn::IdxArray array = cnn::read_idx(file, rank);
        std::size_t count = 1;
        for (std::size_t dim : array.dims) {
            count *= dim;
        }
        if (array.dims.size() != rank || array.data.size() != count) {
            __builtin_trap();  // a result that contradicts its own header
        }
    } catch (const cnn::DataError&) {
        // The expected answer to bad input.
    }
    return 0;
}
