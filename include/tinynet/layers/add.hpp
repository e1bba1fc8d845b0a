// tinynet/layers/add.hpp: Add, as keras.layers.Add for two inputs (the residual sum).
//
// Add has two inputs, so it is not a Layer: a block that owns one calls
// forward(a, b) and routes backward(dy) to both of its branches. No parameters.
#pragma once

#include <string>
#include <utility>

#include "tinynet/backend/elementwise.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

template <class T>
class Add {
 public:
  explicit Add(std::string name = "add") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void set_name(const std::string& name) { name_ = name; }

  // requires: a and b of the same shape (an Error naming both shapes otherwise).
  // ensures: a + b, in a buffer this object owns and reuses.
  const Tensor<T>& forward(const Tensor<T>& a, const Tensor<T>& b) {
    check(a.shape() == b.shape(), "Add '", name_, "': input shapes ", a.shape(), " and ", b.shape(), " differ");
    output_.resize(a.shape(), a.device());
    add_forward(a, b, output_);
    return output_;
  }

  // requires: dy shaped as the last forward()'s output.
  // ensures: dLoss/da, which is also dLoss/db (the sum passes its gradient unchanged to
  // both inputs): a view of dy itself, no copy.
  const Tensor<T>& backward(const Tensor<T>& dy) {
    check(dy.shape() == output_.shape(), "Add '", name_, "': backward() got gradient ", dy.shape(),
          ", the last forward() produced ", output_.shape());
    grad_input_ = dy;
    return grad_input_;
  }

 private:
  std::string name_;
  Tensor<T> output_;
  Tensor<T> grad_input_;  // always a view of the last dy
};

}  // namespace tinynet
