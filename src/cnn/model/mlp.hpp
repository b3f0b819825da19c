/// \file
/// \ingroup ch01
/// \brief A multi-layer perceptron: Dense, ReLU, Dense, ReLU, ..., Dense.
///
/// The network chapter 01 puts to the test on images. The input is a batch of flattened
/// images (N, D); every hidden layer is Dense followed by ReLU; the last Dense layer gives
/// one score per class (the logits), which the loss turns into probabilities.
#pragma once

#include <cstddef>
#include <vector>

#include "cnn/layers/dense.hpp"
#include "cnn/layers/parameter.hpp"
#include "cnn/layers/relu.hpp"
#include "cnn/tensor/random.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// The sizes of an Mlp.
struct MlpOptions {
    std::size_t inputs = 0;           ///< D, e.g. 784 for a flattened 28x28 image
    std::vector<std::size_t> hidden;  ///< units of each hidden layer, e.g. {256, 128}
    std::size_t classes = 0;          ///< K, the number of logits
};

/// Dense+ReLU hidden layers and a Dense output layer.
class Mlp {
public:
    Mlp(const MlpOptions& options, Rng& rng);

    /// x is (N, D); returns the logits (N, K). Every layer caches what its backward needs.
    Tensor2 forward(const Tensor2& x);
    /// dlogits is (N, K); accumulates every parameter's gradient, walking the layers backwards.
    void backward(const Tensor2& dlogits);

    std::vector<Parameter> parameters();
    std::size_t parameter_count() const;
    const std::vector<Dense>& dense_layers() const { return dense_; }
    std::vector<Dense>& dense_layers() { return dense_; }

private:
    std::vector<Dense> dense_;     // hidden layers, then the output layer
    std::vector<ReLU<2>> relu_;    // one after each hidden layer
};

}  // namespace cnn
