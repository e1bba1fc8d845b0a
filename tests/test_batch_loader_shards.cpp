// The BatchLoader's shards (data-parallel ranks): together they cover every sample once per
// epoch, each rank's part of batch k is the one-process batch k's slice, augmented alike.
#include <catch2/catch.hpp>

#include <map>
#include <vector>

#include "tinynet/data/batch_loader.hpp"

using namespace tinynet;

namespace {

ImageDataset counted_dataset(std::int64_t n) {  // pixel values encode the sample index
  ImageDataset d;
  d.class_names = {"a", "b"};
  d.images = Tensor<std::uint8_t>(Shape{n, 3, 6, 6});
  for (std::int64_t i = 0; i < n; ++i) {
    d.labels.push_back(static_cast<int>(i % 2));
    for (std::int64_t p = 0; p < 3 * 36; ++p) d.images[i * 3 * 36 + p] = static_cast<std::uint8_t>((i * 7 + p) % 256);
  }
  return d;
}

BatchLoaderOptions options(int shard, int shards) {
  BatchLoaderOptions o;
  o.batch_size = 12;
  o.seed = 4;
  o.workers = 2;
  o.augment.horizontal_flip = true;
  o.augment.crop_padding = 2;
  o.shard = shard;
  o.shards = shards;
  return o;
}

}  // namespace

TEST_CASE("shards for 1 2 and 3 ranks cover every sample once per epoch as slices of the one-process batches") {
  const ImageDataset data = counted_dataset(100);  // 8 batches of 12 and one of 4
  BatchLoader whole(data, options(0, 1));
  for (int shards : {1, 2, 3}) {
    std::vector<std::unique_ptr<BatchLoader>> ranks;
    for (int r = 0; r < shards; ++r) ranks.push_back(std::make_unique<BatchLoader>(data, options(r, shards)));
    for (int epoch : {0, 1}) {
      whole.begin_epoch(epoch);
      for (auto& rank : ranks) rank->begin_epoch(epoch);
      std::map<std::int64_t, int> seen;
      Batch all, part;
      for (std::int64_t k = 0; k < whole.batches_per_epoch(); ++k) {
        REQUIRE(whole.next(all));
        std::int64_t at = 0;
        for (int r = 0; r < shards; ++r) {
          REQUIRE(ranks[r]->batches_per_epoch() == whole.batches_per_epoch());
          REQUIRE(ranks[r]->next(part));
          CHECK(part.global_size == all.size());
          CHECK(part.global_offset == at);
          const std::int64_t per = part.images.numel() / std::max<std::int64_t>(1, part.size());
          for (std::int64_t i = 0; i < part.size(); ++i) {
            CHECK(part.indices[i] == all.indices[at + i]);
            ++seen[part.indices[i]];
          }
          bool same_pixels = true;  // the same augmentation as in one process
          for (std::int64_t v = 0; v < part.images.numel(); ++v)
            same_pixels = same_pixels && part.images[v] == all.images[at * per + v];
          CHECK(same_pixels);
          at += part.size();
        }
        CHECK(at == all.size());
      }
      CHECK(seen.size() == 100u);
      for (const auto& s : seen) CHECK(s.second == 1);
    }
  }
}

TEST_CASE("a last batch smaller than the rank count is dropped; a batch that does not divide is an error") {
  const ImageDataset data = counted_dataset(97);  // 8 batches of 12 and one of 1
  BatchLoader one(data, options(0, 1));
  BatchLoader share(data, options(1, 3));
  CHECK(one.batches_per_epoch() == 9);
  CHECK(share.batches_per_epoch() == 8);  // the 1-sample remainder cannot be cut in 3
  BatchLoaderOptions odd = options(0, 5);
  CHECK_THROWS_WITH(BatchLoader(data, odd),
                    Catch::Contains("global batch of 12 samples does not divide among 5 ranks"));
  CHECK_THROWS_WITH(BatchLoader(data, options(3, 3)), Catch::Contains("shard 3 of 3 does not exist"));
}
