// tinynet/backend/cpu/batch_norm.hpp: batch normalisation kernels (per channel).
//
// x is [N,C,H,W] (statistics per channel over N*H*W values) or [N,F] (per feature
// over N values); gamma, beta, the moving statistics and the saved statistics are [C].
// Reductions are accumulated in double whatever T is, in 8 independent lanes per channel
// (a single running sum is one long chain of dependent additions, which the compiler may
// not vectorise: it ran BatchNorm at 2-3 GB/s). The kernels mirror cuDNN's
// split: training forward (batch statistics, saves mean and 1/sqrt(var+eps), updates
// the moving statistics), inference forward (moving statistics) and a backward for each.
#pragma once

#include <cmath>
#include <cstdint>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

// The [N, C, S] view of a batch-norm input: S = H*W for images, 1 for features.
struct BatchNormDims {
  std::int64_t batch = 0, channels = 0, spatial = 1;
  std::int64_t per_channel() const { return batch * spatial; }  // values behind each statistic
};

// requires: x of rank 2 or 4. ensures: its [N, C, S] view.
inline BatchNormDims batch_norm_dims(const Shape& x) {
  check(x.rank() == 2 || x.rank() == 4, "batch_norm: input must be [N,C,H,W] or [N,F], got ", x);
  return {x[0], x[1], x.rank() == 4 ? x[2] * x[3] : 1};
}

namespace detail {
// ensures: f(i) for every flat index i of channel c, in memory order.
template <class F>
void for_each_in_channel(const BatchNormDims& d, std::int64_t c, F&& f) {
  for (std::int64_t n = 0; n < d.batch; ++n) {
    const std::int64_t base = (n * d.channels + c) * d.spatial;
    for (std::int64_t s = 0; s < d.spatial; ++s) f(base + s);
  }
}

constexpr int sum_lanes = 8;

// ensures: f(lane, i) for every flat index i of channel c, in memory order, with lane in
// [0, sum_lanes) cycling along each row: sums kept per lane are independent chains.
template <class F>
void for_each_in_channel_by_lane(const BatchNormDims& d, std::int64_t c, F&& f) {
  for (std::int64_t n = 0; n < d.batch; ++n) {
    const std::int64_t base = (n * d.channels + c) * d.spatial;
    std::int64_t s = 0;
    for (; s + sum_lanes <= d.spatial; s += sum_lanes)
      for (int k = 0; k < sum_lanes; ++k) f(k, base + s + k);
    for (; s < d.spatial; ++s) f(static_cast<int>(s % sum_lanes), base + s);
  }
}

// ensures: the sum over channel c of term(i), accumulated in double in sum_lanes lanes.
template <class F>
double channel_sum(const BatchNormDims& d, std::int64_t c, F&& term) {
  double lane[sum_lanes] = {};
  for_each_in_channel_by_lane(d, c, [&](int k, std::int64_t i) { lane[k] += term(i); });
  double total = 0;
  for (double v : lane) total += v;
  return total;
}

// ensures: y = x * scale + shift over channel c (the affine form of every BN forward).
template <class T>
void apply_channel_affine(const BatchNormDims& d, std::int64_t c, const T* x, double scale, double shift, T* y) {
  for_each_in_channel(d, c, [&](std::int64_t i) { y[i] = static_cast<T>(x[i] * scale + shift); });
}

// ensures: the two reductions every BN backward needs over channel c, with
// xhat = (x - mean) * inv_std: sum_dy = sum dy, sum_dy_xhat = sum dy * xhat.
template <class T>
void channel_gradient_sums(const BatchNormDims& d, std::int64_t c, const T* x, const T* dy, double mean,
                           double inv_std, double& sum_dy, double& sum_dy_xhat) {
  double lane_dy[sum_lanes] = {}, lane_dy_xc[sum_lanes] = {};  // xc = x - mean
  for_each_in_channel_by_lane(d, c, [&](int k, std::int64_t i) {
    const double g = dy[i];
    lane_dy[k] += g;
    lane_dy_xc[k] += g * (x[i] - mean);
  });
  sum_dy = 0;
  sum_dy_xhat = 0;
  for (int k = 0; k < sum_lanes; ++k) {
    sum_dy += lane_dy[k];
    sum_dy_xhat += lane_dy_xc[k];
  }
  sum_dy_xhat *= inv_std;
}
}  // namespace detail

// requires: gamma, beta, moving_*, saved_* are [C]; y sized as x; 0 <= momentum <= 1, epsilon > 0.
// ensures: y = gamma * (x - mean) / sqrt(var + epsilon) + beta with the batch mean and the
// biased batch variance; saved_mean = mean, saved_inv_std = 1/sqrt(var + epsilon);
// moving_mean = momentum * moving_mean + (1 - momentum) * mean, moving_variance likewise
// with the unbiased variance var * M/(M-1) (M = values per channel; factor 1 when M == 1,
// as TensorFlow's fused kernel does).
template <class T>
void batch_norm_forward_training(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, double momentum,
                                 double epsilon, Tensor<T>& moving_mean, Tensor<T>& moving_variance, Tensor<T>& y,
                                 Tensor<T>& saved_mean, Tensor<T>& saved_inv_std) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  const double count = static_cast<double>(d.per_channel());
  const double unbias = d.per_channel() > 1 ? count / (count - 1) : 1.0;
  const T* in = x.data();
  T* out = y.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < d.channels; ++c) {
    const double mean = detail::channel_sum(d, c, [&](std::int64_t i) { return double(in[i]); }) / count;
    // two passes: no cancellation for large means
    const double variance = detail::channel_sum(d, c, [&](std::int64_t i) {
      const double centred = in[i] - mean;
      return centred * centred;
    }) / count;
    const double inv_std = 1.0 / std::sqrt(variance + epsilon);
    const double scale = gamma[c] * inv_std;
    detail::apply_channel_affine(d, c, in, scale, beta[c] - mean * scale, out);
    saved_mean[c] = static_cast<T>(mean);
    saved_inv_std[c] = static_cast<T>(inv_std);
    moving_mean[c] = static_cast<T>(momentum * moving_mean[c] + (1 - momentum) * mean);
    moving_variance[c] = static_cast<T>(momentum * moving_variance[c] + (1 - momentum) * variance * unbias);
  }
}

// requires: as batch_norm_forward_training. ensures: y = gamma * (x - moving_mean) /
// sqrt(moving_variance + epsilon) + beta; nothing else changes.
template <class T>
void batch_norm_forward_inference(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                                  const Tensor<T>& moving_mean, const Tensor<T>& moving_variance, double epsilon,
                                  Tensor<T>& y) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  const T* in = x.data();
  T* out = y.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < d.channels; ++c) {
    const double scale = gamma[c] / std::sqrt(static_cast<double>(moving_variance[c]) + epsilon);
    detail::apply_channel_affine(d, c, in, scale, beta[c] - moving_mean[c] * scale, out);
  }
}

// requires: saved_mean/saved_inv_std from batch_norm_forward_training on this x.
// ensures: the gradients through the batch statistics (each non-null output overwritten):
//   xhat = (x - mean) * inv_std, dbeta = sum dy, dgamma = sum dy * xhat,
//   dx = gamma * inv_std / M * (M * dy - dbeta - xhat * dgamma).
template <class T>
void batch_norm_backward_training(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>& gamma,
                                  const Tensor<T>& saved_mean, const Tensor<T>& saved_inv_std, Tensor<T>* dx,
                                  Tensor<T>* dgamma, Tensor<T>* dbeta) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  const double count = static_cast<double>(d.per_channel());
  const T* in = x.data();
  const T* g = dy.data();
  T* out = dx ? dx->data() : nullptr;
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < d.channels; ++c) {
    const double mean = saved_mean[c], inv_std = saved_inv_std[c];
    double sum_dy, sum_dy_xhat;
    detail::channel_gradient_sums(d, c, in, g, mean, inv_std, sum_dy, sum_dy_xhat);
    if (dgamma) (*dgamma)[c] = static_cast<T>(sum_dy_xhat);
    if (dbeta) (*dbeta)[c] = static_cast<T>(sum_dy);
    if (!out) continue;
    const double factor = gamma[c] * inv_std / count;
    detail::for_each_in_channel(d, c, [&](std::int64_t i) {
      const double xhat = (in[i] - mean) * inv_std;
      out[i] = static_cast<T>(factor * (count * g[i] - sum_dy - xhat * sum_dy_xhat));
    });
  }
}

// requires: the moving statistics used by batch_norm_forward_inference on this x.
// ensures: the gradients of the affine inference transform (each non-null output
// overwritten): dx = dy * gamma / sqrt(moving_variance + epsilon), dbeta = sum dy,
// dgamma = sum dy * (x - moving_mean) / sqrt(moving_variance + epsilon).
template <class T>
void batch_norm_backward_inference(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>& gamma,
                                   const Tensor<T>& moving_mean, const Tensor<T>& moving_variance, double epsilon,
                                   Tensor<T>* dx, Tensor<T>* dgamma, Tensor<T>* dbeta) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  const T* in = x.data();
  const T* g = dy.data();
  T* out = dx ? dx->data() : nullptr;
#pragma omp parallel for schedule(static)
  for (std::int64_t c = 0; c < d.channels; ++c) {
    const double inv_std = 1.0 / std::sqrt(static_cast<double>(moving_variance[c]) + epsilon);
    const double mean = moving_mean[c];
    if (dgamma || dbeta) {
      double sum_dy, sum_dy_xhat;
      detail::channel_gradient_sums(d, c, in, g, mean, inv_std, sum_dy, sum_dy_xhat);
      if (dgamma) (*dgamma)[c] = static_cast<T>(sum_dy_xhat);
      if (dbeta) (*dbeta)[c] = static_cast<T>(sum_dy);
    }
    if (out) {
      const double scale = gamma[c] * inv_std;
      detail::for_each_in_channel(d, c, [&](std::int64_t i) { out[i] = static_cast<T>(g[i] * scale); });
    }
  }
}

}  // namespace cpu
}  // namespace tinynet
