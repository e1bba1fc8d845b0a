// tinynet/backend/cpu/batch_norm_sums.hpp: batch normalisation split at its per-channel sums.
//
// Synchronized BatchNorm (data-parallel ranks normalising with the statistics of the global
// batch) needs the kernels of backend/cpu/batch_norm.hpp cut where they reduce over the batch:
// each rank computes its per-channel sums, the sums are added over the ranks, and the
// normalisation and the input gradient then use the global ones. The statistics are doubles
// ([C] arrays on the host), as the fused kernels keep them.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tinynet/backend/cpu/batch_norm.hpp"

namespace tinynet {
namespace cpu {

// requires: x [N,C,H,W] or [N,F]; centre null or [C]; sum and sum_squares [C].
// ensures: per channel c, sum[c] = sum of (x - centre[c]) and sum_squares[c] = sum of
// (x - centre[c])^2 over the channel's values (centre 0 when null), accumulated in double.
template <class T>
void batch_norm_channel_sums(const Tensor<T>& x, const double* centre, double* sum, double* sum_squares) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  const T* in = x.data();
  detail::for_each_channel_block<T>(d, 1, [&](const detail::ChannelBlock<T>& b) {
    double* centre_at = b.at_positions(1);
    double* square_at = b.at_positions(2);
    if (centre)
      detail::spread_to_positions(b, centre + b.c0, centre_at);
    else
      std::fill(centre_at, centre_at + b.run(), 0.0);
    std::fill(square_at, square_at + b.run(), 0.0);
    detail::block_sum(b, sum + b.c0, [&](std::int64_t i, std::int64_t j) {
      const double centred = in[i] - centre_at[j];
      square_at[j] += centred * centred;
      return centred;
    });
    detail::sum_positions(b, square_at, sum_squares + b.c0);
  });
}

// requires: mean, variance [C] (the biased variance); the rest as batch_norm_forward_inference.
// ensures: y = gamma * (x - mean) / sqrt(variance + epsilon) + beta, then max(y, 0) when relu.
template <class T>
void batch_norm_forward_with_statistics(const Tensor<T>& x, const Tensor<T>& gamma, const Tensor<T>& beta,
                                        const double* mean, const double* variance, double epsilon, Tensor<T>& y,
                                        bool relu) {
  detail::normalize(
      x, gamma, beta, [&](std::int64_t c) { return mean[c]; }, [&](std::int64_t c) { return variance[c]; }, epsilon,
      y, relu);
}

// requires: mean, inv_std [C] (the statistics x was normalised with); relu_output as for
// batch_norm_backward_training; sum_dy and sum_dy_xhat [C].
// ensures: per channel, with g the (masked) output gradient and xhat = (x - mean) * inv_std:
// sum_dy = sum g, sum_dy_xhat = sum g * xhat over this x (dbeta and dgamma of this batch).
template <class T>
void batch_norm_gradient_sums(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                              const double* mean, const double* inv_std, double* sum_dy, double* sum_dy_xhat) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  detail::for_each_channel_block<T>(d, relu_output ? 3 : 2, [&](const detail::ChannelBlock<T>& b) {
    if (relu_output)
      detail::block_gradient_sums<true>(b, x.data(), dy.data(), relu_output->data(), mean + b.c0, inv_std + b.c0,
                                        sum_dy + b.c0, sum_dy_xhat + b.c0);
    else
      detail::block_gradient_sums<false>(b, x.data(), dy.data(), dy.data(), mean + b.c0, inv_std + b.c0,
                                         sum_dy + b.c0, sum_dy_xhat + b.c0);
  });
}

// requires: mean, inv_std as for batch_norm_gradient_sums; sum_dy, sum_dy_xhat those sums over
// `count` values per channel (all ranks' values for synchronized BatchNorm); dx sized as x.
// ensures: dx = gamma * inv_std / count * (count * g - sum_dy - xhat * sum_dy_xhat).
template <class T>
void batch_norm_backward_from_sums(const Tensor<T>& x, const Tensor<T>& dy, const Tensor<T>* relu_output,
                                   const Tensor<T>& gamma, const double* mean, const double* inv_std,
                                   const double* sum_dy, const double* sum_dy_xhat, double count, Tensor<T>& dx) {
  const BatchNormDims d = batch_norm_dims(x.shape());
  detail::for_each_channel_block<T>(d, relu_output ? 4 : 3, [&](const detail::ChannelBlock<T>& b) {
    const std::int64_t c0 = b.c0;
    if (relu_output)
      detail::block_input_gradient<true>(b, x.data(), dy.data(), relu_output->data(), gamma, mean + c0, inv_std + c0,
                                         sum_dy + c0, sum_dy_xhat + c0, count, dx.data());
    else
      detail::block_input_gradient<false>(b, x.data(), dy.data(), dy.data(), gamma, mean + c0, inv_std + c0,
                                          sum_dy + c0, sum_dy_xhat + c0, count, dx.data());
  });
}

}  // namespace cpu
}  // namespace tinynet
