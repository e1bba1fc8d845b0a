// tinynet/layers/composite.hpp: a layer made of sub-layers (Sequential, Bottleneck).
//
// A Composite owns its children. After the children are built, adopt_children()
// declares their parameters in the composite's own set (as "child/entry") and binds
// every child into that one buffer, so a composite's parameters are contiguous too.
// Training mode and trainability propagate to the children. In backward() the outermost
// composite owns a GradientPool and lends its blocks to every layer inside it (its children,
// their children, ...) for their input gradients (core/gradient_pool.hpp).
#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class Composite : public Layer<T> {
 public:
  std::size_t size() const { return children_.size(); }
  Layer<T>& layer(std::size_t i) {
    if (i >= children_.size()) fail(this->label(), ": no layer ", i, " (has ", children_.size(), ")");
    return *children_[i];
  }
  const Layer<T>& layer(std::size_t i) const { return const_cast<Composite&>(*this).layer(i); }
  // ensures: the child called `name`; an Error when there is none.
  Layer<T>& layer(const std::string& name) {
    for (auto& c : children_)
      if (c->name() == name) return *c;
    fail(this->label(), ": no layer named '", name, "'");
  }

  void set_training(bool training) override {
    Layer<T>::set_training(training);
    for (auto& c : children_) c->set_training(training);
  }
  void set_trainable(bool trainable) override {
    Layer<T>::set_trainable(trainable);
    for (auto& c : children_) c->set_trainable(trainable);
  }
  void initialize(Rng& rng) override {
    for (auto& c : children_) c->initialize(rng);
  }
  void bind_parameters(const Tensor<T>& values, const Tensor<T>& grads) override {
    this->params_.bind(values, grads);
    bind_children();
  }
  void share_gradient_pool(GradientPool<T>* pool) override {
    if (pool != owned_pool_.get()) owned_pool_.reset();
    pool_ = pool;
    for (auto& c : children_) c->share_gradient_pool(pool);
  }
  // ensures: the pool backward() lent from (null before the first backward()).
  const GradientPool<T>* gradient_pool() const { return pool_; }
  std::int64_t largest_gradient_sample_numel() const override {
    std::int64_t largest = Layer<T>::largest_gradient_sample_numel();
    for (const auto& c : children_) largest = std::max(largest, c->largest_gradient_sample_numel());
    return largest;
  }
  void collect_rngs(std::vector<std::pair<std::string, Rng*>>& out) override {
    for (auto& c : children_) {
      std::vector<std::pair<std::string, Rng*>> inner;
      c->collect_rngs(inner);
      for (auto& r : inner) out.emplace_back(c->name() + (r.first.empty() ? "" : "/" + r.first), r.second);
    }
  }
  void collect_trainable_ranges(std::int64_t base,
                                std::vector<std::pair<std::int64_t, std::int64_t>>& out) const override {
    for_each_child_at(base, [&](const Layer<T>& c, std::int64_t offset) { c.collect_trainable_ranges(offset, out); });
  }
  void collect_update_multipliers(std::int64_t base, std::vector<UpdateMultiplier>& out) const override {
    for_each_child_at(base, [&](const Layer<T>& c, std::int64_t offset) { c.collect_update_multipliers(offset, out); });
  }

 protected:
  // ensures: the child appended, named "<snake_type>" or "<snake_type>_<k>" when unnamed.
  Layer<T>& adopt(LayerPtr<T> child) {
    check(child != nullptr, this->label(), ": null layer");
    if (child->name().empty()) {
      const std::string base = snake_case(child->type());
      const int k = type_counts_[base]++;
      child->set_name(k == 0 ? base : base + "_" + std::to_string(k));
    }
    for (auto& c : children_)
      check(c->name() != child->name(), this->label(), ": two layers named '", child->name(), "'");
    children_.push_back(std::move(child));
    return *children_.back();
  }
  // requires: every child built. ensures: children's parameters live in this set.
  void adopt_children_parameters() {
    for (auto& c : children_)
      for (const auto& e : c->parameters().entries()) this->params_.add(c->name() + "/" + e.name, e.shape, e.kind);
    bind_children();
  }

  // requires: called at the start of backward(dy). ensures: the pool this composite lends
  // from: its container's, or (outermost) its own, with blocks for dy's batch.
  GradientPool<T>& gradient_pool_for(const Tensor<T>& dy) {
    if (!pool_) {
      owned_pool_ = std::make_unique<GradientPool<T>>();
      share_gradient_pool(owned_pool_.get());
    }
    if (pool_ == owned_pool_.get())
      pool_->reserve(std::max<std::int64_t>(dy.dim(0), 1) * largest_gradient_sample_numel(), dy.device());
    return *pool_;
  }
  // ensures: child.backward(dy), its dx written into a block of `pool` that holds neither dy
  // nor a pinned gradient.
  static const Tensor<T>& backward_child(Layer<T>& child, const Tensor<T>& dy, GradientPool<T>& pool) {
    child.lend_grad_input(pool.block_other_than({&dy}));
    return child.backward(dy);
  }

  std::vector<LayerPtr<T>> children_;

 private:
  // ensures: fn(child, offset of the child's parameters in this buffer + base) for each child.
  template <class Fn>
  void for_each_child_at(std::int64_t base, Fn fn) const {
    std::int64_t offset = base;
    for (const auto& c : children_) {
      fn(*c, offset);
      offset += c->parameters().size();
    }
  }

  void bind_children() {
    std::int64_t offset = 0;
    for (auto& c : children_) {
      const Shape n{c->parameters().size()};
      c->bind_parameters(this->params_.values().view(offset, n), this->params_.grads().view(offset, n));
      offset += n[0];
    }
  }
  static std::string snake_case(const std::string& type) {
    std::string out;
    for (std::size_t i = 0; i < type.size(); ++i) {
      const char ch = type[i];
      if (std::isupper(static_cast<unsigned char>(ch)) && i > 0 && std::islower(static_cast<unsigned char>(type[i - 1])))
        out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    return out;
  }

  std::map<std::string, int> type_counts_;
  GradientPool<T>* pool_ = nullptr;             // the pool backward() lends from
  std::unique_ptr<GradientPool<T>> owned_pool_;  // the outermost composite owns the pool
};

}  // namespace tinynet
