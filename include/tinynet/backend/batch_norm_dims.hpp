// tinynet/backend/batch_norm_dims.hpp: the [N, C, S] view of a batch-norm input.
//
// Shared by backend/cpu/batch_norm.hpp and backend/cudnn/batch_norm.hpp (the backends
// include this, never each other): statistics are per channel over N*S values, with
// S = H*W for images [N,C,H,W] and S = 1 for features [N,F].
#pragma once

#include <cstdint>

#include "tinynet/core/error.hpp"
#include "tinynet/core/shape.hpp"

namespace tinynet {

struct BatchNormDims {
  std::int64_t batch = 0, channels = 0, spatial = 1;
  std::int64_t per_channel() const { return batch * spatial; }  // values behind each statistic
};

// requires: x of rank 2 or 4 (checked). ensures: its [N, C, S] view.
inline BatchNormDims batch_norm_dims(const Shape& x) {
  check(x.rank() == 2 || x.rank() == 4, "batch_norm: input must be [N,C,H,W] or [N,F], got ", x);
  return {x[0], x[1], x.rank() == 4 ? x[2] * x[3] : 1};
}

}  // namespace tinynet
