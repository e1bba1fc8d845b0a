// tinynet/data/dataset.hpp: an in-memory labelled image set.
//
// Images are 8-bit, NCHW ([N, channels, height, width], RGB channel order), as the
// CIFAR-10 binary release stores them; conversion to float happens per batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

struct ImageDataset {
  Tensor<std::uint8_t> images;           // [N, C, H, W]
  std::vector<int> labels;               // N entries, each in [0, class_names.size())
  std::vector<std::string> class_names;  // index -> name

  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
  int num_classes() const { return static_cast<int>(class_names.size()); }
  // ensures: the sample shape [C, H, W].
  Shape sample_shape() const { return images.shape().drop_front(); }

  // ensures: Error naming `where` unless images and labels agree and labels are in range.
  void validate(const std::string& where) const {
    check(images.rank() == 4, where, ": images must be [N,C,H,W], got ", images.shape());
    check(images.dim(0) == size(), where, ": ", images.dim(0), " images but ", size(), " labels");
    for (std::int64_t i = 0; i < size(); ++i)
      check(labels[i] >= 0 && labels[i] < num_classes(), where, ": label ", labels[i], " of sample ", i,
            " is outside [0,", num_classes(), ")");
  }
};

// ensures: the samples at `indices`, in that order (same classes).
inline ImageDataset subset(const ImageDataset& data, const std::vector<std::int64_t>& indices) {
  ImageDataset out;
  out.class_names = data.class_names;
  out.images = Tensor<std::uint8_t>(data.sample_shape().prepend(static_cast<std::int64_t>(indices.size())));
  const std::int64_t per = data.sample_shape().numel();
  out.labels.reserve(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const std::int64_t i = indices[k];
    check(i >= 0 && i < data.size(), "subset: index ", i, " outside a dataset of ", data.size());
    std::copy(data.images.data() + i * per, data.images.data() + (i + 1) * per, out.images.data() + k * per);
    out.labels.push_back(data.labels[i]);
  }
  return out;
}

}  // namespace tinynet
