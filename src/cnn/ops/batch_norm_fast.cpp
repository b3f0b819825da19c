#include "cnn/ops/batch_norm_fast.hpp"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

#include "cnn/fast/threads.hpp"
#include "cnn/ops/planes.hpp"

namespace cnn {

namespace {

// Calls body(c) for every channel c, the channels split between threads, each thread taking a
// contiguous run of them. `body` must not throw.
template <class Body>
void for_each_channel(const Planes& p, const Body& body) {
    run_ranges(p.c, p.n * p.c * p.hw, [&](std::size_t first, std::size_t last) {
        for (std::size_t c = first; c < last; ++c) {
            body(c);
        }
    });
}

// The sum of one plane's values, in double; `omp simd` lets the compiler keep several partial
// sums in the lanes of a SIMD register (the additions in another order: in double, that
// changes nothing a float can show).
double sum(const float* v, std::size_t count) {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (std::size_t k = 0; k < count; ++k) {
        s += v[k];
    }
    return s;
}

// The sum of one plane's squared deviations from `mean`, in double.
double sum_of_squared_deviations(const float* v, std::size_t count, double mean) {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (std::size_t k = 0; k < count; ++k) {
        s += (v[k] - mean) * (v[k] - mean);
    }
    return s;
}

// 1 / sqrt(variance + epsilon), computed in double.
float inverse_std(float variance, float epsilon) {
    return static_cast<float>(1.0 / std::sqrt(static_cast<double>(variance) + epsilon));
}

// The mean and the biased variance of channel c, in two passes over its planes (the second
// sums squared deviations from the mean, which loses less than sum(x²) - M·mean²).
struct MeanVariance {
    float mean, variance;
};

MeanVariance channel_statistics(const Tensor4& x, const Planes& p, std::size_t c) {
    double total = 0.0;
    for (std::size_t i = 0; i < p.n; ++i) {
        total += sum(x.data() + p.offset(i, c), p.hw);
    }
    const double mean = total / p.count();
    double squares = 0.0;
    for (std::size_t i = 0; i < p.n; ++i) {
        squares += sum_of_squared_deviations(x.data() + p.offset(i, c), p.hw, mean);
    }
    return {static_cast<float>(mean), static_cast<float>(squares / p.count())};
}

// The sums of dy and of dy·xhat over channel c's values, in double, where
// xhat = (x - mean)·inv_std (with mean 0 and inv_std 1, x is xhat itself).
struct ChannelSums {
    double dy = 0.0, dy_xhat = 0.0;
};

ChannelSums channel_sums(const Tensor4& dy, const Tensor4& x, const Planes& p, std::size_t c,
                         float mean = 0.0f, float inv_std = 1.0f) {
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (std::size_t i = 0; i < p.n; ++i) {
        const float* g = dy.data() + p.offset(i, c);
        const float* v = x.data() + p.offset(i, c);
#pragma omp simd reduction(+ : sum_dy, sum_dy_xhat)
        for (std::size_t k = 0; k < p.hw; ++k) {
            sum_dy += g[k];
            sum_dy_xhat += static_cast<double>(g[k]) * ((v[k] - mean) * inv_std);
        }
    }
    return {sum_dy, sum_dy_xhat};
}

// dx = gamma·inv_std · (dy - mean(dy) - xhat·mean(dy·xhat)), as in batch_norm_backward(),
// channel by channel. dx has dy's shape and may be dy itself: each value is read before it is
// written.
void training_backward(const Tensor4& dy, const Tensor4& xhat, const Tensor1& inv_std,
                       const Tensor1& gamma, Tensor1& dgamma, Tensor1& dbeta, Tensor4& dx) {
    const Planes p(dy);
    for_each_channel(p, [&](std::size_t c) {
        const ChannelSums s = channel_sums(dy, xhat, p, c);
        dgamma(c) += static_cast<float>(s.dy_xhat);
        dbeta(c) += static_cast<float>(s.dy);
        const float scale = gamma(c) * inv_std(c);
        const auto mean_dy = static_cast<float>(s.dy / p.count());
        const auto mean_dy_xhat = static_cast<float>(s.dy_xhat / p.count());
        for (std::size_t i = 0; i < p.n; ++i) {
            const float* g = dy.data() + p.offset(i, c);
            const float* h = xhat.data() + p.offset(i, c);
            float* out = dx.data() + p.offset(i, c);
            for (std::size_t k = 0; k < p.hw; ++k) {
                out[k] = scale * (g[k] - mean_dy - h[k] * mean_dy_xhat);
            }
        }
    });
}

// dx = dy·gamma / sqrt(variance + epsilon) with the moving statistics, as in
// batch_norm_inference_backward(); dx may be dy itself.
void inference_backward(const Tensor4& dy, const Tensor4& x, const Tensor1& gamma,
                        const BatchNormStatistics& moving, float epsilon, Tensor1& dgamma,
                        Tensor1& dbeta, Tensor4& dx) {
    const Planes p(x);
    for_each_channel(p, [&](std::size_t c) {
        const float mean = moving.mean(c), inv_std = inverse_std(moving.variance(c), epsilon);
        const ChannelSums s = channel_sums(dy, x, p, c, mean, inv_std);
        dgamma(c) += static_cast<float>(s.dy_xhat);
        dbeta(c) += static_cast<float>(s.dy);
        const float scale = gamma(c) * inv_std;
        for (std::size_t i = 0; i < p.n; ++i) {
            const float* g = dy.data() + p.offset(i, c);
            float* out = dx.data() + p.offset(i, c);
            for (std::size_t k = 0; k < p.hw; ++k) {
                out[k] = g[k] * scale;
            }
        }
    });
}

// Storage for a dx that must not be written over dy: `memory`, given dy's shape (its storage
// kept when it holds as many values).
Tensor4 output_memory(const Tensor4& dy, Tensor4&& memory, const char* function) {
    if (&memory == &dy) {
        throw std::invalid_argument(std::string(function) + ": memory for dx must be another " +
                                    "tensor than dy, which must stay as it is");
    }
    Tensor4 dx = std::move(memory);
    // Forced: a tensor moved from keeps its shape but not its storage, and a plain resize() to
    // the same shape would leave it without any. Storage of the right size is kept.
    dx.resize(dy.shape(), true);
    return dx;
}

}  // namespace

BatchNormResult batch_norm_fast_forward(Tensor4 x, const Tensor1& gamma, const Tensor1& beta,
                                        float epsilon) {
    check_batch_norm_forward(x, gamma, beta, epsilon);
    const Planes p(x);
    BatchNormResult r;
    r.batch = {Tensor1::from_shape({p.c}), Tensor1::from_shape({p.c})};
    r.inv_std = Tensor1::from_shape({p.c});
    r.xhat = Tensor4::from_shape(x.shape());
    r.y = std::move(x);  // y is written over x, value by value
    for_each_channel(p, [&](std::size_t c) {
        const auto [mean, variance] = channel_statistics(r.y, p, c);
        const float inv_std = inverse_std(variance, epsilon), g = gamma(c), b = beta(c);
        r.batch.mean(c) = mean;
        r.batch.variance(c) = variance;
        r.inv_std(c) = inv_std;
        for (std::size_t i = 0; i < p.n; ++i) {  // xhat = (x - mean) / s, y = gamma xhat + beta
            float* v = r.y.data() + p.offset(i, c);
            float* h = r.xhat.data() + p.offset(i, c);
            for (std::size_t k = 0; k < p.hw; ++k) {
                const float xhat = (v[k] - mean) * inv_std;
                h[k] = xhat;
                v[k] = g * xhat + b;
            }
        }
    });
    return r;
}

Tensor4 batch_norm_fast_backward(Tensor4 dy, const Tensor4& xhat, const Tensor1& inv_std,
                                 const Tensor1& gamma, Tensor1& dgamma, Tensor1& dbeta) {
    check_batch_norm_backward(dy, xhat, inv_std, gamma, dgamma, dbeta);
    training_backward(dy, xhat, inv_std, gamma, dgamma, dbeta, dy);  // dx written over dy
    return dy;
}

Tensor4 batch_norm_fast_backward(const Tensor4& dy, const Tensor4& xhat, const Tensor1& inv_std,
                                 const Tensor1& gamma, Tensor1& dgamma, Tensor1& dbeta,
                                 Tensor4&& memory) {
    check_batch_norm_backward(dy, xhat, inv_std, gamma, dgamma, dbeta);
    Tensor4 dx = output_memory(dy, std::move(memory), "batch_norm_fast_backward");
    training_backward(dy, xhat, inv_std, gamma, dgamma, dbeta, dx);
    return dx;
}

Tensor4 batch_norm_fast_inference_forward(const Tensor4& x, const Tensor1& gamma,
                                          const Tensor1& beta, const BatchNormStatistics& moving,
                                          float epsilon) {
    return batch_norm_fast_inference_forward(x, gamma, beta, moving, epsilon, Tensor4());
}

Tensor4 batch_norm_fast_inference_forward(const Tensor4& x, const Tensor1& gamma,
                                          const Tensor1& beta, const BatchNormStatistics& moving,
                                          float epsilon, Tensor4&& memory) {
    check_batch_norm_inference_forward(x, gamma, beta, moving, epsilon);
    if (&memory == &x) {
        throw std::invalid_argument("batch_norm_fast_inference_forward: memory for y must be "
                                    "another tensor than x, which y is computed from");
    }
    const Planes p(x);
    // With fixed statistics, y = gamma (x - mean) / sqrt(var + eps) + beta is two operations per
    // value: y = (x - mean) scale + beta, scale = gamma / sqrt(var + eps). (Folding the mean
    // into the shift, y = scale x + shift, would be one, but loses digits to cancellation when
    // |mean| is large against the standard deviation.)
    Tensor1 scale = Tensor1::from_shape({p.c});
    for (std::size_t c = 0; c < p.c; ++c) {
        scale(c) = gamma(c) * inverse_std(moving.variance(c), epsilon);
    }
    // No statistics to gather: one pass over the planes in memory order, split between threads.
    Tensor4 y = std::move(memory);
    y.resize(x.shape(), true);  // keeps storage of the right size; a moved-from one gets some
    run_ranges(p.n * p.c, 2 * x.size(), [&](std::size_t first, std::size_t last) {
        for (std::size_t plane = first; plane < last; ++plane) {  // plane = i·C + c
            const std::size_t c = plane % p.c;
            const float mean = moving.mean(c), s = scale(c), b = beta(c);
            const float* v = x.data() + plane * p.hw;
            float* out = y.data() + plane * p.hw;
#pragma omp simd
            for (std::size_t k = 0; k < p.hw; ++k) {
                out[k] = (v[k] - mean) * s + b;
            }
        }
    });
    return y;
}

Tensor4 batch_norm_fast_inference_backward(Tensor4 dy, const Tensor4& x, const Tensor1& gamma,
                                           const BatchNormStatistics& moving, float epsilon,
                                           Tensor1& dgamma, Tensor1& dbeta) {
    check_batch_norm_inference_backward(dy, x, gamma, moving, epsilon, dgamma, dbeta);
    inference_backward(dy, x, gamma, moving, epsilon, dgamma, dbeta, dy);  // dx over dy
    return dy;
}

Tensor4 batch_norm_fast_inference_backward(const Tensor4& dy, const Tensor4& x,
                                           const Tensor1& gamma, const BatchNormStatistics& moving,
                                           float epsilon, Tensor1& dgamma, Tensor1& dbeta,
                                           Tensor4&& memory) {
    check_batch_norm_inference_backward(dy, x, gamma, moving, epsilon, dgamma, dbeta);
    Tensor4 dx = output_memory(dy, std::move(memory), "batch_norm_fast_inference_backward");
    inference_backward(dy, x, gamma, moving, epsilon, dgamma, dbeta, dx);
    return dx;
}

}  // namespace cnn
