// tinynet/training/test_time_augmentation.hpp: the views a prediction averages over.
//
// TestTimeAugmentation{flip, translate, average_logits} names the views Trainer::evaluate()
// and Trainer::probabilities() average the softmax of (or, with average_logits, the logits of,
// taking the softmax of the average):
//   {}                      the image alone;
//   flip                    the image and its mirror, 1/2 each;
//   translate = t (> 0)     half the weight on the views above, the other half split
//                           evenly over the same views shifted by (-t, -t) and (+t, +t)
//                           pixels with reflected borders (airbench94's "level 2" with flip:
//                           six views, weights 1/4, 1/4 and 1/8 each for the four shifted).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/core/tensor.hpp"

namespace tinynet {

struct TestTimeAugmentation {
  bool flip = false;
  int translate = 0;  // pixels; 0 = no shifted views
  bool average_logits = false;  // average the views' logits, then one softmax (airbench), not their softmax
};

// One view: shift (dy = dx = shift pixels, reflected borders), then an optional mirror.
struct TestTimeView {
  int shift;
  bool flip;
  double weight;
};

// requires: tta.translate >= 0 (checked). ensures: the views with weights summing to 1,
// the unshifted image first.
inline std::vector<TestTimeView> test_time_views(const TestTimeAugmentation& tta) {
  check(tta.translate >= 0, "test-time augmentation: translate must be >= 0 pixels, got ", tta.translate);
  std::vector<int> shifts{0};
  if (tta.translate > 0) shifts = {0, -tta.translate, tta.translate};
  std::vector<TestTimeView> views;
  for (int shift : shifts) {
    const double group_weight = shift == 0 ? (tta.translate > 0 ? 0.5 : 1.0) : 0.25;
    views.push_back({shift, false, tta.flip ? group_weight / 2 : group_weight});
    if (tta.flip) views.push_back({shift, true, group_weight / 2});
  }
  return views;
}

// requires: in [N,C,H,W] with |view.shift| < H and < W (checked).
// ensures: out[n,c,y,x] = in[n,c,r(y + shift), r(x' + shift)] with x' = W-1-x when
// view.flip (else x) and r reflecting at the borders without repeating them (-1 -> 1,
// H -> H-2); out resized to in's shape.
template <class T>
void make_test_time_view(const Tensor<T>& in, const TestTimeView& view, Tensor<T>& out) {
  check(in.rank() == 4, "test-time view: needs [N,C,H,W] images, got ", in.shape());
  const std::int64_t H = in.dim(2), W = in.dim(3), planes = in.dim(0) * in.dim(1);
  check(view.shift == 0 || (std::abs(view.shift) < H && std::abs(view.shift) < W), "test-time view: a shift of ",
        view.shift, " pixels does not fit images of ", H, "x", W);
  out.resize(in.shape());
  const auto reflect = [](std::int64_t i, std::int64_t n) { return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i; };
  std::vector<std::int64_t> columns(static_cast<std::size_t>(W));
  for (std::int64_t x = 0; x < W; ++x) columns[x] = reflect((view.flip ? W - 1 - x : x) + view.shift, W);
  for (std::int64_t p = 0; p < planes; ++p)
    for (std::int64_t y = 0; y < H; ++y) {
      const T* from = in.data() + (p * H + reflect(y + view.shift, H)) * W;
      T* to = out.data() + (p * H + y) * W;
      for (std::int64_t x = 0; x < W; ++x) to[x] = from[columns[x]];
    }
}

}  // namespace tinynet
