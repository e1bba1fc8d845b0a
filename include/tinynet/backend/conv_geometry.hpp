// tinynet/backend/conv_geometry.hpp: the sizes of one 2-D convolution or pooling window.
//
// Padding follows TensorFlow: 'valid' pads nothing; 'same' gives out = ceil(in / stride)
// and pads total = max((out - 1) * stride + kernel - in, 0), top/left = total / 2, the
// odd pixel going to the bottom/right; 'explicit' takes the four amounts as given.
#pragma once

#include <cstdint>
#include <string>

#include "tinynet/core/error.hpp"

namespace tinynet {

enum class Padding { valid, same, explicit_amounts };

struct ExplicitPadding {
  int top = 0, bottom = 0, left = 0, right = 0;
};

struct ConvGeometry {
  std::int64_t channels = 0, in_h = 0, in_w = 0;  // input per sample
  std::int64_t out_channels = 0, out_h = 0, out_w = 0;
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;

  std::int64_t patch_size() const { return channels * kernel_h * kernel_w; }  // rows of the im2col matrix
  std::int64_t out_pixels() const { return out_h * out_w; }
  std::int64_t in_pixels() const { return in_h * in_w; }
};

inline const char* padding_name(Padding p) {
  return p == Padding::valid ? "valid" : p == Padding::same ? "same" : "explicit";
}

namespace detail {
inline void pad_one_axis(const char* who, const char* axis, std::int64_t in, int k, int s, Padding p,
                         int explicit_lo, int explicit_hi, std::int64_t& out, int& lo, int& hi) {
  check(k >= 1 && s >= 1, who, ": kernel ", k, " and stride ", s, " must be >= 1");
  if (p == Padding::same) {
    out = (in + s - 1) / s;
    const std::int64_t total = std::max<std::int64_t>((out - 1) * s + k - in, 0);
    lo = static_cast<int>(total / 2);
    hi = static_cast<int>(total - total / 2);
  } else {
    lo = p == Padding::valid ? 0 : explicit_lo;
    hi = p == Padding::valid ? 0 : explicit_hi;
    check(lo >= 0 && hi >= 0, who, ": negative padding ", lo, "/", hi);
    out = (in + lo + hi - k) / s + 1;
    check(in + lo + hi >= k, who, ": ", axis, " ", in, " (padded ", in + lo + hi, ") is smaller than the kernel ", k);
  }
}
}  // namespace detail

// ensures: the full geometry for a window of kernel (kh, kw), strides (sh, sw) over a
// [channels, h, w] input; an Error naming `who` when the window does not fit.
inline ConvGeometry make_conv_geometry(const char* who, std::int64_t channels, std::int64_t h, std::int64_t w,
                                       std::int64_t out_channels, int kh, int kw, int sh, int sw, Padding padding,
                                       ExplicitPadding amounts = {}) {
  ConvGeometry g;
  g.channels = channels;
  g.in_h = h;
  g.in_w = w;
  g.out_channels = out_channels;
  g.kernel_h = kh;
  g.kernel_w = kw;
  g.stride_h = sh;
  g.stride_w = sw;
  detail::pad_one_axis(who, "height", h, kh, sh, padding, amounts.top, amounts.bottom, g.out_h, g.pad_top,
                       g.pad_bottom);
  detail::pad_one_axis(who, "width", w, kw, sw, padding, amounts.left, amounts.right, g.out_w, g.pad_left,
                       g.pad_right);
  return g;
}

}  // namespace tinynet
