// tinynet/layers/sequential.hpp: Sequential, a run-time stack of layers (keras.Sequential).
//
//   Sequential<float> model;
//   model.add<Conv2D<float>>(32, 3);            // or model.add(std::make_unique<...>())
//   model.add<ReLU<float>>();
//   model.setup(Shape{3, 32, 32}, /*seed=*/1);  // build + Keras initialisation
//   const Tensor<float>& logits = model.forward(batch);
//   model.backward(dlogits);                    // parameter gradients in parameters().grads()
//
// All parameters of the model are one contiguous buffer (parameters().values()),
// with per-layer views. A Sequential is itself a Layer, so models nest.
#pragma once

#include <functional>
#include <iomanip>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>

#include "tinynet/layers/composite.hpp"

namespace tinynet {

template <class T>
class Sequential : public Composite<T> {
 public:
  Sequential() = default;
  explicit Sequential(std::string name) { this->set_name(std::move(name)); }

  std::string type() const override { return "Sequential"; }

  // requires: not built yet. ensures: the layer appended (auto-named when unnamed).
  Layer<T>& add(LayerPtr<T> layer) {
    check(!this->is_built(), this->label(), ": add() after the model was built");
    return this->adopt(std::move(layer));
  }
  template <class L, class... Args>
  L& add(Args&&... args) {
    return static_cast<L&>(add(std::make_unique<L>(std::forward<Args>(args)...)));
  }

  Shape build(const Shape& in) override {
    check(!this->children_.empty(), this->label(), ": cannot build an empty model");
    Shape shape = in;
    for (auto& c : this->children_) {
      try {
        shape = c->build_once(shape);
      } catch (const Error& e) {
        fail(this->label(), ": building layer '", c->name(), "' (", c->type(), ") on input ", shape, ": ", e.what());
      }
    }
    this->adopt_children_parameters();
    return shape;
  }

  // ensures: built for `sample_shape` (no batch dimension) and initialised from `seed`.
  void setup(const Shape& sample_shape, std::uint64_t seed = 0) {
    this->build_once(sample_shape);
    Rng rng(seed);
    this->initialize(rng);
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    const Tensor<T>* h = &x;
    for (auto& c : this->children_) h = &c->forward(*h);
    return *h;
  }

  // Unless the caller asks for dx, backward stops at the first child with trainable
  // weights, which computes no input gradient: nothing is spent on a frozen base or on
  // dx behind ResNet50's conv1.
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    std::size_t first_learning = this->children_.size();
    for (std::size_t i = 0; i < this->children_.size() && first_learning == this->children_.size(); ++i) {
      const auto& c = *this->children_[i];
      if (c.trainable() && c.parameters().count(ParameterKind::weight) > 0) first_learning = i;
    }
    const std::size_t stop = this->input_grad_needed() ? 0 : std::min(first_learning, this->children_.size());
    GradientPool<T>& pool = this->gradient_pool_for(dy);
    const Tensor<T>* g = &dy;
    std::int64_t offset = this->parameters().size();  // where child i's parameters begin
    for (std::size_t i = this->children_.size(); i-- > stop;) {
      this->children_[i]->set_input_grad_needed(i > stop || this->input_grad_needed());
      g = &this->backward_child(*this->children_[i], *g, pool);
      offset -= this->children_[i]->parameters().size();
      if (backward_observer_) backward_observer_(offset);
    }
    return stop > 0 ? no_gradient_ : *g;
  }

  // ensures: from now on backward() calls observer(offset) after each child's backward, with
  // the offset in parameters() where that child's parameters begin: every gradient at or
  // after it is final for this step (data-parallel training starts sending them). An empty
  // function removes the observer.
  void set_backward_observer(std::function<void(std::int64_t)> observer) { backward_observer_ = std::move(observer); }

  // ensures: the optimizer's view of the model: [offset, count) ranges of parameters().values().
  std::vector<std::pair<std::int64_t, std::int64_t>> trainable_ranges() const {
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    this->collect_trainable_ranges(0, out);
    return out;
  }

  // ensures: a table like Keras' model.summary(): layer, output shape, parameter count.
  void summary(std::ostream& os) const {
    const int w1 = 44, w2 = 22;
    const std::string rule(w1 + w2 + 12, '-');
    os << rule << '\n'
       << std::left << std::setw(w1) << "Layer (type)" << std::setw(w2) << "Output Shape" << "Param #\n"
       << std::string(rule.size(), '=') << '\n';
    for (const auto& c : this->children_) {
      std::ostringstream shape;
      shape << "(None";
      for (int i = 0; i < c->output_shape().rank(); ++i) shape << ", " << c->output_shape()[i];
      shape << ")";
      os << std::setw(w1) << (c->name() + " (" + c->type() + ")") << std::setw(w2) << shape.str()
         << c->parameters().size() << '\n';
    }
    const auto& p = this->parameters();
    std::int64_t trainable = 0;
    for (const auto& r : trainable_ranges()) trainable += r.second;
    os << std::string(rule.size(), '=') << '\n'
       << "Total params: " << p.size() << '\n'
       << "Trainable params: " << trainable << '\n'
       << "Non-trainable params: " << p.size() - trainable << '\n'
       << rule << '\n';
  }

 private:
  Tensor<T> no_gradient_;  // returned when no input gradient was computed
  std::function<void(std::int64_t)> backward_observer_;
};

}  // namespace tinynet
