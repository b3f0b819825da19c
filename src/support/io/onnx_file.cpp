#include "support/io/onnx_file.hpp"

#include <fstream>
#include <iterator>
#include <string>

#include "cnn/interop/onnx_export.hpp"
#include "support/io/atomic_file.hpp"

namespace cnn {

void save_onnx(onnx::ModelProto& model, const std::filesystem::path& file) {
    check_onnx(model);
    std::string bytes;
    if (!model.SerializeToString(&bytes)) {
        throw std::runtime_error(file.string() + ": the ONNX model could not be serialised");
    }
    write_file_atomically(file, bytes);
}

onnx::ModelProto read_onnx(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw DataError(file.string() + ": cannot open the ONNX file" +
                        (std::filesystem::exists(file) ? "" : ": it does not exist"));
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    onnx::ModelProto model;
    if (bytes.empty() || !model.ParseFromString(bytes)) {
        throw DataError(file.string() + ": not an ONNX model: its " + std::to_string(bytes.size()) +
                        " bytes do not parse as a ModelProto (a truncated or foreign file?)");
    }
    try {
        check_onnx(model);
    } catch (const OnnxError& e) {
        throw DataError(file.string() + ": " + e.what() +
                        " (a truncated file can still parse, with parts missing)");
    }
    return model;
}

}  // namespace cnn
