/// \file
/// \ingroup ch06
/// \brief The Dropout layer: in training, zero a random fraction of the values.
///
/// The arithmetic (inverted dropout, as Keras does it) is ops/dropout.hpp. In training the
/// layer draws a new mask for every batch from the generator it was built with (the model's,
/// so a seed fixes the masks); at inference it passes its input through untouched.
#pragma once

#include <string>

#include "cnn/layers/layer.hpp"

namespace cnn {

/// Everything a Dropout layer can be asked for.
struct DropoutOptions {
    float rate = 0.5f;  ///< the fraction of values zeroed in training, in [0, 1)
};

/// Dropout (inverted, as Keras): active only in training.
class Dropout : public KerasLayer<Dropout> {
public:
    /// Keras's Dropout(rate).
    /// \param rate the fraction of values zeroed in training, in [0, 1)
    /// \throws std::invalid_argument if `rate` is outside [0, 1)
    explicit Dropout(float rate) : Dropout(DropoutOptions{rate}) {}
    /// Every option at once.
    /// \param options the rate
    /// \throws std::invalid_argument if the rate is outside [0, 1)
    explicit Dropout(const DropoutOptions& options);
    std::string type() const override { return "Dropout"; }
    std::string default_name() const override { return "dropout"; }
    Shape build(const Shape& input_shape, Rng& rng) override;
    /// The options the layer was made with.
    /// \return them
    const DropoutOptions& options() const { return options_; }

protected:
    /// The mask of the last training pass.
    /// \return the number of bytes
    std::size_t kept_by_operation() const override { return mask_.size() * sizeof(float); }
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    DropoutOptions options_;
    Rng* rng_ = nullptr;  // the model's generator, set by build()
    Tensor4 mask_;
    bool dropped_ = false;  // whether the last forward pass was a training pass
};

}  // namespace cnn
