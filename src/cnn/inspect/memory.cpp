#include "cnn/inspect/memory.hpp"

#include <algorithm>
#include <set>

namespace cnn {

std::vector<LayerMemory> training_memory(Model& model, const Tensor4& batch) {
    model.build();
    // A training pass updates what layers learn without gradients (batch normalization's
    // moving averages): kept here and put back afterwards, so the model predicts as before.
    std::vector<std::vector<float>> state;
    for (const Parameter& p : model.weights()) {
        if (p.grad == nullptr) {
            state.emplace_back(p.value, p.value + p.size);
        }
    }
    model.forward(batch, /*training=*/true, /*apply_softmax=*/false);
    std::size_t k = 0;
    for (const Parameter& p : model.weights()) {
        if (p.grad == nullptr) {
            std::copy(state[k].begin(), state[k].end(), p.value);
            ++k;
        }
    }
    std::vector<LayerMemory> layers;
    for (std::size_t i = 0; i < model.size(); ++i) {
        Layer& layer = model.layer(i);
        LayerMemory m{layer.name(), layer.type(), model.output_shape(i), 0, 0, 0, 0, 0, nullptr};
        for (const Parameter& p : layer.parameters()) {
            m.weight_bytes += p.size * sizeof(float);
            m.gradient_bytes += p.size * sizeof(float);
        }
        for (const Parameter& p : layer.state()) {
            m.weight_bytes += p.size * sizeof(float);
        }
        m.output_bytes = batch.shape(0) * sizeof(float);
        for (const std::size_t d : m.output_shape) {
            m.output_bytes *= d;
        }
        m.kept_bytes = layer.kept_for_backward();
        m.workspace_bytes = layer.workspace_bytes();
        m.workspace_owner = layer.workspace_owner();
        layers.push_back(std::move(m));
    }
    return layers;
}

namespace {

// The sum of bytes(i) over i < count, once for each owner(i).
template <class Bytes, class Owner>
std::size_t once_per_owner(std::size_t count, const Bytes& bytes, const Owner& owner) {
    std::set<const void*> counted;
    std::size_t sum = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (bytes(i) > 0 && counted.insert(owner(i)).second) {
            sum += bytes(i);
        }
    }
    return sum;
}

}  // namespace

std::size_t shared_workspace_bytes(const std::vector<LayerMemory>& layers) {
    return once_per_owner(
        layers.size(), [&](std::size_t i) { return layers[i].workspace_bytes; },
        [&](std::size_t i) { return layers[i].workspace_owner; });
}

std::size_t shared_workspace_bytes(const Model& model) {
    return once_per_owner(
        model.size(), [&](std::size_t i) { return model.layer(i).workspace_bytes(); },
        [&](std::size_t i) { return model.layer(i).workspace_owner(); });
}

}  // namespace cnn
