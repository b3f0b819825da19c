/// \file
/// \ingroup ch08
/// \brief Merge layers, which join several branches of a graph model: Add and Concatenate.
///
/// They are what makes a model more than a stack. Add sums its inputs element by element: a
/// residual block adds its input x to what its convolutions computed, F(x) + x, so the
/// gradient reaches x both through F and directly. Concatenate stacks its inputs' channels:
/// a U-Net joins the fine maps of its encoder to the coarse ones of its decoder. Backward,
/// Add hands the same gradient to every input (in a graph model, the same tensor, shared), and
/// Concatenate cuts the gradient back into the inputs' channels.
///
/// Both work on images (C, H, W) and on flat inputs (D); they need a graph model
/// (model/graph.hpp), which calls them on a list of inputs.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "cnn/layers/layer.hpp"

namespace cnn {

/// What merge layers share: they are called on several inputs, never on one.
/// \tparam Derived the merge layer itself (Add, Concatenate)
template <class Derived>
class Merge : public KerasLayer<Derived> {
public:
    /// build_inputs() of one input, which it rejects: a merge needs two or more.
    /// \param input_shape the one input's shape
    /// \param rng passed on; merges draw nothing
    /// \return nothing: it always throws
    /// \throws std::invalid_argument always
    Shape build(const Shape& input_shape, Rng& rng) override {
        return this->build_inputs({input_shape}, rng);
    }

protected:
    /// forward_inputs() of one input, which a built merge rejects.
    /// \param x the one input
    /// \param training passed on
    /// \return nothing: it always throws
    /// \throws std::invalid_argument (std::logic_error before build())
    Tensor4 forward_operation(Tensor4 x, bool training) override {
        std::vector<Tensor4> xs;
        xs.push_back(std::move(x));
        return this->forward_inputs(std::move(xs), training, true);
    }
    /// backward_inputs() of the one gradient, for a merge used as a single-input layer.
    /// \param dy the gradient of the output
    /// \return the gradient of the first input
    Tensor4 backward_operation(Tensor4 dy) override {
        return std::move(this->backward_inputs(std::move(dy), false).front());
    }
};

/// y = x_1 + x_2 + ...: inputs of one shape, output of that shape.
class Add : public Merge<Add> {
public:
    std::string type() const override { return "Add"; }
    std::string default_name() const override { return "add"; }
    Shape build_inputs(const std::vector<Shape>& input_shapes, Rng& rng) override;
    Tensor4 forward_inputs(std::vector<Tensor4> xs, bool training, bool apply_softmax) override;
    /// Every input's gradient is dy: each input gets a copy but the last, which gets dy.
    /// \param dy the gradient of the output
    /// \param from_logits ignored: Add has no activation
    /// \param input ignored: the inputs' gradients cost nothing to compute
    /// \return dy once per input
    std::vector<Tensor4> backward_inputs(Tensor4 dy, bool from_logits,
                                         InputGradient input = InputGradient::compute) override;
    /// Every input's gradient is dy itself, shared, not copied: what a graph model calls.
    /// \param dy the gradient of the output
    /// \param from_logits ignored
    /// \param input ignored
    /// \return dy once per input, the same tensor each time
    std::vector<SharedTensor4> backward_inputs_shared(SharedTensor4 dy, bool from_logits,
                                                      InputGradient input) override;

private:
    void expect_dy(const Tensor4* dy) const;

    std::size_t inputs_ = 0;
    std::array<std::size_t, 4> shape_{};  // of the last forward() output
};

/// The inputs' channels one after the other: (C1, H, W), (C2, H, W) -> (C1 + C2, H, W), or
/// (D1), (D2) -> (D1 + D2). Keras's Concatenate() on its default axis, the channels.
class Concatenate : public Merge<Concatenate> {
public:
    std::string type() const override { return "Concatenate"; }
    std::string default_name() const override { return "concatenate"; }
    Shape build_inputs(const std::vector<Shape>& input_shapes, Rng& rng) override;
    Tensor4 forward_inputs(std::vector<Tensor4> xs, bool training, bool apply_softmax) override;
    std::vector<Tensor4> backward_inputs(Tensor4 dy, bool from_logits,
                                         InputGradient input = InputGradient::compute) override;

private:
    std::vector<std::array<std::size_t, 4>> x_shapes_;  // the inputs of the last forward pass
};

}  // namespace cnn
