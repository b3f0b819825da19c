/// \file
/// \ingroup ch01
/// \brief Flatten: (C, H, W) to (C·H·W), the same numbers in the same order.
///
/// This is where an MLP throws the picture away: after Flatten, pixel (0, 5) and pixel (1, 5)
/// are just inputs 5 and 33 of a vector, no closer to each other than to any other
/// (\ref chapter01 "chapter 01's" experiments measure what that costs). Nothing moves in memory: a
/// row-major (N, C, H, W) batch already is (N, C·H·W) row by row, so the layer only relabels the
/// shape, on the way in and, for the gradient, on the way back.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "cnn/layers/layer.hpp"

namespace cnn {

/// (None, C, H, W) -> (None, C·H·W).
class Flatten : public KerasLayer<Flatten> {
public:
    std::string type() const override { return "Flatten"; }
    std::string default_name() const override { return "flatten"; }
    Shape build(const Shape& input_shape, Rng& rng) override;

protected:
    Tensor4 forward_operation(Tensor4 x, bool training) override;
    Tensor4 backward_operation(Tensor4 dy) override;

private:
    std::array<std::size_t, 4> x_shape_{};  // the shape of the last forward input
};

}  // namespace cnn
