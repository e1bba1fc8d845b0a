// tinynet/data/split.hpp: dataset splits: the train/test pair readers return, and a
// seeded train/validation split (optionally stratified per class).
//
// The validation split is deterministic for a seed on every platform: the shuffle is a
// Fisher-Yates driven directly by mt19937_64 (a standardised engine), not std::shuffle.
// Both index lists come back in ascending order, so subsets keep the source order.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/data/dataset.hpp"

namespace tinynet {

struct TrainTestSplit {
  ImageDataset train, test;
};

struct TrainValidationSplit {
  ImageDataset train, validation;
};

struct SplitIndices {
  std::vector<std::int64_t> train, validation;  // ascending, disjoint, together 0..N-1
};

struct ValidationSplitOptions {
  double validation_fraction = 0.1;  // in [0, 1)
  bool stratified = false;           // take the fraction from each class separately
  std::uint64_t seed = 0;
};

namespace detail {
// ensures: `indices` permuted uniformly at random (up to a bias of size/2^64), identically
// for the same generator state on every standard library.
inline void shuffle_indices(std::vector<std::int64_t>& indices, Rng& rng) {
  for (std::size_t i = indices.size(); i > 1; --i) std::swap(indices[i - 1], indices[rng.next() % i]);
}

// ensures: moves round(fraction * |pool|) randomly chosen entries of `pool` to `validation`,
// the rest to `train`.
inline void split_pool(std::vector<std::int64_t> pool, double fraction, Rng& rng, SplitIndices& out) {
  shuffle_indices(pool, rng);
  const auto count = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(pool.size())));
  out.validation.insert(out.validation.end(), pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(count));
  out.train.insert(out.train.end(), pool.begin() + static_cast<std::ptrdiff_t>(count), pool.end());
}
}  // namespace detail

// requires: 0 <= validation_fraction < 1; labels in [0, num_classes) when stratified.
// ensures: round(fraction * N) validation indices (stratified: round(fraction * N_c) of each
// class c); the same result for the same labels, options and seed.
inline SplitIndices validation_split_indices(const std::vector<int>& labels, int num_classes,
                                             const ValidationSplitOptions& options = {}) {
  const double fraction = options.validation_fraction;
  check(fraction >= 0.0 && fraction < 1.0, "validation split: fraction ", fraction, " is outside [0, 1)");
  Rng rng(options.seed);
  SplitIndices out;
  const auto n = static_cast<std::int64_t>(labels.size());
  if (!options.stratified) {
    std::vector<std::int64_t> all(labels.size());
    for (std::int64_t i = 0; i < n; ++i) all[i] = i;
    detail::split_pool(std::move(all), fraction, rng, out);
  } else {
    std::vector<std::vector<std::int64_t>> by_class(static_cast<std::size_t>(std::max(num_classes, 0)));
    for (std::int64_t i = 0; i < n; ++i) {
      check(labels[i] >= 0 && labels[i] < num_classes, "stratified validation split: label ", labels[i],
            " of sample ", i, " is outside [0,", num_classes, ")");
      by_class[labels[i]].push_back(i);
    }
    for (auto& members : by_class) detail::split_pool(std::move(members), fraction, rng, out);
  }
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.validation.begin(), out.validation.end());
  return out;
}

// requires: as validation_split_indices. ensures: the two subsets it selects (same classes).
inline TrainValidationSplit split_train_validation(const ImageDataset& data,
                                                   const ValidationSplitOptions& options = {}) {
  const SplitIndices indices = validation_split_indices(data.labels, data.num_classes(), options);
  return {subset(data, indices.train), subset(data, indices.validation)};
}

}  // namespace tinynet
