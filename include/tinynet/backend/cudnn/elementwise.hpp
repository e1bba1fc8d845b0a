// tinynet/backend/cudnn/elementwise.hpp: elementwise sums and scale_shift of CUDA tensors (own kernels).
#pragma once

#include "tinynet/backend/cudnn/kernels.hpp"
#include "tinynet/backend/cudnn/status.hpp"
#include "tinynet/backend/cudnn/stream.hpp"
#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cudnn {

namespace detail {
template <class T>
void add_tensors(const char* op, const Tensor<T>& a, const Tensor<T>& b, Tensor<T>& y, bool relu) {
  check(a.numel() == y.numel() && b.numel() == y.numel(), op, " (CUDA): operands ", a.shape(), " and ", b.shape(),
        " do not match the output ", y.shape());
  check_cuda(kernels::add(a.data(), b.data(), y.data(), y.numel(), relu, current_stream()), op);
}
}  // namespace detail

// requires: a, b, y CUDA tensors of one size (checked; y may be a or b). ensures: y = a + b.
template <class T>
void add_forward(const Tensor<T>& a, const Tensor<T>& b, Tensor<T>& y) {
  detail::add_tensors("add_forward", a, b, y, false);
}

// requires: as add_forward. ensures: y = max(a + b, 0).
template <class T>
void add_relu_forward(const Tensor<T>& a, const Tensor<T>& b, Tensor<T>& y) {
  detail::add_tensors("add_relu_forward", a, b, y, true);
}

// requires: x, y CUDA tensors of one size (checked; y may be x). ensures: y = scale * x + offset.
template <class T>
void scale_shift(const Tensor<T>& x, T scale, T offset, Tensor<T>& y) {
  check(x.numel() == y.numel(), "scale_shift (CUDA): input ", x.shape(), " does not match the output ", y.shape());
  check_cuda(kernels::scale_shift(x.data(), scale, offset, y.data(), y.numel(), current_stream()), "scale_shift");
}

}  // namespace cudnn
}  // namespace tinynet
