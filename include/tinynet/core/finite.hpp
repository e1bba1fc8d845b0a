// tinynet/core/finite.hpp: find the first NaN or infinity in a run of values.
//
// Used where a non-finite number must not pass unnoticed: checkpoints refuse to save or load
// one (io/checkpoint.hpp), and training stops on one (training/divergence_guard.hpp).
#pragma once

#include <cmath>
#include <cstdint>

namespace tinynet {

// requires: `values` holds `count` host values.
// ensures: the index of the first NaN or +-infinity, or -1 when all are finite.
template <class T>
std::int64_t first_non_finite(const T* values, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i)
    if (!std::isfinite(values[i])) return i;
  return -1;
}

}  // namespace tinynet
