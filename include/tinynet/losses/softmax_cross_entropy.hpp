// tinynet/losses/softmax_cross_entropy.hpp: softmax cross-entropy on logits, as Keras'
// CategoricalCrossentropy(from_logits=True) / SparseCategoricalCrossentropy(from_logits=True).
//
// SoftmaxCrossEntropy<T>(label_smoothing = 0). forward() takes logits [N,K] and either integer
// labels or one-hot targets [N,K], and returns the mean loss over the batch. With label
// smoothing ls the target is onehot * (1 - ls) + ls / K (Keras). backward() then gives
// dLoss/dlogits = (softmax - target) / N. The buffers are owned and reused between calls.
// Integer labels are turned into one-hot rows on the host (and uploaded for device logits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinynet/backend/device_copy.hpp"
#include "tinynet/backend/softmax_cross_entropy.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

template <class T>
class SoftmaxCrossEntropy {
 public:
  // requires: 0 <= label_smoothing <= 1.
  explicit SoftmaxCrossEntropy(double label_smoothing = 0) : label_smoothing_(label_smoothing) {
    check(label_smoothing >= 0 && label_smoothing <= 1, "SoftmaxCrossEntropy: label_smoothing ", label_smoothing,
          " is outside [0, 1]");
  }

  double label_smoothing() const { return label_smoothing_; }

  // requires: logits [N,K] (N, K >= 1); labels.size() == N, each in [0, K).
  // ensures: the mean over the batch of -log softmax(logits)[n, label] (smoothed when ls > 0).
  T forward(const Tensor<T>& logits, const std::vector<int>& labels) {
    check_logits(logits);
    const std::int64_t N = logits.dim(0), K = logits.dim(1);
    check(static_cast<std::int64_t>(labels.size()) == N, "SoftmaxCrossEntropy: ", labels.size(),
          " labels for logits of shape ", logits.shape());
    for (std::int64_t n = 0; n < N; ++n)
      check(labels[n] >= 0 && labels[n] < K, "SoftmaxCrossEntropy: label ", labels[n], " of sample ", n,
            " is outside [0,", K, ") (logits of shape ", logits.shape(), ")");
    label_targets_.resize(logits.shape());
    label_targets_.zero();
    for (std::int64_t n = 0; n < N; ++n) label_targets_[n * K + labels[n]] = T(1);
    if (logits.device() == Device::cpu) return run_forward(logits, label_targets_);
    uploaded_targets_.resize(logits.shape(), logits.device());
    copy_elements(label_targets_, uploaded_targets_);
    return run_forward(logits, uploaded_targets_);
  }

  // requires: logits [N,K] (N, K >= 1); one_hot of the same shape (rows summing to 1).
  // ensures: the mean over the batch of -sum_k target * log softmax(logits).
  T forward(const Tensor<T>& logits, const Tensor<T>& one_hot) {
    check_logits(logits);
    check(one_hot.shape() == logits.shape(), "SoftmaxCrossEntropy: one-hot targets of shape ", one_hot.shape(),
          " for logits of shape ", logits.shape());
    return run_forward(logits, one_hot);
  }

  // requires: forward() was called; its one-hot target (when given) unchanged since.
  // ensures: dLoss/dlogits for the last forward(), [N,K].
  const Tensor<T>& backward() {
    check(!target_.empty(), "SoftmaxCrossEntropy: backward() before forward()");
    grad_.resize(probabilities_.shape(), probabilities_.device());
    softmax_cross_entropy_backward(probabilities_, target_, label_smoothing_, grad_);
    return grad_;
  }

  // requires: forward() was called. ensures: the softmax of the last logits, [N,K].
  const Tensor<T>& probabilities() const {
    check(!probabilities_.empty(), "SoftmaxCrossEntropy: probabilities() before forward()");
    return probabilities_;
  }

 private:
  static void check_logits(const Tensor<T>& logits) {
    check(logits.rank() == 2 && logits.dim(0) >= 1 && logits.dim(1) >= 1,
          "SoftmaxCrossEntropy: logits must be [N,K] with N, K >= 1, got ", logits.shape());
  }

  T run_forward(const Tensor<T>& logits, const Tensor<T>& target) {
    target_ = target;
    probabilities_.resize(logits.shape(), logits.device());
    row_losses_.resize(Shape{logits.dim(0)}, logits.device());
    return static_cast<T>(
        softmax_cross_entropy_forward(logits, target_, label_smoothing_, probabilities_, row_losses_));
  }

  double label_smoothing_;
  Tensor<T> label_targets_;     // one-hot rows built from integer labels (host)
  Tensor<T> uploaded_targets_;  // their copy on the logits' device, when that is not the host
  Tensor<T> target_;            // view of the last target (one of those two or the caller's one-hot)
  Tensor<T> probabilities_, row_losses_, grad_;
};

}  // namespace tinynet
