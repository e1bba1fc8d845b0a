// tinynet/backend/dropout_mask.hpp: the keep/drop decision of element i of a dropout mask.
//
// A mask is identified by one 64-bit seed drawn from the layer's Rng per forward pass;
// element i is kept when a counter-based hash (SplitMix64 of seed + i) maps to [rate, 1).
// The decision depends only on (seed, i, rate): masks can be filled in parallel, and
// every backend produces the same mask.
#pragma once

#include <cstdint>

namespace tinynet {

inline bool dropout_keeps(std::uint64_t seed, std::int64_t i, double rate) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(i + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 >= rate;  // 53 random bits -> [0, 1)
}

}  // namespace tinynet
