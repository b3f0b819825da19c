#include "cnn/inspect/probe.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

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

//! [forward_to]
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
//! [forward_to]

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

Ascent maximise_unit(Sequential& model, std::size_t layer, std::size_t channel,
                     const AscentOptions& options) {
    if (options.blur_every == 0 || !(options.low < options.high)) {
        throw std::invalid_argument("maximise_unit: blur_every must be at least 1 and low below high");
    }
    model.build();
    expect_layer(model, layer, "maximise_unit");
    const Shape& in = model.input_shape();
    Shape shape{1};
    shape.insert(shape.end(), in.begin(), in.end());
    while (shape.size() < 4) {
        shape.push_back(1);
    }
    Tensor4 x = xt::zeros<float>({shape[0], shape[1], shape[2], shape[3]});
    Rng rng(options.seed);
    for (float& v : x) {
        v = std::clamp(options.start + options.noise * rng.normal(), options.low, options.high);
    }

    // The unit: channel `channel` at the centre of the layer's map.
    const Tensor4 first = forward_to(model, x, layer);
    if (channel >= first.shape(1)) {
        throw std::invalid_argument("maximise_unit: channel " + std::to_string(channel) + " of " +
                                    model.layer(layer).name() + " requested, which has " +
                                    std::to_string(first.shape(1)));
    }
    const std::size_t row = first.shape(2) / 2, col = first.shape(3) / 2;
    Ascent result;
    result.initial_activation = first(0, channel, row, col);

    //! [ascent_step]
    for (std::size_t step = 1; step <= options.steps; ++step) {
        const Tensor4 out = forward_to(model, x, layer);
        Tensor4 d_out = xt::zeros<float>(out.shape());
        d_out(0, channel, row, col) = 1.0f;  // d(unit) / d(layer output)
        const Tensor4 g = backward_from(model, layer, std::move(d_out));
        double squares = 0.0;
        for (const float v : g) {
            squares += static_cast<double>(v) * v;
        }
        const auto rms = static_cast<float>(std::sqrt(squares / static_cast<double>(g.size())));
        const float scale = options.step_size / (rms + 1e-12f);  // a step of fixed length
        for (std::size_t i = 0; i < x.size(); ++i) {
            float v = x.flat(i) + scale * g.flat(i);                          // uphill
            v = options.start + (1.0f - options.decay) * (v - options.start);  // towards grey
            x.flat(i) = std::clamp(v, options.low, options.high);
        }
        if (options.blur_sigma > 0.0f && step % options.blur_every == 0) {
            blur3x3(x, options.blur_sigma);
        }
    }
    //! [ascent_step]
    result.final_activation = forward_to(model, x, layer)(0, channel, row, col);
    result.image = std::move(x);
    return result;
}

}  // namespace cnn
