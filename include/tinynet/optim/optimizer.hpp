// tinynet/optim/optimizer.hpp: Optimizer, the interface the Trainer and checkpoints use.
//
// An optimizer updates a model's flat parameter buffer (ParameterSet::values()) from its
// gradient buffer of the same size, only inside the [offset, count) ranges it is given:
// a model's trainable_ranges() leave out frozen layers and BatchNorm statistics, which
// therefore stay bit-identical (unless the optimizer says otherwise, as Lookahead does).
//
//   SGD<float> sgd(SgdOptions{});            // or Adam, or Lookahead<float>(inner, options)
//   model.backward(dloss);
//   sgd.step(model);   // = sgd.step(values, grads, model.trainable_ranges(), multipliers)
//
// Implementations: GradientOptimizer (optim/gradient_optimizer.hpp: the range and state
// bookkeeping of Adam and SGD) and Lookahead (optim/lookahead.hpp: a wrapper over any
// optimizer). Optimizer state is a set of named tensors shaped like the parameter buffer;
// for checkpoints, state() exposes them and set_iterations() restores the step count:
// restoring both and stepping continues exactly like an uninterrupted run.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/core/tensor.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class Optimizer {
 public:
  using Ranges = std::vector<std::pair<std::int64_t, std::int64_t>>;  // [offset, count) pairs
  using StateTensors = std::vector<std::pair<std::string, Tensor<T>*>>;

  virtual ~Optimizer() = default;

  // requires: values.numel() == grads.numel(); ranges ascending, disjoint and inside the
  // buffer; multipliers likewise ascending and disjoint; state tensors empty or of values'
  // size (all checked by the implementation, before any change).
  // ensures: iterations() incremented; the elements in `ranges` (and the state there)
  // updated, those inside a multiplier's run with lr * lr_mult and decay * decay_mult;
  // every other element untouched unless the implementation says otherwise (Lookahead).
  void step(Tensor<T>& values, const Tensor<T>& grads, const Ranges& ranges,
            const std::vector<UpdateMultiplier>& multipliers = {}) {
    update(values, grads, ranges, multipliers);
  }
  // ensures: one step on model.parameters() over the model's trainable ranges (those of
  // Sequential::trainable_ranges()) with its update multipliers. Allocates nothing once the
  // model is stable.
  void step(Layer<T>& model) {
    model_ranges_.clear();
    model.collect_trainable_ranges(0, model_ranges_);
    model_multipliers_.clear();
    model.collect_update_multipliers(0, model_multipliers_);
    update(model.parameters().values(), model.parameters().grads(), model_ranges_, model_multipliers_);
  }

  // e.g. "Adam"; used in error messages and recorded in checkpoints.
  virtual const std::string& name() const = 0;

  virtual double learning_rate() const = 0;
  // requires: a finite rate >= 0 (checked).
  virtual void set_learning_rate(double learning_rate) = 0;
  virtual double weight_decay() const = 0;
  // requires: a finite decay >= 0 (checked).
  virtual void set_weight_decay(double weight_decay) = 0;

  // The number of steps taken (Keras' optimizer.iterations); Adam's bias correction uses it.
  virtual std::int64_t iterations() const = 0;
  // requires: n >= 0 (checked). ensures: the next step is step number n + 1.
  virtual void set_iterations(std::int64_t n) = 0;

  // ensures: the named state tensors (e.g. "m", "v"; none for plain SGD). Empty before the
  // first step; a checkpoint loader may assign them (they must then hold as many elements
  // as the parameter buffer, on its device) or overwrite their elements.
  virtual StateTensors state() = 0;

 protected:
  // requires and ensures: as step(values, grads, ranges, multipliers).
  virtual void update(Tensor<T>& values, const Tensor<T>& grads, const Ranges& ranges,
                      const std::vector<UpdateMultiplier>& multipliers) = 0;

 private:
  Ranges model_ranges_;  // reused every step(model)
  std::vector<UpdateMultiplier> model_multipliers_;
};

}  // namespace tinynet
