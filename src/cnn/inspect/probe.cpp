#include "cnn/inspect/probe.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/parameter.hpp"
#include "cnn/tensor/random.hpp"

namespace cnn {

namespace {

void expect_layer(const Sequential& model, std::size_t layer, const char* where) {
    if (layer >= model.size()) {
        throw std::invalid_argument(std::string(where) + ": layer " + std::to_string(layer) +
                                    " requested, but model " + model.name() + " has " +
                                    std::to_string(model.size()) + " layers (0 to " +
                                    std::to_string(model.size() - 1) + ")");
    }
}

void expect_input(const Sequential& model, const Tensor4& x, const char* where) {
    const Shape& want = model.input_shape();
    const Shape got(x.shape().begin() + 1, x.shape().end());
    // A model whose input is a vector (D) takes it as (N, D, 1, 1).
    const Shape want4 = want.size() == 1 ? Shape{want[0], 1, 1} : want;
    if (got != want4) {
        throw std::invalid_argument(std::string(where) + ": model " + model.name() +
                                    " expects input " + batch_shape_to_string(want) + ", got " +
                                    shape_to_string(x.shape()));
    }
}

// Smooths every map of x (N, C, H, W) with a 3x3 Gaussian of deviation `sigma`; at the border
// the weights of the neighbours that exist are renormalised, so a constant map stays constant.
void blur3x3(Tensor4& x, float sigma) {
    const float side = std::exp(-1.0f / (2.0f * sigma * sigma));  // weight of a distance of 1
    const float w[3] = {side, 1.0f, side};
    const Tensor4 source = x;
    const auto rows = static_cast<std::ptrdiff_t>(x.shape(2));
    const auto cols = static_cast<std::ptrdiff_t>(x.shape(3));
    for (std::size_t n = 0; n < x.shape(0); ++n) {
        for (std::size_t c = 0; c < x.shape(1); ++c) {
            for (std::ptrdiff_t i = 0; i < rows; ++i) {
                for (std::ptrdiff_t j = 0; j < cols; ++j) {
                    float sum = 0.0f, weight = 0.0f;
                    for (std::ptrdiff_t di = -1; di <= 1; ++di) {
                        for (std::ptrdiff_t dj = -1; dj <= 1; ++dj) {
                            const std::ptrdiff_t r = i + di, s = j + dj;
                            if (r < 0 || r >= rows || s < 0 || s >= cols) {
                                continue;
                            }
                            const float k = w[di + 1] * w[dj + 1];
                            sum += k * source(n, c, static_cast<std::size_t>(r), static_cast<std::size_t>(s));
                            weight += k;
                        }
                    }
                    x(n, c, static_cast<std::size_t>(i), static_cast<std::size_t>(j)) = sum / weight;
                }
            }
        }
    }
}

}  // namespace

Tensor4 forward_to(Sequential& model, Tensor4 x, std::size_t layer) {
    model.build();
    expect_layer(model, layer, "forward_to");
    expect_input(model, x, "forward_to");
    for (std::size_t i = 0; i <= layer; ++i) {
        // The probed layer gives its logits if it ends with a softmax: the score of a class
        // before the classes compete in the softmax.
        x = model.layer(i).forward(std::move(x), /*training=*/false, /*apply_softmax=*/i != layer);
    }
    return x;
}

Tensor4 backward_from(Sequential& model, std::size_t layer, Tensor4 output_gradient) {
    expect_layer(model, layer, "backward_from");
    Tensor4 grad = model.layer(layer).backward_from_logits(std::move(output_gradient));
    for (std::size_t i = layer; i-- > 0;) {
        grad = model.layer(i).backward(std::move(grad));
    }
    zero_gradients(model.parameters());  // the weights' gradients were a by-product
    return grad;
}

//! [saliency]
Tensor4 saliency(Sequential& model, const Tensor4& x, const Labels& classes) {
    if (classes.size() != x.shape(0)) {
        throw std::invalid_argument("saliency: one class per image expected, got " +
                                    std::to_string(classes.size()) + " classes for " +
                                    std::to_string(x.shape(0)) + " images");
    }
    model.build();
    const std::size_t last = model.size() - 1;
    const Tensor4 logits = forward_to(model, x, last);  // (N, K, 1, 1)
    Tensor4 d_logits = xt::zeros<float>(logits.shape());
    for (std::size_t n = 0; n < classes.size(); ++n) {
        if (classes[n] >= logits.shape(1)) {
            throw std::invalid_argument("saliency: class " + std::to_string(classes[n]) +
                                        " of image " + std::to_string(n) + " is out of range: the model has " +
                                        std::to_string(logits.shape(1)) + " classes");
        }
        d_logits(n, classes[n], 0, 0) = 1.0f;  // d(logit of the class) / d(logits)
    }
    return backward_from(model, last, std::move(d_logits));
}
//! [saliency]

Ascent maximise_units(Sequential& model, std::size_t layer, const std::vector<std::size_t>& channels,
                      const AscentOptions& options) {
    if (channels.empty() || options.blur_every == 0 || !(options.low < options.high)) {
        throw std::invalid_argument("maximise_units: expected at least one channel, blur_every >= 1 "
                                    "and low < high");
    }
    model.build();
    expect_layer(model, layer, "maximise_units");
    const std::size_t units = channels.size();
    Shape shape{units};
    shape.insert(shape.end(), model.input_shape().begin(), model.input_shape().end());
    while (shape.size() < 4) {
        shape.push_back(1);
    }
    Tensor4 x = Tensor4::from_shape({shape[0], shape[1], shape[2], shape[3]});
    Rng rng(options.seed);
    for (float& v : x) {
        v = std::clamp(options.start + options.noise * rng.normal(), options.low, options.high);
    }
    const std::size_t per_image = x.size() / units;

    // With before_relu, the layer is run through a copy of itself without its ReLU, after the
    // layers below it.
    std::unique_ptr<Layer> linear;
    if (options.before_relu && model.layer(layer).activation() == Activation::relu) {
        if (const auto* conv = dynamic_cast<const Conv2D*>(&model.layer(layer))) {
            linear = std::make_unique<Conv2D>(Conv2D(*conv).activation("linear"));
        } else if (const auto* dense = dynamic_cast<const Dense*>(&model.layer(layer))) {
            linear = std::make_unique<Dense>(Dense(*dense).activation("linear"));
        }
    }
    const auto forward = [&](const Tensor4& input) {
        if (!linear) {
            return forward_to(model, input, layer);
        }
        return linear->forward(layer == 0 ? input : forward_to(model, input, layer - 1));
    };
    const auto backward = [&](Tensor4 d_out) {
        if (!linear) {
            return backward_from(model, layer, std::move(d_out));
        }
        Tensor4 g = linear->backward(std::move(d_out));
        return layer == 0 ? g : backward_from(model, layer - 1, std::move(g));
    };

    // Unit k: channel channels[k] at the centre of the layer's map, seen by image k.
    const Tensor4 first = forward(x);
    for (const std::size_t c : channels) {
        if (c >= first.shape(1)) {
            throw std::invalid_argument("maximise_units: channel " + std::to_string(c) + " of " +
                                        model.layer(layer).name() + " requested, which has " +
                                        std::to_string(first.shape(1)));
        }
    }
    const std::size_t rows = first.shape(2), cols = first.shape(3);
    const bool whole = options.whole_channel;
    // d(unit) / d(output) at one position of channel c: 1 at the centre, or 1 / (H W) everywhere
    // for the mean of the map.
    const float share = whole ? 1.0f / static_cast<float>(rows * cols) : 1.0f;
    const auto counts = [&](std::size_t i, std::size_t j) {
        return whole || (i == rows / 2 && j == cols / 2);
    };
    const auto unit_values = [&](const Tensor4& out) {
        std::vector<double> values(units, 0.0);
        for (std::size_t k = 0; k < units; ++k) {
            for (std::size_t i = 0; i < rows; ++i) {
                for (std::size_t j = 0; j < cols; ++j) {
                    values[k] += counts(i, j) ? share * out(k, channels[k], i, j) : 0.0;
                }
            }
        }
        return values;
    };
    Ascent result;
    result.initial_activation = unit_values(first);

    //! [ascent_gradient]
    for (std::size_t step = 1; step <= options.steps; ++step) {
        const Tensor4 out = forward(x);
        Tensor4 d_out = xt::zeros<float>(out.shape());
        for (std::size_t k = 0; k < units; ++k) {  // d(unit k) / d(layer output)
            for (std::size_t i = 0; i < rows; ++i) {
                for (std::size_t j = 0; j < cols; ++j) {
                    d_out(k, channels[k], i, j) = counts(i, j) ? share : 0.0f;
                }
            }
        }
        const Tensor4 g = backward(std::move(d_out));
        //! [ascent_gradient]
        //! [ascent_move]
        for (std::size_t k = 0; k < units; ++k) {
            const float* gk = g.data() + k * per_image;
            float* xk = x.data() + k * per_image;
            double squares = 0.0;
            for (std::size_t i = 0; i < per_image; ++i) {
                squares += static_cast<double>(gk[i]) * gk[i];
            }
            const double rms = std::sqrt(squares / static_cast<double>(per_image));
            // A step of fixed length, whatever the scale of this unit's gradient.
            const auto scale = static_cast<float>(rms > 0 ? options.step_size / rms : 0.0);
            for (std::size_t i = 0; i < per_image; ++i) {
                float v = xk[i] + scale * gk[i];                                   // uphill
                v = options.start + (1.0f - options.decay) * (v - options.start);  // to grey
                xk[i] = std::clamp(v, options.low, options.high);
            }
        }
        if (options.blur_sigma > 0.0f && step % options.blur_every == 0) {
            blur3x3(x, options.blur_sigma);
        }
    }
    //! [ascent_move]
    result.final_activation = unit_values(forward(x));
    result.images = std::move(x);
    return result;
}

}  // namespace cnn
