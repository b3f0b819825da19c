#include "cnn/ops/batch_norm.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "cnn/ops/planes.hpp"

namespace cnn {

namespace {

void expect_channels(const char* where, const Tensor4& x, const Tensor1& v, const char* name) {
    if (v.size() != x.shape(1)) {
        throw std::invalid_argument(std::string(where) + ": expected " + name + " of " +
                                    std::to_string(x.shape(1)) + " values, one per channel of " +
                                    shape_to_string(x.shape()) + ", got " +
                                    std::to_string(v.size()));
    }
}

void expect_same_shape(const char* where, const Tensor4& dy, const Tensor4& x, const char* name) {
    if (dy.shape() != x.shape()) {
        throw std::invalid_argument(std::string(where) + ": dy " + shape_to_string(dy.shape()) +
                                    " does not match " + name + " " + shape_to_string(x.shape()));
    }
}

void expect_epsilon(const char* where, float epsilon) {
    if (!(epsilon > 0.0f && std::isfinite(epsilon))) {
        throw std::invalid_argument(std::string(where) + ": expected a finite epsilon > 0, got " +
                                    std::to_string(epsilon));
    }
}

// out = f(c, v) for every value v of channel c.
template <class F>
Tensor4 map_channels(const Tensor4& x, F f) {
    const Planes p(x);
    Tensor4 out = Tensor4::from_shape(x.shape());
    for (std::size_t i = 0; i < p.n; ++i) {
        for (std::size_t c = 0; c < p.c; ++c) {
            const float* in = x.data() + p.offset(i, c);
            float* o = out.data() + p.offset(i, c);
            for (std::size_t k = 0; k < p.hw; ++k) {
                o[k] = f(c, in[k]);
            }
        }
    }
    return out;
}

// 1 / sqrt(variance + epsilon) per channel, computed in double.
Tensor1 inverse_std(const Tensor1& variance, float epsilon) {
    Tensor1 inv = Tensor1::from_shape(variance.shape());
    for (std::size_t c = 0; c < variance.size(); ++c) {
        inv(c) = static_cast<float>(1.0 / std::sqrt(static_cast<double>(variance(c)) + epsilon));
    }
    return inv;
}

// The mean and the biased variance of each channel, in two passes (the second sums squared
// deviations from the mean, which loses less than sum(x²) - M·mean²).
BatchNormStatistics batch_statistics(const Tensor4& x) {
    const Planes p(x);
    std::vector<double> sum(p.c, 0.0), squares(p.c, 0.0);
    for (std::size_t i = 0; i < p.n; ++i) {
        for (std::size_t c = 0; c < p.c; ++c) {
            const float* plane = x.data() + p.offset(i, c);
            for (std::size_t k = 0; k < p.hw; ++k) {
                sum[c] += plane[k];
            }
        }
    }
    for (std::size_t i = 0; i < p.n; ++i) {
        for (std::size_t c = 0; c < p.c; ++c) {
            const float* plane = x.data() + p.offset(i, c);
            const double mean = sum[c] / p.count();
            for (std::size_t k = 0; k < p.hw; ++k) {
                squares[c] += (plane[k] - mean) * (plane[k] - mean);
            }
        }
    }
    BatchNormStatistics s{Tensor1::from_shape({p.c}), Tensor1::from_shape({p.c})};
    for (std::size_t c = 0; c < p.c; ++c) {
        s.mean(c) = static_cast<float>(sum[c] / p.count());
        s.variance(c) = static_cast<float>(squares[c] / p.count());
    }
    return s;
}

// Per channel, in double: the sums of dy and of dy·z over the channel's M values.
struct ChannelSums {
    std::vector<double> dy, dy_z;
};

ChannelSums channel_sums(const Tensor4& dy, const Tensor4& z) {
    const Planes p(dy);
    ChannelSums s{std::vector<double>(p.c, 0.0), std::vector<double>(p.c, 0.0)};
    for (std::size_t i = 0; i < p.n; ++i) {
        for (std::size_t c = 0; c < p.c; ++c) {
            const float* g = dy.data() + p.offset(i, c);
            const float* v = z.data() + p.offset(i, c);
            for (std::size_t k = 0; k < p.hw; ++k) {
                s.dy[c] += g[k];
                s.dy_z[c] += static_cast<double>(g[k]) * v[k];
            }
        }
    }
    return s;
}

// dgamma and dbeta must hold one value per channel of dy.
void expect_gradients(const char* where, const Tensor4& dy, const Tensor1& dgamma,
                      const Tensor1& dbeta) {
    if (dgamma.size() != dy.shape(1) || dbeta.size() != dy.shape(1)) {
        throw std::invalid_argument(std::string(where) + ": expected dgamma and dbeta of " +
                                    std::to_string(dy.shape(1)) + " values, got " +
                                    std::to_string(dgamma.size()) + " and " +
                                    std::to_string(dbeta.size()));
    }
}

// dgamma += sum(dy·xhat), dbeta += sum(dy), both (C).
void accumulate(const ChannelSums& s, Tensor1& dgamma, Tensor1& dbeta) {
    for (std::size_t c = 0; c < s.dy.size(); ++c) {
        dgamma(c) += static_cast<float>(s.dy_z[c]);
        dbeta(c) += static_cast<float>(s.dy[c]);
    }
}

}  // namespace

//! [batch_norm_forward_impl]
BatchNormResult batch_norm_forward(const Tensor4& x, const Tensor1& gamma, const Tensor1& beta,
                                   float epsilon) {
    check_batch_norm_forward(x, gamma, beta, epsilon);
    BatchNormResult r;
    r.batch = batch_statistics(x);
    r.inv_std = inverse_std(r.batch.variance, epsilon);
    const Tensor1& mean = r.batch.mean;
    const Tensor1& inv_std = r.inv_std;
    r.xhat = map_channels(x, [&](std::size_t c, float v) { return (v - mean(c)) * inv_std(c); });
    r.y = map_channels(r.xhat, [&](std::size_t c, float v) { return gamma(c) * v + beta(c); });
    return r;
}
//! [batch_norm_forward_impl]

//! [batch_norm_backward_impl]
Tensor4 batch_norm_backward(const Tensor4& dy, const Tensor4& xhat, const Tensor1& inv_std,
                            const Tensor1& gamma, Tensor1& dgamma, Tensor1& dbeta) {
    check_batch_norm_backward(dy, xhat, inv_std, gamma, dgamma, dbeta);
    const ChannelSums s = channel_sums(dy, xhat);  // sum(dy), sum(dy·xhat)
    accumulate(s, dgamma, dbeta);
    // dx = inv_std / M · (M·dxhat - sum(dxhat) - xhat·sum(dxhat·xhat)) with dxhat = gamma·dy:
    // gamma·inv_std · (dy - mean(dy) - xhat·mean(dy·xhat)).
    const Planes p(dy);
    Tensor4 dx = Tensor4::from_shape(dy.shape());
    for (std::size_t c = 0; c < p.c; ++c) {
        const float scale = gamma(c) * inv_std(c);
        const auto mean_dy = static_cast<float>(s.dy[c] / p.count());
        const auto mean_dy_xhat = static_cast<float>(s.dy_z[c] / p.count());
        for (std::size_t i = 0; i < p.n; ++i) {
            const float* g = dy.data() + p.offset(i, c);
            const float* h = xhat.data() + p.offset(i, c);
            float* out = dx.data() + p.offset(i, c);
            for (std::size_t k = 0; k < p.hw; ++k) {
                out[k] = scale * (g[k] - mean_dy - h[k] * mean_dy_xhat);
            }
        }
    }
    return dx;
}
//! [batch_norm_backward_impl]

Tensor4 batch_norm_inference_forward(const Tensor4& x, const Tensor1& gamma, const Tensor1& beta,
                                     const BatchNormStatistics& moving, float epsilon) {
    check_batch_norm_inference_forward(x, gamma, beta, moving, epsilon);
    const Tensor1 inv_std = inverse_std(moving.variance, epsilon);
    const Tensor1& mean = moving.mean;
    return map_channels(x, [&](std::size_t c, float v) {
        return gamma(c) * ((v - mean(c)) * inv_std(c)) + beta(c);
    });
}

Tensor4 batch_norm_inference_backward(const Tensor4& dy, const Tensor4& x, const Tensor1& gamma,
                                      const BatchNormStatistics& moving, float epsilon,
                                      Tensor1& dgamma, Tensor1& dbeta) {
    check_batch_norm_inference_backward(dy, x, gamma, moving, epsilon, dgamma, dbeta);
    const Tensor1 inv_std = inverse_std(moving.variance, epsilon);
    const Tensor1& mean = moving.mean;
    const Tensor4 xhat =
        map_channels(x, [&](std::size_t c, float v) { return (v - mean(c)) * inv_std(c); });
    accumulate(channel_sums(dy, xhat), dgamma, dbeta);
    return map_channels(dy, [&](std::size_t c, float g) { return g * (gamma(c) * inv_std(c)); });
}

void check_batch_norm_forward(const Tensor4& x, const Tensor1& gamma, const Tensor1& beta,
                              float epsilon) {
    const char* where = "batch_norm_forward";
    expect_channels(where, x, gamma, "gamma");
    expect_channels(where, x, beta, "beta");
    expect_epsilon(where, epsilon);
    if (x.shape(0) * x.shape(2) * x.shape(3) == 0) {
        throw std::invalid_argument("batch_norm_forward: expected at least one value per "
                                    "channel, got x " + shape_to_string(x.shape()));
    }
}

void check_batch_norm_backward(const Tensor4& dy, const Tensor4& xhat, const Tensor1& inv_std,
                               const Tensor1& gamma, const Tensor1& dgamma, const Tensor1& dbeta) {
    const char* where = "batch_norm_backward";
    expect_same_shape(where, dy, xhat, "the forward pass's xhat");
    expect_channels(where, dy, gamma, "gamma");
    expect_channels(where, dy, inv_std, "inv_std");
    expect_gradients(where, dy, dgamma, dbeta);
}

void check_batch_norm_inference_forward(const Tensor4& x, const Tensor1& gamma, const Tensor1& beta,
                                        const BatchNormStatistics& moving, float epsilon) {
    const char* where = "batch_norm_inference_forward";
    expect_channels(where, x, gamma, "gamma");
    expect_channels(where, x, beta, "beta");
    expect_channels(where, x, moving.mean, "a moving mean");
    expect_channels(where, x, moving.variance, "a moving variance");
    expect_epsilon(where, epsilon);
}

void check_batch_norm_inference_backward(const Tensor4& dy, const Tensor4& x, const Tensor1& gamma,
                                         const BatchNormStatistics& moving, float epsilon,
                                         const Tensor1& dgamma, const Tensor1& dbeta) {
    const char* where = "batch_norm_inference_backward";
    expect_same_shape(where, dy, x, "the forward pass's x");
    expect_channels(where, x, gamma, "gamma");
    expect_channels(where, x, moving.mean, "a moving mean");
    expect_channels(where, x, moving.variance, "a moving variance");
    expect_epsilon(where, epsilon);
    expect_gradients(where, dy, dgamma, dbeta);
}

void batch_norm_update_moving(BatchNormStatistics& moving, const BatchNormStatistics& batch,
                              float momentum) {
    if (!(momentum >= 0.0f && momentum < 1.0f)) {
        throw std::invalid_argument("batch_norm_update_moving: expected a momentum in [0, 1), "
                                    "got " + std::to_string(momentum));
    }
    const std::size_t channels = moving.mean.size();
    if (moving.variance.size() != channels || batch.mean.size() != channels ||
        batch.variance.size() != channels) {
        throw std::invalid_argument("batch_norm_update_moving: expected statistics of " +
                                    std::to_string(channels) + " channels each");
    }
    for (std::size_t c = 0; c < channels; ++c) {
        moving.mean(c) = moving.mean(c) * momentum + batch.mean(c) * (1.0f - momentum);
        moving.variance(c) = moving.variance(c) * momentum + batch.variance(c) * (1.0f - momentum);
    }
}

}  // namespace cnn
