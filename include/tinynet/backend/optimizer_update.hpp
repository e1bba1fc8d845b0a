// tinynet/backend/optimizer_update.hpp: optimizer parameter updates, dispatched by device.
//
// adam_update: one Adam step (with decoupled weight decay) on elements [offset, offset + count)
//              of the flat parameter buffer `values` and its moment buffers m and v.
// sgd_update:  one SGD step (optional momentum / Nesterov, decoupled weight decay) on the same
//              kind of range; velocity == nullptr means no momentum.
// lookahead_sync: Lookahead's synchronisation of the fast weights `values` with the slow
//              copy `slow` on such a range: slow += (1 - decay) * (values - slow); values = slow.
// The formulas are next to the coefficient structs in backend/optimizer_coefficients.hpp.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "tinynet/backend/cpu/optimizer_update.hpp"
#include "tinynet/backend/device_dispatch.hpp"
#include "tinynet/backend/optimizer_coefficients.hpp"
#ifdef TINYNET_WITH_CUDNN
#include "tinynet/backend/cudnn/optimizer_update.hpp"
#endif

namespace tinynet {

// ensures: an Error naming `op` unless 0 <= offset, 0 <= count and every buffer holds
// at least offset + count elements.
inline void check_update_range(const char* op, std::int64_t offset, std::int64_t count,
                               std::initializer_list<std::int64_t> buffer_sizes) {
  check(offset >= 0 && count >= 0, op, ": invalid range offset ", offset, " count ", count);
  for (std::int64_t size : buffer_sizes)
    check(offset + count <= size, op, ": range [", offset, ",", offset + count, ") exceeds a buffer of ", size,
          " elements");
}

// requires: all tensors on one device, each holding at least offset + count elements (checked).
template <class T>
void adam_update(Tensor<T>& values, const Tensor<T>& grads, Tensor<T>& m, Tensor<T>& v, std::int64_t offset,
                 std::int64_t count, const AdamCoefficients<T>& coefficients) {
  check_update_range("adam_update", offset, count, {values.numel(), grads.numel(), m.numel(), v.numel()});
  if (common_device("adam_update", {values.device(), grads.device(), m.device(), v.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::adam_update(values, grads, m, v, offset, count, coefficients));
  cpu::adam_update(values, grads, m, v, offset, count, coefficients);
}

// requires: all tensors on one device, each holding at least offset + count elements (checked).
template <class T>
void sgd_update(Tensor<T>& values, const Tensor<T>& grads, Tensor<T>* velocity, std::int64_t offset,
                std::int64_t count, const SgdCoefficients<T>& coefficients) {
  const Tensor<T>& moving = velocity ? *velocity : values;  // stands in for an absent velocity in the checks
  check_update_range("sgd_update", offset, count, {values.numel(), grads.numel(), moving.numel()});
  if (common_device("sgd_update", {values.device(), grads.device(), moving.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::sgd_update(values, grads, velocity, offset, count, coefficients));
  cpu::sgd_update(values, grads, velocity, offset, count, coefficients);
}

// requires: both tensors on one device, each holding at least offset + count elements (checked);
// 0 <= decay <= 1.
template <class T>
void lookahead_sync(Tensor<T>& values, Tensor<T>& slow, std::int64_t offset, std::int64_t count, T decay) {
  check_update_range("lookahead_sync", offset, count, {values.numel(), slow.numel()});
  if (common_device("lookahead_sync", {values.device(), slow.device()}) == Device::cuda)
    TINYNET_ON_CUDA(cudnn::lookahead_sync(values, slow, offset, count, decay));
  cpu::lookahead_sync(values, slow, offset, count, decay);
}

}  // namespace tinynet
