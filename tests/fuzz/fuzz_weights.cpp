// libFuzzer target for loading saved weights (support/io/weights.hpp and support/io/npy.hpp).
//
// load_weights() reads a directory; a fuzzer hands out one string of bytes. The harness
// splits it at the first zero byte: what comes before is written as manifest.txt (a text
// file, which never holds a zero byte), what comes after as the one .npy file the manifest
// of a one-parameter model names, dense.kernel.npy. Then it
//   1. loads the directory into a model of one parameter, dense/kernel of shape (2, 3):
//      this fuzzes the manifest parser and every check before the data is read; and
//   2. reads the .npy file on its own with read_npy(): a mutated .npy file no longer
//      matches the SHA-256 in the manifest, so step 1 alone would rarely reach the .npy
//      header parser.
// Both must either succeed or throw DataError. A failed load must leave the parameter's
// values untouched (load_weights() promises all-or-nothing).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "support/io/npy.hpp"
#include "support/io/weights.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path directory = cnn::fuzz::scratch_directory() / "weights";
    std::filesystem::create_directories(directory);
    const std::uint8_t* split = std::find(data, data + size, std::uint8_t{0});
    const std::filesystem::path npy = directory / "dense.kernel.npy";
    cnn::fuzz::write_bytes(directory / "manifest.txt", data, static_cast<std::size_t>(split - data));
    if (split == data + size) {
        std::filesystem::remove(npy);  // no zero byte: no .npy file at all
    } else {
        cnn::fuzz::write_bytes(npy, split + 1, static_cast<std::size_t>(data + size - split - 1));
    }

    constexpr float sentinel = 12345.0f;
    std::array<float, 6> values;
    values.fill(sentinel);
    std::array<float, 6> grads{};
    const std::vector<cnn::Parameter> parameters = {
        {"dense/kernel", values.data(), grads.data(), values.size(), {2, 3}}};
    try {
        cnn::load_weights(parameters, directory);
    } catch (const cnn::DataError&) {
        if (std::any_of(values.begin(), values.end(), [](float v) { return v != sentinel; })) {
            __builtin_trap();  // a failed load changed the model
        }
    }
    try {
        const cnn::NpyArray array = cnn::read_npy(npy);
        std::size_t count = 1;
        for (std::size_t dim : array.shape) {
            count *= dim;
        }
        if (array.data.size() != count) {
            __builtin_trap();  // a result that contradicts its own header
        }
    } catch (const cnn::DataError&) {
    }
    return 0;
}
