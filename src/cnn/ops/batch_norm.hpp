/// \file
/// \ingroup ch08
/// \brief Batch normalisation, forward and backward: every channel brought to mean 0 and
/// variance 1 over the batch, then scaled and shifted by learned weights.
///
/// For each channel c, over the \f$M = N \cdot H \cdot W\f$ values it holds in the batch
/// (Ioffe and Szegedy, 2015):
/// \f[ \mu_c = \frac{1}{M} \sum x, \qquad \sigma^2_c = \frac{1}{M} \sum (x - \mu_c)^2, \qquad
///     \hat{x} = \frac{x - \mu_c}{\sqrt{\sigma^2_c + \epsilon}}, \qquad
///     y = \gamma_c\, \hat{x} + \beta_c. \f]
/// The variance is the biased one (divided by M, not M - 1), as Keras and PyTorch normalise.
///
/// Training normalises with the batch's own statistics and keeps moving averages of them;
/// inference normalises with those moving averages, so an example's output no longer depends
/// on the other examples of its batch. Each mode has its forward pass and, right below it, its
/// backward pass.
///
/// Images are (N, C, H, W), normalised per channel. A batch of vectors (N, D), as a Dense
/// layer gives it, travels as (N, D, 1, 1) (layers/layer.hpp): the same code normalises it per
/// feature, with C = D and H = W = 1. The loops walk the contiguous H·W plane of each example
/// and channel, and add up in double. The BatchNormalization layer runs the same arithmetic
/// from ops/batch_norm_fast.hpp: the channels split between threads, one pass less, and each
/// output written over its input; its tests hold it to these functions.
#pragma once

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// A mean and a variance per channel, both (C): a batch's, or the moving averages of them.
struct BatchNormStatistics {
    Tensor1 mean;      ///< (C)
    Tensor1 variance;  ///< (C), biased: the mean of the squared deviations
};

/// What the training forward pass returns: its output, the batch's statistics (for the
/// moving averages) and what its backward pass needs.
struct BatchNormResult {
    Tensor4 y;                  ///< (N, C, H, W): gamma * xhat + beta
    Tensor4 xhat;               ///< (N, C, H, W): the normalised input, for the backward pass
    Tensor1 inv_std;            ///< (C): 1 / sqrt(variance + epsilon), for the backward pass
    BatchNormStatistics batch;  ///< the batch's mean and biased variance per channel
};

// [batch_norm_forward]
/// Training forward pass, with the batch's statistics.
/// x is (N, C, H, W) with N·H·W > 0, gamma and beta are (C); returns y (N, C, H, W), xhat,
/// inv_std and the batch's statistics.
/// \param x the input (N, C, H, W)
/// \param gamma the scale (C)
/// \param beta the shift (C)
/// \param epsilon added to the variance, a finite number > 0
/// \return y, xhat, inv_std and the batch's statistics
/// \throws std::invalid_argument as check_batch_norm_forward()
BatchNormResult batch_norm_forward(const Tensor4& x, const Tensor1& gamma, const Tensor1& beta,
                                   float epsilon);
// [batch_norm_forward]

// [batch_norm_backward]
/// Training backward pass. dy is (N, C, H, W); xhat (N, C, H, W) and inv_std (C) come from the
/// forward pass, gamma is (C). Accumulates dgamma += sum(dy xhat) and dbeta += sum(dy) (C);
/// returns dx (N, C, H, W).
///
/// The mean and the variance depend on every x of the channel, so each \f$x_j\f$ reaches the
/// loss through every \f$\hat{x}_i = (x_i - \mu)/s\f$, where \f$s = \sqrt{\sigma^2 + \epsilon}\f$
/// (inv_std is \f$1/s\f$). Since \f$\partial\mu/\partial x_j = 1/M\f$ and
/// \f$\partial\sigma^2/\partial x_j = 2(x_j - \mu)/M\f$,
/// \f$\partial s/\partial x_j = \hat{x}_j/M\f$ and
/// \f[ \frac{\partial \hat{x}_i}{\partial x_j}
///     = \frac{1}{s}\left(\delta_{ij} - \frac{1}{M} - \frac{\hat{x}_i \hat{x}_j}{M}\right). \f]
/// Summing over i with \f$d\hat{x}_i = dy_i\,\gamma\f$ (the sums run over the channel's M values):
/// \f[ dx_j = \frac{1}{M s}\left(M\, d\hat{x}_j - \sum_i d\hat{x}_i
///            - \hat{x}_j \sum_i d\hat{x}_i\, \hat{x}_i\right), \qquad
///     d\gamma = \sum_i dy_i\, \hat{x}_i, \qquad d\beta = \sum_i dy_i. \f]
/// The two sums take out of the gradient what would only shift the channel's values or
/// stretch them about their mean: changes the normalisation undoes (a stretch, but for epsilon).
/// \param dy the gradient of y (N, C, H, W)
/// \param xhat the forward pass's normalised input (N, C, H, W)
/// \param inv_std the forward pass's 1 / s (C)
/// \param gamma the scale (C)
/// \param dgamma the scale's gradient (C), added to
/// \param dbeta the shift's gradient (C), added to
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument as check_batch_norm_backward()
Tensor4 batch_norm_backward(const Tensor4& dy, const Tensor4& xhat, const Tensor1& inv_std,
                            const Tensor1& gamma, Tensor1& dgamma, Tensor1& dbeta);
// [batch_norm_backward]

// [batch_norm_inference]
/// Inference forward pass, with fixed statistics (the moving averages).
/// x is (N, C, H, W), gamma and beta (C), `moving` holds (C) each; returns
/// y = gamma (x - mean) / sqrt(variance + epsilon) + beta, (N, C, H, W).
/// \param x the input (N, C, H, W)
/// \param gamma the scale (C)
/// \param beta the shift (C)
/// \param moving the moving mean and variance (C each)
/// \param epsilon added to the variance, a finite number > 0
/// \return y (N, C, H, W)
/// \throws std::invalid_argument as check_batch_norm_inference_forward()
Tensor4 batch_norm_inference_forward(const Tensor4& x, const Tensor1& gamma, const Tensor1& beta,
                                     const BatchNormStatistics& moving, float epsilon);

/// Inference backward pass. dy and x are (N, C, H, W), gamma (C), `moving` and epsilon those
/// of the forward pass. The statistics are constants here, so the layer is a per-channel
/// affine map: accumulates dgamma += sum(dy (x - mean) / sqrt(variance + epsilon)) and
/// dbeta += sum(dy) (C); returns dx = dy gamma / sqrt(variance + epsilon), (N, C, H, W).
/// \param dy the gradient of y (N, C, H, W)
/// \param x the forward pass's input (N, C, H, W)
/// \param gamma the scale (C)
/// \param moving the forward pass's statistics (C each)
/// \param epsilon the forward pass's epsilon
/// \param dgamma the scale's gradient (C), added to
/// \param dbeta the shift's gradient (C), added to
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument as check_batch_norm_inference_backward()
Tensor4 batch_norm_inference_backward(const Tensor4& dy, const Tensor4& x, const Tensor1& gamma,
                                      const BatchNormStatistics& moving, float epsilon,
                                      Tensor1& dgamma, Tensor1& dbeta);
// [batch_norm_inference]

/// What each pass above checks before it computes, for a faster version of it to check the
/// same (ops/batch_norm_fast.hpp). Each throws std::invalid_argument, its message starting with
/// the pass's name, unless the arguments are as that pass's comment says: every (C) tensor of
/// one value per channel of x (or dy), dy of the shape of the forward pass's tensor, epsilon a
/// finite number > 0, and for the training forward pass at least one value per channel.
/// \param x the input (N, C, H, W)
/// \param gamma (C)
/// \param beta (C)
/// \param epsilon a finite number > 0
void check_batch_norm_forward(const Tensor4& x, const Tensor1& gamma, const Tensor1& beta,
                              float epsilon);
/// See check_batch_norm_forward().
/// \param dy (N, C, H, W), the shape of xhat
/// \param xhat (N, C, H, W)
/// \param inv_std (C)
/// \param gamma (C)
/// \param dgamma (C)
/// \param dbeta (C)
void check_batch_norm_backward(const Tensor4& dy, const Tensor4& xhat, const Tensor1& inv_std,
                               const Tensor1& gamma, const Tensor1& dgamma, const Tensor1& dbeta);
/// See check_batch_norm_forward().
/// \param x the input (N, C, H, W)
/// \param gamma (C)
/// \param beta (C)
/// \param moving (C) each
/// \param epsilon a finite number > 0
void check_batch_norm_inference_forward(const Tensor4& x, const Tensor1& gamma, const Tensor1& beta,
                                        const BatchNormStatistics& moving, float epsilon);
/// See check_batch_norm_forward().
/// \param dy (N, C, H, W), the shape of x
/// \param x (N, C, H, W)
/// \param gamma (C)
/// \param moving (C) each
/// \param epsilon a finite number > 0
/// \param dgamma (C)
/// \param dbeta (C)
void check_batch_norm_inference_backward(const Tensor4& dy, const Tensor4& x, const Tensor1& gamma,
                                         const BatchNormStatistics& moving, float epsilon,
                                         const Tensor1& dgamma, const Tensor1& dbeta);

// [batch_norm_moving]
/// After a training step, as Keras 3 does: for the mean and the variance alike,
/// `moving = moving * momentum + batch * (1 - momentum)`, with the batch's *biased* variance.
/// `moving` and `batch` hold (C) each; momentum is in [0, 1).
///
/// PyTorch's BatchNorm2d differs in two ways: its `momentum` is the weight of the new batch
/// (Keras's 0.99 is PyTorch's 0.01), and its running_var averages the *unbiased* batch
/// variance (the sum of squares divided by M - 1).
/// \param moving the moving averages (C each), updated in place
/// \param batch the batch's mean and biased variance (C each)
/// \param momentum the weight of the old averages, in [0, 1)
/// \throws std::invalid_argument for a momentum outside [0, 1) or statistics of another size
void batch_norm_update_moving(BatchNormStatistics& moving, const BatchNormStatistics& batch,
                              float momentum);
// [batch_norm_moving]

}  // namespace cnn
