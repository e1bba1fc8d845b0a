// tinynet/layers/layer.hpp: the interface every layer implements.
//
// Life cycle: construct with hyper-parameters -> build(sample_shape) once (declares
// parameters, returns the output sample shape; shapes exclude the batch dimension,
// as Keras' input_shape does) -> initialize(rng) -> forward/backward any number of
// times. forward() and backward() return references to buffers the layer owns
// and reuses, so a training step allocates nothing once shapes are stable.
//
// forward(x):       requires x.shape() == [N] + built input shape (checked);
//                   ensures the output [N] + output shape; in training mode keeps
//                   what backward needs.
// backward(dy):     requires forward() was called on this batch, dy shaped as the
//                   output; ensures grads() of the trainable entries hold dLoss/dparam
//                   (overwritten, not accumulated; skipped when !trainable()) and
//                   returns dLoss/dx (an empty tensor when input_grad_needed() is false).
//                   Inside a model, dx lives in a block the model lends from its
//                   GradientPool: it stays valid until the model's next backward().
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/gradient_pool.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/layers/parameter_set.hpp"

namespace tinynet {

// A run [offset, offset + count) of a model's parameter buffer whose updates use
// lr * lr_mult and decoupled decay weight_decay * decay_mult (ParameterSet::set_update_multipliers).
struct UpdateMultiplier {
  std::int64_t offset, count;
  double lr_mult, decay_mult;
};

template <class T>
class Layer {
 public:
  virtual ~Layer() = default;

  // The Keras class name, e.g. "Conv2D".
  virtual std::string type() const = 0;
  // ensures: the output sample shape; declares the parameters. Called once.
  virtual Shape build(const Shape& input_sample_shape) = 0;
  // ensures: Keras default initial values (glorot_uniform kernels, zero biases, ...).
  virtual void initialize(Rng& /*rng*/) {}
  virtual const Tensor<T>& forward(const Tensor<T>& x) = 0;
  virtual const Tensor<T>& backward(const Tensor<T>& grad_output) = 0;
  // ensures: hyper-parameters in one line, for summaries and error messages.
  virtual std::string config() const { return ""; }

  const std::string& name() const { return name_; }
  void set_name(const std::string& name) { name_ = name; }
  bool is_built() const { return built_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }

  // A frozen (non-trainable) layer keeps its weights: no gradients are computed for
  // them and optimizers skip them. BatchNorm statistics follow the training mode.
  bool trainable() const { return trainable_; }
  virtual void set_trainable(bool trainable) { trainable_ = trainable; }
  bool training() const { return training_; }
  virtual void set_training(bool training) { training_ = training; }
  bool input_grad_needed() const { return input_grad_needed_; }
  void set_input_grad_needed(bool needed) { input_grad_needed_ = needed; }

  ParameterSet<T>& parameters() { return params_; }
  const ParameterSet<T>& parameters() const { return params_; }
  // ensures: this layer's parameters (and any sub-layer's) live in the given buffers.
  virtual void bind_parameters(const Tensor<T>& values, const Tensor<T>& grads) { params_.bind(values, grads); }
  // requires: called on the outermost layer (a model), after initialize() or loading weights.
  // ensures: parameters (and every sub-layer's) moved to `device`, values copied, gradients
  // zeroed; forward() then takes inputs on that device and keeps its buffers there. An Error
  // for Device::cuda when tinynet is built without the cuDNN backend.
  void to(Device device) {
    const Shape flat{params_.size()};
    bind_parameters(Tensor<T>(flat, device), Tensor<T>(flat, device));
  }
  // ensures: the device the parameters live on.
  Device device() const { return params_.values().device(); }
  // ensures: the [offset, count) ranges of the parameter buffer an optimizer may update.
  virtual void collect_trainable_ranges(std::int64_t base, std::vector<std::pair<std::int64_t, std::int64_t>>& out) const {
    if (!trainable_) return;
    for (const auto& e : params_.entries())
      if (e.kind == ParameterKind::weight) out.emplace_back(base + e.offset, e.shape.numel());
  }
  // ensures: the runs of the parameter buffer with multipliers other than 1 (ascending).
  virtual void collect_update_multipliers(std::int64_t base, std::vector<UpdateMultiplier>& out) const {
    for (const auto& e : params_.entries())
      if (e.kind == ParameterKind::weight && (e.lr_mult != 1 || e.decay_mult != 1))
        out.push_back({base + e.offset, e.shape.numel(), e.lr_mult, e.decay_mult});
  }

  // ensures: the next backward() writes dLoss/dx into `block`'s storage (a container's
  // GradientPool block, large enough for it) instead of storage of its own.
  void lend_grad_input(const Tensor<T>& block) { grad_input_ = block; }
  // ensures: this layer's containers (and their sub-layers) lend blocks of `pool`.
  virtual void share_gradient_pool(GradientPool<T>* /*pool*/) {}
  // ensures: the largest input or output gradient of one sample, in elements, of this layer
  // and any sub-layer (what a GradientPool block must hold per sample).
  virtual std::int64_t largest_gradient_sample_numel() const {
    return std::max(input_shape_.numel(), output_shape_.numel());
  }

  // ensures: (name, generator) of every random generator whose state a checkpoint must
  // keep (Dropout's), this layer's and its sub-layers'.
  virtual void collect_rngs(std::vector<std::pair<std::string, Rng*>>& /*out*/) {}

  // Called by Sequential/containers; runs build() and records the shapes.
  Shape build_once(const Shape& input_sample_shape) {
    check(!built_, type(), " '", name_, "': already built for input ", input_shape_);
    input_shape_ = input_sample_shape;
    output_shape_ = build(input_sample_shape);
    built_ = true;
    return output_shape_;
  }

 protected:
  // ensures: Error naming this layer unless x is [N] + the built input shape. (Checks run
  // every step build their messages only when they fail, so a step allocates nothing.)
  void check_input(const Tensor<T>& x) const {
    if (!built_) fail(type(), " '", name_, "': forward() before build()");
    bool ok = x.rank() == input_shape_.rank() + 1;
    for (int i = 0; ok && i < input_shape_.rank(); ++i) ok = x.dim(i + 1) == input_shape_[i];
    if (!ok)
      fail(type(), " '", name_, "': input shape ", x.shape(), " does not match the built input shape [N,",
           input_shape_.str().substr(1));
  }
  // ensures: Error unless dy has the shape of the last output.
  void check_grad_output(const Tensor<T>& dy, const Tensor<T>& y) const {
    if (dy.shape() != y.shape())
      fail(type(), " '", name_, "': backward() got gradient ", dy.shape(), ", the last forward() produced ", y.shape());
  }
  std::string label() const { return type() + " '" + name_ + "'"; }

  ParameterSet<T> params_;
  Shape input_shape_, output_shape_;
  Tensor<T> grad_input_;  // dLoss/dx of the last backward(): own storage or a lent block

 private:
  std::string name_;
  bool built_ = false;
  bool trainable_ = true;
  bool training_ = true;
  bool input_grad_needed_ = true;
};

template <class T>
using LayerPtr = std::unique_ptr<Layer<T>>;

}  // namespace tinynet
