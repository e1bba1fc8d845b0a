// tinynet/data/normalize.hpp: 8-bit images to a floating-point batch, with the input
// preprocessing a model expects.
//
// Preprocessing::unit_range():      x / 255                         (values in [0, 1])
// Preprocessing::standardize(s):    (x / 255 - mean_c) / stddev_c   (stats on the [0, 1] scale)
// Preprocessing::caffe():           RGB -> BGR, then x - [103.939, 116.779, 123.68] on 0..255
//                                   values (Keras applications' "caffe" mode, e.g. VGG16)
// The conversion is a per-channel 256-entry lookup table, OpenMP-parallel over samples and channels.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/data/dataset.hpp"

namespace tinynet {

struct ChannelStats {
  std::vector<double> mean, stddev;  // one per channel, on the [0, 1] scale (pixel / 255)
};

struct Preprocessing {
  enum class Kind { unit_range, standardize, caffe };
  Kind kind = Kind::unit_range;
  ChannelStats stats;  // standardize only

  static Preprocessing unit_range() { return {}; }
  static Preprocessing standardize(ChannelStats stats) { return {Kind::standardize, std::move(stats)}; }
  static Preprocessing caffe() { return {Kind::caffe, {}}; }
};

// requires: data holds at least one image.
// ensures: per-channel mean and population standard deviation of pixel / 255 over all
// images and pixels (exact: computed from per-channel histograms).
inline ChannelStats compute_channel_stats(const ImageDataset& data) {
  data.validate("compute_channel_stats");
  check(data.size() > 0, "compute_channel_stats: the dataset is empty");
  const std::int64_t n = data.size(), channels = data.images.dim(1);
  const std::int64_t plane = data.images.dim(2) * data.images.dim(3);
  std::vector<std::uint64_t> histogram(static_cast<std::size_t>(channels * 256), 0);
  const std::uint8_t* pixels = data.images.data();
#pragma omp parallel
  {
    std::vector<std::uint64_t> local(histogram.size(), 0);
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t c = 0; c < channels; ++c) {
        const std::uint8_t* p = pixels + (i * channels + c) * plane;
        std::uint64_t* h = local.data() + c * 256;
        for (std::int64_t k = 0; k < plane; ++k) ++h[p[k]];
      }
#pragma omp critical(tinynet_channel_stats)
    for (std::size_t k = 0; k < histogram.size(); ++k) histogram[k] += local[k];
  }
  ChannelStats stats;
  const double count = static_cast<double>(n * plane);
  for (std::int64_t c = 0; c < channels; ++c) {
    const std::uint64_t* h = histogram.data() + c * 256;
    double sum = 0;
    for (int v = 0; v < 256; ++v) sum += static_cast<double>(h[v]) * (v / 255.0);
    const double mean = sum / count;
    double squares = 0;
    for (int v = 0; v < 256; ++v) squares += static_cast<double>(h[v]) * (v / 255.0 - mean) * (v / 255.0 - mean);
    stats.mean.push_back(mean);
    stats.stddev.push_back(std::sqrt(squares / count));
  }
  return stats;
}

namespace detail {
// The conversion of one output channel: out = table[in], read from input channel `source`.
template <class T>
struct ChannelTable {
  std::int64_t source;
  T table[256];
};

// requires: `p` applicable to `channels` channels (checked). ensures: one table per output channel.
template <class T>
std::vector<ChannelTable<T>> preprocessing_tables(const Preprocessing& p, std::int64_t channels) {
  static const double caffe_bgr_mean[3] = {103.939, 116.779, 123.68};
  if (p.kind == Preprocessing::Kind::caffe)
    check(channels == 3, "caffe preprocessing: needs 3 (RGB) channels, images have ", channels);
  if (p.kind == Preprocessing::Kind::standardize) {
    check(static_cast<std::int64_t>(p.stats.mean.size()) == channels &&
              static_cast<std::int64_t>(p.stats.stddev.size()) == channels,
          "standardize preprocessing: statistics for ", p.stats.mean.size(), " means and ", p.stats.stddev.size(),
          " deviations, images have ", channels, " channels");
    for (std::int64_t c = 0; c < channels; ++c)
      check(p.stats.stddev[c] > 0, "standardize preprocessing: channel ", c, " has standard deviation ",
            p.stats.stddev[c], " (must be > 0)");
  }
  std::vector<ChannelTable<T>> tables(static_cast<std::size_t>(channels));
  for (std::int64_t c = 0; c < channels; ++c) {
    auto& t = tables[c];
    t.source = p.kind == Preprocessing::Kind::caffe ? 2 - c : c;
    for (int v = 0; v < 256; ++v) {
      double value = v / 255.0;
      if (p.kind == Preprocessing::Kind::standardize) value = (value - p.stats.mean[c]) / p.stats.stddev[c];
      if (p.kind == Preprocessing::Kind::caffe) value = v - caffe_bgr_mean[c];
      t.table[v] = static_cast<T>(value);
    }
  }
  return tables;
}
}  // namespace detail

// requires: images [N, C, H, W]; indices[0..count) each in [0, N); the preprocessing fits C;
// `out` has room for count * C * H * W values.
// ensures: out holds [count, C, H, W], sample b being images[indices[b]] converted as `p` says.
template <class T>
void preprocess_into(const Tensor<std::uint8_t>& images, const std::int64_t* indices, std::int64_t count,
                     const Preprocessing& p, T* out) {
  static_assert(std::is_floating_point<T>::value, "preprocess_into: output must be float or double");
  check(images.rank() == 4, "preprocess_into: images must be [N,C,H,W], got ", images.shape());
  for (std::int64_t b = 0; b < count; ++b)
    check(indices[b] >= 0 && indices[b] < images.dim(0), "preprocess_into: index ", indices[b], " at batch position ",
          b, " is outside ", images.dim(0), " images");
  const std::int64_t channels = images.dim(1), plane = images.dim(2) * images.dim(3);
  const auto tables = detail::preprocessing_tables<T>(p, channels);
  const std::uint8_t* in = images.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (std::int64_t b = 0; b < count; ++b)
    for (std::int64_t c = 0; c < channels; ++c) {
      const auto& t = tables[c];
      const std::uint8_t* src = in + (indices[b] * channels + t.source) * plane;
      T* o = out + (b * channels + c) * plane;
      for (std::int64_t k = 0; k < plane; ++k) o[k] = t.table[src[k]];
    }
}

// requires: as preprocess_into.
// ensures: out resized to [indices.size(), C, H, W] (storage reused when large enough) and
// filled by preprocess_into.
template <class T>
void preprocess_batch(const Tensor<std::uint8_t>& images, const std::vector<std::int64_t>& indices,
                      const Preprocessing& p, Tensor<T>& out) {
  check(images.rank() == 4, "preprocess_batch: images must be [N,C,H,W], got ", images.shape());
  const auto count = static_cast<std::int64_t>(indices.size());
  out.resize(Shape{count, images.dim(1), images.dim(2), images.dim(3)});
  preprocess_into(images, indices.data(), count, p, out.data());
}

// requires: as preprocess_batch. ensures: preprocess_batch over all N images in order.
template <class T>
void preprocess_images(const Tensor<std::uint8_t>& images, const Preprocessing& p, Tensor<T>& out) {
  check(images.rank() == 4, "preprocess_images: images must be [N,C,H,W], got ", images.shape());
  std::vector<std::int64_t> all(static_cast<std::size_t>(images.dim(0)));
  for (std::int64_t i = 0; i < images.dim(0); ++i) all[i] = i;
  preprocess_batch(images, all, p, out);
}

}  // namespace tinynet
