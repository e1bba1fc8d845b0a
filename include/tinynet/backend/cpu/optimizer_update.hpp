// tinynet/backend/cpu/optimizer_update.hpp: elementwise Adam and SGD parameter updates.
//
// Each kernel updates elements [offset, offset + count) of a flat parameter buffer in
// place, with the matching elements of the gradient and optimizer-state buffers; the
// formulas are next to the coefficient structs in backend/optimizer_coefficients.hpp.
#pragma once

#include <algorithm>
#include <cstdint>

#include <Eigen/Core>

#include "tinynet/backend/optimizer_coefficients.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

// Below this many elements a range is updated by the calling thread alone: waking the
// OpenMP team costs more than the update of a bias vector.
constexpr std::int64_t min_elements_for_parallel_update = std::int64_t(1) << 15;
constexpr std::int64_t update_chunk_elements = std::int64_t(1) << 12;

// Elementwise arrays over raw buffers. Eigen's packet math vectorises sqrt too, which a
// plain loop does not under the default -fmath-errno (with EIGEN_FAST_MATH, Eigen's default,
// float sqrt is rsqrt + one Newton step: within ~2 ulp, and exact at 0).
template <class T>
using UpdateArray = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ConstUpdateArray = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// ensures: update(begin, n) called once for each chunk of [offset, offset + count), chunks
// split at fixed positions (so results do not depend on the thread count), in parallel
// when the range is large.
template <class Update>
void for_each_update_chunk(std::int64_t offset, std::int64_t count, const Update& update) {
  const std::int64_t chunks = (count + update_chunk_elements - 1) / update_chunk_elements;
#pragma omp parallel for schedule(static) if (count >= min_elements_for_parallel_update)
  for (std::int64_t k = 0; k < chunks; ++k) {
    const std::int64_t begin = offset + k * update_chunk_elements;
    update(begin, std::min(update_chunk_elements, offset + count - begin));
  }
}

// requires: values, grads, m, v hold at least offset + count elements (checked by the caller).
// ensures: elements [offset, offset + count) of values, m and v hold the Adam update.
template <class T>
void adam_update(Tensor<T>& values, const Tensor<T>& grads, Tensor<T>& m, Tensor<T>& v, std::int64_t offset,
                 std::int64_t count, const AdamCoefficients<T>& c) {
  for_each_update_chunk(offset, count, [&](std::int64_t begin, std::int64_t n) {
    UpdateArray<T> p(values.data() + begin, n), mean(m.data() + begin, n), second(v.data() + begin, n);
    const ConstUpdateArray<T> g(grads.data() + begin, n);
    mean = c.beta1 * mean + (T(1) - c.beta1) * g;
    second = c.beta2 * second + (T(1) - c.beta2) * g.square();
    p = p - c.decay * p - c.step_size * mean / (second.sqrt() + c.epsilon);
  });
}

// requires: values, grads (and *velocity when given) hold at least offset + count elements.
// ensures: elements [offset, offset + count) of values (and *velocity) hold the SGD update;
// velocity == nullptr means no momentum.
template <class T>
void sgd_update(Tensor<T>& values, const Tensor<T>& grads, Tensor<T>* velocity, std::int64_t offset,
                std::int64_t count, const SgdCoefficients<T>& c) {
  // Nesterov looks ahead: p moves by momentum*velocity - lr*g instead of by velocity.
  const T ahead = c.nesterov ? c.momentum : T(1);
  const T gradient_share = c.nesterov ? c.learning_rate : T(0);
  for_each_update_chunk(offset, count, [&](std::int64_t begin, std::int64_t n) {
    UpdateArray<T> p(values.data() + begin, n);
    const ConstUpdateArray<T> g(grads.data() + begin, n);
    if (velocity == nullptr) {
      p = p - c.decay * p - c.learning_rate * g;
      return;
    }
    UpdateArray<T> vel(velocity->data() + begin, n);
    vel = c.momentum * vel - c.learning_rate * g;
    p = p - c.decay * p + (ahead * vel - gradient_share * g);
  });
}

// requires: values and slow hold at least offset + count elements (checked by the caller).
// ensures: on [offset, offset + count): slow += (1 - decay) * (values - slow), then
// values = slow (Lookahead's synchronisation; equal elements stay bit-identical).
template <class T>
void lookahead_sync(Tensor<T>& values, Tensor<T>& slow, std::int64_t offset, std::int64_t count, T decay) {
  for_each_update_chunk(offset, count, [&](std::int64_t begin, std::int64_t n) {
    UpdateArray<T> p(values.data() + begin, n), s(slow.data() + begin, n);
    s += (T(1) - decay) * (p - s);
    p = s;
  });
}

}  // namespace cpu
}  // namespace tinynet
