// tinynet/backend/cpu/softmax_cross_entropy.hpp: softmax + cross-entropy kernels.
//
// logits, target and probabilities are [N,K]; row_losses is [N]. The target the loss sees
// is the Keras label-smoothed one, t' = target * (1 - ls) + ls / K, formed on the fly.
// Rows are normalised stably (subtract the row maximum, log-sum-exp) in double.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

namespace detail {
// ensures: the Keras label-smoothed target value t * (1 - ls) + ls / K.
inline double smoothed_target(double t, double label_smoothing, std::int64_t classes) {
  return t * (1 - label_smoothing) + label_smoothing / static_cast<double>(classes);
}
}  // namespace detail

// requires: target [N,K] with N >= 1; probabilities sized [N,K], row_losses sized [N]; 0 <= ls <= 1.
// ensures: probabilities = softmax of each logits row; row_losses[n] = -sum_k t'[n,k] *
// log softmax[n,k]; returns the mean of row_losses.
template <class T>
double softmax_cross_entropy_forward(const Tensor<T>& logits, const Tensor<T>& target, double label_smoothing,
                                     Tensor<T>& probabilities, Tensor<T>& row_losses) {
  const std::int64_t N = logits.dim(0), K = logits.dim(1);
  const T* z = logits.data();
  const T* t = target.data();
  T* p = probabilities.data();
  T* losses = row_losses.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t n = 0; n < N; ++n) {
    const T* row = z + n * K;
    const double max = *std::max_element(row, row + K);
    double sum_exp = 0;
    for (std::int64_t k = 0; k < K; ++k) sum_exp += std::exp(row[k] - max);
    const double log_sum_exp = std::log(sum_exp);
    double loss = 0;
    for (std::int64_t k = 0; k < K; ++k) {
      const double log_p = row[k] - max - log_sum_exp;
      p[n * K + k] = static_cast<T>(std::exp(log_p));
      loss -= detail::smoothed_target(t[n * K + k], label_smoothing, K) * log_p;
    }
    losses[n] = static_cast<T>(loss);
  }
  double total = 0;  // summed in row order: the same value for any thread count
  for (std::int64_t n = 0; n < N; ++n) total += losses[n];
  return total / static_cast<double>(N);
}

// requires: probabilities from softmax_cross_entropy_forward with this target and ls;
// dlogits sized [N,K].
// ensures: dlogits = d(mean row loss)/dlogits = (probabilities * sum_k t' - t') / N, which is
// (softmax - t') / N for targets whose rows sum to 1.
template <class T>
void softmax_cross_entropy_backward(const Tensor<T>& probabilities, const Tensor<T>& target, double label_smoothing,
                                    Tensor<T>& dlogits) {
  const std::int64_t N = probabilities.dim(0), K = probabilities.dim(1);
  const double inv_n = 1.0 / static_cast<double>(N);
  const T* p = probabilities.data();
  const T* t = target.data();
  T* d = dlogits.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t n = 0; n < N; ++n) {
    double target_sum = 0;
    for (std::int64_t k = 0; k < K; ++k) target_sum += detail::smoothed_target(t[n * K + k], label_smoothing, K);
    for (std::int64_t k = 0; k < K; ++k) {
      const double smoothed = detail::smoothed_target(t[n * K + k], label_smoothing, K);
      d[n * K + k] = static_cast<T>((p[n * K + k] * target_sum - smoothed) * inv_n);
    }
  }
}

}  // namespace cpu
}  // namespace tinynet
