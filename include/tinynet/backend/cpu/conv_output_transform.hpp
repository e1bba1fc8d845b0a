// tinynet/backend/cpu/conv_output_transform.hpp: what a CPU convolution does to each output
// channel as it writes its result: y = scale[oc] * conv + shift[oc], then max(y, 0) when relu.
// A plain bias is shift = bias; a folded inference batch norm sets both (backend/cpu/conv2d.hpp).
#pragma once

#include <algorithm>
#include <cstdint>

namespace tinynet {
namespace cpu {

// scale null means 1, shift null means 0.
template <class T>
struct ConvOutputTransform {
  const T* scale = nullptr;
  const T* shift = nullptr;
  bool relu = false;

  bool is_identity() const { return !scale && !shift && !relu; }
  T scale_of(std::int64_t oc) const { return scale ? scale[oc] : T(1); }
  T shift_of(std::int64_t oc) const { return shift ? shift[oc] : T(0); }
  // ensures: dst[p] = transform(src[p]) for p < count, for output channel oc.
  void apply(std::int64_t oc, const T* src, T* dst, std::int64_t count) const {
    const T s = scale_of(oc), b = shift_of(oc);
    if (relu)
      for (std::int64_t p = 0; p < count; ++p) dst[p] = std::max(src[p] * s + b, T(0));
    else
      for (std::int64_t p = 0; p < count; ++p) dst[p] = src[p] * s + b;
  }
};

}  // namespace cpu
}  // namespace tinynet
