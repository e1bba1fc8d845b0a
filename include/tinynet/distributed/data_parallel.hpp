// tinynet/distributed/data_parallel.hpp: synchronous data-parallel training of a Sequential.
//
// Every rank holds the whole model and trains on its share of each global batch (the
// BatchLoader's shards). DataParallel keeps the replicas equal:
// - broadcast_parameters(): rank 0's parameter buffer (weights and BatchNorm statistics) to all;
// - per step, begin_step(batch) before the forward: Dropout layers draw the global batch's mask
//   for this rank's samples, and gradient_scale() = local / global batch size is the factor the
//   loss gradient takes, so that the sum of the ranks' gradients is the gradient of the global
//   batch's mean loss (exact for unequal shares too);
// - during the backward, a Sequential observer starts the allreduce of each gradient bucket as
//   soon as the layers it covers are done (GradientBuckets); finish_gradients() after the
//   backward waits for the rest, and the optimizer then steps identically on every rank;
// - synchronized BatchNorm (option): every BatchNorm normalises with the global batch's
//   statistics (BatchNorm::set_cross_replica_sum); otherwise each rank's moving statistics
//   follow its own batches and average_statistics() averages them (call it before evaluating
//   or saving).
// The trainable ranges' span of the gradient buffer is summed; frozen parts inside it are
// zeroed first. Metrics go through host(): sum_on_host(). One DataParallel per model at a time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "tinynet/backend/device_copy.hpp"
#include "tinynet/backend/elementwise.hpp"
#include "tinynet/data/batch_loader.hpp"
#include "tinynet/distributed/communicator.hpp"
#include "tinynet/distributed/gradient_buckets.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/dropout.hpp"
#include "tinynet/layers/sequential.hpp"

namespace tinynet {

struct DataParallelOptions {
  std::int64_t bucket_bytes = std::int64_t(25) << 20;  // PyTorch DDP's default bucket size
  bool overlap = true;           // start buckets during the backward (false: all after it)
  bool sync_batch_norm = false;  // BatchNorm statistics of the global batch
};

template <class T>
class DataParallel {
 public:
  // requires: model built, its parameters on comm.device(); host null or a communicator over
  // the same ranks on host memory (required when comm works on a GPU); bucket_bytes >= 1.
  // ensures: the model's backward observer, its BatchNorm layers' sums (synchronized) and its
  // Dropout layers attached; nothing is sent yet.
  DataParallel(Communicator& comm, Sequential<T>& model, DataParallelOptions options = {}, Communicator* host = nullptr)
      : comm_(comm), host_(host ? *host : comm), model_(model), options_(options) {
    check(model.is_built(), "DataParallel: build the model before distributing it");
    check(model.device() == comm.device(), "DataParallel: the model's parameters are on ", device_name(model.device()),
          " but the ", comm.name(), " communicator works on ", device_name(comm.device()), " memory");
    check(host_.device() == Device::cpu, "DataParallel: the host communicator (", host_.name(),
          ") must work on host memory");
    check(host_.size() == comm.size() && host_.rank() == comm.rank(), "DataParallel: the host communicator is rank ",
          host_.rank(), " of ", host_.size(), ", the gradient one rank ", comm.rank(), " of ", comm.size());
    check(options.bucket_bytes >= 1, "DataParallel: bucket_bytes must be >= 1, got ", options.bucket_bytes);
    visit(model, [&](Layer<T>& layer) {
      if (auto* dropout = dynamic_cast<Dropout<T>*>(&layer)) dropouts_.push_back(dropout);
      if (auto* bn = dynamic_cast<BatchNorm<T>*>(&layer)) batch_norms_.push_back(bn);
    });
    if (options.sync_batch_norm)
      for (BatchNorm<T>* bn : batch_norms_)
        bn->set_cross_replica_sum([this](double* values, std::int64_t count) { host_.allreduce_sum(values, count); });
    if (options.overlap)
      model.set_backward_observer([this](std::int64_t offset) {
        if (buckets_) buckets_->ready_from(offset);
      });
  }
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;
  // ensures: the model as it was before (no observer, unsynchronized BatchNorm, whole-batch dropout).
  ~DataParallel() {
    model_.set_backward_observer({});
    for (BatchNorm<T>* bn : batch_norms_) bn->set_cross_replica_sum({});
    for (Dropout<T>* dropout : dropouts_) dropout->set_first_sample(0);
  }

  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  Communicator& communicator() { return comm_; }
  Communicator& host() { return host_; }
  const DataParallelOptions& options() const { return options_; }

  // ensures: every rank's parameter buffer (weights and statistics) = rank 0's.
  void broadcast_parameters() {
    Tensor<T>& values = model_.parameters().values();
    comm_.broadcast(values.data(), values.numel(), 0);
  }

  // requires: batch from a BatchLoader sharded over these ranks (global_size >= its size).
  // ensures: Dropout masks as the global batch's for this rank's samples; gradient_scale()
  // set; the gradient buckets ready for this step (re-planned when the trainable ranges change).
  void begin_step(const Batch& batch) {
    check(batch.global_size >= batch.size() && batch.global_size > 0, "DataParallel::begin_step: a batch of ",
          batch.size(), " samples in a global batch of ", batch.global_size);
    for (Dropout<T>* dropout : dropouts_) dropout->set_first_sample(batch.global_offset);
    gradient_scale_ = static_cast<T>(static_cast<double>(batch.size()) / static_cast<double>(batch.global_size));
    plan_buckets();
    zero_frozen_gaps();
    buckets_->begin_step(model_.parameters().grads().data());
  }
  // ensures: the factor this rank's loss gradient takes (its share of the global batch).
  T gradient_scale() const { return gradient_scale_; }

  // requires: the backward of this step done. ensures: the trainable gradients hold the sum
  // over the ranks (the global batch's gradient).
  void finish_gradients() { buckets_->finish(); }

  // ensures: without synchronized BatchNorm, every BatchNorm's moving statistics = their mean
  // over the ranks (with it they are equal already and nothing is sent).
  void average_statistics() {
    if (options_.sync_batch_norm || size() == 1) return;
    Tensor<T>& values = model_.parameters().values();
    for (const auto& e : model_.parameters().entries()) {
      if (e.kind != ParameterKind::statistic) continue;
      Tensor<T> view = values.view(e.offset, Shape{e.shape.numel()});
      comm_.allreduce_sum(view.data(), view.numel());
      scale_shift(view, T(1) / static_cast<T>(size()), T(0), view);
    }
  }

  // ensures: values[0..count) replaced by their sums over the ranks (host memory; metrics).
  void sum_on_host(double* values, std::int64_t count) { host_.allreduce_sum(values, count); }

  // ensures: [first, end) of `n` items that is this rank's share (consecutive, sizes +-1).
  std::pair<std::int64_t, std::int64_t> share(std::int64_t n) const {
    return {n * rank() / size(), n * (rank() + 1) / size()};
  }

  // ensures: seconds spent waiting for gradient buckets after backward passes (the
  // communication the backward did not hide); the bucket count of the current plan.
  double wait_seconds() const { return wait_before_ + (buckets_ ? buckets_->wait_seconds() : 0); }
  std::size_t bucket_count() const { return buckets_ ? buckets_->bucket_count() : 0; }

 private:
  template <class F>
  static void visit(Layer<T>& layer, F&& f) {
    f(layer);
    if (auto* composite = dynamic_cast<Composite<T>*>(&layer))
      for (std::size_t i = 0; i < composite->size(); ++i) visit(composite->layer(i), f);
  }

  // ensures: buckets over the span of the trainable ranges (unchanged when the ranges are).
  void plan_buckets() {
    ranges_.clear();
    model_.collect_trainable_ranges(0, ranges_);
    if (buckets_ && ranges_ == planned_ranges_) return;
    planned_ranges_ = ranges_;
    std::int64_t begin = 0, end = 0;
    if (!ranges_.empty()) {
      begin = ranges_.front().first;
      end = ranges_.back().first + ranges_.back().second;
    }
    gaps_.clear();
    std::int64_t at = begin;
    for (const auto& r : ranges_) {
      if (r.first > at) gaps_.emplace_back(at, r.first - at);
      at = std::max(at, r.first + r.second);
    }
    if (buckets_) wait_before_ += buckets_->wait_seconds();
    const std::int64_t elements = std::max<std::int64_t>(1, options_.bucket_bytes / std::int64_t(sizeof(T)));
    buckets_ = std::make_unique<GradientBuckets<T>>(comm_, begin, end, elements);
  }

  // ensures: the gradients of the non-trainable parts inside the summed span are 0, so the
  // sums leave them 0 (a frozen layer's stale gradient would otherwise grow every step).
  void zero_frozen_gaps() {
    Tensor<T>& grads = model_.parameters().grads();
    for (const auto& gap : gaps_) {
      Tensor<T> view = grads.view(gap.first, Shape{gap.second});
      if (view.device() == Device::cpu) {
        view.zero();
      } else {
        if (zeros_.numel() < gap.second) zeros_ = Tensor<T>(Shape{gap.second}, view.device());
        copy_elements(zeros_.view(0, Shape{gap.second}), view);
      }
    }
  }

  Communicator& comm_;
  Communicator& host_;
  Sequential<T>& model_;
  DataParallelOptions options_;
  std::vector<Dropout<T>*> dropouts_;
  std::vector<BatchNorm<T>*> batch_norms_;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges_, planned_ranges_, gaps_;  // [offset, count)
  std::unique_ptr<GradientBuckets<T>> buckets_;
  Tensor<T> zeros_;  // device zeros for zero_frozen_gaps()
  T gradient_scale_ = 1;
  double wait_before_ = 0;  // wait_seconds of earlier bucket plans
};

}  // namespace tinynet
