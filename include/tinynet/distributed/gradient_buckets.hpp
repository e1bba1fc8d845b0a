// tinynet/distributed/gradient_buckets.hpp: summing a flat gradient buffer over the ranks in
// buckets, while the backward pass is still running (PyTorch DDP's buckets, Horovod's fusion).
//
// The range [begin, end) of a model's gradient buffer is cut into buckets of at most
// `bucket_elements`, from the end down, because the backward pass finishes the last layers'
// gradients first. ready_from(offset) says that every gradient at or after `offset` is final:
// each bucket lying wholly there is started as a non-blocking allreduce, and the buckets in
// flight are tested, which lets MPI progress them. finish() starts what is left and waits for
// everything. Every rank starts the same buckets in the same order.
//
//   GradientBuckets<float> buckets(comm, begin, end, 25 << 20 / sizeof(float));
//   buckets.begin_step(grads.data());    // per step
//   ... buckets.ready_from(offset) ...   // from the backward observer
//   buckets.finish();                    // grads[begin, end) now hold the sum over the ranks
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/distributed/communicator.hpp"

namespace tinynet {

template <class T>
class GradientBuckets {
 public:
  // requires: 0 <= begin <= end; bucket_elements >= 1 (all checked).
  // ensures: buckets [max(begin, end - (k+1) * bucket_elements), end - k * bucket_elements).
  GradientBuckets(Communicator& comm, std::int64_t begin, std::int64_t end, std::int64_t bucket_elements)
      : comm_(comm) {
    check(0 <= begin && begin <= end, "GradientBuckets: bad range [", begin, ", ", end, ")");
    check(bucket_elements >= 1, "GradientBuckets: a bucket must hold >= 1 element, got ", bucket_elements);
    for (std::int64_t top = end; top > begin; top -= bucket_elements)
      buckets_.push_back({std::max(begin, top - bucket_elements), top});
  }

  std::size_t bucket_count() const { return buckets_.size(); }
  // ensures: the [offset, end) of bucket i (bucket 0 holds the buffer's last elements).
  std::pair<std::int64_t, std::int64_t> bucket(std::size_t i) const { return buckets_.at(i); }

  // requires: grads valid until finish() returns. ensures: a new step, no bucket started.
  void begin_step(T* grads) {
    check(in_flight_.empty(), "GradientBuckets::begin_step: the previous step was not finished");
    grads_ = grads;
    next_ = 0;
  }

  // ensures: every bucket lying in [offset, end) started (in order), the started ones tested.
  void ready_from(std::int64_t offset) {
    while (next_ < buckets_.size() && buckets_[next_].first >= offset) start(next_++);
    for (auto& flight : in_flight_)
      if (!flight.done) flight.done = comm_.test(flight.request);
  }

  // ensures: every bucket started and finished: grads[begin, end) hold the sums over the
  // ranks; the time spent waiting here is added to wait_seconds().
  void finish() {
    while (next_ < buckets_.size()) start(next_++);
    const auto start_time = std::chrono::steady_clock::now();
    for (auto& flight : in_flight_) comm_.wait(flight.request);
    in_flight_.clear();
    wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  }

  // ensures: seconds finish() has waited for the last buckets since construction (the part of
  // the communication the backward pass did not hide).
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Flight {
    Communicator::Request request;
    bool done;
  };
  void start(std::size_t i) {
    const auto& b = buckets_[i];
    in_flight_.push_back({comm_.start_allreduce_sum(grads_ + b.first, b.second - b.first), false});
  }

  Communicator& comm_;
  std::vector<std::pair<std::int64_t, std::int64_t>> buckets_;  // [offset, end), from the top down
  std::vector<Flight> in_flight_;
  T* grads_ = nullptr;
  std::size_t next_ = 0;  // the next bucket to start
  double wait_seconds_ = 0;
};

}  // namespace tinynet
