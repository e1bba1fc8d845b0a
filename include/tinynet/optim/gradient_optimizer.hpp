// tinynet/optim/gradient_optimizer.hpp: GradientOptimizer, the base of Adam and SGD.
//
// It owns what every elementwise update rule shares: the learning rate, the decoupled weight
// decay, the step count, the named state tensors, and the cutting of a step's ranges into
// segments of equal update multipliers. A subclass implements apply() on those segments.
// State tensors (Adam's moments, SGD's velocity) are allocated zero-filled on the first step
// on the parameters' device. Weight decay is decoupled (as in PyTorch's AdamW/SGDW and Keras'
// weight_decay): p <- p - lr * weight_decay * p on the same ranges, before the gradient update.
// Update multipliers (Caffe's lr_mult / decay_mult, PyTorch's parameter groups) scale both
// for parts of the buffer: a model's collect_update_multipliers() names them (e.g. the
// BatchNorm biases of the fast recipe's network learn at 64x the rate).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/optim/optimizer.hpp"

namespace tinynet {

template <class T>
class GradientOptimizer : public Optimizer<T> {
 public:
  using typename Optimizer<T>::Ranges;
  using typename Optimizer<T>::StateTensors;

  const std::string& name() const override { return name_; }

  double learning_rate() const override { return learning_rate_; }
  void set_learning_rate(double learning_rate) override {
    check(std::isfinite(learning_rate) && learning_rate >= 0, name_, ": learning rate ", learning_rate,
          " must be finite and >= 0");
    learning_rate_ = learning_rate;
  }
  double weight_decay() const override { return weight_decay_; }
  void set_weight_decay(double weight_decay) override {
    check(std::isfinite(weight_decay) && weight_decay >= 0, name_, ": weight decay ", weight_decay,
          " must be finite and >= 0");
    weight_decay_ = weight_decay;
  }

  std::int64_t iterations() const override { return iterations_; }
  void set_iterations(std::int64_t n) override {
    check(n >= 0, name_, "::set_iterations: negative iteration count ", n);
    iterations_ = n;
  }

  StateTensors state() override {
    StateTensors out;
    for (auto& s : state_) out.emplace_back(s.first, &s.second);
    return out;
  }

 protected:
  // requires: learning_rate, weight_decay as for the setters (checked); state names unique.
  GradientOptimizer(std::string name, double learning_rate, double weight_decay,
                    const std::vector<std::string>& state_names)
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

  void update(Tensor<T>& values, const Tensor<T>& grads, const Ranges& ranges,
              const std::vector<UpdateMultiplier>& multipliers) override {
    check(values.numel() == grads.numel(), name_, "::step: values hold ", values.numel(), " elements but grads hold ",
          grads.numel());
    merge_ranges(values.numel(), ranges);
    split_by_multipliers(multipliers);
    prepare_state(values);
    ++iterations_;
    apply(values, grads, segments_);
  }

 private:
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
  Ranges merged_ranges_;  // reused every step
  Segments segments_;
};

}  // namespace tinynet
