#include "cnn/ops/upsample.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace cnn {

namespace {

std::array<std::size_t, 4> shape_of(const Tensor4& x) {
    return {x.shape(0), x.shape(1), x.shape(2), x.shape(3)};
}

void expect_positive_factors(const char* where, const UpsampleFactors& f) {
    if (f.rows == 0 || f.cols == 0) {
        throw std::invalid_argument(std::string(where) +
                                    ": expected factors of at least 1 along rows and columns, "
                                    "got " + std::to_string(f.rows) + " x " +
                                    std::to_string(f.cols));
    }
}

// The shape (N, C, H, W) of the x whose upsampling has dy's shape (N, C, H·fh, W·fw).
std::array<std::size_t, 4> input_shape_of(const char* where, const Tensor4& dy,
                                          const UpsampleFactors& f) {
    expect_positive_factors(where, f);
    if (dy.shape(2) % f.rows != 0 || dy.shape(3) % f.cols != 0) {
        throw std::invalid_argument(std::string(where) + ": expected dy's height and width to be "
                                    "multiples of the factors " + std::to_string(f.rows) + " x " +
                                    std::to_string(f.cols) + ", got dy " +
                                    shape_to_string(dy.shape()));
    }
    return {dy.shape(0), dy.shape(1), dy.shape(2) / f.rows, dy.shape(3) / f.cols};
}

}  // namespace

std::array<std::size_t, 4> upsampled_shape(const std::array<std::size_t, 4>& x_shape,
                                           const UpsampleFactors& f) {
    expect_positive_factors("upsampled_shape", f);
    return {x_shape[0], x_shape[1], x_shape[2] * f.rows, x_shape[3] * f.cols};
}

Tensor4 upsample_nearest_forward(const Tensor4& x, const UpsampleFactors& f) {
    // x is (N, C, H, W); y is (N, C, OH, OW) with OH = H·fh, OW = W·fw.
    expect_positive_factors("upsample_nearest_forward", f);
    const auto [n_images, channels, oh, ow] = upsampled_shape(shape_of(x), f);
    Tensor4 y = Tensor4::from_shape({n_images, channels, oh, ow});
    //! [upsample_loops]
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            for (std::size_t i = 0; i < oh; ++i) {
                for (std::size_t j = 0; j < ow; ++j) {
                    y(n, c, i, j) = x(n, c, i / f.rows, j / f.cols);
                }
            }
        }
    }
    //! [upsample_loops]
    return y;
}

Tensor4 upsample_nearest_backward(const Tensor4& dy, const UpsampleFactors& f) {
    // dy is (N, C, H·fh, W·fw); dx is (N, C, H, W).
    const auto [n_images, channels, h, w] = input_shape_of("upsample_nearest_backward", dy, f);
    Tensor4 dx = Tensor4::from_shape({n_images, channels, h, w});
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            for (std::size_t r = 0; r < h; ++r) {
                for (std::size_t s = 0; s < w; ++s) {
                    float sum = 0.0f;  // x[n, c, r, s] was copied into this fh x fw block
                    for (std::size_t i = r * f.rows; i < (r + 1) * f.rows; ++i) {
                        for (std::size_t j = s * f.cols; j < (s + 1) * f.cols; ++j) {
                            sum += dy(n, c, i, j);
                        }
                    }
                    dx(n, c, r, s) = sum;
                }
            }
        }
    }
    return dx;
}

std::vector<BilinearTap> bilinear_taps(std::size_t size, std::size_t factor) {
    if (factor == 0) {
        throw std::invalid_argument("bilinear_taps: expected a factor of at least 1, got 0 (for "
                                    "an axis of " + std::to_string(size) + " values)");
    }
    //! [bilinear_taps]
    std::vector<BilinearTap> taps(size * factor);
    const double last = static_cast<double>(size) - 1.0;
    for (std::size_t i = 0; i < taps.size(); ++i) {
        // The centre of output pixel i, in input pixels (half-pixel centres), kept inside
        // the input: the first and last few outputs copy the edge rows.
        double position = (static_cast<double>(i) + 0.5) / static_cast<double>(factor) - 0.5;
        position = std::min(std::max(position, 0.0), last);
        BilinearTap& tap = taps[i];
        tap.low = static_cast<std::size_t>(std::floor(position));
        tap.high = std::min(tap.low + 1, size - 1);
        tap.weight_high = static_cast<float>(position - static_cast<double>(tap.low));
        tap.weight_low = 1.0f - tap.weight_high;
    }
    //! [bilinear_taps]
    return taps;
}

Tensor4 upsample_bilinear_forward(const Tensor4& x, const UpsampleFactors& f) {
    // x is (N, C, H, W); y is (N, C, OH, OW) with OH = H·fh, OW = W·fw.
    expect_positive_factors("upsample_bilinear_forward", f);
    const auto [n_images, channels, oh, ow] = upsampled_shape(shape_of(x), f);
    const std::vector<BilinearTap> rows = bilinear_taps(x.shape(2), f.rows);  // OH of them
    const std::vector<BilinearTap> cols = bilinear_taps(x.shape(3), f.cols);  // OW of them
    Tensor4 y = Tensor4::from_shape({n_images, channels, oh, ow});
    //! [bilinear_blend]
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            for (std::size_t i = 0; i < oh; ++i) {
                const BilinearTap& r = rows[i];
                for (std::size_t j = 0; j < ow; ++j) {
                    const BilinearTap& s = cols[j];
                    // Blend along the columns in rows r.low and r.high, then between the rows.
                    const float top = s.weight_low * x(n, c, r.low, s.low) +
                                      s.weight_high * x(n, c, r.low, s.high);
                    const float bottom = s.weight_low * x(n, c, r.high, s.low) +
                                         s.weight_high * x(n, c, r.high, s.high);
                    y(n, c, i, j) = r.weight_low * top + r.weight_high * bottom;
                }
            }
        }
    }
    //! [bilinear_blend]
    return y;
}

Tensor4 upsample_bilinear_backward(const Tensor4& dy, const UpsampleFactors& f) {
    // dy is (N, C, H·fh, W·fw); dx is (N, C, H, W).
    const auto [n_images, channels, h, w] = input_shape_of("upsample_bilinear_backward", dy, f);
    const std::vector<BilinearTap> rows = bilinear_taps(h, f.rows);
    const std::vector<BilinearTap> cols = bilinear_taps(w, f.cols);
    Tensor4 dx = xt::zeros<float>({n_images, channels, h, w});
    for (std::size_t n = 0; n < n_images; ++n) {
        for (std::size_t c = 0; c < channels; ++c) {
            for (std::size_t i = 0; i < rows.size(); ++i) {
                const BilinearTap& r = rows[i];
                for (std::size_t j = 0; j < cols.size(); ++j) {
                    const BilinearTap& s = cols[j];
                    // y[i, j] took weight_r · weight_s of each of its four inputs: each gets
                    // that share of dy[i, j] (at an edge two taps are one input, which adds up).
                    const float g = dy(n, c, i, j);
                    dx(n, c, r.low, s.low) += r.weight_low * s.weight_low * g;
                    dx(n, c, r.low, s.high) += r.weight_low * s.weight_high * g;
                    dx(n, c, r.high, s.low) += r.weight_high * s.weight_low * g;
                    dx(n, c, r.high, s.high) += r.weight_high * s.weight_high * g;
                }
            }
        }
    }
    return dx;
}

}  // namespace cnn
