// tinynet/core/gradient_pool.hpp: the few blocks a model's input gradients share.
//
// In backward(), a layer's dLoss/dx is needed only until the layer before it has consumed
// it. So instead of each layer keeping a gradient buffer of its own (as much memory again as
// all the activations), a model lends its layers blocks from one pool, each as large as the
// largest input gradient of the batch: before a child's backward(dy) the container lends it a
// block that holds neither dy nor a gradient the container still needs (pinned). Blocks are
// created when every one is taken (in the first step) and reused afterwards, so a steady
// training step allocates nothing. Owned by the outermost Composite (composite.hpp).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "tinynet/core/tensor.hpp"

namespace tinynet {

template <class T>
class GradientPool {
 public:
  // ensures: every block holds at least `numel` elements on `device` (blocks reallocated only
  // when they are smaller or elsewhere; contents unspecified).
  void reserve(std::int64_t numel, Device device) {
    if (numel <= numel_ && device == device_) return;
    numel_ = numel;
    device_ = device;
    for (Tensor<T>& b : blocks_) b = Tensor<T>(Shape{numel_}, device_);
  }

  // requires: reserve() called. ensures: a block sharing storage with none of `live` (empty
  // tensors never do) nor with a pinned gradient; a new block when all are taken.
  Tensor<T> block_other_than(std::initializer_list<const Tensor<T>*> live) {
    for (const Tensor<T>& b : blocks_)
      if (!holds_any(b, live)) return b;
    blocks_.emplace_back(Shape{numel_}, device_);
    return blocks_.back();
  }

  // Keeps a gradient's block from being lent while the guard lives (guards nest as a stack).
  class Pin {
   public:
    Pin(GradientPool& pool, const Tensor<T>& gradient) : pool_(pool) { pool_.pinned_.push_back(&gradient); }
    ~Pin() { pool_.pinned_.pop_back(); }
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;

   private:
    GradientPool& pool_;
  };

  // ensures: how many blocks exist (each of block_numel() elements).
  std::size_t blocks() const { return blocks_.size(); }
  std::int64_t block_numel() const { return numel_; }

 private:
  bool holds_any(const Tensor<T>& block, std::initializer_list<const Tensor<T>*> live) const {
    for (const Tensor<T>* t : live)
      if (block.same_storage(*t)) return true;
    for (const Tensor<T>* t : pinned_)
      if (block.same_storage(*t)) return true;
    return false;
  }

  std::vector<Tensor<T>> blocks_;
  std::vector<const Tensor<T>*> pinned_;
  std::int64_t numel_ = 0;
  Device device_ = Device::cpu;
};

}  // namespace tinynet
