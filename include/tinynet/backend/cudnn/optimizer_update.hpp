// tinynet/backend/cudnn/optimizer_update.hpp: Adam and SGD updates (and Lookahead's
// synchronisation) of CUDA parameter buffers.
//
// The formulas and coefficient structs of backend/optimizer_coefficients.hpp; one kernel per
// [offset, offset + count) range (the dispatch header checks the range).
#pragma once

#include <cstdint>

#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/backend/cudnn/stream.hpp"
#include "tinynet/backend/optimizer_coefficients.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

// requires: CUDA buffers holding at least offset + count elements.
// ensures: elements [offset, offset + count) of values, m and v hold the Adam update.
template <class T>
void adam_update(Tensor<T>& values, const Tensor<T>& grads, Tensor<T>& m, Tensor<T>& v, std::int64_t offset,
                 std::int64_t count, const AdamCoefficients<T>& c) {
  check_cuda(kernels::adam_update(values.data() + offset, grads.data() + offset, m.data() + offset,
                                  v.data() + offset, count, c.beta1, c.beta2, c.step_size, c.epsilon, c.decay,
                                  current_stream()),
             "adam_update");
}

// requires: as adam_update (velocity may be null: no momentum).
// ensures: elements [offset, offset + count) of values (and *velocity) hold the SGD update.
template <class T>
void sgd_update(Tensor<T>& values, const Tensor<T>& grads, Tensor<T>* velocity, std::int64_t offset,
                std::int64_t count, const SgdCoefficients<T>& c) {
  check_cuda(kernels::sgd_update(values.data() + offset, grads.data() + offset,
                                 velocity ? velocity->data() + offset : nullptr, count, c.learning_rate, c.momentum,
                                 c.decay, c.nesterov, current_stream()),
             "sgd_update");
}

// requires: CUDA buffers holding at least offset + count elements.
// ensures: elements [offset, offset + count) of slow and values hold the Lookahead synchronisation.
template <class T>
void lookahead_sync(Tensor<T>& values, Tensor<T>& slow, std::int64_t offset, std::int64_t count, T decay) {
  check_cuda(kernels::lookahead_sync(values.data() + offset, slow.data() + offset, count, decay, current_stream()),
             "lookahead_sync");
}

}  // namespace cudnn
}  // namespace tinynet
