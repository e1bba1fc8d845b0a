// tinynet/layers/parameter_set.hpp: a layer's parameters in one contiguous buffer.
//
// A ParameterSet holds every parameter tensor of a layer (kernels, biases, BN
// gamma/beta and the BN moving statistics) back to back in one 1-D `values`
// buffer, with a gradient buffer `grads` of the same size. Each entry is a named
// view into both. Optimizers, checkpoints and device copies work on the flat
// buffers; layers work on the views. A model binds every layer's set into one
// model-wide buffer (bind()), so a whole network is a single allocation.
// Each weight may carry Caffe-style update multipliers (lr_mult, decay_mult; PyTorch's
// per-parameter-group lr and weight_decay): the optimizer steps it with learning rate
// lr * lr_mult and decoupled decay weight_decay * decay_mult.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "tinynet/backend/device_copy.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

enum class ParameterKind {
  weight,     // learned by the optimizer, has a gradient
  statistic,  // running state (BN moving mean/variance): saved, never optimised
};

template <class T>
class ParameterSet {
 public:
  struct Entry {
    std::string name;
    Shape shape;
    std::int64_t offset;
    ParameterKind kind;
    double lr_mult = 1;     // learning-rate multiplier
    double decay_mult = 1;  // weight-decay multiplier
  };

  // requires: a name unique in this set. ensures: a zero-filled entry appended (the
  // buffers grow on next access, previous values kept); returns the entry's index.
  int add(const std::string& name, const Shape& shape, ParameterKind kind = ParameterKind::weight) {
    for (const auto& e : entries_) check(e.name != name, "ParameterSet: duplicate parameter name '", name, "'");
    entries_.push_back({name, shape, size(), kind});
    return static_cast<int>(entries_.size()) - 1;
  }

  // requires: `name` a weight entry; finite multipliers, lr_mult >= 0, decay_mult >= 0 (all
  // checked). ensures: the optimizers update that entry with lr * lr_mult and decoupled
  // decay weight_decay * decay_mult (collected by Layer::collect_update_multipliers()).
  void set_update_multipliers(const std::string& name, double lr_mult, double decay_mult) {
    Entry& e = entries_[static_cast<std::size_t>(find(name))];
    check(e.kind == ParameterKind::weight, "ParameterSet: '", name, "' is a statistic, not a weight; it has no updates");
    check(std::isfinite(lr_mult) && lr_mult >= 0 && std::isfinite(decay_mult) && decay_mult >= 0,
          "ParameterSet: update multipliers of '", name, "' must be finite and >= 0, got lr_mult ", lr_mult,
          " decay_mult ", decay_mult);
    e.lr_mult = lr_mult;
    e.decay_mult = decay_mult;
  }

  // ensures: entries removed, buffers released.
  void clear() {
    entries_.clear();
    values_ = Tensor<T>();
    grads_ = Tensor<T>();
  }

  const std::vector<Entry>& entries() const { return entries_; }
  std::int64_t size() const { return entries_.empty() ? 0 : entries_.back().offset + entries_.back().shape.numel(); }
  std::int64_t count(ParameterKind kind) const {
    std::int64_t n = 0;
    for (const auto& e : entries_) n += e.kind == kind ? e.shape.numel() : 0;
    return n;
  }

  Tensor<T>& values() { return allocated().values_; }
  const Tensor<T>& values() const { return allocated().values_; }
  Tensor<T>& grads() { return allocated().grads_; }
  const Tensor<T>& grads() const { return allocated().grads_; }

  // ensures: a view of entry i in the value (resp. gradient) buffer.
  Tensor<T> value(int i) const { return values().view(entry(i).offset, entry(i).shape); }
  Tensor<T> grad(int i) const { return grads().view(entry(i).offset, entry(i).shape); }
  // ensures: index of the entry called `name`; an Error listing the names when absent.
  int find(const std::string& name) const {
    std::string known;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].name == name) return static_cast<int>(i);
      known += (i ? ", " : "") + entries_[i].name;
    }
    fail("ParameterSet: no parameter '", name, "' (has: ", known, ")");
  }

  // requires: both tensors hold size() elements. ensures: current values copied into
  // `values` (from any device to any device), which (with `grads`) becomes this set's
  // storage from now on.
  void bind(const Tensor<T>& values, const Tensor<T>& grads) {
    check(values.numel() == size() && grads.numel() == size(), "ParameterSet::bind: buffers of ", values.numel(),
          " and ", grads.numel(), " elements for a set of ", size());
    Tensor<T> v = values.reshaped(Shape{size()});
    if (size() > 0 && !v.same_storage(this->values())) copy_elements(values_, v);
    values_ = v;
    grads_ = grads.reshaped(Shape{size()});
  }

 private:
  const Entry& entry(int i) const {
    check(i >= 0 && i < static_cast<int>(entries_.size()), "ParameterSet: no entry ", i);
    return entries_[i];
  }

  // ensures: buffers hold size() elements (grown after add(), old values kept).
  const ParameterSet& allocated() const {
    if (values_.numel() != size()) {
      Tensor<T> values(Shape{size()});
      values.view(0, Shape{values_.numel()}).copy_from(values_);
      values_ = values;
      grads_ = Tensor<T>(Shape{size()});
    }
    return *this;
  }
  ParameterSet& allocated() {
    static_cast<const ParameterSet&>(*this).allocated();
    return *this;
  }

  std::vector<Entry> entries_;
  mutable Tensor<T> values_{Shape{0}};  // grown lazily by allocated()
  mutable Tensor<T> grads_{Shape{0}};
};

}  // namespace tinynet
