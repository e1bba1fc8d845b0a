// tinynet/backend/cpu/zero_padding.hpp: zero padding of image planes and its adjoint (cropping).
//
// x [N,C,H,W] <-> y [N,C,H+top+bottom,W+left+right]; the amounts are an ExplicitPadding.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tinynet/backend/conv_geometry.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {
namespace cpu {

// requires: y sized [N,C,H+top+bottom,W+left+right]. ensures: y = x surrounded by zeros.
template <class T>
void zero_pad2d_forward(const Tensor<T>& x, Tensor<T>& y, const ExplicitPadding& p) {
  const std::int64_t planes = x.dim(0) * x.dim(1), H = x.dim(2), W = x.dim(3), OH = y.dim(2), OW = y.dim(3);
  const T* in = x.data();
  T* out = y.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < planes; ++q) {
    T* plane = out + q * OH * OW;
    std::fill(plane, plane + OH * OW, T(0));
    for (std::int64_t h = 0; h < H; ++h)
      std::copy(in + (q * H + h) * W, in + (q * H + h + 1) * W, plane + (h + p.top) * OW + p.left);
  }
}

// requires: dy [N,C,H+top+bottom,W+left+right], dx sized [N,C,H,W].
// ensures: dx = the interior of dy (the gradient of zero_pad2d_forward).
template <class T>
void zero_pad2d_backward(const Tensor<T>& dy, Tensor<T>& dx, const ExplicitPadding& p) {
  const std::int64_t planes = dx.dim(0) * dx.dim(1), H = dx.dim(2), W = dx.dim(3), OH = dy.dim(2), OW = dy.dim(3);
  const T* in = dy.data();
  T* out = dx.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < planes; ++q) {
    const T* plane = in + q * OH * OW;
    for (std::int64_t h = 0; h < H; ++h) {
      const T* row = plane + (h + p.top) * OW + p.left;
      std::copy(row, row + W, out + (q * H + h) * W);
    }
  }
}

}  // namespace cpu
}  // namespace tinynet
