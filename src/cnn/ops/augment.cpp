#include "cnn/ops/augment.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace cnn {

namespace {

void expect_one_per_image(const char* where, std::size_t n_images, std::size_t entries,
                          const char* what) {
    if (entries != n_images) {
        throw std::invalid_argument(std::string(where) + ": expected one " + what + " per image, " +
                                    std::to_string(n_images) + " in all, got " +
                                    std::to_string(entries));
    }
}

// Every OH x OW window inside its H x W image.
void expect_windows_inside(const char* where, std::size_t h, std::size_t w, std::size_t oh,
                           std::size_t ow, const std::vector<Corner>& corners) {
    for (std::size_t n = 0; n < corners.size(); ++n) {
        const Corner& c = corners[n];
        if (c.top + oh > h || c.left + ow > w) {
            throw std::invalid_argument(
                std::string(where) + ": expected windows inside the " + std::to_string(h) + "x" +
                std::to_string(w) + " images, got a " + std::to_string(oh) + "x" +
                std::to_string(ow) + " window at row " + std::to_string(c.top) + ", column " +
                std::to_string(c.left) + " for image " + std::to_string(n));
        }
    }
}

// One H x W map mirrored as `flip` says, from `in` into `out`, a row at a time.
void flip_map(const float* in, float* out, std::size_t h, std::size_t w, Flip flip) {
    for (std::size_t i = 0; i < h; ++i) {
        const float* row = in + (flip.up_down ? h - 1 - i : i) * w;
        if (flip.left_right) {
            std::reverse_copy(row, row + w, out + i * w);
        } else {
            std::copy(row, row + w, out + i * w);
        }
    }
}

// One H x W map moved by `shift` from `in` into `out`, which holds zeros: row i of out is row
// i - down of in, and its columns [first, last) come from the columns `right` to their left.
void shift_map(const float* in, float* out, std::size_t h, std::size_t w, Shift shift) {
    const auto rows = static_cast<std::ptrdiff_t>(h), cols = static_cast<std::ptrdiff_t>(w);
    const std::ptrdiff_t first = std::max<std::ptrdiff_t>(0, shift.right);
    const std::ptrdiff_t last = std::min(cols, cols + shift.right);
    if (first >= last) {
        return;  // moved sideways past the edge: nothing of the map is left
    }
    for (std::ptrdiff_t i = std::max<std::ptrdiff_t>(0, shift.down);
         i < std::min(rows, rows + shift.down); ++i) {
        const float* from = in + (i - shift.down) * cols + (first - shift.right);
        std::copy(from, from + (last - first), out + i * cols + first);
    }
}

}  // namespace

Tensor4 flip_forward(const Tensor4& x, const std::vector<Flip>& flips) {
    // x and y are (N, C, H, W); each image's C maps are flipped alike.
    const std::size_t n_images = x.shape(0), channels = x.shape(1), h = x.shape(2), w = x.shape(3);
    expect_one_per_image("flip_forward", n_images, flips.size(), "flip");
    Tensor4 y = Tensor4::from_shape(x.shape());
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            const std::size_t map = (n * channels + c) * h * w;  // where x[n, c] starts
            flip_map(x.data() + map, y.data() + map, h, w, flips[n]);
        }
    }
    return y;
}

Tensor4 flip_backward(const Tensor4& dy, const std::vector<Flip>& flips) {
    expect_one_per_image("flip_backward", dy.shape(0), flips.size(), "flip");
    return flip_forward(dy, flips);  // flipping twice gives back the original
}

Tensor4 translate_forward(const Tensor4& x, const std::vector<Shift>& shifts) {
    // x and y are (N, C, H, W); each image's C maps move alike.
    const std::size_t n_images = x.shape(0), channels = x.shape(1), h = x.shape(2), w = x.shape(3);
    expect_one_per_image("translate_forward", n_images, shifts.size(), "shift");
    Tensor4 y = xt::zeros<float>(x.shape());
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            const std::size_t map = (n * channels + c) * h * w;
            shift_map(x.data() + map, y.data() + map, h, w, shifts[n]);
        }
    }
    return y;
}

Tensor4 translate_backward(const Tensor4& dy, const std::vector<Shift>& shifts) {
    expect_one_per_image("translate_backward", dy.shape(0), shifts.size(), "shift");
    std::vector<Shift> back;
    for (const Shift& s : shifts) {
        back.push_back({-s.down, -s.right});
    }
    return translate_forward(dy, back);
}

Tensor4 crop_forward(const Tensor4& x, std::size_t oh, std::size_t ow,
                     const std::vector<Corner>& corners) {
    // x is (N, C, H, W), y is (N, C, OH, OW): OH rows of OW values copied from each window.
    const std::size_t n_images = x.shape(0), channels = x.shape(1), h = x.shape(2), w = x.shape(3);
    expect_one_per_image("crop_forward", n_images, corners.size(), "corner");
    expect_windows_inside("crop_forward", h, w, oh, ow, corners);
    Tensor4 y = Tensor4::from_shape({n_images, channels, oh, ow});
    float* out = y.data();
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            const float* window =
                x.data() + ((n * channels + c) * h + corners[n].top) * w + corners[n].left;
            for (std::size_t i = 0; i < oh; ++i, out += ow) {
                std::copy(window + i * w, window + i * w + ow, out);
            }
        }
    }
    return y;
}

Tensor4 crop_backward(const Tensor4& dy, const std::array<std::size_t, 4>& x_shape,
                      const std::vector<Corner>& corners) {
    // dy is (N, C, OH, OW), dx is (N, C, H, W): zeros, each window given back its gradient.
    const std::size_t n_images = x_shape[0], channels = x_shape[1], h = x_shape[2], w = x_shape[3];
    const std::size_t oh = dy.shape(2), ow = dy.shape(3);
    if (dy.shape(0) != n_images || dy.shape(1) != channels) {
        throw std::invalid_argument("crop_backward: expected dy of " + std::to_string(n_images) +
                                    " images of " + std::to_string(channels) + " channels, as x " +
                                    shape_to_string(x_shape) + ", got " +
                                    shape_to_string(dy.shape()));
    }
    expect_one_per_image("crop_backward", n_images, corners.size(), "corner");
    expect_windows_inside("crop_backward", h, w, oh, ow, corners);
    Tensor4 dx = xt::zeros<float>(x_shape);
    const float* in = dy.data();
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            float* window =
                dx.data() + ((n * channels + c) * h + corners[n].top) * w + corners[n].left;
            for (std::size_t i = 0; i < oh; ++i, in += ow) {
                std::copy(in, in + ow, window + i * w);
            }
        }
    }
    return dx;
}

Corner centred_corner(std::size_t h, std::size_t w, std::size_t oh, std::size_t ow) {
    if (oh > h || ow > w) {
        throw std::invalid_argument("centred_corner: expected a window no larger than the " +
                                    std::to_string(h) + "x" + std::to_string(w) + " image, got " +
                                    std::to_string(oh) + "x" + std::to_string(ow));
    }
    return {(h - oh) / 2, (w - ow) / 2};
}

}  // namespace cnn
