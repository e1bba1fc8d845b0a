// tinynet/optim/optimizer.hpp: the interface of the optimizers (Adam, SGD).
//
// An optimizer updates a model's flat parameter buffer (ParameterSet::values()) from its
// gradient buffer of the same size, only inside the [offset, count) ranges it is given:
// a model's trainable_ranges() leave out frozen layers and BatchNorm statistics, which
// therefore stay bit-identical.
//
//   Adam<float> adam(AdamOptions{});
//   model.backward(dloss);
//   adam.step(model);   // = adam.step(values, grads, model.trainable_ranges())
//
// Optimizer state (Adam's moments, SGD's velocity) is a set of named tensors shaped like
// the parameter buffer, allocated zero-filled on the first step on the parameters'
// device. For checkpoints, state() exposes them and set_iterations() restores the step
// count; restoring both and stepping continues exactly like an uninterrupted run.
// Weight decay is decoupled (as in PyTorch's AdamW/SGDW and Keras' weight_decay):
// p <- p - lr * weight_decay * p on the same ranges, before the gradient update.
// Update multipliers (Caffe's lr_mult / decay_mult, PyTorch's parameter groups) scale both
// for parts of the buffer: a model's collect_update_multipliers() names them (e.g. the
// BatchNorm biases of the fast recipe's network learn at 64x the rate).
// Lookahead (Zhang et al. 2019, with airbench94's schedule; enable_lookahead()): the optimizer
// keeps a slow copy of the whole buffer, BatchNorm statistics included (state "slow_weights").
// After every `every`-th step t it moves the copy towards the weights, slow += (1 - d) *
// (values - slow) with d = decay * min(1, t / total_steps)^power, and resets the weights to it;
// step total_steps synchronises too, so a run ends on the average.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/backend/device_copy.hpp"
#include "tinynet/backend/optimizer_update.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

struct LookaheadOptions {
  int every = 5;                 // steps between synchronisations
  double decay = 0.7737809375;   // 0.95^5: the slow copy's share at the end of the run
  double power = 3;              // d grows as (t / total_steps)^power: no averaging early on
  std::int64_t total_steps = 0;  // the run's steps (required); d = decay from then on
};

template <class T>
class Optimizer {
 public:
  using Ranges = std::vector<std::pair<std::int64_t, std::int64_t>>;  // [offset, count) pairs

  virtual ~Optimizer() = default;

  // e.g. "Adam"; used in error messages.
  const std::string& name() const { return name_; }

  // requires: values.numel() == grads.numel(); ranges in ascending order, disjoint, inside
  // the buffer; multipliers likewise ascending and disjoint; state tensors empty or of
  // values' size (all checked, before any change).
  // ensures: iterations() incremented; the elements in `ranges` (and the state there)
  // updated, those inside a multiplier's run with lr * lr_mult and decay * decay_mult;
  // every other element of values and of the state untouched, except that with Lookahead
  // a synchronising step moves every element that differs from its slow copy.
  void step(Tensor<T>& values, const Tensor<T>& grads, const Ranges& ranges,
            const std::vector<UpdateMultiplier>& multipliers = {}) {
    check(values.numel() == grads.numel(), name_, "::step: values hold ", values.numel(), " elements but grads hold ",
          grads.numel());
    merge_ranges(values.numel(), ranges);
    split_by_multipliers(multipliers);
    const bool fresh_slow_copy = lookahead_.total_steps > 0 && slow_weights().empty();
    prepare_state(values);
    if (fresh_slow_copy) copy_elements(values, slow_weights());
    ++iterations_;
    apply(values, grads, segments_);
    if (lookahead_.total_steps > 0) synchronise_lookahead(values);
  }
  // ensures: one step on model.parameters() over the model's trainable ranges (those of
  // Sequential::trainable_ranges()) with its update multipliers. Allocates nothing once the
  // model is stable.
  void step(Layer<T>& model) {
    model_ranges_.clear();
    model.collect_trainable_ranges(0, model_ranges_);
    model_multipliers_.clear();
    model.collect_update_multipliers(0, model_multipliers_);
    step(model.parameters().values(), model.parameters().grads(), model_ranges_, model_multipliers_);
  }

  double learning_rate() const { return learning_rate_; }
  // requires: a finite rate >= 0 (checked).
  void set_learning_rate(double learning_rate) {
    check(std::isfinite(learning_rate) && learning_rate >= 0, name_, ": learning rate ", learning_rate,
          " must be finite and >= 0");
    learning_rate_ = learning_rate;
  }
  double weight_decay() const { return weight_decay_; }
  // requires: a finite decay >= 0 (checked).
  void set_weight_decay(double weight_decay) {
    check(std::isfinite(weight_decay) && weight_decay >= 0, name_, ": weight decay ", weight_decay,
          " must be finite and >= 0");
    weight_decay_ = weight_decay;
  }

  // The number of steps taken (Keras' optimizer.iterations); Adam's bias correction uses it.
  std::int64_t iterations() const { return iterations_; }
  // requires: n >= 0 (checked). ensures: the next step is step number n + 1.
  void set_iterations(std::int64_t n) {
    check(n >= 0, name_, "::set_iterations: negative iteration count ", n);
    iterations_ = n;
  }

  // requires: no step taken yet; every >= 1, total_steps >= 1, 0 <= decay <= 1, power >= 0
  // (all checked). ensures: steps synchronise with a slow copy as the header says; state()
  // gains "slow_weights" (the weights as they were before the first step, then the average).
  void enable_lookahead(const LookaheadOptions& options) {
    check(iterations_ == 0 && lookahead_.total_steps == 0, name_,
          ": enable Lookahead once, before the first step (", iterations_, " steps taken)");
    check(options.every >= 1 && options.total_steps >= 1, name_, ": Lookahead needs every >= 1 and total_steps >= 1, got ",
          options.every, " and ", options.total_steps);
    check(options.decay >= 0 && options.decay <= 1 && std::isfinite(options.power) && options.power >= 0, name_,
          ": Lookahead needs 0 <= decay <= 1 and a finite power >= 0, got ", options.decay, " and ", options.power);
    lookahead_ = options;
    state_.emplace_back("slow_weights", Tensor<T>());
  }
  const LookaheadOptions& lookahead() const { return lookahead_; }  // total_steps 0: off

  // ensures: the named state tensors (e.g. "m", "v"; none for plain SGD). Empty before the
  // first step; a checkpoint loader may assign them (they must then hold as many elements
  // as the parameter buffer, on its device) or overwrite their elements.
  std::vector<std::pair<std::string, Tensor<T>*>> state() {
    std::vector<std::pair<std::string, Tensor<T>*>> out;
    for (auto& s : state_) out.emplace_back(s.first, &s.second);
    return out;
  }

 protected:
  // requires: learning_rate, weight_decay as for the setters (checked); state names unique.
  Optimizer(std::string name, double learning_rate, double weight_decay, const std::vector<std::string>& state_names)
      : name_(std::move(name)) {
    set_learning_rate(learning_rate);
    set_weight_decay(weight_decay);
    for (const auto& s : state_names) state_.emplace_back(s, Tensor<T>());
  }

  // A run of elements updated with the same multipliers.
  struct Segment {
    std::int64_t offset, count;
    double lr_mult, decay_mult;
  };
  using Segments = std::vector<Segment>;

  // requires: segments validated, ascending and disjoint; state tensors sized like values;
  // iterations() already counts this step. ensures: the update applied on each segment with
  // learning_rate() * lr_mult and weight_decay() * decay_mult.
  virtual void apply(Tensor<T>& values, const Tensor<T>& grads, const Segments& segments) = 0;

  // ensures: the i-th state tensor (in the order of the constructor's state_names).
  Tensor<T>& state_tensor(std::size_t i) { return state_[i].second; }

 private:
  Tensor<T>& slow_weights() { return state_.back().second; }  // enable_lookahead() appends it

  // requires: Lookahead on, iterations_ counts the step just applied.
  // ensures: the synchronisation of the header when this step is due (step total_steps always is).
  void synchronise_lookahead(Tensor<T>& values) {
    const std::int64_t t = iterations_, total = lookahead_.total_steps;
    if (t != total && t % lookahead_.every != 0) return;
    const double progress = std::min(1.0, static_cast<double>(t) / static_cast<double>(total));
    const double decay = lookahead_.decay * std::pow(progress, lookahead_.power);
    lookahead_sync(values, slow_weights(), 0, values.numel(), static_cast<T>(decay));
  }

  // ensures: merged_ranges_ holds `ranges` with adjacent ones joined (a layer's kernel and
  // bias become one update); an Error naming the bad range otherwise.
  void merge_ranges(std::int64_t size, const Ranges& ranges) {
    merged_ranges_.clear();
    std::int64_t previous_end = 0;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      const std::int64_t offset = ranges[i].first, count = ranges[i].second;
      check(offset >= 0 && count >= 0 && offset + count <= size, name_, "::step: range ", i, " [", offset, ",",
            offset + count, ") is outside the parameter buffer of ", size, " elements");
      check(offset >= previous_end, name_, "::step: range ", i, " [", offset, ",", offset + count,
            ") overlaps or precedes the previous range, which ends at ", previous_end,
            " (ranges must be ascending and disjoint)");
      if (count == 0) continue;
      if (!merged_ranges_.empty() && merged_ranges_.back().first + merged_ranges_.back().second == offset)
        merged_ranges_.back().second += count;
      else
        merged_ranges_.emplace_back(offset, count);
      previous_end = offset + count;
    }
  }

  // requires: merged_ranges_ set. ensures: segments_ covers merged_ranges_ exactly, cut where
  // a multiplier's run starts or ends, each piece with its run's multipliers (else 1, 1);
  // an Error naming the bad multiplier run when they are not ascending and disjoint.
  void split_by_multipliers(const std::vector<UpdateMultiplier>& multipliers) {
    for (std::size_t i = 1; i < multipliers.size(); ++i)
      check(multipliers[i].offset >= multipliers[i - 1].offset + multipliers[i - 1].count, name_,
            "::step: multiplier run ", i, " at ", multipliers[i].offset, " overlaps or precedes the previous one");
    segments_.clear();
    std::size_t m = 0;
    for (const auto& range : merged_ranges_) {
      std::int64_t at = range.first;
      const std::int64_t end = range.first + range.second;
      while (at < end) {
        while (m < multipliers.size() && multipliers[m].offset + multipliers[m].count <= at) ++m;
        if (m == multipliers.size() || multipliers[m].offset >= end) {
          segments_.push_back({at, end - at, 1, 1});
          break;
        }
        const UpdateMultiplier& run = multipliers[m];
        if (run.offset > at) {
          segments_.push_back({at, run.offset - at, 1, 1});
          at = run.offset;
        }
        const std::int64_t stop = std::min(end, run.offset + run.count);
        segments_.push_back({at, stop - at, run.lr_mult, run.decay_mult});
        at = stop;
      }
    }
  }

  // ensures: every state tensor holds values.numel() elements (zero-filled when it was empty).
  void prepare_state(const Tensor<T>& values) {
    for (auto& s : state_) {
      if (s.second.empty()) {
        s.second = Tensor<T>(values.shape(), values.device());
        continue;
      }
      check(s.second.numel() == values.numel(), name_, ": state tensor '", s.first, "' holds ", s.second.numel(),
            " elements but the parameter buffer holds ", values.numel(), " (restored from another model?)");
    }
  }

  std::string name_;
  double learning_rate_ = 0, weight_decay_ = 0;
  std::int64_t iterations_ = 0;
  std::vector<std::pair<std::string, Tensor<T>>> state_;
  Ranges merged_ranges_, model_ranges_;  // reused every step
  std::vector<UpdateMultiplier> model_multipliers_;
  Segments segments_;
  LookaheadOptions lookahead_{0, 0, 0, 0};  // off until enable_lookahead()
};

}  // namespace tinynet
