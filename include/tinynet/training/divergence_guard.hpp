// tinynet/training/divergence_guard.hpp: stop a diverging run early, and clip gradients.
//
// A run whose learning rate is far too high does not always produce a NaN loss: the loss
// can climb to 1e27 while staying finite, weights can turn infinite while the loss is
// still a number, and a NaN in the optimizer state reaches the weights one step later.
// DivergenceGuard checks, per training step (Trainer::fit calls it):
//   check_loss      the batch loss is finite and at most options.max_loss;
//   check_gradients after backward: every trainable gradient is finite; with
//                   options.clip_gradient_norm > 0 the gradients are scaled so that their
//                   global L2 norm is at most that (as torch.nn.utils.clip_grad_norm_);
//   check_weights   after the optimizer step: every parameter is finite.
// A failure is an Error naming the epoch, the step, the learning rate, the parameter and
// its layer (from the model's parameter entries, e.g. "dense_1/kernel" of layer "dense_1"),
// with a hint. The weight and gradient scans run every options.check_every steps (the loss
// is checked at every step); on a GPU model they copy the buffers to the host. Trainer::fit runs
// one per fit() with FitOptions::divergence; the examples set it with --max-loss and
// --clip-grad-norm.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/backend/device_copy.hpp"
#include "tinynet/backend/elementwise.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/finite.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

struct DivergenceOptions {
  // The mean batch loss (cross-entropy) above which training stops. At chance level it is
  // ln(classes), 2.3 for 10; 100 means the true class gets probability e^-100: diverged.
  double max_loss = 100;
  double clip_gradient_norm = 0;  // > 0: clip the global gradient L2 norm to this; 0: off
  int check_every = 1;            // steps between weight and gradient scans, >= 1
};

// Where training is, for the messages (both counted from 1).
struct TrainingStep {
  int epoch = 1;
  std::int64_t step = 1;
  double learning_rate = 0;
};

template <class T>
class DivergenceGuard {
 public:
  // requires: max_loss > 0 (infinity: only non-finite losses stop), clip_gradient_norm finite
  // and >= 0, check_every >= 1 (all checked).
  explicit DivergenceGuard(const DivergenceOptions& options = {}) : options_(options) {
    check(options.max_loss > 0, "DivergenceGuard: max_loss ", options.max_loss, " must be > 0");
    check(std::isfinite(options.clip_gradient_norm) && options.clip_gradient_norm >= 0,
          "DivergenceGuard: clip_gradient_norm ", options.clip_gradient_norm, " must be finite and >= 0 (0: off)");
    check(options.check_every >= 1, "DivergenceGuard: check_every ", options.check_every, " must be >= 1");
  }

  const DivergenceOptions& options() const { return options_; }

  // ensures: an Error naming the step unless `loss` is finite and <= max_loss.
  void check_loss(double loss, const TrainingStep& at) const {
    check(std::isfinite(loss), where(at), ": the loss became ", loss, ". ", hint());
    check(loss <= options_.max_loss, where(at), ": the loss ", loss, " is above the bound ", options_.max_loss,
          " (DivergenceOptions::max_loss). ", hint());
  }

  // requires: the model's gradients of this step computed, the optimizer step not yet taken.
  // ensures: on a scan step, an Error naming the first trainable parameter with a non-finite
  // gradient; otherwise, with clipping on, the trainable gradients scaled by
  // clip / norm when their global L2 norm exceeds clip. Returns that norm before clipping,
  // or -1 when this step was not scanned and clipping is off.
  double check_gradients(Layer<T>& model, const TrainingStep& at) {
    const bool scan = at.step % options_.check_every == 0;
    if (!scan && options_.clip_gradient_norm == 0) return -1;
    ranges_.clear();
    model.collect_trainable_ranges(0, ranges_);
    const Tensor<T>& grads = host_copy(model.parameters().grads());
    double sum_of_squares = 0;
    for (const auto& range : ranges_) {
      const T* g = grads.data() + range.first;
      const std::int64_t bad = first_non_finite(g, range.second);
      check(bad < 0, where(at), ": the gradient of ", parameter_at(model, range.first + std::max<std::int64_t>(bad, 0)),
            " is ", bad < 0 ? T(0) : g[bad], ". ", hint());
      for (std::int64_t i = 0; i < range.second; ++i) sum_of_squares += static_cast<double>(g[i]) * g[i];
    }
    const double norm = std::sqrt(sum_of_squares);
    check(std::isfinite(norm), where(at), ": the gradient norm overflows (", norm, "). ", hint());
    if (options_.clip_gradient_norm > 0 && norm > options_.clip_gradient_norm) {
      const T scale = static_cast<T>(options_.clip_gradient_norm / norm);
      Tensor<T>& device_grads = model.parameters().grads();
      for (const auto& range : ranges_) {
        Tensor<T> part = device_grads.view(range.first, Shape{range.second});
        scale_shift(part, scale, T(0), part);
      }
    }
    return norm;
  }

  // requires: the optimizer step of this step taken.
  // ensures: on a scan step, an Error naming the first parameter (weight or statistic) that
  // is not finite.
  void check_weights(Layer<T>& model, const TrainingStep& at) {
    if (at.step % options_.check_every != 0) return;
    const Tensor<T>& values = host_copy(model.parameters().values());
    const std::int64_t bad = first_non_finite(values.data(), values.numel());
    check(bad < 0, where(at), ": after the optimizer step, ", parameter_at(model, std::max<std::int64_t>(bad, 0)),
          " is ", bad < 0 ? T(0) : values[bad], ". ", hint());
  }

 private:
  static std::string where(const TrainingStep& at) {
    std::ostringstream os;
    os << "training diverged at epoch " << at.epoch << " step " << at.step << " (learning rate " << at.learning_rate
       << ")";
    return os.str();
  }
  std::string hint() const {
    return options_.clip_gradient_norm > 0
               ? "Lower the learning rate (e.g. 10x) or the gradient clipping norm."
               : "Lower the learning rate (e.g. 10x), or clip gradients (DivergenceOptions::clip_gradient_norm; "
                 "--clip-grad-norm in the examples).";
  }
  // ensures: "parameter 'dense_1/kernel' (layer 'dense_1') at element 3" for buffer index i.
  static std::string parameter_at(const Layer<T>& model, std::int64_t i) {
    for (const auto& e : model.parameters().entries()) {
      if (i < e.offset || i >= e.offset + e.shape.numel()) continue;
      const auto slash = e.name.find_last_of('/');
      const std::string layer = slash == std::string::npos ? model.name() : e.name.substr(0, slash);
      return "parameter '" + e.name + "' (layer '" + layer + "') at element " + std::to_string(i - e.offset);
    }
    return "element " + std::to_string(i) + " of the parameter buffer";
  }
  // ensures: t itself on the host, else a host copy kept in this guard.
  const Tensor<T>& host_copy(const Tensor<T>& t) {
    if (t.device() == Device::cpu) return t;
    host_ = to_device(t, Device::cpu);
    return host_;
  }

  DivergenceOptions options_;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges_;
  Tensor<T> host_;
};

}  // namespace tinynet
