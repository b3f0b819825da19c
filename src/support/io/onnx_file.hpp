/// \file
/// \ingroup support
/// \brief ONNX files: writing one whole or not at all, and reading one back, checked.
///
/// \ref chapter12 "Chapter 12" writes models with to_onnx() and reads them back to check them
/// and to name what a damaged file lacks. Saving goes through write_file_atomically(), so an
/// interrupted save never leaves half a model under the file's name.
#pragma once

#include <filesystem>

#include <onnx/onnx_pb.h>

#include "support/io/data_error.hpp"

namespace cnn {

/// Runs check_onnx() on `model`, then writes it to `file` (Protocol Buffers' binary form,
/// what every ONNX reader opens), replacing the file whole.
/// \param model the model; check_onnx() adds its inferred shapes
/// \param file the `.onnx` file written or replaced
/// \throws OnnxError when the checker refuses the model (nothing is written then)
/// \throws std::runtime_error naming the file when it cannot be written
void save_onnx(onnx::ModelProto& model, const std::filesystem::path& file);

/// Reads an ONNX file and checks it with check_onnx().
/// \param file the `.onnx` file
/// \return the model, with its inferred shapes
/// \throws DataError naming the file when it is missing, is not a Protocol Buffers message
///         (a truncated or foreign file), or the ONNX checker refuses what it holds
onnx::ModelProto read_onnx(const std::filesystem::path& file);

}  // namespace cnn
