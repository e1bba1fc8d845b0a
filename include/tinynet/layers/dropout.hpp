// tinynet/layers/dropout.hpp: Dropout, as keras.layers.Dropout (inverted dropout). Any shape.
//
// Dropout<T>(rate, seed = 0). In training mode each forward() zeroes every element with
// probability `rate` and scales the kept ones by 1/(1-rate), with a fresh mask drawn from
// the layer's own Rng (seeded from `seed`; checkpoints save its state through rng()).
// In inference mode it is the identity (output and gradient are views, no copy).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/backend/dropout.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {

template <class T>
class Dropout : public Layer<T> {
 public:
  // requires: 0 <= rate < 1.
  explicit Dropout(double rate, std::uint64_t seed = 0) : rate_(rate), rng_(seed) {
    check(rate >= 0 && rate < 1, "Dropout: rate ", rate, " is outside [0, 1)");
  }

  std::string type() const override { return "Dropout"; }
  std::string config() const override { return "rate " + std::to_string(rate_); }
  Shape build(const Shape& in) override { return in; }

  double rate() const { return rate_; }
  // ensures: the generator the masks are drawn from (to save, restore or re-seed it).
  Rng& rng() { return rng_; }
  // ensures: this layer's generator listed (unnamed: containers prefix the layer name).
  void collect_rngs(std::vector<std::pair<std::string, Rng*>>& out) override { out.emplace_back("", &rng_); }
  // requires: first_sample >= 0. ensures: the next masks are those samples [first_sample,
  // first_sample + N) of a larger batch would get (data-parallel ranks share one global mask;
  // 0, the default, for a whole batch).
  void set_first_sample(std::int64_t first_sample) {
    if (first_sample < 0) fail(this->label(), ": first sample ", first_sample, " must be >= 0");
    first_sample_ = first_sample;
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    masked_ = this->training() && rate_ > 0;
    if (!masked_) return identity_output_ = x;
    mask_.resize(x.shape(), x.device());
    output_.resize(x.shape(), x.device());
    dropout_forward(x, rate_, rng_, mask_, output_, first_sample_ * (x.numel() / std::max<std::int64_t>(1, x.dim(0))));
    return output_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, masked_ ? output_ : identity_output_);
    if (!this->input_grad_needed()) return this->grad_input_ = Tensor<T>();
    if (!masked_) return identity_grad_ = dy;
    this->grad_input_.resize(dy.shape(), dy.device());
    dropout_backward(mask_, dy, this->grad_input_);
    return this->grad_input_;
  }

 private:
  double rate_;
  Rng rng_;
  std::int64_t first_sample_ = 0;
  bool masked_ = false;  // whether the last forward applied a mask
  Tensor<T> mask_, output_;                   // owned buffers of the masked path
  Tensor<T> identity_output_, identity_grad_;  // views of x and dy in the identity path
};

}  // namespace tinynet
