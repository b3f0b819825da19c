#include "cnn/layers/augmentation.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace cnn {

namespace {

std::array<std::size_t, 4> shape_of(const Tensor4& x) {
    return {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
}

// The input must be images (C, H, W).
void expect_images(const Layer& layer, const Shape& input) {
    if (input.size() != 3) {
        throw std::invalid_argument(layer_shape_error(layer, "(None, C, H, W)", input));
    }
}

// backward()'s dy must have the shape the last forward() returned.
void expect_dy_shape(const Layer& layer, const Tensor4& dy,
                     const std::array<std::size_t, 4>& y_shape) {
    if (!std::equal(y_shape.begin(), y_shape.end(), dy.shape().begin())) {
        throw std::invalid_argument(
            layer.type() + " " + layer.name() + ": expected dy " + shape_to_string(y_shape) +
            ", as the last forward() output, got " + shape_to_string(dy.shape()));
    }
}

}  // namespace

// ---- RandomFlip ----

FlipMode parse_flip_mode(const std::string& mode) {
    if (mode == "horizontal") {
        return FlipMode::horizontal;
    }
    if (mode == "vertical") {
        return FlipMode::vertical;
    }
    if (mode == "horizontal_and_vertical") {
        return FlipMode::horizontal_and_vertical;
    }
    throw std::invalid_argument(fmt::format(
        "RandomFlip: expected mode 'horizontal', 'vertical' or 'horizontal_and_vertical', got '{}'",
        mode));
}

RandomFlip::RandomFlip(const std::string& mode) : options_{parse_flip_mode(mode)} {}

Shape RandomFlip::build(const Shape& input, Rng& rng) {
    expect_images(*this, input);
    rng_ = &rng;
    return input;
}

Tensor4 RandomFlip::forward_operation(Tensor4 x, bool training) {
    expect_built(*this, !training || rng_ != nullptr);
    std::vector<Flip> flips;  // none at inference
    if (training) {
        for (std::size_t n = 0; n < x.shape(0); ++n) {
            Flip flip;
            if (options_.mode != FlipMode::vertical) {
                flip.left_right = rng_->uniform() < 0.5f;
            }
            if (options_.mode != FlipMode::horizontal) {
                flip.up_down = rng_->uniform() < 0.5f;
            }
            flips.push_back(flip);
        }
        x = flip_forward(x, flips);
    }
    flips_ = std::move(flips);
    y_shape_ = shape_of(x);
    ran_ = true;
    return x;
}

Tensor4 RandomFlip::backward_operation(Tensor4 dy) {
    expect_forward_first(*this, ran_);
    expect_dy_shape(*this, dy, y_shape_);
    if (flips_.empty()) {
        return dy;  // the last pass was an inference pass: nothing moved
    }
    return flip_backward(dy, flips_);
}

// ---- RandomTranslation ----

namespace {

void expect_factor(const char* name, float factor) {
    if (!(factor >= 0.0f && factor < 1.0f)) {  // false for NaN too
        throw std::invalid_argument(fmt::format(
            "RandomTranslation: expected {} in [0, 1), a fraction of the image's size, got {:g}",
            name, factor));
    }
}

// A factor above 0 that allows no whole pixel would leave every image as it is, silently.
void expect_whole_pixel(const Layer& layer, const char* name, float factor, std::size_t size,
                        const char* pixels) {
    if (factor > 0.0f && max_translation(factor, size) == 0) {
        throw std::invalid_argument(fmt::format(
            "{} {}: expected {} 0 or at least 1/{} = {:.4g} (one whole {} of {}), got {:g}",
            layer.type(), layer.name(), name, size, 1.0 / static_cast<double>(size), pixels, size,
            factor));
    }
}

// A whole number drawn uniformly from -k, ..., k.
std::ptrdiff_t draw_shift(std::size_t k, Rng& rng) {
    return static_cast<std::ptrdiff_t>(rng.below(2 * k + 1)) - static_cast<std::ptrdiff_t>(k);
}

}  // namespace

std::size_t max_translation(float factor, std::size_t size) {
    expect_factor("a factor", factor);
    const double pixels = static_cast<double>(factor) * static_cast<double>(size);
    return static_cast<std::size_t>(std::floor(pixels + 1e-4));
}

RandomTranslation::RandomTranslation(const RandomTranslationOptions& options) : options_(options) {
    expect_factor("height_factor", options.height_factor);
    expect_factor("width_factor", options.width_factor);
}

Shape RandomTranslation::build(const Shape& input, Rng& rng) {
    expect_images(*this, input);
    expect_whole_pixel(*this, "height_factor", options_.height_factor, input[1], "row");
    expect_whole_pixel(*this, "width_factor", options_.width_factor, input[2], "column");
    rng_ = &rng;
    return input;
}

Tensor4 RandomTranslation::forward_operation(Tensor4 x, bool training) {
    expect_built(*this, !training || rng_ != nullptr);
    std::vector<Shift> shifts;  // none at inference
    if (training) {
        const std::size_t kh = max_translation(options_.height_factor, x.shape(2));
        const std::size_t kw = max_translation(options_.width_factor, x.shape(3));
        for (std::size_t n = 0; n < x.shape(0); ++n) {
            Shift shift;
            shift.down = draw_shift(kh, *rng_);   // rows first,
            shift.right = draw_shift(kw, *rng_);  // then columns
            shifts.push_back(shift);
        }
        x = translate_forward(x, shifts);
    }
    shifts_ = std::move(shifts);
    y_shape_ = shape_of(x);
    ran_ = true;
    return x;
}

Tensor4 RandomTranslation::backward_operation(Tensor4 dy) {
    expect_forward_first(*this, ran_);
    expect_dy_shape(*this, dy, y_shape_);
    if (shifts_.empty()) {
        return dy;  // the last pass was an inference pass: nothing moved
    }
    return translate_backward(dy, shifts_);
}

// ---- RandomCrop ----

namespace {

// The window must fit in the images `input` (C, H, W).
void expect_window_inside(const RandomCrop& layer, const Shape& input) {
    const RandomCropOptions& o = layer.options();
    if (o.height > input[1] || o.width > input[2]) {
        throw std::invalid_argument(layer_shape_error(
            layer,
            fmt::format("(None, C, H, W) with H >= {} and W >= {}, the window's size", o.height,
                        o.width),
            input));
    }
}

}  // namespace

RandomCrop::RandomCrop(const RandomCropOptions& options) : options_(options) {
    if (options.height == 0 || options.width == 0) {
        throw std::invalid_argument(
            fmt::format("RandomCrop: expected a window of at least 1x1 (height x width), got {}x{}",
                        options.height, options.width));
    }
}

Shape RandomCrop::build(const Shape& input, Rng& rng) {
    expect_images(*this, input);
    expect_window_inside(*this, input);
    rng_ = &rng;
    return {input[0], options_.height, options_.width};
}

Tensor4 RandomCrop::forward_operation(Tensor4 x, bool training) {
    expect_built(*this, !training || rng_ != nullptr);
    const std::size_t h = x.shape(2), w = x.shape(3), oh = options_.height, ow = options_.width;
    expect_window_inside(*this, {x.shape(1), h, w});
    std::vector<Corner> corners(x.shape(0), centred_corner(h, w, oh, ow));
    if (training) {
        for (Corner& corner : corners) {
            corner.top = rng_->below(h - oh + 1);
            corner.left = rng_->below(w - ow + 1);
        }
    }
    Tensor4 y = crop_forward(x, oh, ow, corners);
    corners_ = std::move(corners);
    x_shape_ = shape_of(x);
    ran_ = true;
    return y;
}

Tensor4 RandomCrop::backward_operation(Tensor4 dy) {
    expect_forward_first(*this, ran_);
    expect_dy_shape(*this, dy, {x_shape_[0], x_shape_[1], options_.height, options_.width});
    return crop_backward(dy, x_shape_, corners_);
}

}  // namespace cnn
