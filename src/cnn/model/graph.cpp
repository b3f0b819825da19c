#include "cnn/model/graph.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>

namespace cnn {

namespace {

std::size_t next_serial() {
    static std::atomic<std::size_t> serial{0};
    return ++serial;
}

}  // namespace

Graph::Graph(std::uint64_t seed, std::string name) : Model(seed, std::move(name)), serial_(next_serial()) {}

Node Graph::input(const Shape& shape) {
    expect_not_built();
    if (has_input_) {
        throw std::logic_error("Graph " + name() + ": the model already has an input");
    }
    if (shape.empty()) {
        throw std::invalid_argument("Graph " + name() + ": the input needs a shape, e.g. {1, 28, 28}");
    }
    declared_input_ = shape;
    has_input_ = true;
    vertices_.push_back(Vertex{});
    return Node{serial_, vertices_.size() - 1};
}

void Graph::expect_nodes(const std::vector<Node>& nodes, const std::string& reader) const {
    expect_not_built();
    if (nodes.empty()) {
        throw std::invalid_argument("Graph " + name() + ": " + reader + " reads no node");
    }
    for (Node n : nodes) {
        if (n.graph != serial_ || n.id >= vertices_.size()) {
            throw std::invalid_argument("Graph " + name() + ": " + reader + " reads node " +
                                        std::to_string(n.id) + ", which is not a node of this graph");
        }
    }
}

Node Graph::connect(Layer& layer, const std::vector<Node>& inputs) {
    Vertex vertex{&layer, {}};
    for (Node n : inputs) {
        vertex.inputs.push_back(n.id);
    }
    vertices_.push_back(std::move(vertex));
    return Node{serial_, vertices_.size() - 1};
}

void Graph::output(Node node) {
    expect_nodes({node}, "output");
    if (is_input(node.id)) {
        throw std::invalid_argument("Graph " + name() + ": the output must be a layer's output");
    }
    output_ = node.id;
    has_output_ = true;
}

Shape Graph::build_layers() {
    if (!has_input_ || !has_output_) {
        throw std::logic_error("Graph " + name() + ": give the model an input() and an output()");
    }
    // Every vertex reads earlier ones only, so the order of the calls is topological. Walking
    // it backwards from the output marks what the output needs; anything unmarked is an error.
    std::vector<bool> needed(vertices_.size(), false);
    needed[output_] = true;
    for (std::size_t v = vertices_.size(); v-- > 0;) {
        for (std::size_t u : vertices_[v].inputs) {
            needed[u] = needed[u] || needed[v];
        }
        if (!needed[v]) {
            throw std::invalid_argument("Graph " + name() + ": " +
                                        (vertices_[v].layer ? vertices_[v].layer->name() : "the input") +
                                        " does not lead to the output");
        }
    }
    order_.clear();
    uses_.assign(vertices_.size(), 0);
    std::vector<Shape> shapes(vertices_.size());
    for (std::size_t v = 0; v < vertices_.size(); ++v) {
        order_.push_back(v);
        Vertex& vertex = vertices_[v];
        if (is_input(v)) {
            shapes[v] = declared_input_;
            continue;
        }
        std::vector<Shape> in;
        for (std::size_t u : vertex.inputs) {
            in.push_back(shapes[u]);
            ++uses_[u];
        }
        shapes[v] = vertex.layer->build_inputs(in, rng());
        set_output_shape(*vertex.layer, shapes[v]);
    }
    return declared_input_;
}

//! [graph_forward]
Tensor4 Graph::run_forward(Tensor4 x, bool training, bool apply_softmax) {
    std::vector<Tensor4> value(vertices_.size());
    std::vector<std::size_t> unread = uses_;  // a value moves to its last reader, not copied
    for (std::size_t v : order_) {
        const Vertex& vertex = vertices_[v];
        if (is_input(v)) {
            value[v] = std::move(x);
            continue;
        }
        std::vector<Tensor4> in;
        for (std::size_t u : vertex.inputs) {
            in.push_back(--unread[u] == 0 ? std::move(value[u]) : value[u]);
        }
        value[v] = vertex.layer->forward_inputs(std::move(in), training, v != output_ || apply_softmax);
    }
    return std::move(value[output_]);
}
//! [graph_forward]

// A layer that reads only the model's input skips its input gradient, which nothing uses.
InputGradient Graph::input_gradient(const Vertex& vertex) const {
    const bool reads_only_inputs = std::all_of(vertex.inputs.begin(), vertex.inputs.end(),
                                               [&](std::size_t v) { return is_input(v); });
    return reads_only_inputs ? InputGradient::skip : InputGradient::compute;
}

//! [graph_backward]
void Graph::run_backward(Tensor4 dlogits) {
    std::vector<SharedTensor4> grad(vertices_.size());  // an Add's inputs hold one tensor
    grad[output_] = std::make_shared<Tensor4>(std::move(dlogits));
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
        const Vertex& vertex = vertices_[*it];
        if (is_input(*it)) {
            continue;
        }
        std::vector<SharedTensor4> dx = vertex.layer->backward_inputs_shared(
            std::move(grad[*it]), *it == output_, input_gradient(vertex));
        for (std::size_t k = 0; k < vertex.inputs.size(); ++k) {
            if (is_input(vertex.inputs[k])) {
                dx[k].reset();  // the data's gradient: nothing trains it, nobody holds it
            }
        }
        for (std::size_t k = 0; k < vertex.inputs.size(); ++k) {
            if (dx[k]) {
                add_gradient(grad[vertex.inputs[k]], std::move(dx[k]), *vertex.layer);
            }
        }
    }
}
//! [graph_backward]

//! [graph_gradient_sum]
// A value read by several layers: the gradients its readers send back add up, written over
// whichever of the two nobody else holds.
void Graph::add_gradient(SharedTensor4& sum, SharedTensor4 dx, const Layer& reader) const {
    if (!sum) {
        sum = std::move(dx);
        return;
    }
    if (sum->shape() != dx->shape()) {
        throw std::logic_error("Graph " + name() + ": " + reader.name() +
                               " sent back a gradient of " + shape_to_string(dx->shape()) +
                               " for a value of " + shape_to_string(sum->shape()));
    }
    if (sum.use_count() == 1) {
        *sum += *dx;
    } else if (dx.use_count() == 1) {
        *dx += *sum;
        sum = std::move(dx);
    } else {  // both shared (e.g. an Add that reads one value twice): the sum in new memory
        sum = std::make_shared<Tensor4>(*sum + *dx);
    }
}
//! [graph_gradient_sum]

const Layer& Graph::output_layer() const {
    if (!has_output_) {
        throw std::logic_error("Graph " + name() + ": the model has no output() yet");
    }
    return *vertices_[output_].layer;
}

std::vector<LayerCall> Graph::wiring() {
    std::vector<LayerCall> steps;
    for (std::size_t v : order_) {
        if (is_input(v)) {
            continue;
        }
        LayerCall step{vertices_[v].layer, {}, {}, {}};
        for (std::size_t u : vertices_[v].inputs) {
            step.inputs.push_back(vertices_[u].layer);  // nullptr for the input's vertex
        }
        steps.push_back(std::move(step));
    }
    return steps;
}

std::vector<const Layer*> Graph::execution_order() const {
    std::vector<const Layer*> layers;
    for (std::size_t v : order_) {
        if (vertices_[v].layer != nullptr) {
            layers.push_back(vertices_[v].layer);
        }
    }
    return layers;
}

// The names of the layers that layer i reads, one per line; "input" for the model's input.
std::string Graph::connections(std::size_t i) const {
    const Layer* wanted = &layer(i);
    for (const Vertex& v : vertices_) {
        if (v.layer != wanted) {
            continue;
        }
        std::string names;
        for (std::size_t u : v.inputs) {
            names += (names.empty() ? "" : "\n") +
                     (vertices_[u].layer ? vertices_[u].layer->name() : std::string("input"));
        }
        return names;
    }
    return {};
}

}  // namespace cnn
