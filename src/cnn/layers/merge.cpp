#include "cnn/layers/merge.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "cnn/fast/threads.hpp"

namespace cnn {

namespace {

std::string shapes_to_string(const std::vector<Shape>& shapes) {
    std::string text;
    for (const Shape& s : shapes) {
        text += (text.empty() ? "" : ", ") + batch_shape_to_string(s);
    }
    return text;
}

void expect_several(const Layer& layer, const std::vector<Shape>& shapes) {
    if (shapes.size() < 2) {
        throw std::invalid_argument(layer.type() + " " + layer.name() +
                                    ": expected 2 or more inputs, got " +
                                    std::to_string(shapes.size()) + " (" + shapes_to_string(shapes) +
                                    "); call it on a list of nodes in a Graph model");
    }
}

// A copy of t, its values split between threads.
Tensor4 copy_between_threads(const Tensor4& t) {
    Tensor4 copy = Tensor4::from_shape(t.shape());
    run_ranges(t.size(), 2 * t.size(), [&](std::size_t first, std::size_t last) {
        std::copy(t.data() + first, t.data() + last, copy.data() + first);
    });
    return copy;
}

void expect_inputs(const Layer& layer, std::size_t expected, std::size_t got) {
    expect_built(layer, expected > 0);
    if (expected != got) {
        throw std::invalid_argument(layer.type() + " " + layer.name() + ": expected " +
                                    std::to_string(expected) + " inputs, got " + std::to_string(got));
    }
}

}  // namespace

Shape Add::build_inputs(const std::vector<Shape>& shapes, Rng&) {
    expect_several(*this, shapes);
    for (const Shape& s : shapes) {
        if (s != shapes.front()) {
            throw std::invalid_argument("Add " + name() + ": expected inputs of one shape, got " +
                                        shapes_to_string(shapes));
        }
    }
    inputs_ = shapes.size();
    return shapes.front();
}

Tensor4 Add::forward_inputs(std::vector<Tensor4> xs, bool, bool) {
    expect_inputs(*this, inputs_, xs.size());
    Tensor4 y = std::move(xs[0]);
    for (std::size_t i = 1; i < xs.size(); ++i) {
        if (xs[i].shape() != y.shape()) {
            throw std::invalid_argument("Add " + name() + ": input " + std::to_string(i) + " is " +
                                        shape_to_string(xs[i].shape()) + ", input 0 is " +
                                        shape_to_string(y.shape()));
        }
    }
    // y += x_i in place, the values split between threads: a memory-bound loop that two cores
    // run faster than one.
    float* out = y.data();
    run_ranges(y.size(), y.size() * xs.size(), [&](std::size_t first, std::size_t last) {
        for (std::size_t i = 1; i < xs.size(); ++i) {
            const float* in = xs[i].data();
            for (std::size_t k = first; k < last; ++k) {
                out[k] += in[k];
            }
        }
    });
    shape_ = {y.shape(0), y.shape(1), y.shape(2), y.shape(3)};
    return y;
}

void Add::expect_dy(const Tensor4* dy) const {
    expect_built(*this, inputs_ > 0);
    expect_forward_first(*this, shape_[0] + shape_[1] > 0);
    if (dy == nullptr) {
        throw std::invalid_argument("Add " + name() + ": expected dy " + shape_to_string(shape_) +
                                    ", got none");
    }
    if (!std::equal(shape_.begin(), shape_.end(), dy->shape().begin())) {
        throw std::invalid_argument("Add " + name() + ": expected dy " + shape_to_string(shape_) +
                                    ", as the last forward() output, got " +
                                    shape_to_string(dy->shape()));
    }
}

std::vector<Tensor4> Add::backward_inputs(Tensor4 dy, bool, InputGradient) {
    expect_dy(&dy);
    // d(x1 + x2 + ...)/dxi = 1: each input gets dy, the last one dy itself, the others a copy.
    std::vector<Tensor4> dx;
    for (std::size_t i = 0; i + 1 < inputs_; ++i) {
        dx.push_back(copy_between_threads(dy));
    }
    dx.push_back(std::move(dy));
    return dx;
}

//! [add_backward_shared]
std::vector<SharedTensor4> Add::backward_inputs_shared(SharedTensor4 dy, bool, InputGradient) {
    expect_dy(dy.get());
    return std::vector<SharedTensor4>(inputs_, dy);  // dy itself to every input
}
//! [add_backward_shared]

Shape Concatenate::build_inputs(const std::vector<Shape>& shapes, Rng&) {
    expect_several(*this, shapes);
    Shape out = shapes.front();
    for (std::size_t i = 1; i < shapes.size(); ++i) {
        const Shape& s = shapes[i];
        if (s.empty() || s.size() != out.size() || !std::equal(s.begin() + 1, s.end(), out.begin() + 1)) {
            throw std::invalid_argument("Concatenate " + name() +
                                        ": expected inputs that differ in their channels only, got " +
                                        shapes_to_string(shapes));
        }
        out[0] += s[0];
    }
    x_shapes_.assign(shapes.size(), {});
    return out;
}

Tensor4 Concatenate::forward_inputs(std::vector<Tensor4> xs, bool, bool) {
    expect_inputs(*this, x_shapes_.size(), xs.size());
    const std::size_t n = xs[0].shape(0), h = xs[0].shape(2), w = xs[0].shape(3);
    std::size_t channels = 0;
    std::vector<std::array<std::size_t, 4>> shapes;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const auto& s = xs[i].shape();
        if (s[0] != n || s[2] != h || s[3] != w) {
            throw std::invalid_argument("Concatenate " + name() + ": input " + std::to_string(i) +
                                        " is " + shape_to_string(s) + ", input 0 is " +
                                        shape_to_string(xs[0].shape()));
        }
        shapes.push_back({s[0], s[1], s[2], s[3]});
        channels += s[1];
    }
    x_shapes_ = std::move(shapes);  // kept only once every input is known to fit
    // y[n] is x_1[n]'s channels, then x_2[n]'s, ...: one contiguous block per input and image.
    // The images are split between threads.
    Tensor4 y = Tensor4::from_shape({n, channels, h, w});
    run_ranges(n, 2 * y.size(), [&](std::size_t first, std::size_t last) {
        float* out = y.data() + first * channels * h * w;
        for (std::size_t image = first; image < last; ++image) {
            for (const Tensor4& x : xs) {
                const std::size_t block = x.shape(1) * h * w;
                out = std::copy_n(x.data() + image * block, block, out);
            }
        }
    });
    return y;
}

std::vector<Tensor4> Concatenate::backward_inputs(Tensor4 dy, bool, InputGradient) {
    expect_built(*this, !x_shapes_.empty());
    expect_forward_first(*this, x_shapes_.front()[0] + x_shapes_.front()[1] > 0);
    std::vector<Tensor4> dx;
    std::size_t values = 0;
    for (const auto& s : x_shapes_) {
        dx.push_back(Tensor4::from_shape(s));
        values += dx.back().size();
    }
    if (dy.size() != values || x_shapes_.empty() || dy.shape(0) != x_shapes_[0][0]) {
        throw std::invalid_argument("Concatenate " + name() + ": expected dy of " +
                                    std::to_string(values) + " values, as the last forward() "
                                    "output, got " + shape_to_string(dy.shape()));
    }
    // The images are split between threads; image n of dy holds its inputs' blocks in order.
    std::size_t image_size = 0;
    for (const auto& s : x_shapes_) {
        image_size += s[1] * s[2] * s[3];
    }
    run_ranges(dy.shape(0), 2 * dy.size(), [&](std::size_t first, std::size_t last) {
        const float* in = dy.data() + first * image_size;
        for (std::size_t image = first; image < last; ++image) {
            for (Tensor4& d : dx) {
                const std::size_t block = d.shape(1) * d.shape(2) * d.shape(3);
                std::copy_n(in, block, d.data() + image * block);
                in += block;
            }
        }
    });
    return dx;
}

}  // namespace cnn
