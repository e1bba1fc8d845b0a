// tinynet/layers/initializers.hpp: Keras' default initial values.
#pragma once

#include <cmath>
#include <cstdint>

#include "tinynet/core/random.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

// ensures: every element uniform in [-l, l), l = sqrt(6 / (fan_in + fan_out)) (Keras glorot_uniform).
template <class T>
void glorot_uniform(Tensor<T> t, std::int64_t fan_in, std::int64_t fan_out, Rng& rng) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  for (auto& v : t) v = static_cast<T>(rng.uniform(-limit, limit));
}

}  // namespace tinynet
