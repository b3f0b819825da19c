/// \file
/// \ingroup ch06
/// \brief The layers of a Sequential model, configured the way Keras configures them.
///
/// Each class wraps the operation an earlier chapter built (Conv2D from chapter 04, pooling from
/// chapter 05, Dense from chapter 01) and adds what a model needs: shape checking when the model
/// is built, an optional activation, and Keras's names. Options are set by chained calls that
/// read like Keras's keyword arguments:
///
///     Conv2D(64, 7).activation("relu").padding("same").input_shape({1, 28, 28})
///
/// corresponds to `keras.layers.Conv2D(64, 7, activation="relu", padding="same",
/// input_shape=[28, 28, 1])` (the shape is channels-first here: the book's layout is NCHW).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/pooling.hpp"
#include "cnn/model/layer.hpp"

namespace cnn::keras {

/// What every Keras layer offers: `input_shape`, for the first layer of a model. The layer's
/// own type is returned so that option calls can be chained in any order.
template <class Derived>
class KerasLayer : public Layer {
public:
    Derived& input_shape(const Shape& shape) {
        input_shape_ = shape;
        return static_cast<Derived&>(*this);
    }
};

/// A 2-D convolution layer (chapter 04): `filters` filters of kernel_size x kernel_size.
class Conv2D : public KerasLayer<Conv2D> {
public:
    Conv2D(std::size_t filters, std::size_t kernel_size);
    Conv2D& kernel_size(std::size_t rows, std::size_t cols);
    Conv2D& strides(std::size_t stride);
    Conv2D& strides(std::size_t rows, std::size_t cols);
    Conv2D& padding(const std::string& mode);  ///< "valid" (default) or "same"
    Conv2D& activation(const std::string& name);

    std::string type() const override { return "Conv2D"; }
    std::string default_name() const override { return "conv2d"; }
    Shape build(const Shape& input_shape, Rng& rng) override;
    std::vector<Parameter> parameters() override;
    /// The layer of chapter 04 inside (after build()), e.g. to look at its filters.
    cnn::Conv2D& layer();

protected:
    Tensor4 forward_operation(const Tensor4& x, bool training) override;
    Tensor4 backward_operation(const Tensor4& dy) override;
    /// A ReLU runs fused inside the convolution (chapter 07).
    bool applies_own_activation() const override { return activation_ == Activation::relu; }

private:
    Conv2DOptions options_;
    std::optional<cnn::Conv2D> conv_;
};

/// Max pooling (chapter 05); strides default to the pool size.
class MaxPooling2D : public KerasLayer<MaxPooling2D> {
public:
    explicit MaxPooling2D(std::size_t pool_size = 2);
    MaxPooling2D& strides(std::size_t stride);
    MaxPooling2D& padding(const std::string& mode);
    std::string type() const override { return "MaxPooling2D"; }
    std::string default_name() const override { return "max_pooling2d"; }
    Shape build(const Shape& input_shape, Rng& rng) override;

protected:
    Tensor4 forward_operation(const Tensor4& x, bool training) override;
    Tensor4 backward_operation(const Tensor4& dy) override;

private:
    cnn::MaxPooling2D pool_;
};

/// Average pooling (chapter 05); strides default to the pool size.
class AveragePooling2D : public KerasLayer<AveragePooling2D> {
public:
    explicit AveragePooling2D(std::size_t pool_size = 2);
    AveragePooling2D& strides(std::size_t stride);
    AveragePooling2D& padding(const std::string& mode);
    std::string type() const override { return "AveragePooling2D"; }
    std::string default_name() const override { return "average_pooling2d"; }
    Shape build(const Shape& input_shape, Rng& rng) override;

protected:
    Tensor4 forward_operation(const Tensor4& x, bool training) override;
    Tensor4 backward_operation(const Tensor4& dy) override;

private:
    cnn::AveragePooling2D pool_;
};

/// (C, H, W) to (C*H*W): the same numbers in the same order, for the Dense layers after it.
class Flatten : public KerasLayer<Flatten> {
public:
    std::string type() const override { return "Flatten"; }
    std::string default_name() const override { return "flatten"; }
    Shape build(const Shape& input_shape, Rng& rng) override;

protected:
    Tensor4 forward_operation(const Tensor4& x, bool training) override;
    Tensor4 backward_operation(const Tensor4& dy) override;

private:
    std::array<std::size_t, 4> input_shape_4d_{};
};

/// A fully connected layer (chapter 01) on flat inputs (D).
class Dense : public KerasLayer<Dense> {
public:
    explicit Dense(std::size_t units);
    Dense& activation(const std::string& name);
    std::string type() const override { return "Dense"; }
    std::string default_name() const override { return "dense"; }
    Shape build(const Shape& input_shape, Rng& rng) override;
    std::vector<Parameter> parameters() override;
    /// The layer of chapter 01 inside (after build()).
    cnn::Dense& layer();

protected:
    Tensor4 forward_operation(const Tensor4& x, bool training) override;
    Tensor4 backward_operation(const Tensor4& dy) override;

private:
    std::size_t units_;
    std::optional<cnn::Dense> dense_;
};

/// Dropout (inverted, as Keras): active only in training.
class Dropout : public KerasLayer<Dropout> {
public:
    explicit Dropout(float rate);
    std::string type() const override { return "Dropout"; }
    std::string default_name() const override { return "dropout"; }
    Shape build(const Shape& input_shape, Rng& rng) override;

protected:
    Tensor4 forward_operation(const Tensor4& x, bool training) override;
    Tensor4 backward_operation(const Tensor4& dy) override;

private:
    float rate_;
    Rng* rng_ = nullptr;  // the model's generator, set by build()
    Tensor4 mask_;
    bool dropped_ = false;  // whether the last forward pass was a training pass
};

/// ReLU as a layer of its own.
class ReLU : public KerasLayer<ReLU> {
public:
    ReLU() { activation_ = Activation::relu; }
    std::string type() const override { return "ReLU"; }
    std::string default_name() const override { return "re_lu"; }
    Shape build(const Shape& input_shape, Rng&) override { return input_shape; }

protected:
    Tensor4 forward_operation(const Tensor4& x, bool) override { return x; }
    Tensor4 backward_operation(const Tensor4& dy) override { return dy; }
};

/// Softmax as a layer of its own, on flat inputs.
class Softmax : public KerasLayer<Softmax> {
public:
    Softmax() { activation_ = Activation::softmax; }
    std::string type() const override { return "Softmax"; }
    std::string default_name() const override { return "softmax"; }
    Shape build(const Shape& input_shape, Rng& rng) override;

protected:
    Tensor4 forward_operation(const Tensor4& x, bool) override { return x; }
    Tensor4 backward_operation(const Tensor4& dy) override { return dy; }
};

}  // namespace cnn::keras
