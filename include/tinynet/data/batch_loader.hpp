// tinynet/data/batch_loader.hpp: float training batches from an ImageDataset, shuffled,
// augmented and resized on worker threads ahead of the training loop.
//
// A batch is made in three per-sample steps: the uint8 images are converted to float by
// an ImageConverter (default x/255; the caffe-style preprocessing plugs in here), each
// sample is augmented by an Augmenter, and each is resized (tf.image.resize bilinear)
// when BatchFormat asks for another size. The converter runs before augmentation, as
// Keras' ImageDataGenerator augments the already-normalised arrays.
//
// Determinism: epoch e orders the samples with Rng(derive_seed({seed, e, 1})) (or keeps
// dataset order), batch k holds the samples at positions [k*B, k*B+B) of that order,
// and the sample at position p is augmented with Rng(derive_seed({seed, e, 2, p})) (with
// alternate_flips, its mirroring is alternating_flip(seed, index, e) instead). So the
// batches depend on (seed, epoch, options) only, not on the worker count or timing.
//
// Shards (data-parallel training): with shards = R, rank `shard` gets its part of every batch
// of the order above: batch k's B samples (fewer in the last batch) cut into R consecutive
// parts of equal size (+-1 in the last batch), so the R ranks together see every sample once
// per epoch, each augmented exactly as in one process. A last batch with fewer than R samples
// is dropped (at most R - 1 samples an epoch); B must be a multiple of R.
//
// Threads: the workers run only per-sample code (no OpenMP regions of their own), and
// each sets its OpenMP thread count to 1, so a converter that contains OpenMP loops does
// not start a second thread pool beside the training one. The converter is called from
// several workers at once, so it must be thread-safe. begin_epoch(), next() and
// wait_seconds() are for one consumer thread. The dataset must outlive the loader.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tinynet/core/error.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/data/augment.hpp"
#include "tinynet/data/dataset.hpp"
#include "tinynet/data/resize.hpp"

namespace tinynet {

struct Batch {
  Tensor<float> images;               // [B, C, H, W]
  std::vector<int> labels;            // B labels
  std::vector<std::int64_t> indices;  // the dataset index of each sample
  std::int64_t global_size = 0;       // samples in the batch over all shards (B without shards)
  std::int64_t global_offset = 0;     // where this shard's samples start in it (0 without shards)
  std::int64_t size() const { return static_cast<std::int64_t>(labels.size()); }
};

// Writes images indices[0..count) of the dataset as float, sample after sample in
// [C, H, W] layout, to out (count * C * H * W values).
using ImageConverter =
    std::function<void(const ImageDataset& data, const std::int64_t* indices, std::int64_t count, float* out)>;

// ensures: the ImageConverter contract with out = byte / 255.
inline void convert_unit_range(const ImageDataset& data, const std::int64_t* indices, std::int64_t count, float* out) {
  const std::int64_t per_image = data.sample_shape().numel();
  for (std::int64_t k = 0; k < count; ++k) {
    const std::uint8_t* src = data.images.data() + indices[k] * per_image;
    float* dst = out + k * per_image;
    for (std::int64_t i = 0; i < per_image; ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
  }
}

// How dataset images become batch images.
struct BatchFormat {
  ImageConverter convert;                            // empty: convert_unit_range
  std::int64_t resize_height = 0, resize_width = 0;  // both 0: keep the dataset's size

  bool resizes() const { return resize_height != 0 || resize_width != 0; }
  // requires: both resize sizes 0 or both >= 1 (an Error naming `where` otherwise).
  // ensures: the [C, H, W] shape of a batch sample made from dataset samples of `sample`.
  Shape sample_shape(const Shape& sample, const char* where) const {
    check((resize_height == 0 && resize_width == 0) || (resize_height >= 1 && resize_width >= 1), where,
          ": resize size ", resize_height, "x", resize_width, " must be both 0 (no resize) or both >= 1");
    return resizes() ? Shape{sample[0], resize_height, resize_width} : sample;
  }
  // ensures: the converter applied (or convert_unit_range when none is set).
  void convert_images(const ImageDataset& data, const std::int64_t* indices, std::int64_t count, float* out) const {
    if (convert)
      convert(data, indices, count, out);
    else
      convert_unit_range(data, indices, count, out);
  }
};

// ensures: a well-mixed 64-bit seed from `parts` (SplitMix64 finaliser folded over them).
inline std::uint64_t derive_seed(std::initializer_list<std::uint64_t> parts) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  for (std::uint64_t part : parts) {
    h ^= part + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 31;
  }
  return h;
}

// One-shot, on the calling thread (the resize uses the OpenMP pool): for evaluation.
// requires: data valid, every index in [0, data.size()).
// ensures: out = the samples at indices[0..count) in that order, converted and resized
//          by `format`, not augmented; out's storage is reused when large enough.
inline void make_batch(const ImageDataset& data, const std::int64_t* indices, std::int64_t count,
                       const BatchFormat& format, Batch& out) {
  check(data.images.rank() == 4 && data.images.dim(0) == data.size(), "make_batch: dataset images ",
        data.images.shape(), " must be [N,C,H,W] with one per label (", data.size(), " labels)");
  check(count >= 0, "make_batch: negative sample count ", count);
  const Shape sample = data.sample_shape();
  const Shape out_sample = format.sample_shape(sample, "make_batch");
  out.indices.assign(indices, indices + count);
  out.labels.resize(count);
  for (std::int64_t k = 0; k < count; ++k) {
    check(indices[k] >= 0 && indices[k] < data.size(), "make_batch: index ", indices[k], " outside a dataset of ",
          data.size());
    out.labels[k] = data.labels[indices[k]];
  }
  if (!format.resizes()) {
    out.images.resize(out_sample.prepend(count));
    format.convert_images(data, indices, count, out.images.data());
    return;
  }
  Tensor<float> converted(sample.prepend(count));
  format.convert_images(data, indices, count, converted.data());
  resize_bilinear(converted, out_sample[1], out_sample[2], out.images);
}

// ensures: whether AugmentOptions::alternate_flips mirrors dataset sample `index` in `epoch`:
// a coin drawn from (seed, index) in even epochs, the opposite in odd ones.
inline bool alternating_flip(std::uint64_t seed, std::int64_t index, int epoch) {
  const bool even_epochs = (derive_seed({seed, 3, static_cast<std::uint64_t>(index)}) >> 63) != 0;
  return even_epochs != (epoch % 2 == 1);
}

struct BatchLoaderOptions {
  std::int64_t batch_size = 32;
  bool shuffle = true;
  bool drop_last = false;  // drop the last batch when it is partial
  std::uint64_t seed = 0;
  int workers = 2;         // worker threads
  int prefetch = 4;        // batches prepared ahead (at most this many in flight)
  AugmentOptions augment;  // default: no augmentation
  BatchFormat format;
  int shard = 0, shards = 1;  // this rank's part of each batch (data-parallel training)
};

class BatchLoader {
 public:
  // requires: data valid (checked) and alive as long as the loader; batch_size, workers,
  //           prefetch >= 1. ensures: workers started, idle until begin_epoch().
  BatchLoader(const ImageDataset& data, const BatchLoaderOptions& options)
      : data_(data), options_(options), augmenter_(options.augment) {
    data.validate("BatchLoader");
    check(options.batch_size >= 1, "BatchLoader: batch_size must be >= 1, got ", options.batch_size);
    check(options.workers >= 1, "BatchLoader: workers must be >= 1, got ", options.workers);
    check(options.prefetch >= 1, "BatchLoader: prefetch must be >= 1, got ", options.prefetch);
    check(options.shards >= 1 && options.shard >= 0 && options.shard < options.shards, "BatchLoader: shard ",
          options.shard, " of ", options.shards, " does not exist");
    check(options.batch_size % options.shards == 0, "BatchLoader: the global batch of ", options.batch_size,
          " samples does not divide among ", options.shards, " ranks; use a batch size that is a multiple of ",
          options.shards);
    out_sample_ = options.format.sample_shape(data.sample_shape(), "BatchLoader");
    const std::int64_t n = data.size(), b = options.batch_size, remainder = n % b;
    num_batches_ = n / b + (!options.drop_last && remainder >= options.shards ? 1 : 0);
    slots_.resize(static_cast<std::size_t>(options.prefetch));
    try {
      for (int w = 0; w < options.workers; ++w) workers_.emplace_back([this] { worker_loop(); });
    } catch (...) {
      stop_workers();
      throw;
    }
  }
  // A temporary dataset would be gone before the workers read it.
  BatchLoader(ImageDataset&&, const BatchLoaderOptions&) = delete;
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;
  // ensures: workers stopped and joined (a batch in progress is finished first).
  ~BatchLoader() { stop_workers(); }

  std::int64_t batches_per_epoch() const { return num_batches_; }
  // ensures: the [C, H, W] shape of every batch sample.
  const Shape& sample_shape() const { return out_sample_; }

  // ensures: the rest of any running epoch is abandoned; epoch `epoch` starts (its order
  //          drawn now) and the workers begin preparing its first batches; wait time reset.
  void begin_epoch(int epoch) {
    std::unique_lock<std::mutex> lock(mutex_);
    claimed_ = num_batches_;  // no new claims; batches in progress are discarded below
    ready_cv_.wait(lock, [this] { return busy_ == 0; });
    epoch_ = epoch;
    order_.resize(static_cast<std::size_t>(data_.size()));
    std::iota(order_.begin(), order_.end(), std::int64_t(0));
    if (options_.shuffle) {
      Rng rng(derive_seed({options_.seed, static_cast<std::uint64_t>(epoch), 1}));
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.below(i)]);
    }
    for (Slot& slot : slots_) slot.ready = false;
    claimed_ = consumed_ = 0;
    error_ = nullptr;
    wait_seconds_ = 0;
    started_ = true;
    lock.unlock();
    work_cv_.notify_all();
  }

  // requires: begin_epoch() called.
  // ensures: false when the epoch has no batch left; otherwise out = the next batch (its
  //          storage reused: clone() images you keep) and true. Time spent blocked waiting
  //          for a worker is added to wait_seconds(). A worker's exception is rethrown here.
  bool next(Batch& out) {
    std::unique_lock<std::mutex> lock(mutex_);
    check(started_, "BatchLoader::next: call begin_epoch() before next()");
    if (error_) std::rethrow_exception(error_);
    if (consumed_ >= num_batches_) return false;
    Slot& slot = slots_[static_cast<std::size_t>(consumed_ % options_.prefetch)];
    if (!slot.ready) {
      const auto start = std::chrono::steady_clock::now();
      ready_cv_.wait(lock, [&] { return slot.ready || error_; });
      wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (error_) std::rethrow_exception(error_);
    }
    lock.unlock();  // no worker writes this slot until consumed_ moves past it
    out.images.resize(slot.batch.images.shape());
    out.images.copy_from(slot.batch.images);
    out.labels = slot.batch.labels;
    out.indices = slot.batch.indices;
    out.global_size = slot.batch.global_size;
    out.global_offset = slot.batch.global_offset;
    lock.lock();
    slot.ready = false;
    ++consumed_;
    lock.unlock();
    work_cv_.notify_all();
    return true;
  }

  // ensures: seconds next() spent blocked since the last begin_epoch().
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Slot {
    Batch batch;
    bool ready = false;
  };
  // Per-worker buffers, reused from batch to batch.
  struct Scratch {
    std::vector<float> converted;  // the converted batch, when it is resized afterwards
    std::vector<float> sample;     // one sample before augmentation
  };

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  void worker_loop() {
#ifdef _OPENMP
    omp_set_num_threads(1);  // this thread's OpenMP regions (in a converter) stay on this thread
#endif
    Scratch scratch;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_cv_.wait(lock, [this] {
        return stop_ || (started_ && claimed_ < num_batches_ && claimed_ < consumed_ + options_.prefetch && !error_);
      });
      if (stop_) return;
      const std::int64_t k = claimed_++;
      const int epoch = epoch_;
      Slot& slot = slots_[static_cast<std::size_t>(k % options_.prefetch)];
      ++busy_;
      lock.unlock();
      std::exception_ptr failure;
      try {
        produce(k, epoch, slot.batch, scratch);
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      --busy_;
      if (failure)
        error_ = failure;
      else
        slot.ready = true;
      ready_cv_.notify_all();
    }
  }

  // Runs without the lock: order_ and the slot are not changed while busy_ > 0.
  void produce(std::int64_t k, int epoch, Batch& batch, Scratch& scratch) const {
    const std::int64_t global_size = std::min(options_.batch_size, data_.size() - k * options_.batch_size);
    batch.global_size = global_size;
    batch.global_offset = global_size * options_.shard / options_.shards;
    const std::int64_t first = k * options_.batch_size + batch.global_offset;  // epoch position of sample 0
    const std::int64_t count = global_size * (options_.shard + 1) / options_.shards - batch.global_offset;
    const std::int64_t* indices = order_.data() + first;
    batch.indices.assign(indices, indices + count);
    batch.labels.resize(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) batch.labels[i] = data_.labels[indices[i]];

    const Shape in_sample = data_.sample_shape();
    const std::int64_t channels = in_sample[0], height = in_sample[1], width = in_sample[2];
    const std::int64_t per_in = in_sample.numel(), per_out = out_sample_.numel();
    batch.images.resize(out_sample_.prepend(count));
    const bool resizes = options_.format.resizes();
    if (resizes) scratch.converted.resize(static_cast<std::size_t>(count * per_in));
    float* converted = resizes ? scratch.converted.data() : batch.images.data();
    options_.format.convert_images(data_, indices, count, converted);

    scratch.sample.resize(static_cast<std::size_t>(per_in));
    for (std::int64_t i = 0; i < count; ++i) {
      float* image = converted + i * per_in;
      if (!augmenter_.is_identity()) {
        const std::uint64_t position = static_cast<std::uint64_t>(first + i);
        Rng rng(derive_seed({options_.seed, static_cast<std::uint64_t>(epoch), 2, position}));
        std::copy(image, image + per_in, scratch.sample.data());
        AugmentTransform transform = augmenter_.draw(rng, height, width);
        if (options_.augment.alternate_flips) transform.flip = alternating_flip(options_.seed, indices[i], epoch);
        augmenter_.apply(transform, scratch.sample.data(), image, channels, height, width);
      }
      if (resizes)
        resize_bilinear_image(image, channels, height, width, batch.images.data() + i * per_out, out_sample_[1],
                              out_sample_[2]);
    }
  }

  const ImageDataset& data_;
  const BatchLoaderOptions options_;
  const Augmenter augmenter_;
  Shape out_sample_;
  std::int64_t num_batches_ = 0;

  // Guarded by mutex_ (order_ and the slots' batches: see produce()).
  std::mutex mutex_;
  std::condition_variable work_cv_;   // workers: a batch can be claimed, or stop
  std::condition_variable ready_cv_;  // consumer: a batch is ready, a worker finished, or failed
  std::vector<Slot> slots_;           // batch k is prepared in slot k % prefetch
  std::vector<std::int64_t> order_;   // dataset index at each epoch position
  int epoch_ = 0;
  bool started_ = false;
  bool stop_ = false;
  std::int64_t claimed_ = 0;   // next batch a worker takes
  std::int64_t consumed_ = 0;  // batches handed to the consumer
  int busy_ = 0;               // workers producing a batch now
  std::exception_ptr error_;
  double wait_seconds_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace tinynet
