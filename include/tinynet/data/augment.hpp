// tinynet/data/augment.hpp: random image augmentation, as Keras' ImageDataGenerator.
//
// Augmenter(AugmentOptions{15, 0.1, 0.1, true}) draws, per image, the transform
// distribution of ImageDataGenerator(rotation_range=15, width_shift_range=0.1,
// height_shift_range=0.1, horizontal_flip=True):
//   angle       ~ U(-rotation_range, rotation_range) degrees,
//   row shift   ~ U(-s, s), s = height_shift_range * H when the range is < 1, else pixels,
//   col shift   ~ U(-s, s), s = width_shift_range * W (likewise),
//   flip        with probability 1/2 (applied after the rotation and shift, as Keras does),
// and resamples bilinearly (Keras: scipy order-1 spline) with Keras' fill modes:
//   nearest  aaa|abcd|ddd    constant kkk|abcd|kkk (k = cval, blended across the border)
//   reflect  cba|abcd|dcb    wrap     bcd|abcd|abc
// Deliberate differences: rotation is about the true centre ((H-1)/2, (W-1)/2), where
// Keras uses (H/2+0.5, W/2+0.5), which adds a translation of under 0.4 px at 15 degrees;
// 'wrap' has period W (scipy's legacy 'wrap' uses W-1); ranges >= 1 draw a real number
// of pixels (Keras draws an integer when given an int).
// Extras, from the CIFAR ResNet recipes, applied after the flip in this order:
//   crop_padding p: pad p zeros on every side, then crop a random HxW window
//                   (a shift by an integer in [-p, p] per axis, filled with 0; with
//                   crop_reflect, padded by reflection instead: PyTorch's 'reflect',
//                   cb|abcd|cb, the edge not repeated);
//   cutout_size s:  set one s x s square (all channels) to 0, its centre uniform over
//                   the image, clipped at the borders (DeVries & Taylor 2017).
//
// Geometry, in output = transform(input) terms (row 0 is the top row):
//   positive angle  turns the image clockwise as displayed (the top edge moves right);
//   shift_rows = k  moves the content down by k pixels, shift_cols = k moves it right.
// Integer coordinates are sampled exactly, so integer shifts, flips and quarter turns
// reproduce pixel values bit for bit.
//
// An Augmenter is immutable and safe to share between threads; each call takes the
// caller's Rng, so a worker can augment each sample with its own generator.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "tinynet/core/error.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

enum class FillMode { nearest, constant, reflect, wrap };

struct AugmentOptions {
  double rotation_range = 0;      // degrees
  double width_shift_range = 0;   // fraction of the width when < 1, else pixels
  double height_shift_range = 0;  // fraction of the height when < 1, else pixels
  bool horizontal_flip = false;
  bool alternate_flips = false;   // with horizontal_flip, in a BatchLoader: each image mirrored in
                                  // every other epoch, from a seeded coin per image (airbench);
                                  // Augmenter::draw() alone still flips at random
  FillMode fill_mode = FillMode::nearest;
  float cval = 0;                 // the fill value of FillMode::constant
  int crop_padding = 0;           // random crop after zero padding by this many pixels
  bool crop_reflect = false;      // pad the crops by reflection (airbench), not zeros
  int cutout_size = 0;            // side of the square cut out; 0 = no cutout
};

// One image's random draw. Built by Augmenter::draw(), or by hand for a fixed transform.
struct AugmentTransform {
  double angle_degrees = 0;
  double shift_rows = 0, shift_cols = 0;  // content displacement in pixels (may be fractional)
  bool flip = false;
  int crop_rows = 0, crop_cols = 0;       // pad-and-crop displacement, zero filled
  std::int64_t cutout_row = 0, cutout_col = 0;  // centre of the cutout square

  // ensures: true when the pixels move (otherwise the image is copied before the cutout).
  bool moves_pixels() const {
    return angle_degrees != 0 || shift_rows != 0 || shift_cols != 0 || flip || crop_rows != 0 || crop_cols != 0;
  }
};

class Augmenter {
 public:
  // requires: finite non-negative ranges, crop_padding >= 0, cutout_size >= 0.
  explicit Augmenter(const AugmentOptions& options = {}) : options_(options) {
    const auto range_ok = [](double r) { return std::isfinite(r) && r >= 0; };
    check(range_ok(options.rotation_range), "Augmenter: rotation_range must be finite and >= 0, got ",
          options.rotation_range);
    check(range_ok(options.width_shift_range) && range_ok(options.height_shift_range),
          "Augmenter: shift ranges must be finite and >= 0, got width ", options.width_shift_range, ", height ",
          options.height_shift_range);
    check(!options.alternate_flips || options.horizontal_flip,
          "Augmenter: alternate_flips needs horizontal_flip (it decides which epochs mirror an image)");
    check(options.crop_padding >= 0, "Augmenter: crop_padding must be >= 0, got ", options.crop_padding);
    check(options.cutout_size >= 0, "Augmenter: cutout_size must be >= 0, got ", options.cutout_size);
    check(std::isfinite(options.cval), "Augmenter: cval must be finite, got ", options.cval);
  }

  const AugmentOptions& options() const { return options_; }

  // ensures: true when every image comes out unchanged (no option is active).
  bool is_identity() const {
    const AugmentOptions& o = options_;
    return o.rotation_range == 0 && o.width_shift_range == 0 && o.height_shift_range == 0 && !o.horizontal_flip &&
           o.crop_padding == 0 && o.cutout_size == 0;
  }

  // requires: height, width >= 1.
  // ensures: a transform drawn from `rng` (only the active options consume random numbers,
  //          in the order angle, row shift, col shift, flip, crop, cutout).
  AugmentTransform draw(Rng& rng, std::int64_t height, std::int64_t width) const {
    check(height >= 1 && width >= 1, "Augmenter::draw: image size ", height, "x", width, " must be at least 1x1");
    const AugmentOptions& o = options_;
    AugmentTransform t;
    if (o.rotation_range > 0) t.angle_degrees = rng.uniform(-o.rotation_range, o.rotation_range);
    if (o.height_shift_range > 0) t.shift_rows = shift_extent(o.height_shift_range, height) * rng.uniform(-1, 1);
    if (o.width_shift_range > 0) t.shift_cols = shift_extent(o.width_shift_range, width) * rng.uniform(-1, 1);
    if (o.horizontal_flip) t.flip = rng.uniform() < 0.5;
    if (o.crop_padding > 0) {
      const std::uint64_t choices = 2 * static_cast<std::uint64_t>(o.crop_padding) + 1;
      t.crop_rows = static_cast<int>(rng.below(choices)) - o.crop_padding;
      t.crop_cols = static_cast<int>(rng.below(choices)) - o.crop_padding;
    }
    if (o.cutout_size > 0) {
      t.cutout_row = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(height)));
      t.cutout_col = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(width)));
    }
    return t;
  }

  // requires: in holds a [channels, height, width] image, out room for one; they do not overlap.
  // ensures: out = `t` applied to `in` (fill mode, cval and cutout size from the options).
  //          Runs on the calling thread only and allocates nothing.
  void apply(const AugmentTransform& t, const float* in, float* out, std::int64_t channels, std::int64_t height,
             std::int64_t width) const {
    check(channels >= 1 && height >= 1 && width >= 1, "Augmenter::apply: image shape [", channels, ",", height, ",",
          width, "] must have every dimension >= 1");
    const std::int64_t count = channels * height * width;
    check(in + count <= out || out + count <= in, "Augmenter::apply: input and output images overlap");
    if (t.moves_pixels())
      resample(t, in, out, channels, height, width);
    else
      std::memcpy(out, in, sizeof(float) * static_cast<std::size_t>(count));
    if (options_.cutout_size > 0) cut_out(t, out, channels, height, width);
  }

  // requires: image a host [C,H,W] tensor.
  // ensures: image replaced by a random augmentation of itself drawn from `rng`.
  void augment(Tensor<float>& image, Rng& rng) const {
    check(image.rank() == 3 && image.device() == Device::cpu, "Augmenter::augment: expected a host [C,H,W] image, got ",
          image.shape());
    const Tensor<float> source = image.clone();
    apply(draw(rng, image.dim(1), image.dim(2)), source.data(), image.data(), image.dim(0), image.dim(1),
          image.dim(2));
  }

 private:
  // Keras: a range below 1 is a fraction of the image size, otherwise a pixel count.
  static double shift_extent(double range, std::int64_t size) {
    return range < 1 ? range * static_cast<double>(size) : range;
  }

  // ensures: the in-range index that `index` reads under the fill mode, or -1 for cval.
  std::int64_t source_index(std::int64_t index, std::int64_t size) const {
    if (index >= 0 && index < size) return index;
    switch (options_.fill_mode) {
      case FillMode::nearest:
        return index < 0 ? 0 : size - 1;
      case FillMode::constant:
        return -1;
      case FillMode::reflect: {
        const std::int64_t m = ((index % (2 * size)) + 2 * size) % (2 * size);
        return m < size ? m : 2 * size - 1 - m;
      }
      case FillMode::wrap:
        return ((index % size) + size) % size;
    }
    fail("Augmenter: unknown fill mode ", static_cast<int>(options_.fill_mode));
  }

  // Coordinates within 1e-9 of an integer are taken as that integer, so that cos(90 deg)
  // = 6e-17 and the like leave exact pixel positions exact.
  static double snap_to_grid(double v) {
    const double nearest = std::floor(v + 0.5);
    return std::abs(v - nearest) < 1e-9 ? nearest : v;
  }

  // ensures: the pre-crop index a crop reads: `index` itself, or with crop_reflect the
  // reflection of an index outside [0, size) (-1 -> 1, size -> size - 2).
  std::int64_t crop_source(std::int64_t index, std::int64_t size) const {
    if (!options_.crop_reflect || (index >= 0 && index < size)) return index;
    if (size == 1) return 0;
    const std::int64_t period = 2 * (size - 1), m = ((index % period) + period) % period;
    return m < size ? m : period - m;
  }

  // out(r, c) = 0 outside the crop window (unless crop_reflect), else the rotated/shifted
  // input read at the pre-crop, pre-flip position, bilinearly, with the fill mode outside the input.
  void resample(const AugmentTransform& t, const float* in, float* out, std::int64_t channels, std::int64_t height,
                std::int64_t width) const {
    constexpr double pi = 3.14159265358979323846;
    const double theta = t.angle_degrees * pi / 180;
    const double cos_t = std::cos(theta), sin_t = std::sin(theta);
    const double centre_r = (height - 1) / 2.0, centre_c = (width - 1) / 2.0;
    const std::int64_t plane = height * width;
    for (std::int64_t r = 0; r < height; ++r) {
      const std::int64_t uncropped_r = crop_source(r - t.crop_rows, height);
      // Content turned by R^-1 about the centre, then shifted: output o reads input centre + R (o - centre - shift).
      const double y = uncropped_r - centre_r - t.shift_rows;
      const double row_src_r = centre_r + cos_t * y, row_src_c = centre_c + sin_t * y;
      for (std::int64_t c = 0; c < width; ++c) {
        float* dst = out + r * width + c;
        const std::int64_t uncropped_c = crop_source(c - t.crop_cols, width);
        if (uncropped_r < 0 || uncropped_r >= height || uncropped_c < 0 || uncropped_c >= width) {
          for (std::int64_t ch = 0; ch < channels; ++ch) dst[ch * plane] = 0;
          continue;
        }
        const std::int64_t unflipped_c = t.flip ? width - 1 - uncropped_c : uncropped_c;
        const double x = unflipped_c - centre_c - t.shift_cols;
        const double src_r = snap_to_grid(row_src_r - sin_t * x);
        const double src_c = snap_to_grid(row_src_c + cos_t * x);
        const double floor_r = std::floor(src_r), floor_c = std::floor(src_c);
        const float wr = static_cast<float>(src_r - floor_r), wc = static_cast<float>(src_c - floor_c);
        const std::int64_t r0 = source_index(static_cast<std::int64_t>(floor_r), height);
        const std::int64_t r1 = source_index(static_cast<std::int64_t>(floor_r) + 1, height);
        const std::int64_t c0 = source_index(static_cast<std::int64_t>(floor_c), width);
        const std::int64_t c1 = source_index(static_cast<std::int64_t>(floor_c) + 1, width);
        const float cval = options_.cval;
        for (std::int64_t ch = 0; ch < channels; ++ch) {
          const float* src = in + ch * plane;
          const auto pixel = [&](std::int64_t i, std::int64_t j) { return i < 0 || j < 0 ? cval : src[i * width + j]; };
          const float top = pixel(r0, c0) + (pixel(r0, c1) - pixel(r0, c0)) * wc;
          const float bottom = pixel(r1, c0) + (pixel(r1, c1) - pixel(r1, c0)) * wc;
          dst[ch * plane] = top + (bottom - top) * wr;
        }
      }
    }
  }

  void cut_out(const AugmentTransform& t, float* image, std::int64_t channels, std::int64_t height,
               std::int64_t width) const {
    const std::int64_t size = options_.cutout_size;
    const std::int64_t top = t.cutout_row - size / 2, left = t.cutout_col - size / 2;
    const std::int64_t r_begin = std::clamp<std::int64_t>(top, 0, height);
    const std::int64_t r_end = std::clamp<std::int64_t>(top + size, 0, height);
    const std::int64_t c_begin = std::clamp<std::int64_t>(left, 0, width);
    const std::int64_t c_end = std::clamp<std::int64_t>(left + size, 0, width);
    for (std::int64_t ch = 0; ch < channels; ++ch) {
      for (std::int64_t r = r_begin; r < r_end; ++r) {
        float* row = image + (ch * height + r) * width;
        std::fill(row + c_begin, row + c_end, 0.0f);
      }
    }
  }

  AugmentOptions options_;
};

}  // namespace tinynet
