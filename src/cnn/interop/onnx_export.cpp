#include "cnn/interop/onnx_export.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <utility>

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include "cnn/layers/augmentation.hpp"
#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/conv2d_transpose.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/upsampling2d.hpp"
#include "cnn/ops/augment.hpp"

namespace cnn {

namespace {

using Ints = std::vector<std::int64_t>;

Ints ints(std::initializer_list<std::size_t> values) {
    Ints out;
    for (const std::size_t v : values) {
        out.push_back(static_cast<std::int64_t>(v));
    }
    return out;
}

// The graph being written: nodes, initializers and the names of the values between them.
class OnnxGraph {
public:
    explicit OnnxGraph(onnx::GraphProto& graph) : graph_(graph) {}

    // A node `op` reading `inputs` and writing the value `output`; returns the node, for its
    // attributes.
    onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::string& output) {
        onnx::NodeProto& n = *graph_.add_node();
        n.set_op_type(op);
        n.set_name(output);
        for (const std::string& in : inputs) {
            n.add_input(in);
        }
        n.add_output(output);
        return n;
    }

    // A float32 weight, stored in the graph under `name`, little-endian as ONNX requires (and
    // as this machine stores floats).
    std::string weight(const std::string& name, const std::vector<std::size_t>& shape,
                       const float* values) {
        onnx::TensorProto& t = *graph_.add_initializer();
        t.set_name(name);
        t.set_data_type(onnx::TensorProto::FLOAT);
        std::size_t count = 1;
        for (const std::size_t d : shape) {
            t.add_dims(static_cast<std::int64_t>(d));
            count *= d;
        }
        t.set_raw_data(std::string(reinterpret_cast<const char*>(values), count * sizeof(float)));
        return name;
    }

    // A constant operand of an operator (Resize's scales, Slice's bounds), as an initializer.
    std::string floats(const std::string& name, const std::vector<float>& values) {
        return weight(name, {values.size()}, values.data());
    }
    std::string int64s(const std::string& name, const Ints& values) {
        onnx::TensorProto& t = *graph_.add_initializer();
        t.set_name(name);
        t.set_data_type(onnx::TensorProto::INT64);
        t.add_dims(static_cast<std::int64_t>(values.size()));
        for (const std::int64_t v : values) {
            t.add_int64_data(v);
        }
        return name;
    }

private:
    onnx::GraphProto& graph_;
};

void set(onnx::NodeProto& n, const std::string& name, const Ints& values) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (const std::int64_t v : values) {
        a.add_ints(v);
    }
}
void set(onnx::NodeProto& n, const std::string& name, std::int64_t value) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(value);
}
void set(onnx::NodeProto& n, const std::string& name, float value) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::FLOAT);
    a.set_f(value);
}
void set(onnx::NodeProto& n, const std::string& name, const std::string& value) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::STRING);
    a.set_s(value);
}

// The attributes of every operator that slides a window (Conv, ConvTranspose, MaxPool,
// AveragePool): its size, its strides and ONNX's pads, the starts of both axes, then their ends.
void set_window(onnx::NodeProto& n, std::size_t rows, std::size_t cols, const Conv2DGeometry& g) {
    set(n, "kernel_shape", ints({rows, cols}));
    set(n, "strides", ints({g.stride_rows, g.stride_cols}));
    set(n, "pads", ints({g.pad_rows.before, g.pad_cols.before, g.pad_rows.after, g.pad_cols.after}));
}

// The layer's parameters() and state() by the last part of their names ("kernel", "bias",
// "gamma", "moving_mean", ...).
std::map<std::string, Parameter> weights_of(Layer& layer) {
    std::map<std::string, Parameter> found;
    std::vector<Parameter> all = layer.parameters();
    for (Parameter& p : layer.state()) {
        all.push_back(std::move(p));
    }
    for (Parameter& p : all) {
        found[p.name.substr(p.name.rfind('/') + 1)] = std::move(p);
    }
    return found;
}

std::string weight(OnnxGraph& g, std::map<std::string, Parameter>& weights, const std::string& part) {
    const Parameter& p = weights.at(part);
    return g.weight(p.name, p.shape, p.value);
}

// A node `op` that reads the layer's input, its kernel and its bias (Conv, ConvTranspose, Gemm).
onnx::NodeProto& kernel_and_bias_node(const std::string& op, Layer& layer, const std::string& input,
                                      const std::string& output, OnnxGraph& g) {
    auto weights = weights_of(layer);
    return g.node(op, {input, weight(g, weights, "kernel"), weight(g, weights, "bias")}, output);
}

// What one layer call hands its writer: the layer, its input values' names and shapes, and
// the name its result must have.
struct Call {
    Layer& layer;
    const std::vector<std::string>& inputs;
    const std::vector<Shape>& input_shapes;
    const std::string& output;
};

// Writes the layer's own operation (without its activation), reading call.inputs; returns
// the name of the value it produced (call.output, or an input's name for an identity).
using Writer = std::function<std::string(const Call& call, OnnxGraph& g)>;

//! [onnx_conv2d]
std::string write_conv2d(const Call& call, OnnxGraph& g) {
    const auto& conv = dynamic_cast<const Conv2D&>(call.layer);
    const Conv2DOptions& o = conv.options();
    const Shape& x = call.input_shapes[0];  // (C, H, W)
    const Conv2DGeometry geometry = conv.geometry(x[1], x[2]);  // Keras's 'same' worked out
    onnx::NodeProto& n = kernel_and_bias_node("Conv", call.layer, call.inputs[0], call.output, g);
    set_window(n, o.kernel_rows, o.kernel_cols, geometry);  // 'same' pads may be uneven
    return call.output;
}
//! [onnx_conv2d]

std::string write_conv2d_transpose(const Call& call, OnnxGraph& g) {
    const auto& layer = dynamic_cast<const Conv2DTranspose&>(call.layer);
    const Conv2DTransposeOptions& o = layer.options();
    const Shape& x = call.input_shapes[0];  // (C_in, H, W)
    const Conv2DTransposeGeometry geometry = layer.geometry(x[1], x[2]);
    // ONNX's size: S (H - 1) + FH - pads, plus output_padding rows at the end. Keras's size
    // (H_out) may need up to S - 1 of them (a kernel smaller than its stride).
    const auto extra = [&](std::size_t h, std::size_t s, std::size_t k, const AxisPadding& p,
                           std::size_t wanted) {
        const std::size_t base = s * (h - 1) + k - p.total();
        if (wanted < base || wanted - base >= s) {
            throw OnnxError(layer.name() + " (Conv2DTranspose): ONNX's ConvTranspose cannot give " +
                            std::to_string(wanted) + " rows or columns from " + std::to_string(h));
        }
        return wanted - base;
    };
    const Conv2DGeometry& c = geometry.conv;
    onnx::NodeProto& n = kernel_and_bias_node("ConvTranspose", call.layer, call.inputs[0], call.output, g);
    set_window(n, o.kernel_rows, o.kernel_cols, c);
    set(n, "output_padding",
        ints({extra(x[1], c.stride_rows, o.kernel_rows, c.pad_rows, geometry.out_rows),
              extra(x[2], c.stride_cols, o.kernel_cols, c.pad_cols, geometry.out_cols)}));
    return call.output;
}

std::string write_dense(const Call& call, OnnxGraph& g) {
    // Gemm: Y = A B + C with A (N, D), B the kernel (D, M) and C the bias (M).
    kernel_and_bias_node("Gemm", call.layer, call.inputs[0], call.output, g);
    return call.output;
}

template <class Pooling>
std::string write_pooling(const Call& call, OnnxGraph& g, const std::string& op) {
    const auto& layer = dynamic_cast<const Pooling&>(call.layer);
    const Shape& x = call.input_shapes[0];
    const Pool2DWindow window = layer.window(x[1], x[2]);
    onnx::NodeProto& n = g.node(op, {call.inputs[0]}, call.output);
    set_window(n, window.window_rows, window.window_cols, window.geometry);
    if (op == "AveragePool") {
        set(n, "count_include_pad", std::int64_t{0});  // padding is never averaged in
    }
    return call.output;
}

std::string write_upsampling(const Call& call, OnnxGraph& g) {
    const UpSampling2DOptions& o = dynamic_cast<const UpSampling2D&>(call.layer).options();
    const std::string scales = g.floats(call.layer.name() + "/scales",
                                        {1.0f, 1.0f, static_cast<float>(o.size.rows),
                                         static_cast<float>(o.size.cols)});
    onnx::NodeProto& n = g.node("Resize", {call.inputs[0], "", scales}, call.output);
    if (o.interpolation == Interpolation::nearest) {
        // Output pixel i copies input pixel floor(i / f).
        set(n, "mode", std::string("nearest"));
        set(n, "coordinate_transformation_mode", std::string("asymmetric"));
        set(n, "nearest_mode", std::string("floor"));
    } else {
        // Output pixel i sits at (i + 0.5) / f - 0.5 in input pixels, clamped at the edges.
        set(n, "mode", std::string("linear"));
        set(n, "coordinate_transformation_mode", std::string("half_pixel"));
    }
    return call.output;
}

std::string write_random_crop(const Call& call, OnnxGraph& g) {
    const RandomCropOptions& o = dynamic_cast<const RandomCrop&>(call.layer).options();
    const Shape& x = call.input_shapes[0];
    const Corner c = centred_corner(x[1], x[2], o.height, o.width);  // the inference window
    const std::string& name = call.layer.name();
    g.node("Slice",
           {call.inputs[0], g.int64s(name + "/starts", ints({c.top, c.left})),
            g.int64s(name + "/ends", ints({c.top + o.height, c.left + o.width})),
            g.int64s(name + "/axes", {2, 3})},
           call.output);
    return call.output;
}

std::string write_batch_normalization(const Call& call, OnnxGraph& g) {
    const auto& bn = dynamic_cast<const BatchNormalization&>(call.layer);
    auto weights = weights_of(call.layer);
    onnx::NodeProto& n = g.node(
        "BatchNormalization",
        {call.inputs[0], weight(g, weights, "gamma"), weight(g, weights, "beta"),
         weight(g, weights, "moving_mean"), weight(g, weights, "moving_variance")},
        call.output);
    set(n, "epsilon", bn.options().epsilon);
    return call.output;
}

std::string unary(const Call& call, OnnxGraph& g, const std::string& op) {
    g.node(op, {call.inputs[0]}, call.output);
    return call.output;
}

// One layer class the exporter can write: its name, the operators it becomes (for
// onnx_operators()) and its writer.
struct Mapping {
    std::string layer;
    std::string operators;
    Writer write;
};

std::string passes_input_on(const Call& call, OnnxGraph&) { return call.inputs[0]; }

// Every layer class that can be written, in the order the chapters introduce them.
const std::vector<Mapping>& mappings() {
    static const std::vector<Mapping> table = {
        {"Dense", "Gemm", write_dense},
        {"Conv2D", "Conv", write_conv2d},
        {"Flatten", "Flatten", [](const Call& c, OnnxGraph& g) { return unary(c, g, "Flatten"); }},
        {"MaxPooling2D", "MaxPool",
         [](const Call& c, OnnxGraph& g) { return write_pooling<MaxPooling2D>(c, g, "MaxPool"); }},
        {"AveragePooling2D", "AveragePool",
         [](const Call& c, OnnxGraph& g) { return write_pooling<AveragePooling2D>(c, g, "AveragePool"); }},
        {"Dropout", "none (identity at inference)", passes_input_on},
        {"ReLU", "none (its Relu is the activation)", passes_input_on},
        {"Softmax", "none (its Softmax is the activation)", passes_input_on},
        {"BatchNormalization", "BatchNormalization", write_batch_normalization},
        {"Add", "Add (Sum for three or more inputs)",
         [](const Call& c, OnnxGraph& g) {
             g.node(c.inputs.size() == 2 ? "Add" : "Sum", c.inputs, c.output);  // Add takes two
             return c.output;
         }},
        {"Concatenate", "Concat (axis 1)",
         [](const Call& c, OnnxGraph& g) {
             set(g.node("Concat", c.inputs, c.output), "axis", std::int64_t{1});
             return c.output;
         }},
        {"GlobalAveragePooling2D", "GlobalAveragePool, Flatten",
         [](const Call& c, OnnxGraph& g) {
             g.node("GlobalAveragePool", {c.inputs[0]}, c.output + "/pooled");  // (N, C, 1, 1)
             g.node("Flatten", {c.output + "/pooled"}, c.output);                 // (N, C)
             return c.output;
         }},
        {"RandomFlip", "none (identity at inference)", passes_input_on},
        {"RandomTranslation", "none (identity at inference)", passes_input_on},
        {"RandomCrop", "Slice (the centred window)", write_random_crop},
        {"UpSampling2D", "Resize", write_upsampling},
        {"Conv2DTranspose", "ConvTranspose", write_conv2d_transpose},
    };
    return table;
}

const Mapping* mapping_of(const std::string& layer) {
    for (const Mapping& m : mappings()) {
        if (m.layer == layer) {
            return &m;
        }
    }
    return nullptr;
}

std::string layer_list() {
    std::string list;
    for (const Mapping& m : mappings()) {
        list += (list.empty() ? "" : ", ") + m.layer;
    }
    return list;
}

void describe_value(onnx::ValueInfoProto& value, const std::string& name, const Shape& shape) {
    value.set_name(name);
    onnx::TypeProto::Tensor& t = *value.mutable_type()->mutable_tensor_type();
    t.set_elem_type(onnx::TensorProto::FLOAT);
    onnx::TensorShapeProto& s = *t.mutable_shape();
    s.add_dim()->set_dim_param("N");  // the batch: any size
    for (const std::size_t d : shape) {
        s.add_dim()->set_dim_value(static_cast<std::int64_t>(d));
    }
}

}  // namespace

std::vector<OnnxMapping> onnx_operators() {
    std::vector<OnnxMapping> table;
    for (const Mapping& m : mappings()) {
        table.push_back({m.layer, m.operators});
    }
    return table;
}

onnx::ModelProto to_onnx(Model& model, const OnnxExportOptions& options) {
    const std::vector<LayerCall> calls = model.calls();  // builds the model
    onnx::ModelProto proto;
    proto.set_ir_version(onnx::IR_VERSION);
    proto.set_producer_name(options.producer_name);
    proto.set_doc_string(options.doc_string);
    onnx::OperatorSetIdProto& opset = *proto.add_opset_import();
    opset.set_domain("");  // the standard operators
    opset.set_version(options.opset);
    onnx::GraphProto& graph = *proto.mutable_graph();
    graph.set_name(model.name());
    describe_value(*graph.add_input(), "input", model.input_shape());
    OnnxGraph g(graph);

    std::map<const Layer*, std::string> value_of = {{nullptr, "input"}};  // each layer's output
    std::string logits;  // what the last layer's softmax reads, if it has one
    for (const LayerCall& step : calls) {
        Layer& layer = *step.layer;
        const Mapping* mapping = mapping_of(layer.type());
        if (mapping == nullptr) {
            throw OnnxError("cannot write " + layer.name() + " (" + layer.type() +
                            ") as ONNX: this exporter knows no ONNX operator for it; it writes " +
                            layer_list());
        }
        std::vector<std::string> inputs;
        for (const Layer* input : step.inputs) {
            inputs.push_back(value_of.at(input));
        }
        // The operation, then the activation as a node of its own: a Conv2D with a ReLU is
        // Conv, then Relu. Any layer may carry an activation.
        const std::string name = layer.name();
        const bool activated = layer.activation() != Activation::linear;
        std::string out =
            mapping->write(Call{layer, inputs, step.input_shapes, activated ? name + "/linear" : name}, g);
        switch (layer.activation()) {
        case Activation::linear:
            break;
        case Activation::relu:
            out = g.node("Relu", {out}, name).output(0);
            break;
        case Activation::softmax:
            logits = out;
            set(g.node("Softmax", {out}, name), "axis", std::int64_t{1});  // over the classes
            out = name;
            break;
        }
        value_of[&layer] = out;
    }
    const LayerCall& last = calls.back();
    if (last.layer->activation() == Activation::softmax) {
        g.node("Identity", {logits}, "logits");
        g.node("Identity", {value_of.at(last.layer)}, "probabilities");
        describe_value(*graph.add_output(), "logits", last.output_shape);
        describe_value(*graph.add_output(), "probabilities", last.output_shape);
    } else {
        g.node("Identity", {value_of.at(last.layer)}, "output");
        describe_value(*graph.add_output(), "output", last.output_shape);
    }
    return proto;
}

void check_onnx(onnx::ModelProto& model) {
    try {
        onnx::checker::check_model(model);
        // Strict: an operator whose inputs do not fit it is an error, not a missing shape.
        onnx::ShapeInferenceOptions strict;
        strict.check_type = true;
        strict.error_mode = 1;  // throw on any node's error, not only on conflicting shapes
        onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), strict);
    } catch (const std::exception& e) {
        throw OnnxError(std::string("the ONNX checker refused the model: ") + e.what());
    }
}

std::vector<std::int64_t> onnx_value_shape(const onnx::ModelProto& model, const std::string& name) {
    const onnx::GraphProto& g = model.graph();
    const auto find = [&](const auto& values) -> const onnx::ValueInfoProto* {
        for (const onnx::ValueInfoProto& v : values) {
            if (v.name() == name) {
                return &v;
            }
        }
        return nullptr;
    };
    const onnx::ValueInfoProto* value = find(g.input());
    value = value ? value : find(g.output());
    value = value ? value : find(g.value_info());
    if (value == nullptr || !value->type().tensor_type().has_shape()) {
        throw OnnxError("the ONNX graph has no shape for a value named '" + name + "'");
    }
    std::vector<std::int64_t> dims;
    for (const onnx::TensorShapeProto::Dimension& d : value->type().tensor_type().shape().dim()) {
        dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    }
    return dims;
}

}  // namespace cnn
