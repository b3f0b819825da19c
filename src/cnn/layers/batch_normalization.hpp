/// \file
/// \ingroup ch08
/// \brief The BatchNormalization layer: each channel normalised over the batch, then scaled
/// and shifted by learned weights.
///
/// The arithmetic is ops/batch_norm.hpp; the layer runs it as ops/batch_norm_fast.hpp
/// computes it (channels split between threads, outputs written over the tensors it is handed),
/// which the tests hold to the same values. The layer works in two modes, as Keras's does:
///
/// - **training** (`forward(x, true)`, what fit() runs): it normalises with the batch's own
///   mean and variance, and updates its moving averages of them,
///   `moving = moving * momentum + batch * (1 - momentum)`;
/// - **inference** (`forward(x, false)`: evaluate(), predict()): it normalises with the moving
///   averages, so each example's output depends on that example alone.
///
/// backward() differentiates whichever of the two the last forward pass ran.
///
/// It learns gamma and beta (C) by gradient descent, its parameters(); the moving mean and
/// variance (C) it learns without gradients, its state(), which the optimizer never sees but
/// which saving the model's weights (Model::weights()) and checkpoints keep. A layer of C
/// channels has 4C values, 2C of them non-trainable, as Keras's summary counts them.
///
/// Images (C, H, W) are normalised per channel, over N·H·W values, as Keras's
/// `BatchNormalization(axis=1)` on channels-first data (Keras's default axis, -1, is the
/// channels of its channels-last images: the same normalisation). Flat inputs (D), after a
/// Dense layer, are normalised per feature, over the N examples.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cnn/layers/layer.hpp"
#include "cnn/ops/batch_norm.hpp"
#include "cnn/ops/batch_norm_fast.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Everything a BatchNormalization layer can be asked for, named and defaulted as in Keras.
struct BatchNormalizationOptions {
    /// The weight of the old moving averages in each update, in [0, 1): close to 1 averages
    /// over many batches. (PyTorch's momentum is 1 minus this one.)
    float momentum = 0.99f;
    /// Added to the variance before its square root, > 0: keeps a channel of (nearly) constant
    /// values from being divided by zero.
    float epsilon = 1e-3f;
};

/// Batch normalisation (Ioffe and Szegedy, 2015) per channel, or per feature of flat inputs.
class BatchNormalization : public KerasLayer<BatchNormalization> {
public:
    /// Keras's defaults: momentum 0.99, epsilon 0.001.
    BatchNormalization() : BatchNormalization(BatchNormalizationOptions{}) {}
    /// Throws std::invalid_argument, naming the option, if momentum is not in [0, 1) or
    /// epsilon is not a finite number > 0.
    /// \param options momentum and epsilon
    explicit BatchNormalization(const BatchNormalizationOptions& options);
    /// Sets the momentum (checked as by the constructor): `BatchNormalization().momentum(0.9f)`.
    /// \param momentum the weight of the old moving averages, in [0, 1)
    /// \return this layer, for chaining
    /// \throws std::invalid_argument if `momentum` is outside [0, 1)
    BatchNormalization& momentum(float momentum);
    /// Sets epsilon (checked as by the constructor).
    /// \param epsilon added to the variance, a finite number > 0
    /// \return this layer, for chaining
    /// \throws std::invalid_argument if `epsilon` is not a finite number > 0
    BatchNormalization& epsilon(float epsilon);

    std::string type() const override { return "BatchNormalization"; }
    std::string default_name() const override { return "batch_normalization"; }
    /// Accepts (C, H, W) or (D); gamma starts at 1, beta at 0, the moving mean at 0 and the
    /// moving variance at 1 (Keras's initial values). Returns the input shape.
    /// \param input_shape (C, H, W), normalised per channel, or (D), per feature
    /// \param rng unused: the starting values are constants
    /// \return `input_shape`
    /// \throws std::invalid_argument for any other rank
    Shape build(const Shape& input_shape, Rng& rng) override;
    /// gamma as "<name>/gamma" and beta as "<name>/beta", with their gradients.
    /// \return the two views, gamma first
    std::vector<Parameter> parameters() override;
    /// The moving averages, "<name>/moving_mean" and "<name>/moving_variance", without gradients.
    /// \return the two views, the mean first
    std::vector<Parameter> state() override;

    /// The options the layer was made with or set since.
    /// \return momentum and epsilon
    const BatchNormalizationOptions& options() const { return options_; }
    /// The scale gamma (C).
    /// \return gamma, one value per channel (or feature); empty before build()
    Tensor1& gamma() { return gamma_; }
    /// The scale gamma (C).
    /// \return gamma; empty before build()
    const Tensor1& gamma() const { return gamma_; }
    /// The shift beta (C).
    /// \return beta, one value per channel (or feature); empty before build()
    Tensor1& beta() { return beta_; }
    /// The shift beta (C).
    /// \return beta; empty before build()
    const Tensor1& beta() const { return beta_; }
    /// The moving mean and the moving (biased) variance (C each) that inference uses.
    /// \return both; empty before build()
    BatchNormStatistics& moving() { return moving_; }
    /// The moving mean and the moving (biased) variance (C each) that inference uses.
    /// \return both; empty before build()
    const BatchNormStatistics& moving() const { return moving_; }

protected:
    /// The normalised input and 1 / sigma of a training pass, or the input of an inference pass.
    /// \return the number of bytes
    std::size_t kept_by_operation() const override {
        return (xhat_.size() + inv_std_.size() + x_.size()) * sizeof(float);
    }
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    Tensor4 backward_operation(Tensor4 dy) override;
    /// dx into new memory, dy left as it is: the same passes, which read dy and write dx value
    /// by value, wherever dx lies (no copy of dy first; the new memory has its own cost).
    /// \param dy the gradient of the output, unchanged
    /// \return dx
    std::optional<Tensor4> backward_operation_reading(const Tensor4& dy) override;

private:
    // Throws unless the layer is built and t is (N, C, H, W) of the built shape.
    void expect_input(const Tensor4& t, const char* what) const;
    // Throws unless dy fits (expect_input()) and a forward pass came first.
    void expect_backward(const Tensor4& dy) const;

    enum class Pass { none, training, inference };

    BatchNormalizationOptions options_;
    Shape input_;                         // the shape build() was given: (C, H, W) or (D)
    std::array<std::size_t, 3> shape_{};  // as x carries it: (C, H, W), or (D, 1, 1)
    Tensor1 gamma_, dgamma_, beta_, dbeta_;
    BatchNormStatistics moving_;
    Pass last_ = Pass::none;  // the mode of the last forward pass
    Tensor4 xhat_;            // of the last training pass, for its backward pass
    Tensor1 inv_std_;         // of the last training pass
    Tensor4 x_;               // the input of the last inference pass
};

}  // namespace cnn
