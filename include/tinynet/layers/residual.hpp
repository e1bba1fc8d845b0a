// tinynet/layers/residual.hpp: Residual, y = x + branch(x) with an identity shortcut.
//
// Residual<T> wraps a Sequential branch whose output shape equals its input shape (as
// the residual units of ResNet-9 style networks). Backward: dx = dy + branch'(dy).
#pragma once

#include <memory>
#include <string>

#include "tinynet/backend/elementwise.hpp"
#include "tinynet/layers/sequential.hpp"

namespace tinynet {

template <class T>
class Residual : public Composite<T> {
 public:
  // requires: branch not null and not built. ensures: the branch is this layer's only child.
  explicit Residual(std::unique_ptr<Sequential<T>> branch) {
    check(branch != nullptr, "Residual: null branch");
    if (branch->name().empty()) branch->set_name("branch");
    branch_ = branch.get();
    this->adopt(std::move(branch));
  }

  std::string type() const override { return "Residual"; }

  Shape build(const Shape& in) override {
    const Shape out = branch_->build_once(in);
    check(out == in, this->label(), ": the branch maps ", in, " to ", out, "; a residual branch must keep the shape");
    this->adopt_children_parameters();
    return out;
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    const Tensor<T>& b = branch_->forward(x);
    output_.resize(x.shape(), x.device());
    add_forward(x, b, output_);
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    GradientPool<T>& pool = this->gradient_pool_for(dy);
    branch_->set_input_grad_needed(this->input_grad_needed());
    const Tensor<T>* db = nullptr;
    {
      typename GradientPool<T>::Pin keep_dy(pool, dy);  // the sum below reads dy again
      db = &this->backward_child(*branch_, dy, pool);
    }
    if (!this->input_grad_needed()) return this->grad_input_ = Tensor<T>();
    this->grad_input_ = pool.block_other_than({&dy, db});
    this->grad_input_.resize(dy.shape(), dy.device());
    add_forward(dy, *db, this->grad_input_);
    return this->grad_input_;
  }

 private:
  Sequential<T>* branch_;
  Tensor<T> output_;
};

}  // namespace tinynet
