/// \file
/// \ingroup ch08
/// \brief A graph model (Keras's functional API): layers wired as any directed acyclic graph.
///
/// A Sequential model cannot say "add this block's input to its output" (a residual
/// connection) or "join these two branches" (a U-Net's skips). A Graph can: every call of a
/// layer names the nodes it reads, and returns the node of its output.
///
///     cnn::Graph model;
///     cnn::Node x = model.input({1, 28, 28});
///     cnn::Node h = model.call(Conv2D(16, 3).padding("same").activation("relu"), x);
///     cnn::Node f = model.call(Conv2D(16, 3).padding("same"), h);
///     cnn::Node r = model.call(Add(), {h, f});          // h + F(h): h fans out, Add fans in
///     ...
///     model.output(model.call(Dense(10).activation("softmax"), z));
///
/// is Keras's `h = Conv2D(...)(x)`, `r = Add()([h, f])`, `Model(inputs=x, outputs=y)`.
///
/// When the model is built, the layers are put in topological order: every layer after all the
/// layers it reads. A call can only read nodes that exist already, so the order of the calls
/// is one; building keeps, in that order, the layers that lead to the output. forward() runs them
/// in that order; backward() runs them in reverse and, where a node fed several layers (fan-out),
/// adds up the gradients they send back to it. An Add's inputs share its gradient, one tensor held
/// by several nodes (Layer::backward_inputs_shared()): a layer writes over a gradient only once
/// nobody else holds it. Layers that do not lead to the output are an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cnn/model/model.hpp"

namespace cnn {

/// A value in a graph model: its input, or the output of one layer call.
struct Node {
    std::size_t graph = 0;  ///< which Graph made it (each has its own serial number)
    std::size_t id = 0;     ///< which of its values
};

/// Layers wired as a directed acyclic graph, with one input and one output.
class Graph : public Model {
public:
    /// An empty graph: give it an input(), layers with call(), then an output().
    /// \param seed fixes the initial weights, the shuffling and the dropout masks
    /// \param name the model's name, for the summary and error messages
    explicit Graph(std::uint64_t seed = 42, std::string name = "model");

    /// The model's input, of shape (C, H, W) or (D) without the batch axis.
    /// \param shape the shape of one example
    /// \return the input's node, for the first call()s to read
    /// \throws std::invalid_argument for an empty shape
    /// \throws std::logic_error if the graph already has an input
    Node input(const Shape& shape);
    /// Adds `layer`, reading `inputs` (one for most layers, several for Add and Concatenate);
    /// returns the node of its output.
    /// \tparam L the layer's class
    /// \param layer the layer, copied into the model and named there
    /// \param inputs nodes of this graph made before
    /// \return the node of the layer's output
    /// \throws std::invalid_argument for no input or a node of another graph
    /// \throws std::logic_error once the model is built
    template <class L>
    Node call(L layer, const std::vector<Node>& inputs) {
        expect_nodes(inputs, layer.name());  // before the layer joins the model
        return connect(own(std::make_unique<L>(std::move(layer))), inputs);
    }
    /// Adds `layer`, reading one node: Keras's `x = Conv2D(...)(x)`.
    /// \tparam L the layer's class
    /// \param layer the layer, copied into the model and named there
    /// \param input a node of this graph
    /// \return the node of the layer's output
    /// \throws std::invalid_argument for a node of another graph
    /// \throws std::logic_error once the model is built
    template <class L>
    Node call(L layer, Node input) {
        return call(std::move(layer), std::vector<Node>{input});
    }
    /// Makes `node` the model's output.
    /// \param node a layer's output node
    /// \throws std::invalid_argument for the input's node or a node of another graph
    void output(Node node);

    /// The layers in the order forward() runs them (after build()).
    /// \return the layers, each after the layers it reads, the output layer last
    std::vector<const Layer*> execution_order() const;

protected:
    Shape build_layers() override;
    std::vector<LayerCall> wiring() override;
    Tensor4 run_forward(Tensor4 x, bool training, bool apply_softmax) override;
    void run_backward(Tensor4 dlogits) override;
    const Layer& output_layer() const override;
    std::string connections(std::size_t i) const override;

private:
    struct Vertex {
        Layer* layer = nullptr;           // nullptr for the input
        std::vector<std::size_t> inputs;  // the vertices it reads
    };
    Node connect(Layer& layer, const std::vector<Node>& inputs);
    // The model's input, which no layer computes.
    bool is_input(std::size_t v) const { return vertices_[v].layer == nullptr; }
    InputGradient input_gradient(const Vertex& vertex) const;
    void add_gradient(SharedTensor4& sum, SharedTensor4 dx, const Layer& reader) const;
    void expect_nodes(const std::vector<Node>& nodes, const std::string& reader) const;

    std::size_t serial_;  // what this graph's nodes carry

    std::vector<Vertex> vertices_;
    Shape declared_input_;
    bool has_input_ = false;
    std::size_t output_ = 0;
    bool has_output_ = false;
    std::vector<std::size_t> order_;  // topological, the input first and the output last
    std::vector<std::size_t> uses_;   // how many layers read each vertex
};

}  // namespace cnn
