// Helpers shared by the layer tests: random tensors and a one-call gradient check.
#pragma once

#include <catch2/catch.hpp>

#include "tinynet/core/random.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/layers/layer.hpp"
#include "tinynet/testing/gradient_check.hpp"

namespace tinynet_test {

// ensures: a tensor with elements uniform in [lo, hi) from `seed`.
template <class T = double>
tinynet::Tensor<T> random_tensor(const tinynet::Shape& shape, std::uint64_t seed, double lo = -1, double hi = 1) {
  tinynet::Tensor<T> t(shape);
  tinynet::Rng rng(seed);
  for (auto& v : t) v = static_cast<T>(rng.uniform(lo, hi));
  return t;
}

// ensures: builds `layer` for x's sample shape, initialises it (seed 1), checks all gradients
// and REQUIREs a relative error below `tolerance` (denominators below `floor` count as `floor`);
// prints the worst element otherwise.
inline void require_gradients_match(tinynet::Layer<double>& layer, const tinynet::Tensor<double>& x,
                                    double tolerance = 1e-6,
                                    const std::function<void()>& before_forward = {}, double floor = 1e-6) {
  if (!layer.is_built()) {
    layer.build_once(x.shape().drop_front());
    tinynet::Rng rng(1);
    layer.initialize(rng);
  }
  tinynet::testing::GradientCheckOptions options;
  options.floor = floor;
  const auto result = tinynet::testing::check_layer_gradients(layer, x, options, before_forward);
  INFO(layer.type() << " on input " << x.shape() << ": worst " << result.worst);
  REQUIRE(result.checked > 0);
  REQUIRE(result.max_relative_error < tolerance);
}

}  // namespace tinynet_test
