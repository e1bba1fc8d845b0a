// tinynet/optim/lookahead.hpp: Lookahead (Zhang et al. 2019), a wrapper over any optimizer.
//
//   Lookahead<float> optimizer(std::make_unique<SGD<float>>(sgd_options), LookaheadOptions{...});
//   optimizer.step(model);   // the inner optimizer's step, then the synchronisation when due
//
// The wrapper keeps a slow copy of the whole parameter buffer, BatchNorm statistics included
// (taken before the first step, or before the first step of epoch start_epoch). After every
// `every`-th step t (the paper's k) it moves the copy towards the weights and resets the
// weights to it:
//   slow += (1 - d) * (values - slow),  values = slow,  d = decay * min(1, t / total_steps)^power,
// and step total_steps synchronises too, so a run ends on the average. The paper's constant
// alpha is 1 - decay with power 0; airbench94's schedule (the defaults) grows the slow copy's
// share as (t / total_steps)^3 up to 0.95^5. With reset_each_epoch (airbench94), the weights
// are instead set to the slow copy after the last step of every epoch (and of the run), the
// steps since the last synchronisation discarded. Learning rate, weight decay, step count and name
// are the inner optimizer's; state() is the inner state plus "slow_weights", so a checkpoint
// records the inner optimizer's name and carries the slow copy.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/backend/device_copy.hpp"
#include "tinynet/backend/optimizer_update.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/optim/optimizer.hpp"

namespace tinynet {

struct LookaheadOptions {
  int every = 5;                 // steps between synchronisations (the paper's k)
  double decay = 0.7737809375;   // 0.95^5: the slow copy's share at the end of the run
  double power = 3;              // d grows as (t / total_steps)^power: no averaging early on
  std::int64_t total_steps = 0;  // the run's steps (required, >= 1); d = decay from then on
  std::int64_t steps_per_epoch = 0;  // needed (>= 1) by start_epoch > 0 and reset_each_epoch
  int start_epoch = 0;           // the slow copy is taken before this epoch's first step (airbench: 3)
  bool reset_each_epoch = false;  // weights = slow copy after each epoch's last step (airbench)
};

template <class T>
class Lookahead : public Optimizer<T> {
 public:
  using typename Optimizer<T>::Ranges;
  using typename Optimizer<T>::StateTensors;

  // requires: inner not null and before its first step; every >= 1, total_steps >= 1,
  // 0 <= decay <= 1, power finite and >= 0 (all checked).
  Lookahead(std::unique_ptr<Optimizer<T>> inner, const LookaheadOptions& options)
      : inner_(std::move(inner)), options_(options) {
    check(inner_ != nullptr, "Lookahead: no inner optimizer given");
    check(inner_->iterations() == 0, inner_->name(), ": wrap it in Lookahead before the first step (",
          inner_->iterations(), " steps taken)");
    check(options.every >= 1 && options.total_steps >= 1, inner_->name(),
          ": Lookahead needs every >= 1 and total_steps >= 1, got ", options.every, " and ", options.total_steps);
    check(options.decay >= 0 && options.decay <= 1 && std::isfinite(options.power) && options.power >= 0,
          inner_->name(), ": Lookahead needs 0 <= decay <= 1 and a finite power >= 0, got ", options.decay, " and ",
          options.power);
    check(options.start_epoch >= 0 && options.steps_per_epoch >= 0, inner_->name(),
          ": Lookahead needs start_epoch >= 0 and steps_per_epoch >= 0, got ", options.start_epoch, " and ",
          options.steps_per_epoch);
    check(options.steps_per_epoch >= 1 || (options.start_epoch == 0 && !options.reset_each_epoch), inner_->name(),
          ": Lookahead's start_epoch and reset_each_epoch need steps_per_epoch >= 1");
  }

  const LookaheadOptions& options() const { return options_; }
  Optimizer<T>& inner() { return *inner_; }

  const std::string& name() const override { return inner_->name(); }
  double learning_rate() const override { return inner_->learning_rate(); }
  void set_learning_rate(double learning_rate) override { inner_->set_learning_rate(learning_rate); }
  double weight_decay() const override { return inner_->weight_decay(); }
  void set_weight_decay(double weight_decay) override { inner_->set_weight_decay(weight_decay); }
  std::int64_t iterations() const override { return inner_->iterations(); }
  void set_iterations(std::int64_t n) override { inner_->set_iterations(n); }

  // ensures: the inner optimizer's state, then "slow_weights" (empty before the first step).
  StateTensors state() override {
    StateTensors out = inner_->state();
    out.emplace_back("slow_weights", &slow_weights_);
    return out;
  }

 protected:
  // ensures: the inner step; then, when due, the synchronisation of the header, which moves
  // every element that differs from its slow copy (frozen ones and statistics included).
  void update(Tensor<T>& values, const Tensor<T>& grads, const Ranges& ranges,
              const std::vector<UpdateMultiplier>& multipliers) override {
    const std::int64_t start_step = options_.start_epoch * options_.steps_per_epoch;
    const bool fresh_slow_copy = slow_weights_.empty() && inner_->iterations() >= start_step;
    check(slow_weights_.empty() || slow_weights_.numel() == values.numel(), inner_->name(),
          ": state tensor 'slow_weights' holds ", slow_weights_.numel(), " elements but the parameter buffer holds ",
          values.numel(), " (restored from another model?)");
    if (fresh_slow_copy) slow_weights_ = to_device(values, values.device());
    try {
      inner_->step(values, grads, ranges, multipliers);
    } catch (...) {
      if (fresh_slow_copy) slow_weights_ = Tensor<T>();  // a refused first step changes nothing
      throw;
    }
    if (!slow_weights_.empty()) synchronise(values);
  }

 private:
  // requires: iterations() counts the step just applied; the slow copy taken.
  // ensures: the synchronisation of the header when this step is due (step total_steps always
  // is), then with reset_each_epoch the weights set to the slow copy at an epoch's end.
  void synchronise(Tensor<T>& values) {
    const std::int64_t t = inner_->iterations(), total = options_.total_steps;
    const bool epoch_end = options_.reset_each_epoch && (t % options_.steps_per_epoch == 0 || t >= total);
    if (t % options_.every == 0 || (t == total && !options_.reset_each_epoch)) {
      const double progress = std::min(1.0, static_cast<double>(t) / static_cast<double>(total));
      const double decay = options_.decay * std::pow(progress, options_.power);
      lookahead_sync(values, slow_weights_, 0, values.numel(), static_cast<T>(decay));
    }
    if (epoch_end) lookahead_sync(values, slow_weights_, 0, values.numel(), T(1));  // values = slow
  }

  std::unique_ptr<Optimizer<T>> inner_;
  LookaheadOptions options_;
  Tensor<T> slow_weights_;
};

}  // namespace tinynet
