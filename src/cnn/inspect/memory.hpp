/// \file
/// \ingroup ch09
/// \brief Where the memory of training goes: weights, gradients, and what each layer keeps
/// for its backward pass.
///
/// Backpropagation needs, at every layer, values of the forward pass: a convolution's weight
/// gradient is its input correlated with the output gradient, so the input must still be
/// there when the gradient arrives; a ReLU needs to know which of its inputs were positive;
/// max pooling which input won each window. So a training step keeps, from the forward pass
/// until the backward pass has gone by, something of the size of every layer's activations,
/// for every image of the batch. The weights, their gradients and the optimizer's moments do
/// not depend on the batch; the activations grow with it and usually dominate. Inference needs
/// to keep nothing: each layer's output is only needed by the next layer (this library's
/// layers still keep their last input, so that a backward pass can follow one).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cnn/model/model.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The memory of one layer during a training step, in bytes.
struct LayerMemory {
    std::string name;               ///< the layer's name in the model
    std::string type;               ///< its type, e.g. "Conv2D"
    Shape output_shape;             ///< without the batch axis
    std::size_t weight_bytes = 0;   ///< trainable weights and state (float32)
    std::size_t gradient_bytes = 0; ///< one gradient per trainable weight
    std::size_t output_bytes = 0;   ///< its output for the whole batch
    std::size_t kept_bytes = 0;     ///< what it keeps for backward (Layer::kept_for_backward())
    /// Scratch memory its engine keeps between calls (Layer::workspace_bytes()), measured
    /// after the forward pass; a backward pass may grow it. Layers whose engines share one
    /// scratch all report its size: count it once per owner (shared_workspace_bytes()).
    std::size_t workspace_bytes = 0;
    /// Who owns that scratch (Layer::workspace_owner()): the same for layers that share one.
    /// Compare it only within one training_memory() result: a scratch freed later may leave
    /// its address to another.
    const void* workspace_owner = nullptr;
};

/// The scratch memory of `layers`, each owner's counted once: what the process holds.
/// \param layers training_memory()'s entries
/// \return bytes
std::size_t shared_workspace_bytes(const std::vector<LayerMemory>& layers);

/// The scratch memory of the model's layers now, each owner's counted once.
/// \param model the model
/// \return bytes
std::size_t shared_workspace_bytes(const Model& model);

// [training_memory]
/// Runs `model` forward on `batch` in training mode, as a training step does, then asks every
/// layer what it keeps for the backward pass and what scratch memory its engine holds; with
/// the sizes of its weights, gradients and output at this batch. The model is built first if
/// needed; what its layers learn without gradients (batch normalization's moving averages),
/// which a training pass updates, is put back as it was. A dropout layer's generator moves on.
std::vector<LayerMemory> training_memory(Model& model, const Tensor4& batch);
// [training_memory]

// The parameters of the declarations a chapter page quotes, kept out of the quoted lines.
/// \fn std::vector<LayerMemory> training_memory(Model& model, const Tensor4& batch)
/// \param model the model; its forward pass runs once, in training mode
/// \param batch a batch (N, the model's input shape)
/// \return one entry per layer, in the model's order

}  // namespace cnn
