#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include "tinynet/data/batch_loader.hpp"

using namespace tinynet;

namespace {

// ensures: n samples [c, h, w]; pixel 0 of sample i is i (so n <= 256), the rest a pattern;
// label i % 10.
ImageDataset numbered_dataset(std::int64_t n, std::int64_t c = 3, std::int64_t h = 8, std::int64_t w = 8) {
  ImageDataset data;
  data.class_names = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"};
  data.images = Tensor<std::uint8_t>(Shape{n, c, h, w});
  const std::int64_t per = c * h * w;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = 0; k < per; ++k) data.images[i * per + k] = static_cast<std::uint8_t>((i * 7 + k * 13) % 256);
    data.images[i * per] = static_cast<std::uint8_t>(i);
    data.labels.push_back(static_cast<int>(i % 10));
  }
  return data;
}

struct EpochRecord {
  std::vector<std::int64_t> batch_sizes, indices;
  std::vector<int> labels;
  std::vector<float> pixels;
  Shape sample_shape;
};

// ensures: everything the loader hands out in epoch `epoch`.
EpochRecord run_epoch(BatchLoader& loader, int epoch) {
  EpochRecord record;
  loader.begin_epoch(epoch);
  Batch batch;
  while (loader.next(batch)) {
    REQUIRE(batch.images.dim(0) == batch.size());
    REQUIRE(static_cast<std::int64_t>(batch.indices.size()) == batch.size());
    record.sample_shape = batch.images.shape().drop_front();
    record.batch_sizes.push_back(batch.size());
    record.indices.insert(record.indices.end(), batch.indices.begin(), batch.indices.end());
    record.labels.insert(record.labels.end(), batch.labels.begin(), batch.labels.end());
    record.pixels.insert(record.pixels.end(), batch.images.begin(), batch.images.end());
  }
  CHECK_FALSE(loader.next(batch));  // stays finished
  return record;
}

BatchLoaderOptions augmented_options() {
  BatchLoaderOptions o;
  o.batch_size = 8;
  o.seed = 1234;
  o.augment.rotation_range = 15;
  o.augment.width_shift_range = 0.1;
  o.augment.height_shift_range = 0.1;
  o.augment.horizontal_flip = true;
  o.augment.crop_padding = 2;
  o.augment.cutout_size = 3;
  o.format.resize_height = 12;
  o.format.resize_width = 10;
  return o;
}

// A converter that takes `delay` per batch.
ImageConverter slow_converter(std::chrono::milliseconds delay) {
  return [delay](const ImageDataset& data, const std::int64_t* indices, std::int64_t count, float* out) {
    std::this_thread::sleep_for(delay);
    convert_unit_range(data, indices, count, out);
  };
}

}  // namespace

TEST_CASE("BatchLoader: every sample exactly once per epoch, with its label and x/255 pixels", "[batch_loader]") {
  const ImageDataset data = numbered_dataset(23, 3, 4, 4);
  BatchLoaderOptions o;
  o.batch_size = 5;
  o.prefetch = 2;
  BatchLoader loader(data, o);
  CHECK(loader.batches_per_epoch() == 5);
  const EpochRecord e = run_epoch(loader, 0);
  CHECK(e.batch_sizes == std::vector<std::int64_t>{5, 5, 5, 5, 3});  // the partial last batch is kept
  CHECK(e.sample_shape == Shape{3, 4, 4});
  std::vector<std::int64_t> sorted = e.indices;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::int64_t> all(23);
  std::iota(all.begin(), all.end(), std::int64_t(0));
  CHECK(sorted == all);
  const std::int64_t per = 3 * 4 * 4;
  for (std::size_t k = 0; k < e.indices.size(); ++k) {
    const std::int64_t i = e.indices[k];
    REQUIRE(e.labels[k] == data.labels[i]);
    for (std::int64_t p = 0; p < per; ++p)
      REQUIRE(e.pixels[k * per + p] == static_cast<float>(data.images[i * per + p]) / 255.0f);
  }

  o.drop_last = true;
  BatchLoader dropping(data, o);
  CHECK(dropping.batches_per_epoch() == 4);
  const EpochRecord d = run_epoch(dropping, 0);
  CHECK(d.batch_sizes == std::vector<std::int64_t>{5, 5, 5, 5});
  CHECK(std::set<std::int64_t>(d.indices.begin(), d.indices.end()).size() == 20);
}

TEST_CASE("BatchLoader: same seed and epoch give identical batches, whatever the worker count", "[batch_loader]") {
  const ImageDataset data = numbered_dataset(50);
  BatchLoaderOptions o = augmented_options();
  o.workers = 1;
  o.prefetch = 1;
  BatchLoader one_worker(data, o);
  o.workers = 3;
  o.prefetch = 5;
  BatchLoader three_workers(data, o);
  const EpochRecord a0 = run_epoch(one_worker, 0), a3 = run_epoch(one_worker, 3);
  const EpochRecord b3 = run_epoch(three_workers, 3), b0 = run_epoch(three_workers, 0);
  CHECK(a0.sample_shape == Shape{3, 12, 10});
  CHECK(a0.batch_sizes == std::vector<std::int64_t>{8, 8, 8, 8, 8, 8, 2});
  CHECK(a0.indices == b0.indices);
  CHECK(a0.labels == b0.labels);
  CHECK(a0.pixels == b0.pixels);
  CHECK(a3.indices == b3.indices);
  CHECK(a3.pixels == b3.pixels);

  BatchLoader again(data, o);  // a second run
  CHECK(run_epoch(again, 3).pixels == a3.pixels);

  o.seed = 1235;
  BatchLoader other_seed(data, o);
  CHECK(run_epoch(other_seed, 0).indices != a0.indices);
}

TEST_CASE("BatchLoader: epochs reshuffle and re-augment; shuffle off keeps dataset order", "[batch_loader]") {
  const ImageDataset data = numbered_dataset(40);
  BatchLoaderOptions o = augmented_options();
  BatchLoader loader(data, o);
  const EpochRecord e1 = run_epoch(loader, 1), e2 = run_epoch(loader, 2);
  CHECK(e1.indices != e2.indices);

  o.shuffle = false;
  BatchLoader ordered(data, o);
  const EpochRecord f1 = run_epoch(ordered, 1), f2 = run_epoch(ordered, 2);
  std::vector<std::int64_t> in_order(40);
  std::iota(in_order.begin(), in_order.end(), std::int64_t(0));
  CHECK(f1.indices == in_order);
  CHECK(f2.indices == in_order);
  CHECK(f1.pixels != f2.pixels);  // same samples, new random transforms
}

TEST_CASE("BatchLoader: sample p of epoch e is augmented with Rng(derive_seed({seed, e, 2, p}))", "[batch_loader]") {
  const ImageDataset data = numbered_dataset(12, 3, 8, 8);
  BatchLoaderOptions o = augmented_options();
  o.batch_size = 5;
  o.format = BatchFormat{};  // no resize: compare with the Augmenter directly
  BatchLoader loader(data, o);
  const int epoch = 4;
  const EpochRecord e = run_epoch(loader, epoch);
  const Augmenter aug(o.augment);
  const std::int64_t per = 3 * 8 * 8;
  std::vector<float> converted(per), expected(per);
  for (std::size_t p = 0; p < e.indices.size(); ++p) {
    convert_unit_range(data, &e.indices[p], 1, converted.data());
    Rng rng(derive_seed({o.seed, static_cast<std::uint64_t>(epoch), 2, static_cast<std::uint64_t>(p)}));
    aug.apply(aug.draw(rng, 8, 8), converted.data(), expected.data(), 3, 8, 8);
    REQUIRE(std::equal(expected.begin(), expected.end(), e.pixels.begin() + p * per));
  }
}

TEST_CASE("BatchLoader: alternate_flips mirrors each image in every other epoch", "[batch_loader][augment]") {
  const std::int64_t n = 64, per = 3 * 8 * 8;
  const ImageDataset data = numbered_dataset(n, 3, 8, 8);
  BatchLoaderOptions o;
  o.batch_size = 10;
  o.seed = 99;
  o.augment.horizontal_flip = true;
  o.augment.alternate_flips = true;
  BatchLoader loader(data, o);
  std::vector<std::vector<bool>> mirrored(4, std::vector<bool>(n));
  std::vector<float> original(per);
  for (int epoch = 0; epoch < 4; ++epoch) {
    const EpochRecord e = run_epoch(loader, epoch);
    REQUIRE(static_cast<std::int64_t>(e.indices.size()) == n);
    for (std::int64_t p = 0; p < n; ++p) {
      const std::int64_t i = e.indices[p];
      convert_unit_range(data, &i, 1, original.data());
      const float* image = e.pixels.data() + p * per;
      bool as_is = true, flipped = true;
      for (std::int64_t k = 0; k < per; ++k) {
        const std::int64_t col = k % 8;
        as_is = as_is && image[k] == original[k];
        flipped = flipped && image[k] == original[k - col + 7 - col];
      }
      REQUIRE(as_is != flipped);  // exactly one of the two (the pattern is not symmetric)
      mirrored[epoch][i] = flipped;
      CHECK(flipped == alternating_flip(o.seed, i, epoch));
    }
  }
  const auto count = std::count(mirrored[0].begin(), mirrored[0].end(), true);
  CHECK(count > n / 4);  // a coin per image in the first epoch
  CHECK(count < 3 * n / 4);
  for (std::int64_t i = 0; i < n; ++i) {
    CHECK(mirrored[1][i] != mirrored[0][i]);
    CHECK(mirrored[2][i] == mirrored[0][i]);
    CHECK(mirrored[3][i] == mirrored[1][i]);
  }
  o.augment.horizontal_flip = false;
  CHECK_THROWS_WITH(BatchLoader(data, o), Catch::Contains("alternate_flips needs horizontal_flip"));
}

TEST_CASE("BatchLoader: the consumer's waiting time is measured per epoch", "[batch_loader]") {
  const ImageDataset data = numbered_dataset(12);
  BatchLoaderOptions o;
  o.batch_size = 4;
  o.workers = 1;
  o.format.convert = slow_converter(std::chrono::milliseconds(30));
  BatchLoader loader(data, o);
  run_epoch(loader, 0);  // three batches of 30 ms each, read as soon as asked for
  CHECK(loader.wait_seconds() > 0.05);
  CHECK(loader.wait_seconds() < 5);
  loader.begin_epoch(1);
  CHECK(loader.wait_seconds() == 0);

  BatchLoader fast(data, BatchLoaderOptions{});
  run_epoch(fast, 0);
  CHECK(fast.wait_seconds() >= 0);
}

TEST_CASE("BatchLoader: stopping or restarting mid-epoch neither hangs nor leaks batches", "[batch_loader]") {
  const ImageDataset data = numbered_dataset(200);
  BatchLoaderOptions o;
  o.batch_size = 4;
  o.workers = 3;
  o.prefetch = 3;
  o.format.convert = slow_converter(std::chrono::milliseconds(5));
  const auto start = std::chrono::steady_clock::now();
  {
    BatchLoader loader(data, o);
    loader.begin_epoch(0);
    Batch batch;
    REQUIRE(loader.next(batch));
  }  // destroyed with batches in flight
  { BatchLoader never_started(data, o); }
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 2);

  o.format.convert = {};
  BatchLoader loader(data, o);
  loader.begin_epoch(0);
  Batch batch;
  REQUIRE(loader.next(batch));
  REQUIRE(loader.next(batch));
  const EpochRecord restarted = run_epoch(loader, 1);  // abandons epoch 0
  BatchLoader fresh(data, o);
  CHECK(restarted.indices == run_epoch(fresh, 1).indices);
  CHECK(restarted.indices.size() == 200);
}

TEST_CASE("BatchLoader: a converter's exception reaches next(); misuse is reported", "[batch_loader]") {
  const ImageDataset data = numbered_dataset(10);
  BatchLoaderOptions o;
  o.batch_size = 4;
  o.format.convert = [](const ImageDataset&, const std::int64_t*, std::int64_t, float*) {
    fail("converter: corrupt image");
  };
  BatchLoader failing(data, o);
  failing.begin_epoch(0);
  Batch batch;
  CHECK_THROWS_WITH(failing.next(batch), Catch::Contains("corrupt image"));

  BatchLoader idle(data, BatchLoaderOptions{});
  CHECK_THROWS_WITH(idle.next(batch), Catch::Contains("begin_epoch"));
  BatchLoaderOptions bad;
  bad.batch_size = 0;
  CHECK_THROWS_WITH(BatchLoader(data, bad), Catch::Contains("batch_size"));
  bad = BatchLoaderOptions{};
  bad.workers = 0;
  CHECK_THROWS_WITH(BatchLoader(data, bad), Catch::Contains("workers"));
  bad = BatchLoaderOptions{};
  bad.prefetch = 0;
  CHECK_THROWS_WITH(BatchLoader(data, bad), Catch::Contains("prefetch"));
  bad = BatchLoaderOptions{};
  bad.format.resize_height = 16;
  CHECK_THROWS_WITH(BatchLoader(data, bad), Catch::Contains("16x0"));
  ImageDataset broken = numbered_dataset(10);
  broken.labels.pop_back();
  CHECK_THROWS_WITH(BatchLoader(broken, BatchLoaderOptions{}), Catch::Contains("10 images but 9 labels"));
}

TEST_CASE("make_batch converts and resizes exactly as the loader does, without augmentation", "[batch_loader]") {
  const ImageDataset data = numbered_dataset(9, 3, 8, 8);
  BatchFormat format;
  format.convert = [](const ImageDataset& d, const std::int64_t* indices, std::int64_t count, float* out) {
    const std::int64_t per = d.sample_shape().numel();
    for (std::int64_t k = 0; k < count; ++k)
      for (std::int64_t p = 0; p < per; ++p) out[k * per + p] = 2.0f * d.images[indices[k] * per + p];
  };
  const std::vector<std::int64_t> picks{4, 1, 7};
  Batch batch;
  make_batch(data, picks.data(), 3, format, batch);
  REQUIRE(batch.images.shape() == Shape{3, 3, 8, 8});
  CHECK(batch.labels == std::vector<int>{4, 1, 7});
  CHECK(batch.images.at(1, 0, 0, 0) == 2.0f * 1);  // pixel 0 of sample 1 is 1
  CHECK(batch.images.at(2, 2, 7, 7) == 2.0f * data.images[7 * 192 + 191]);

  format.resize_height = 12;
  format.resize_width = 10;
  const std::vector<std::int64_t> first_three{0, 1, 2};
  make_batch(data, first_three.data(), 3, format, batch);
  BatchLoaderOptions o;
  o.batch_size = 3;
  o.shuffle = false;
  o.format = format;
  BatchLoader loader(data, o);
  const EpochRecord e = run_epoch(loader, 0);
  REQUIRE(batch.images.shape() == Shape{3, 3, 12, 10});
  CHECK(std::equal(batch.images.begin(), batch.images.end(), e.pixels.begin()));

  const std::vector<std::int64_t> outside{3, 9};
  CHECK_THROWS_WITH(make_batch(data, outside.data(), 2, format, batch), Catch::Contains("index 9"));
}
