// tinynet/layers/bottleneck.hpp: the ResNet v1 bottleneck residual block (Keras ResNet50).
//
//   main:     conv_a 1x1/stride -> bn_a + relu -> conv_b 3x3 same -> bn_b + relu
//             -> conv_c 1x1 (4 x filters) -> bn_c
//   shortcut: conv_shortcut 1x1/stride -> bn_shortcut   (projection; when the shape changes)
//             or the input itself                         (identity)
//   output:   relu(main + shortcut)
// The stride sits on the first 1x1 convolution, as in keras.applications.ResNet50 (v1).
// bn_a and bn_b carry the ReLUs that follow them, fused (BatchNormOptions::relu).
// In inference (!training()) each convolution runs with its batch norm (and ReLU) folded
// into its output pass (Conv2D::forward_with_batch_norm); a backward() after such a
// forward first repeats the forward layer by layer, since the fused pass keeps nothing.
// Sub-layer names (used by checkpoints and weight import): conv_a, bn_a, conv_b, bn_b,
// conv_c, bn_c, conv_shortcut, bn_shortcut.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "tinynet/backend/activation.hpp"
#include "tinynet/backend/elementwise.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/composite.hpp"
#include "tinynet/layers/conv2d.hpp"

namespace tinynet {

struct BottleneckOptions {
  int stride = 1;
  bool projection = false;  // a conv + BN shortcut (required when stride > 1 or channels change)
  bool conv_bias = true;    // Keras' ResNet50 convolutions carry biases
  BatchNormOptions batch_norm{};  // its relu flag is ignored: the block places the ReLUs
};

template <class T>
class Bottleneck : public Composite<T> {
 public:
  // requires: filters >= 1; the output has 4 * filters channels.
  Bottleneck(int filters, BottleneckOptions options = {}) : filters_(filters), options_(options) {
    check(filters >= 1 && options.stride >= 1, "Bottleneck: filters ", filters, " and stride ", options.stride,
          " must be >= 1");
    const int s = options.stride;
    const bool bias = options.conv_bias;
    BatchNormOptions bn_relu = options.batch_norm, bn_plain = options.batch_norm;
    bn_relu.relu = true;
    bn_plain.relu = false;
    conv_a_ = &add_child<Conv2D<T>>("conv_a", filters, 1, s, Padding::valid, bias);
    bn_a_ = &add_child<BatchNorm<T>>("bn_a", bn_relu);
    conv_b_ = &add_child<Conv2D<T>>("conv_b", filters, 3, 1, Padding::same, bias);
    bn_b_ = &add_child<BatchNorm<T>>("bn_b", bn_relu);
    conv_c_ = &add_child<Conv2D<T>>("conv_c", 4 * filters, 1, 1, Padding::valid, bias);
    bn_c_ = &add_child<BatchNorm<T>>("bn_c", bn_plain);
    if (options.projection) {
      conv_shortcut_ = &add_child<Conv2D<T>>("conv_shortcut", 4 * filters, 1, s, Padding::valid, bias);
      bn_shortcut_ = &add_child<BatchNorm<T>>("bn_shortcut", bn_plain);
    }
  }

  std::string type() const override { return "Bottleneck"; }
  std::string config() const override {
    return std::to_string(filters_) + "/" + std::to_string(options_.stride) +
           (options_.projection ? " projection" : " identity");
  }

  Shape build(const Shape& in) override {
    check(in.rank() == 3, this->label(), ": needs [C,H,W] input, got ", in);
    Shape main = in;
    for (Layer<T>* l : main_path()) main = l->build_once(main);
    Shape shortcut = in;
    if (options_.projection) shortcut = bn_shortcut_->build_once(conv_shortcut_->build_once(in));
    check(main == shortcut, this->label(), ": the shortcut gives ", shortcut, " but the main path ", main,
          " (an identity shortcut needs stride 1 and ", 4 * filters_, " input channels; use projection)");
    this->adopt_children_parameters();
    return main;
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    input_ = x;
    folded_ = !this->training();
    if (!folded_) return forward_layer_by_layer(x);
    const Tensor<T>& a = conv_a_->forward_with_batch_norm(x, folded(*bn_a_));
    const Tensor<T>& b = conv_b_->forward_with_batch_norm(a, folded(*bn_b_));
    const Tensor<T>& c = conv_c_->forward_with_batch_norm(b, folded(*bn_c_));
    return join(c, options_.projection ? conv_shortcut_->forward_with_batch_norm(x, folded(*bn_shortcut_)) : x);
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    if (folded_) {  // the sub-layers kept no inputs: run them once more (same result)
      forward_layer_by_layer(input_);
      folded_ = false;
    }
    this->check_grad_output(dy, output_);
    GradientPool<T>& pool = this->gradient_pool_for(dy);
    grad_sum_ = pool.block_other_than({&dy});
    grad_sum_.resize(dy.shape(), dy.device());
    relu_backward(output_, dy, grad_sum_);
    typename GradientPool<T>::Pin keep_sum(pool, grad_sum_);  // the shortcut reads it after the main path
    const Tensor<T>* g = &grad_sum_;
    auto path = main_path();
    for (std::size_t i = path.size(); i-- > 0;) {
      path[i]->set_input_grad_needed(i > 0 || this->input_grad_needed());
      g = &this->backward_child(*path[i], *g, pool);
    }
    typename GradientPool<T>::Pin keep_main(pool, *g);
    const Tensor<T>* g_shortcut = &grad_sum_;
    if (options_.projection) {
      conv_shortcut_->set_input_grad_needed(this->input_grad_needed());
      g_shortcut = &this->backward_child(*bn_shortcut_, grad_sum_, pool);
      g_shortcut = &this->backward_child(*conv_shortcut_, *g_shortcut, pool);
    }
    if (!this->input_grad_needed()) return this->grad_input_ = Tensor<T>();
    this->grad_input_ = pool.block_other_than({g, g_shortcut});
    this->grad_input_.resize(g->shape(), g->device());
    add_forward(*g, *g_shortcut, this->grad_input_);
    return this->grad_input_;
  }

 private:
  template <class L, class... Args>
  L& add_child(const std::string& name, Args&&... args) {
    auto layer = std::make_unique<L>(std::forward<Args>(args)...);
    layer->set_name(name);
    return static_cast<L&>(this->adopt(std::move(layer)));
  }
  const Tensor<T>& forward_layer_by_layer(const Tensor<T>& x) {
    const Tensor<T>* h = &x;
    for (Layer<T>* l : main_path()) h = &l->forward(*h);
    return join(*h, options_.projection ? bn_shortcut_->forward(conv_shortcut_->forward(x)) : x);
  }
  // requires: main the output of bn_c (or of conv_c with bn_c folded).
  // ensures: output_ = relu(main + shortcut), written over main: nothing reads main again
  // (bn_c has no ReLU, so its backward needs only its input; conv_c's needs only its input),
  // and the block keeps one tensor of its output's size instead of two.
  const Tensor<T>& join(const Tensor<T>& main, const Tensor<T>& shortcut) {
    output_ = main;  // shares main's storage
    add_relu_forward(main, shortcut, output_);
    return output_;
  }
  // ensures: bn's inference-mode parameters, for Conv2D::forward_with_batch_norm.
  static FoldedBatchNorm<T> folded(const BatchNorm<T>& bn) {
    return {bn.gamma(), bn.beta(), bn.moving_mean(), bn.moving_variance(), bn.epsilon(), bn.relu()};
  }
  std::array<Layer<T>*, 6> main_path() const { return {conv_a_, bn_a_, conv_b_, bn_b_, conv_c_, bn_c_}; }

  int filters_;
  BottleneckOptions options_;
  Conv2D<T>*conv_a_, *conv_b_, *conv_c_, *conv_shortcut_ = nullptr;
  BatchNorm<T>*bn_a_, *bn_b_, *bn_c_, *bn_shortcut_ = nullptr;
  Tensor<T> input_, output_, grad_sum_;
  bool folded_ = false;  // the last forward() folded the batch norms (inference)
};

}  // namespace tinynet
