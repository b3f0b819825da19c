#include "cnn/inspect/excitation.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>

#include <xtensor/xview.hpp>

#include "cnn/inspect/probe.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/ops/geometry.hpp"
#include "cnn/ops/receptive_field.hpp"

namespace cnn {

std::vector<std::vector<Excitation>> strongest_excitations(Sequential& model, const Tensor4& x,
                                                           std::size_t layer, std::size_t count,
                                                           std::size_t batch_size) {
    if (batch_size == 0) {
        throw std::invalid_argument("strongest_excitations: batch_size must be at least 1");
    }
    model.build();
    // Per channel: each image's strongest position (every list empty for no images).
    std::vector<std::vector<Excitation>> best(layer < model.size() ? model.output_shape(layer).at(0) : 0);
    for (std::size_t begin = 0; begin < x.shape(0); begin += batch_size) {
        const std::size_t end = std::min(begin + batch_size, x.shape(0));
        const Tensor4 y = forward_to(model, xt::view(x, xt::range(begin, end)), layer);
        best.resize(y.shape(1));
        for (std::size_t n = 0; n < y.shape(0); ++n) {
            for (std::size_t c = 0; c < y.shape(1); ++c) {
                Excitation e{begin + n, 0, 0, y(n, c, 0, 0)};
                for (std::size_t i = 0; i < y.shape(2); ++i) {
                    for (std::size_t j = 0; j < y.shape(3); ++j) {
                        if (y(n, c, i, j) > e.value) {
                            e = {begin + n, i, j, y(n, c, i, j)};
                        }
                    }
                }
                best[c].push_back(e);
            }
        }
    }
    for (std::vector<Excitation>& channel : best) {
        const std::size_t keep = std::min(count, channel.size());
        std::partial_sort(channel.begin(), channel.begin() + static_cast<std::ptrdiff_t>(keep),
                          channel.end(), [](const Excitation& a, const Excitation& b) {
                              return a.value > b.value || (a.value == b.value && a.image < b.image);
                          });
        channel.resize(keep);
    }
    return best;
}

InputWindow receptive_window(Sequential& model, std::size_t layer, std::size_t row, std::size_t col) {
    model.build();
    if (layer >= model.size()) {
        throw std::invalid_argument("receptive_window: layer " + std::to_string(layer) +
                                    " requested, but the model has " + std::to_string(model.size()));
    }
    // Chapter 04's walk, once along the rows and once along the columns.
    //! [receptive_walk]
    std::vector<WindowLayer> rows, cols;
    for (std::size_t i = 0; i <= layer; ++i) {
        const Layer& l = model.layer(i);
        const Shape& in = i == 0 ? model.input_shape() : model.output_shape(i - 1);
        if (const auto* conv = dynamic_cast<const Conv2D*>(&l)) {
            const Conv2DOptions& o = conv->options();
            const Conv2DGeometry g = conv->geometry(in.at(1), in.at(2));
            rows.push_back({l.name(), o.kernel_rows, o.stride_rows, g.pad_rows.before});
            cols.push_back({l.name(), o.kernel_cols, o.stride_cols, g.pad_cols.before});
            continue;
        }
        //! [receptive_walk]
        //! [receptive_walk_pooling]
        std::optional<Pool2DWindow> pool;
        if (const auto* max = dynamic_cast<const MaxPooling2D*>(&l)) {
            pool = max->window(in.at(1), in.at(2));
        } else if (const auto* average = dynamic_cast<const AveragePooling2D*>(&l)) {
            pool = average->window(in.at(1), in.at(2));
        }
        if (pool) {
            const Conv2DGeometry& g = pool->geometry;
            rows.push_back({l.name(), pool->window_rows, g.stride_rows, g.pad_rows.before});
            cols.push_back({l.name(), pool->window_cols, g.stride_cols, g.pad_cols.before});
            continue;
        }
        const Shape& out = model.output_shape(i);
        if (in.size() != 3 || out.size() != 3 || in[1] != out[1] || in[2] != out[2]) {
            throw std::invalid_argument("receptive_window: " + l.name() + " (" + l.type() +
                                        ") mixes all positions of its input; a unit of " +
                                        model.layer(layer).name() + " sees the whole image");
        }
    }
    //! [receptive_walk_pooling]
    //! [receptive_field_window]
    const ReceptiveField r = receptive_fields(rows).back();
    const ReceptiveField c = receptive_fields(cols).back();
    // Unit i's field is centred at start + i * jump and is `size` wide.
    const auto first = [](const ReceptiveField& f, std::size_t unit) {
        const double centre = f.start + static_cast<double>(unit * f.jump);
        return static_cast<std::ptrdiff_t>(std::lround(centre - (static_cast<double>(f.size) - 1.0) / 2.0));
    };
    return {first(r, row), first(c, col), r.size, c.size};
    //! [receptive_field_window]
}

Tensor3 crop_window(const Tensor3& image, const InputWindow& window, float fill) {
    Tensor3 out = xt::empty<float>({image.shape(0), window.rows, window.cols});
    out.fill(fill);
    const auto height = static_cast<std::ptrdiff_t>(image.shape(1));
    const auto width = static_cast<std::ptrdiff_t>(image.shape(2));
    for (std::size_t c = 0; c < image.shape(0); ++c) {
        for (std::size_t i = 0; i < window.rows; ++i) {
            const std::ptrdiff_t r = window.top + static_cast<std::ptrdiff_t>(i);
            for (std::size_t j = 0; j < window.cols; ++j) {
                const std::ptrdiff_t s = window.left + static_cast<std::ptrdiff_t>(j);
                if (r >= 0 && r < height && s >= 0 && s < width) {
                    out(c, i, j) = image(c, static_cast<std::size_t>(r), static_cast<std::size_t>(s));
                }
            }
        }
    }
    return out;
}

}  // namespace cnn
