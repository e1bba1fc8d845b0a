// tinynet/data/resize.hpp: bilinear image resize, as TensorFlow 2's
// tf.image.resize(images, size, method='bilinear', antialias=False).
//
// Sampling follows TF's ResizeBilinear kernel with half_pixel_centers=True: output
// pixel d of an axis reads the source coordinate s = (d + 0.5) * (in / out) - 0.5,
// computed in float; its neighbours are lower = max(floor(s), 0) and
// upper = min(ceil(s), in - 1), weighted by lerp = s - floor(s). So coordinates
// before the first pixel read the first pixel and those past the last read the
// last one (clamped), and equal sizes copy the image unchanged.
// Values are interpolated along the width first, then along the height, in float.
//
// resize_bilinear_image() works on one [C,H,W] image without threads (for data
// loader workers); resize_bilinear() does a whole NCHW batch with OpenMP.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

// The two source neighbours and the weight of the upper one, for every output
// position along one axis.
struct ResizeAxis {
  std::vector<std::int64_t> lower, upper;
  std::vector<float> lerp;
};

// requires: in_size >= 1, out_size >= 1.
// ensures: TF's half-pixel bilinear neighbours and weights for resizing in_size -> out_size.
inline ResizeAxis make_resize_axis(std::int64_t in_size, std::int64_t out_size) {
  check(in_size >= 1 && out_size >= 1, "resize_bilinear: sizes must be >= 1, got ", in_size, " -> ", out_size);
  ResizeAxis axis;
  axis.lower.resize(out_size);
  axis.upper.resize(out_size);
  axis.lerp.resize(out_size);
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  for (std::int64_t d = 0; d < out_size; ++d) {
    const float source = (static_cast<float>(d) + 0.5f) * scale - 0.5f;
    const float floor_source = std::floor(source);
    axis.lower[d] = std::max<std::int64_t>(static_cast<std::int64_t>(floor_source), 0);
    axis.upper[d] = std::min<std::int64_t>(static_cast<std::int64_t>(std::ceil(source)), in_size - 1);
    axis.lerp[d] = source - floor_source;
  }
  return axis;
}

// requires: rows/cols made by make_resize_axis for this plane's in_h/in_w; in holds
//           [in_h, in_w] values, out room for [rows.lerp.size(), cols.lerp.size()].
// ensures: out = the bilinear resize of the plane `in`.
inline void resize_bilinear_plane(const float* in, std::int64_t in_w, const ResizeAxis& rows, const ResizeAxis& cols,
                                  float* out) {
  const std::int64_t out_h = static_cast<std::int64_t>(rows.lerp.size());
  const std::int64_t out_w = static_cast<std::int64_t>(cols.lerp.size());
  for (std::int64_t r = 0; r < out_h; ++r) {
    const float* top = in + rows.lower[r] * in_w;
    const float* bottom = in + rows.upper[r] * in_w;
    const float row_lerp = rows.lerp[r];
    float* dst = out + r * out_w;
    for (std::int64_t c = 0; c < out_w; ++c) {
      const std::int64_t left = cols.lower[c], right = cols.upper[c];
      const float col_lerp = cols.lerp[c];
      const float top_value = top[left] + (top[right] - top[left]) * col_lerp;
      const float bottom_value = bottom[left] + (bottom[right] - bottom[left]) * col_lerp;
      dst[c] = top_value + (bottom_value - top_value) * row_lerp;
    }
  }
}

// requires: in holds [channels, in_h, in_w], out room for [channels, out_h, out_w]; all sizes >= 1.
// ensures: out = every channel of `in` resized. Runs on the calling thread only.
inline void resize_bilinear_image(const float* in, std::int64_t channels, std::int64_t in_h, std::int64_t in_w,
                                  float* out, std::int64_t out_h, std::int64_t out_w) {
  const ResizeAxis rows = make_resize_axis(in_h, out_h), cols = make_resize_axis(in_w, out_w);
  for (std::int64_t c = 0; c < channels; ++c)
    resize_bilinear_plane(in + c * in_h * in_w, in_w, rows, cols, out + c * out_h * out_w);
}

// requires: x a host [N,C,H,W] tensor with H, W >= 1; out_h, out_w >= 1; y not sharing x's storage.
// ensures: y (resized, storage reused when large enough) = x resized to [N,C,out_h,out_w].
inline void resize_bilinear(const Tensor<float>& x, std::int64_t out_h, std::int64_t out_w, Tensor<float>& y) {
  check(x.rank() == 4, "resize_bilinear: input must be [N,C,H,W], got ", x.shape());
  check(x.device() == Device::cpu, "resize_bilinear: input must be a host tensor");
  check(out_h >= 1 && out_w >= 1, "resize_bilinear: output size ", out_h, "x", out_w, " must be at least 1x1");
  check(x.empty() || !x.same_storage(y), "resize_bilinear: output must not share the input's storage");
  const std::int64_t in_h = x.dim(2), in_w = x.dim(3);
  const ResizeAxis rows = make_resize_axis(in_h, out_h), cols = make_resize_axis(in_w, out_w);
  y.resize(Shape{x.dim(0), x.dim(1), out_h, out_w});
  const std::int64_t planes = x.dim(0) * x.dim(1);
  const float* in = x.data();
  float* out = y.data();
#pragma omp parallel for schedule(static)
  for (std::int64_t p = 0; p < planes; ++p)
    resize_bilinear_plane(in + p * in_h * in_w, in_w, rows, cols, out + p * out_h * out_w);
}

}  // namespace tinynet
