// tinynet/backend/cpu/batch_norm.hpp: batch normalisation kernels (per channel).
//
// x is [N,C,H,W] (statistics per channel over N*H*W values) or [N,F] (per feature
// over N values); gamma, beta, the moving statistics and the saved statistics are [C].
// The kernels mirror cuDNN's split: training forward (batch statistics, saves mean and
// 1/sqrt(var+eps), updates the moving statistics), inference forward (moving statistics)
// and a backward for each. Each can fuse a ReLU after the normalisation (Conv -> BN -> ReLU
// stacks): the forward writes max(y, 0) in its output pass, the backward reads
// dy * (output > 0) where it reads dy, so the ReLU costs no pass of its own.
//
// Layout of the work: the channels are cut into blocks of whole channels, one block per
// task of the OpenMP loop. Block [c0, c1) is one contiguous run of (c1-c0)*S values in
// every sample, so each pass over it is N long contiguous loops that vectorise whatever S
// is (ResNet50's deep stages have S = 4 or 9, too short to vectorise channel by channel),
// and a block's tensors stay in L2 between its passes. Sums over the batch are accumulated
// in double per position of the run (independent lanes) and then per channel, whatever T
// is; the element-wise passes (normalising, the input gradient) compute in T around the mean
// (x - mean, the mean split into two values of T), so floats take the full SIMD width and
// large means keep their precision.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tinynet/backend/batch_norm_dims.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/core/threading.hpp"

namespace tinynet {
namespace cpu {

namespace detail {
constexpr int position_buffers = 3;  // per block: doubles per position of the run (sums)
constexpr int value_buffers = 5;     // per block: values of T per position of the run
constexpr int channel_buffers = 7;   // per block: doubles per channel (the backward uses 7)

// One block of channels [c0, c1) and its task's scratch: run() values per sample;
// position buffers k < position_buffers of run() doubles, value buffers k < value_buffers
// of run() values of T and channel buffers k < channel_buffers of (c1 - c0) doubles
// (contents undefined on entry).
template <class T>
struct ChannelBlock {
  const BatchNormDims* dims;
  std::int64_t c0, c1;
  double* positions;  // position_buffers * run() doubles
  T* values;          // value_buffers * run() values
  double* channels;   // channel_buffers * (c1 - c0) doubles
  std::int64_t width() const { return c1 - c0; }
  std::int64_t run() const { return width() * dims->spatial; }
  std::int64_t offset(std::int64_t n) const { return (n * dims->channels + c0) * dims->spatial; }  // run start
  double* at_positions(int k) const { return positions + k * run(); }
  T* values_at(int k) const { return values + k * run(); }
  double* per_channel(int k) const { return channels + k * width(); }
};

// ensures: the channel count per block for passes over `tensors` tensors of x's shape: at
// most about 384 KiB of those tensors per block (so that a block's passes after the first
// read from a 512 KiB L2), at least one channel, and the blocks a multiple of the threads in
// number where there are that many channels, evened out (so that every thread gets about as
// many channels: 64 channels of 14 would be 5 blocks, 3 for one thread and 2 for the other).
template <class T>
std::int64_t channels_per_block(const BatchNormDims& d, int tensors) {
  const std::int64_t block_values = (std::int64_t(384) << 10) / (tensors * std::int64_t(sizeof(T)));
  const std::int64_t by_size = std::max<std::int64_t>(1, block_values / std::max<std::int64_t>(1, d.per_channel()));
  const std::int64_t threads = num_threads();
  std::int64_t blocks = (d.channels + by_size - 1) / by_size;
  blocks = (blocks + threads - 1) / threads * threads;
  return std::max<std::int64_t>(1, (d.channels + blocks - 1) / blocks);
}

// ensures: body(block) for blocks covering every channel once, in parallel, a block's part
// of `tensors` tensors of x's shape sized for L2 (channels_per_block).
template <class T, class F>
void for_each_channel_block(const BatchNormDims& d, int tensors, F&& body) {
  const std::int64_t width = channels_per_block<T>(d, tensors);
  const std::int64_t blocks = (d.channels + width - 1) / width;
#pragma omp parallel
  {
    // each thread's scratch lives on (grown, never shrunk), so a step allocates nothing here
    thread_local std::vector<double> scratch;
    thread_local std::vector<T> value_scratch;
    const auto need = static_cast<std::size_t>(width * (position_buffers * d.spatial + channel_buffers));
    const auto value_need = static_cast<std::size_t>(width * value_buffers * d.spatial);
    if (scratch.size() < need) scratch.resize(need);
    if (value_scratch.size() < value_need) value_scratch.resize(value_need);
#pragma omp for schedule(static)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t c0 = b * width, c1 = std::min(d.channels, c0 + width);
      body(ChannelBlock<T>{&d, c0, c1, scratch.data(), value_scratch.data(),
                           scratch.data() + position_buffers * (c1 - c0) * d.spatial});
    }
  }
}

// ensures: f(i, j) for every sample's run in the block, in memory order: i the flat index,
// j in [0, run) the position in the run (the same channel and pixel in every sample).
template <class T, class F>
void for_each_in_block(const ChannelBlock<T>& b, F&& f) {
  const std::int64_t run = b.run();
  for (std::int64_t n = 0; n < b.dims->batch; ++n) {
    const std::int64_t base = b.offset(n);
    for (std::int64_t j = 0; j < run; ++j) f(base + j, j);
  }
}

// ensures: per_channel[c] = sum of by_position over the positions of the block's channel c0 + c.
template <class T>
void sum_positions(const ChannelBlock<T>& b, const double* by_position, double* per_channel) {
  const std::int64_t s_count = b.dims->spatial;
  for (std::int64_t c = 0; c < b.width(); ++c) {
    double total = 0;
    for (std::int64_t s = 0; s < s_count; ++s) total += by_position[c * s_count + s];
    per_channel[c] = total;
  }
}

// ensures: by_position[j] = per_channel[c] (converted to V) for every position j of the
// block's channel c0 + c.
template <class T, class U, class V>
void spread_to_positions(const ChannelBlock<T>& b, const U* per_channel, V* by_position) {
  const std::int64_t s_count = b.dims->spatial;
  for (std::int64_t c = 0; c < b.width(); ++c)
    std::fill(by_position + c * s_count, by_position + (c + 1) * s_count, static_cast<V>(per_channel[c]));
}

// ensures: the centres (means) of the block's channels as two values of T per position:
// high[j] = T(centre[c]), low[j] = T(centre[c] - high[j]), so that (x - high) - low is x -
// centre[c] to T's precision even where the centre is large (x - high is exact near it).
template <class T>
void spread_centres(const ChannelBlock<T>& b, const double* centre, T* high, T* low) {
  const std::int64_t s_count = b.dims->spatial;
  for (std::int64_t c = 0; c < b.width(); ++c) {
    const T hi = static_cast<T>(centre[c]);
    std::fill(high + c * s_count, high + (c + 1) * s_count, hi);
    std::fill(low + c * s_count, low + (c + 1) * s_count, static_cast<T>(centre[c] - hi));
  }
}

// ensures: per_channel[c] = sum over the block's channel c0 + c of term(i, j) (i the flat
// index, j the position), accumulated in double per position; uses position buffer 0.
template <class T, class F>
void block_sum(const ChannelBlock<T>& b, double* per_channel, F&& term) {
  double* sum_at = b.at_positions(0);
  std::fill(sum_at, sum_at + b.run(), 0.0);
  for_each_in_block(b, [&](std::int64_t i, std::int64_t j) { sum_at[j] += term(i, j); });
  sum_positions(b, sum_at, per_channel);
}

// ensures: y = (x - centre[c]) * scale[c] + beta[c0 + c] over the block's channel c0 + c, in
// T, then max(y, 0) when relu (the form of every BN forward); uses value buffers 0-3.
template <class T>
void apply_block_affine(const ChannelBlock<T>& b, const T* x, const double* centre, const double* scale,
                        const Tensor<T>& beta, bool relu, T* y) {
  T* high_at = b.values_at(0);
  T* low_at = b.values_at(1);
  T* scale_at = b.values_at(2);
  T* beta_at = b.values_at(3);
  spread_centres(b, centre, high_at, low_at);
  spread_to_positions(b, scale, scale_at);
  spread_to_positions(b, beta.data() + b.c0, beta_at);
  const auto normalized = [&](std::int64_t i, std::int64_t j) {
    return (x[i] - high_at[j] - low_at[j]) * scale_at[j] + beta_at[j];
  };
  if (relu)
    for_each_in_block(b, [&](std::int64_t i, std::int64_t j) {
      const T v = normalized(i, j);
      y[i] = v > T(0) ? v : T(0);
    });
  else
    for_each_in_block(b, [&](std::int64_t i, std::int64_t j) { y[i] = normalized(i, j); });
}

// ensures: the output gradient a backward reads at flat index i: dy[i], or when masked (a
// fused ReLU, y its output) dy[i] where y[i] > 0 and 0 elsewhere. A template argument, so
// the kernels' inner loops get one instantiation each and test nothing per value.
template <bool masked, class T>
T output_gradient(const T* dy, const T* y, std::int64_t i) {
  const T g = dy[i];  // read whatever the mask: a select, not a branch, so the loops vectorise
  if constexpr (masked) return y[i] > T(0) ? g : T(0);
  (void)y;
  return g;
}

// ensures: the two reductions every BN backward needs, per channel c0 + c of the block, with
// g = output_gradient<masked>(dy, y, i) and xhat = (x - mean) * inv_std: sum_dy[c] = sum g,
// sum_dy_xhat[c] = sum g * xhat; uses position buffers 0-2. The position sums take four
// samples per pass (each term in double), so their loads and stores are a quarter of the
// values read; masked gradients are first written out in T a chunk at a time (GCC does not
// vectorise a float mask feeding double sums).
template <bool masked, class T>
void block_gradient_sums(const ChannelBlock<T>& b, const T* x, const T* dy, const T* y, const double* mean,
                         const double* inv_std, double* sum_dy, double* sum_dy_xhat) {
  double* mean_at = b.at_positions(0);
  double* dy_at = b.at_positions(1);
  double* dy_xc_at = b.at_positions(2);  // xc = x - mean
  spread_to_positions(b, mean, mean_at);
  std::fill(dy_at, dy_at + b.run(), 0.0);
  std::fill(dy_xc_at, dy_xc_at + b.run(), 0.0);
  constexpr int samples = 4;
  constexpr std::int64_t chunk = 512;
  T masked_dy[samples][chunk];
  const std::int64_t run = b.run(), batch = b.dims->batch;
  for (std::int64_t n = 0; n < batch; n += samples) {
    const int count = static_cast<int>(std::min<std::int64_t>(samples, batch - n));
    for (std::int64_t j0 = 0; j0 < run; j0 += chunk) {
      const std::int64_t length = std::min(chunk, run - j0);
      const T* xs[samples];
      const T* gs[samples];
      for (int s = 0; s < count; ++s) {
        const std::int64_t i = b.offset(n + s) + j0;
        xs[s] = x + i;
        gs[s] = dy + i;
        if constexpr (masked) {
          for (std::int64_t j = 0; j < length; ++j) masked_dy[s][j] = output_gradient<masked>(dy, y, i + j);
          gs[s] = masked_dy[s];
        }
      }
      double* sum_g = dy_at + j0;
      double* sum_gx = dy_xc_at + j0;
      const double* m = mean_at + j0;
      if (count == samples) {
        const T *g0 = gs[0], *g1 = gs[1], *g2 = gs[2], *g3 = gs[3], *x0 = xs[0], *x1 = xs[1], *x2 = xs[2], *x3 = xs[3];
        for (std::int64_t j = 0; j < length; ++j) {
          const double a0 = g0[j], a1 = g1[j], a2 = g2[j], a3 = g3[j];
          sum_g[j] += (a0 + a1) + (a2 + a3);
          sum_gx[j] += (a0 * (x0[j] - m[j]) + a1 * (x1[j] - m[j])) + (a2 * (x2[j] - m[j]) + a3 * (x3[j] - m[j]));
        }
      } else {
        for (int s = 0; s < count; ++s)
          for (std::int64_t j = 0; j < length; ++j) {
            const double a = gs[s][j];
            sum_g[j] += a;
            sum_gx[j] += a * (xs[s][j] - m[j]);
          }
      }
    }
  }
  sum_positions(b, dy_at, sum_dy);
  sum_positions(b, dy_xc_at, sum_dy_xhat);
  for (std::int64_t c = 0; c < b.width(); ++c) sum_dy_xhat[c] *= inv_std[c];
}

// ensures: block_gradient_sums into per-channel buffers 2 (sum_dy) and 3 (sum_dy_xhat),
// copied to dbeta and dgamma where those are non-null; uses position buffers 0-2.
template <bool masked, class T>
void block_parameter_gradients(const ChannelBlock<T>& b, const T* x, const T* dy, const T* y, const double* mean,
                               const double* inv_std, Tensor<T>* dgamma, Tensor<T>* dbeta) {
  double* sum_dy = b.per_channel(2);
  double* sum_dy_xhat = b.per_channel(3);
  block_gradient_sums<masked>(b, x, dy, y, mean, inv_std, sum_dy, sum_dy_xhat);
  for (std::int64_t c = 0; c < b.width(); ++c) {
    if (dgamma) (*dgamma)[b.c0 + c] = static_cast<T>(sum_dy_xhat[c]);
    if (dbeta) (*dbeta)[b.c0 + c] = static_cast<T>(sum_dy[c]);
  }
}
}  // namespace detail

namespace detail {
// ensures: y = gamma * (x - mean(c)) / sqrt(variance(c) + epsilon) + beta per channel c (the
// statistics as doubles from the two functions), then max(y, 0) when relu.
template <class T, class Mean, class Variance>
void normalize(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, Mean mean, Variance variance,
               double epsilon, Tensor<T>& y, bool relu) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  for_each_channel_block<T>(d, 2, [&](const ChannelBlock<T>& b) {
    double* centre = b.per_channel(0);
    double* scale = b.per_channel(1);
    for (std::int64_t c = 0; c < b.width(); ++c) {
      const std::int64_t channel = b.c0 + c;
      centre[c] = mean(channel);
      scale[c] = gamma[channel] / std::sqrt(variance(channel) + epsilon);
    }
    apply_block_affine(b, x.data(), centre, scale, beta, relu, y.data());
  });
}
}  // namespace detail

// requires: gamma, beta, moving_*, saved_* are [C]; y sized as x; 0 <= momentum <= 1, epsilon > 0.
// ensures: y = gamma * (x - mean) / sqrt(var + epsilon) + beta with the batch mean and the
// biased batch variance; saved_mean = mean, saved_inv_std = 1/sqrt(var + epsilon);
// moving_mean = momentum * moving_mean + (1 - momentum) * mean, moving_variance likewise
// with the unbiased variance var * M/(M-1) (M = values per channel; factor 1 when M == 1,
// as TensorFlow's fused kernel does). With relu, y = max(y, 0) (the statistics are x's).
template <class T>
void batch_norm_forward_training(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta, double momentum,
                                 double epsilon, Tensor<T>& moving_mean, Tensor<T>& moving_variance, Tensor<T>& y,
                                 Tensor<T>& saved_mean, Tensor<T>& saved_inv_std, bool relu) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  const double count = static_cast<double>(d.per_channel());
  const double unbias = d.per_channel() > 1 ? count / (count - 1) : 1.0;
  const T* in = x.data();
  T* out = y.data();
  detail::for_each_channel_block<T>(d, 2, [&](const detail::ChannelBlock<T>& b) {
    double* mean = b.per_channel(0);
    double* variance = b.per_channel(1);
    double* scale = b.per_channel(2);
    detail::block_sum(b, mean, [&](std::int64_t i, std::int64_t) { return double(in[i]); });
    for (std::int64_t c = 0; c < b.width(); ++c) mean[c] /= count;
    // two passes (the second from L2): no cancellation for large means
    double* mean_at = b.at_positions(1);
    detail::spread_to_positions(b, mean, mean_at);
    detail::block_sum(b, variance, [&](std::int64_t i, std::int64_t j) {
      const double centred = in[i] - mean_at[j];
      return centred * centred;
    });
    for (std::int64_t c = 0; c < b.width(); ++c) {
      const std::int64_t channel = b.c0 + c;
      variance[c] /= count;
      const double inv_std = 1.0 / std::sqrt(variance[c] + epsilon);
      scale[c] = gamma[channel] * inv_std;
      saved_mean[channel] = static_cast<T>(mean[c]);
      saved_inv_std[channel] = static_cast<T>(inv_std);
      moving_mean[channel] = static_cast<T>(momentum * moving_mean[channel] + (1 - momentum) * mean[c]);
      moving_variance[channel] =
          static_cast<T>(momentum * moving_variance[channel] + (1 - momentum) * variance[c] * unbias);
    }
    detail::apply_block_affine(b, in, mean, scale, beta, relu, out);
  });
}

// requires: as batch_norm_forward_training. ensures: y = gamma * (x - moving_mean) /
// sqrt(moving_variance + epsilon) + beta, then max(y, 0) when relu; nothing else changes.
template <class T>
void batch_norm_forward_inference(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                                  const Tensor<T>& moving_mean, const Tensor<T>& moving_variance, double epsilon,
                                  Tensor<T>& y, bool relu) {
  detail::normalize(
      x, gamma, beta, [&](std::int64_t c) { return static_cast<double>(moving_mean[c]); },
      [&](std::int64_t c) { return static_cast<double>(moving_variance[c]); }, epsilon, y, relu);
}

namespace detail {
// requires: mean, inv_std, sum_dy and sum_dy_xhat per channel c0 + c of the block (the batch
// statistics and block_gradient_sums over `count` values per channel, possibly summed over
// data-parallel ranks). ensures: dx over the block, with g = output_gradient<masked>:
// dx = gamma * inv_std / count * (count * g - sum_dy - xhat * sum_dy_xhat), in T; uses
// channel buffers 4-6 and value buffers 0-4.
template <bool masked, class T>
void block_input_gradient(const ChannelBlock<T>& b, const T* x, const T* g, const T* y, const Tensor<T>& gamma,
                          const double* mean, const double* inv_std, const double* sum_dy, const double* sum_dy_xhat,
                          double count, T* dx) {
  // dx = dy_scale * g + x_scale * (x - mean) + shift, per channel
  double* dy_scale = b.per_channel(4);
  double* x_scale = b.per_channel(5);
  double* shift = b.per_channel(6);
  for (std::int64_t c = 0; c < b.width(); ++c) {
    const double factor = gamma[b.c0 + c] * inv_std[c] / count;
    dy_scale[c] = factor * count;
    x_scale[c] = -factor * sum_dy_xhat[c] * inv_std[c];
    shift[c] = -factor * sum_dy[c];
  }
  T* high_at = b.values_at(0);
  T* low_at = b.values_at(1);
  T* dy_scale_at = b.values_at(2);
  T* x_scale_at = b.values_at(3);
  T* shift_at = b.values_at(4);
  spread_centres(b, mean, high_at, low_at);
  spread_to_positions(b, dy_scale, dy_scale_at);
  spread_to_positions(b, x_scale, x_scale_at);
  spread_to_positions(b, shift, shift_at);
  for_each_in_block(b, [&](std::int64_t i, std::int64_t j) {
    dx[i] = dy_scale_at[j] * output_gradient<masked>(g, y, i) + x_scale_at[j] * (x[i] - high_at[j] - low_at[j]) +
            shift_at[j];
  });
}

// ensures: batch_norm_backward_training with output_gradient<masked>(dy, y, i) as the
// output gradient (y: the fused ReLU's output; unused unless masked).
template <bool masked, class T>
void backward_training(const Tensor<T>& x, const T* g, const T* y, const Tensor<T>& gamma, const Tensor<T>& saved_mean,
                       const Tensor<T>& saved_inv_std, Tensor<T>* dx, Tensor<T>* dgamma, Tensor<T>* dbeta) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  const double count = static_cast<double>(d.per_channel());
  const T* in = x.data();
  for_each_channel_block<T>(d, masked ? 4 : 3, [&](const ChannelBlock<T>& b) {
    double* mean = b.per_channel(0);
    double* inv_std = b.per_channel(1);
    for (std::int64_t c = 0; c < b.width(); ++c) {
      mean[c] = saved_mean[b.c0 + c];
      inv_std[c] = saved_inv_std[b.c0 + c];
    }
    block_parameter_gradients<masked>(b, in, g, y, mean, inv_std, dgamma, dbeta);
    if (dx) block_input_gradient<masked>(b, in, g, y, gamma, mean, inv_std, b.per_channel(2), b.per_channel(3), count,
                                         dx->data());
  });
}

// ensures: batch_norm_backward_inference with output_gradient<masked>(dy, y, i) as the
// output gradient.
template <bool masked, class T>
void backward_inference(const Tensor<T>& x, const T* g, const T* y, const Tensor<T>& gamma,
                        const Tensor<T>& moving_mean, const Tensor<T>& moving_variance, double epsilon, Tensor<T>* dx,
                        Tensor<T>* dgamma, Tensor<T>* dbeta) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  for_each_channel_block<T>(d, masked ? 4 : 3, [&](const ChannelBlock<T>& b) {
    double* mean = b.per_channel(0);
    double* inv_std = b.per_channel(1);
    for (std::int64_t c = 0; c < b.width(); ++c) {
      mean[c] = moving_mean[b.c0 + c];
      inv_std[c] = 1.0 / std::sqrt(static_cast<double>(moving_variance[b.c0 + c]) + epsilon);
    }
    if (dgamma || dbeta) block_parameter_gradients<masked>(b, x.data(), g, y, mean, inv_std, dgamma, dbeta);
    if (!dx) return;
    double* scale = b.per_channel(4);
    for (std::int64_t c = 0; c < b.width(); ++c) scale[c] = gamma[b.c0 + c] * inv_std[c];
    T* scale_at = b.values_at(0);
    spread_to_positions(b, scale, scale_at);
    T* out = dx->data();
    for_each_in_block(b, [&](std::int64_t i, std::int64_t j) {
      out[i] = output_gradient<masked>(g, y, i) * scale_at[j];
    });
  });
}
}  // namespace detail

// requires: saved_mean/saved_inv_std from batch_norm_forward_training on this x; relu_output
// null, or (after a forward with relu) that forward's y.
// ensures: the gradients through the batch statistics (each non-null output overwritten),
// with dy masked (dy where relu_output > 0, else 0) when relu_output is given:
//   xhat = (x - mean) * inv_std, dbeta = sum dy, dgamma = sum dy * xhat,
//   dx = gamma * inv_std / M * (M * dy - dbeta - xhat * dgamma).
template <class T>
void batch_norm_backward_training(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                                  const Tensor<T>& gamma, const Tensor<T>& saved_mean, const Tensor<T>& saved_inv_std,
                                  Tensor<T>* dx, Tensor<T>* dgamma, Tensor<T>* dbeta) {
  if (relu_output)
    detail::backward_training<true>(x, dy.data(), relu_output->data(), gamma, saved_mean, saved_inv_std, dx, dgamma,
                                    dbeta);
  else
    detail::backward_training<false>(x, dy.data(), dy.data(), gamma, saved_mean, saved_inv_std, dx, dgamma, dbeta);
}

// requires: the moving statistics used by batch_norm_forward_inference on this x;
// relu_output as for batch_norm_backward_training.
// ensures: the gradients of the affine inference transform (each non-null output
// overwritten), dy masked as in batch_norm_backward_training: dx = dy * gamma /
// sqrt(moving_variance + epsilon), dbeta = sum dy, dgamma = sum dy * (x - moving_mean) /
// sqrt(moving_variance + epsilon).
template <class T>
void batch_norm_backward_inference(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                                   const Tensor<T>& gamma, const Tensor<T>& moving_mean,
                                   const Tensor<T>& moving_variance, double epsilon, Tensor<T>* dx, Tensor<T>* dgamma,
                                   Tensor<T>* dbeta) {
  if (relu_output)
    detail::backward_inference<true>(x, dy.data(), relu_output->data(), gamma, moving_mean, moving_variance, epsilon,
                                     dx, dgamma, dbeta);
  else
    detail::backward_inference<false>(x, dy.data(), dy.data(), gamma, moving_mean, moving_variance, epsilon, dx, dgamma,
                                      dbeta);
}

}  // namespace cpu
}  // namespace tinynet
