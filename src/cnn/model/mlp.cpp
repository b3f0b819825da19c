#include "cnn/model/mlp.hpp"

#include <stdexcept>
#include <string>

namespace cnn {

Mlp::Mlp(const MlpOptions& options, Rng& rng) {
    std::size_t inputs = options.inputs;
    for (std::size_t i = 0; i < options.hidden.size(); ++i) {
        dense_.emplace_back(DenseOptions{inputs, options.hidden[i], Init::he_normal,
                                         "dense_" + std::to_string(i + 1)},
                            rng);
        relu_.emplace_back();
        inputs = options.hidden[i];
    }
    dense_.emplace_back(DenseOptions{inputs, options.classes, Init::glorot_uniform,
                                     "dense_" + std::to_string(options.hidden.size() + 1)},
                        rng);
}

//! [mlp_forward_backward]
Tensor2 Mlp::forward(const Tensor2& x) {
    Tensor2 h = x;
    for (std::size_t i = 0; i < relu_.size(); ++i) {
        h = relu_[i].forward(dense_[i].forward(h));
    }
    return dense_.back().forward(h);
}

void Mlp::backward(const Tensor2& dlogits) {
    Tensor2 dh = dense_.back().backward(dlogits);
    for (std::size_t i = relu_.size(); i-- > 0;) {
        dh = dense_[i].backward(relu_[i].backward(dh));
    }
}
//! [mlp_forward_backward]

std::vector<Parameter> Mlp::parameters() {
    std::vector<Parameter> all;
    for (Dense& layer : dense_) {
        for (Parameter& p : layer.parameters()) {
            all.push_back(std::move(p));
        }
    }
    return all;
}

std::size_t Mlp::parameter_count() const {
    std::size_t total = 0;
    for (const Dense& layer : dense_) {
        total += layer.parameter_count();
    }
    return total;
}

}  // namespace cnn
