/// \file
/// \ingroup ch12
/// \brief A model of this library as an ONNX model: the same graph and weights, in the format
/// that ONNX Runtime, PyTorch and most other frameworks read.
///
/// ONNX (Open Neural Network Exchange) describes a network as a graph of standard operators
/// (Conv, Gemm, Relu, MaxPool, ...) whose weights are stored in the graph as *initializers*.
/// The file is a Protocol Buffers message, ModelProto, defined by `onnx.proto`; Debian's
/// libonnx-dev ships that definition, the C++ classes generated from it and the checker, and
/// to_onnx() fills those classes, so no byte of the file is encoded by hand.
///
/// Each layer of the model becomes the operators that compute what it computes at inference,
/// and its activation, if any, one node more (Relu, or Softmax over axis 1):
///
///     Conv2D(64, 7).padding("same").activation("relu")
///         -> Conv(kernel_shape 7x7, pads 3,3,3,3) -> Relu
///
/// onnx_operators() lists the whole mapping. Layers that do nothing at inference (Dropout,
/// RandomFlip, RandomTranslation) become no node at all: their output is their input. A layer
/// without a mapping is an OnnxError that names it.
///
/// The graph's input is `input`, (N, C, H, W) or (N, D), with N left open (`N`). A classifier,
/// whose last layer ends with a softmax, has two outputs: `logits`, what the softmax reads, and
/// `probabilities`. Any other model has one, `output`. Each weight keeps the name it has in
/// Model::weights() (`conv2d/kernel`), and the same layout: this library stores a Conv2D kernel
/// as (FN, C, FH, FW), which is ONNX's (and PyTorch's) Conv layout, and a Dense kernel as
/// (D, M), which is what Gemm multiplies by with transB = 0.
///
///     cnn::Sequential model = cnn::seed_model(42);
///     onnx::ModelProto proto = cnn::to_onnx(model);
///     cnn::check_onnx(proto);  // ONNX's checker and shape inference
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "cnn/model/model.hpp"

namespace cnn {

/// A model that cannot be written as ONNX, or an ONNX model that ONNX's own checker refuses.
class OnnxError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What to_onnx() writes besides the graph.
struct OnnxExportOptions {
    /// The version of ONNX's standard operator set the graph uses: 17, the newest that
    /// Debian's ONNX 1.12 checks.
    std::int64_t opset = 17;
    std::string producer_name = "cnn-steps";  ///< who wrote the file
    std::string doc_string;                   ///< a sentence about the model, or nothing
};

/// One line of the mapping: a layer class and the ONNX operators it becomes.
struct OnnxMapping {
    std::string layer;      ///< Keras's class name, e.g. "Conv2D"
    std::string operators;  ///< e.g. "Conv"; a layer's activation adds Relu or Softmax
};

/// Every layer class to_onnx() can write, and the operators each becomes, in the order the
/// chapters introduce them.
/// \return the mapping
std::vector<OnnxMapping> onnx_operators();

/// The model as an ONNX model: its graph, its weights as initializers, its input and outputs
/// with their shapes. Builds the model first.
/// \param model a Sequential or Graph model
/// \param options the operator set and the producer's name
/// \return the ModelProto, not yet checked (check_onnx())
/// \throws OnnxError naming the first layer that has no ONNX mapping, or a layer whose
///         settings ONNX cannot express
onnx::ModelProto to_onnx(Model& model, const OnnxExportOptions& options = {});

/// Runs ONNX's checker (every node a known operator with valid attributes, every value
/// defined before it is read, the initializers well formed) and then ONNX's shape inference in
/// its strict mode, which fills in the shape of every value in between and fails where an
/// operator's inputs do not fit it. Adds the inferred shapes to `model` (graph.value_info).
/// \param model the model checked
/// \throws OnnxError with ONNX's message when either refuses the model
void check_onnx(onnx::ModelProto& model);

/// The shape the graph gives value `name` (an input, output or inferred value), -1 for an open
/// dimension such as N.
/// \param model a checked model (check_onnx() adds the inferred shapes)
/// \param name the value's name, e.g. "conv2d" or "logits"
/// \return the dimensions, outermost first
/// \throws OnnxError when the graph has no value of that name or no shape for it
std::vector<std::int64_t> onnx_value_shape(const onnx::ModelProto& model, const std::string& name);

}  // namespace cnn
