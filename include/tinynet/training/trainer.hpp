// tinynet/training/trainer.hpp: fit / evaluate / predict for image classifiers (Keras-style).
//
//   Trainer<float> trainer(model, loss, optimizer, schedule);
//   History h = trainer.fit(train_loader, &validation, FitOptions{...});
//   Evaluation e = trainer.evaluate(test, format);
//
// fit() runs epochs [options.first_epoch, options.epochs): per step it sets the
// scheduled learning rate, runs forward, loss, backward and the optimizer step, with the
// checks (and optional gradient clipping) of a DivergenceGuard (divergence_guard.hpp); after
// each epoch it evaluates on the validation set, appends an EpochRecord, prints one
// line (plus a live bar on a terminal), and - when configured - writes the history
// (CSV + JSON), the resumable checkpoint (model, optimizer, epoch, RNG and schedule
// state; atomic) and the best model by validation accuracy, and stops early when the
// validation loss has not improved for `early_stopping_patience` epochs.
//
// Data-parallel (set_data_parallel): the loader must be sharded over the ranks; fit() first
// broadcasts rank 0's parameters, each step sums the gradients over the ranks (buckets during
// the backward), each epoch averages unsynchronized BatchNorm statistics; train and
// validation metrics are reduced over the ranks, and only rank 0 logs and writes files.
// evaluate() evaluates each rank's share of the data and reduces the results (every rank gets
// the whole Evaluation).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "tinynet/backend/device_copy.hpp"
#include "tinynet/backend/elementwise.hpp"
#include "tinynet/backend/input_stager.hpp"
#include "tinynet/core/denormals.hpp"
#include "tinynet/data/batch_loader.hpp"
#include "tinynet/distributed/data_parallel.hpp"
#include "tinynet/io/checkpoint.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"
#include "tinynet/optim/optimizer.hpp"
#include "tinynet/training/divergence_guard.hpp"
#include "tinynet/training/history.hpp"
#include "tinynet/training/lr_schedule.hpp"
#include "tinynet/training/metrics.hpp"
#include "tinynet/training/progress.hpp"
#include "tinynet/training/test_time_augmentation.hpp"

namespace tinynet {

struct FitOptions {
  int epochs = 15;                      // train until this many epochs are complete
  int first_epoch = 0;                  // > 0 when resuming (epochs already done)
  History history;                      // epochs already done (resume), appended to
  std::string checkpoint_path;          // resumable state after every epoch ("" = none)
  std::string best_model_path;          // best validation accuracy so far ("" = none)
  std::string history_prefix;           // writes <prefix>.csv and <prefix>.json ("" = none)
  int early_stopping_patience = 0;      // 0 = off; else epochs without val_loss improvement
  DivergenceOptions divergence;         // loss bound, NaN checks, gradient clipping
  std::int64_t eval_batch_size = 256;
  BatchFormat validation_format;        // how validation images become model input
  std::vector<std::pair<std::string, std::string>> metadata;  // stored in checkpoints
  std::ostream* log = &std::cout;       // epoch lines (nullptr = silent)
  bool live_progress = is_terminal(stdout);
};

struct Evaluation {
  double loss = 0, accuracy = 0;
  ConfusionMatrix confusion{1};
  std::vector<int> predictions;         // per sample, dataset order
  std::vector<float> probabilities;     // [N, K] row-major softmax outputs
  double seconds = 0;
};

template <class T>
class Trainer {
 public:
  Trainer(Layer<T>& model, SoftmaxCrossEntropy<T>& loss, Optimizer<T>& optimizer, LrSchedule& schedule)
      : model_(model), loss_(loss), optimizer_(optimizer), schedule_(schedule) {}

  // requires: dp over this trainer's model (or null: one process); it outlives the trainer's
  // use of it. ensures: fit() and evaluate() run data-parallel as the header says.
  void set_data_parallel(DataParallel<T>* dp) { dp_ = dp; }
  // ensures: whether this process writes files and logs (rank 0, or no data parallelism).
  bool is_leader() const { return !dp_ || dp_->rank() == 0; }

  // requires: model built for the loader's sample shape; validation may be null.
  // ensures: the completed history (options.history plus the new epochs); the compute
  // threads flush denormals as flush_denormals() says (core/denormals.hpp).
  History fit(BatchLoader& train, const ImageDataset* validation, FitOptions options) {
    set_flush_denormals(flush_denormals());
    if (!is_leader()) {  // the other ranks compute, rank 0 reports
      options.log = nullptr;
      options.live_progress = false;
      options.checkpoint_path = options.best_model_path = options.history_prefix = "";
    }
    if (dp_) dp_->broadcast_parameters();
    History history = options.history;
    model_.set_input_grad_needed(false);
    double best_accuracy = -1, best_loss = std::numeric_limits<double>::infinity();
    int epochs_without_improvement = 0;
    for (const auto& e : history.epochs) {
      best_accuracy = std::max(best_accuracy, e.val_accuracy);
      if (e.val_loss < best_loss) best_loss = e.val_loss, epochs_without_improvement = 0;
      else ++epochs_without_improvement;
    }
    ProgressBar bar(std::cout, options.live_progress && is_leader());
    DivergenceGuard<T> guard(options.divergence);
    for (int epoch = options.first_epoch; epoch < options.epochs; ++epoch) {
      EpochRecord record = train_epoch(train, epoch, options.epochs, bar, guard);
      if (validation) {
        const Evaluation v = evaluate(*validation, options.validation_format, options.eval_batch_size, false);
        record.val_loss = v.loss;
        record.val_accuracy = v.accuracy;
        record.seconds += v.seconds;
        schedule_.end_epoch(v.loss);
      }
      history.epochs.push_back(record);
      if (options.log) *options.log << epoch_line(record, options.epochs) << std::endl;
      if (!options.history_prefix.empty()) {
        history.write_csv(options.history_prefix + ".csv");
        history.write_json(options.history_prefix + ".json");
      }
      if (!options.best_model_path.empty() && validation && record.val_accuracy > best_accuracy) {
        best_accuracy = record.val_accuracy;
        save_checkpoint<T>(options.best_model_path, model_, nullptr, extras(epoch + 1, options));
      }
      if (!options.checkpoint_path.empty())
        save_checkpoint(options.checkpoint_path, model_, &optimizer_, extras(epoch + 1, options));
      if (validation && options.early_stopping_patience > 0) {
        if (record.val_loss < best_loss) best_loss = record.val_loss, epochs_without_improvement = 0;
        else if (++epochs_without_improvement >= options.early_stopping_patience) {
          if (options.log)
            *options.log << "Early stopping: val_loss has not improved for " << epochs_without_improvement
                         << " epochs" << std::endl;
          break;
        }
      }
    }
    return history;
  }

  // ensures: loss, accuracy, confusion matrix and per-sample predictions over `data`
  // (eval mode; the softmax averaged over the views of `tta`, see test_time_augmentation.hpp).
  Evaluation evaluate(const ImageDataset& data, const BatchFormat& format, std::int64_t batch_size = 256,
                      bool keep_outputs = true, const TestTimeAugmentation& tta = {}) {
    check(batch_size >= 1, "evaluate: batch size must be >= 1, got ", batch_size);
    const auto start = std::chrono::steady_clock::now();
    model_.set_training(false);
    const int K = data.num_classes();
    Evaluation ev;
    ev.confusion = ConfusionMatrix(K);
    if (keep_outputs) {
      ev.predictions.assign(static_cast<std::size_t>(data.size()), 0);
      ev.probabilities.assign(static_cast<std::size_t>(data.size() * K), 0.0f);
    }
    std::vector<std::int64_t> indices;
    Batch batch;
    double loss_sum = 0;
    const auto share = dp_ ? dp_->share(data.size()) : std::make_pair(std::int64_t(0), data.size());
    for (std::int64_t first = share.first; first < share.second; first += batch_size) {
      const std::int64_t count = std::min(batch_size, share.second - first);
      indices.resize(count);
      for (std::int64_t k = 0; k < count; ++k) indices[k] = first + k;
      make_batch(data, indices.data(), count, format, batch);
      const Tensor<T>& probs = probabilities(batch, tta);
      check(probs.dim(1) == K, "evaluate: the model gives ", probs.dim(1), " outputs but the dataset has ", K,
            " classes");
      for (std::int64_t k = 0; k < count; ++k) {
        const T* row = probs.data() + k * K;
        const int predicted = static_cast<int>(std::max_element(row, row + K) - row);
        const int label = batch.labels[k];
        loss_sum -= std::log(std::max<double>(row[label], 1e-12));
        ev.confusion.add(label, predicted);
        if (keep_outputs) {
          ev.predictions[static_cast<std::size_t>(first + k)] = predicted;
          std::copy(row, row + K, ev.probabilities.begin() + (first + k) * K);
        }
      }
    }
    if (dp_) loss_sum = reduce_evaluation(ev, loss_sum, keep_outputs);
    ev.loss = data.size() ? loss_sum / data.size() : 0;
    ev.accuracy = ev.confusion.accuracy();
    ev.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return ev;
  }

  // requires: batch.images shaped for the model. ensures: softmax outputs [B, K] (eval
  // mode), averaged over the views of `tta` with their weights (with tta.average_logits, the
  // softmax of the views' averaged outputs).
  const Tensor<T>& probabilities(const Batch& batch, const TestTimeAugmentation& tta = {}) {
    model_.set_training(false);
    const std::vector<TestTimeView> views = test_time_views(tta);
    if (views.size() == 1) {
      outputs_of_model(batch.images, probs_, true);
      return probs_;
    }
    for (std::size_t v = 0; v < views.size(); ++v) {
      const bool as_is = views[v].shift == 0 && !views[v].flip;  // the image itself: no copy
      if (!as_is) make_test_time_view(batch.images, views[v], view_);
      outputs_of_model(as_is ? batch.images : view_, view_outputs_, !tta.average_logits);
      if (v == 0) {
        probs_.resize(view_outputs_.shape());
        probs_.zero();
      }
      const T weight = static_cast<T>(views[v].weight);
      for (std::int64_t i = 0; i < probs_.numel(); ++i) probs_[i] += weight * view_outputs_[i];
    }
    if (tta.average_logits) softmax_rows(probs_);
    return probs_;
  }

 private:
  EpochRecord train_epoch(BatchLoader& train, int epoch, int epochs, ProgressBar& bar, DivergenceGuard<T>& guard) {
    model_.set_training(true);
    train.begin_epoch(epoch);
    const std::int64_t steps = train.batches_per_epoch();
    bar.start(epoch, epochs, steps);
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    std::int64_t correct = 0, seen = 0, step = 0;
    // Batch k+1 is staged (uploaded, on a GPU) while step k computes.
    Batch batch, next_batch;
    InputStager<T> stager(model_.device());
    bool have_batch = train.next(batch);
    if (have_batch) stager.stage(batch.images);
    while (have_batch) {
      const Tensor<T> input = stager.take();
      const bool have_next = train.next(next_batch);
      if (have_next) stager.stage(next_batch.images);
      optimizer_.set_learning_rate(schedule_.rate(epoch, static_cast<double>(step) / steps));
      if (dp_) dp_->begin_step(batch);
      const Tensor<T>& logits = model_.forward(input);
      const double loss = loss_.forward(logits, batch.labels);
      const TrainingStep at{epoch + 1, step + 1, optimizer_.learning_rate()};
      guard.check_loss(loss, at);
      if (dp_) {  // this rank's share of the global batch's mean loss; gradients summed over the ranks
        const Tensor<T>& dlogits = loss_.backward();
        scaled_loss_grad_.resize(dlogits.shape(), dlogits.device());
        scale_shift(dlogits, dp_->gradient_scale(), T(0), scaled_loss_grad_);
        model_.backward(scaled_loss_grad_);
        dp_->finish_gradients();
      } else {
        model_.backward(loss_.backward());
      }
      guard.check_gradients(model_, at);  // after any allreduce: every rank clips alike
      optimizer_.step(model_);
      guard.check_weights(model_, at);
      const Tensor<T>& host_logits = on_host(logits);
      const std::int64_t K = host_logits.dim(1);
      for (std::int64_t k = 0; k < batch.size(); ++k) {
        const T* row = host_logits.data() + k * K;
        correct += (std::max_element(row, row + K) - row) == batch.labels[k];
      }
      loss_sum += loss * batch.size();
      seen += batch.size();
      ++step;
      bar.update(step, loss_sum / seen, static_cast<double>(correct) / seen, seen * (dp_ ? dp_->size() : 1));
      std::swap(batch, next_batch);
      have_batch = have_next;
    }
    bar.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (dp_) {
      double totals[3] = {loss_sum, static_cast<double>(correct), static_cast<double>(seen)};
      dp_->sum_on_host(totals, 3);
      loss_sum = totals[0];
      correct = static_cast<std::int64_t>(totals[1]);
      seen = static_cast<std::int64_t>(totals[2]);
      dp_->average_statistics();
    }
    EpochRecord r{};
    r.epoch = epoch + 1;
    r.train_loss = seen ? loss_sum / seen : 0;
    r.train_accuracy = seen ? static_cast<double>(correct) / seen : 0;
    r.learning_rate = optimizer_.learning_rate();
    r.seconds = seconds;
    r.images_per_second = r.seconds > 0 ? seen / r.seconds : 0;
    r.data_wait_seconds = train.wait_seconds();
    r.val_loss = r.val_accuracy = std::numeric_limits<double>::quiet_NaN();
    return r;
  }

  // requires: dp_ set; ev and loss_sum this rank's share. ensures: ev's confusion matrix (and
  // with keep_outputs its predictions and probabilities) summed over the ranks; returns the
  // summed loss.
  double reduce_evaluation(Evaluation& ev, double loss_sum, bool keep_outputs) {
    const int K = ev.confusion.num_classes();
    std::vector<double> totals(ev.confusion.counts().begin(), ev.confusion.counts().end());
    totals.push_back(loss_sum);
    dp_->sum_on_host(totals.data(), static_cast<std::int64_t>(totals.size()));
    ev.confusion = ConfusionMatrix(K);
    for (int t = 0; t < K; ++t)
      for (int p = 0; p < K; ++p) ev.confusion.add(t, p, static_cast<std::int64_t>(totals[t * K + p]));
    if (keep_outputs) {  // each sample's row is non-zero on one rank only
      std::vector<double> outputs(ev.predictions.begin(), ev.predictions.end());
      outputs.insert(outputs.end(), ev.probabilities.begin(), ev.probabilities.end());
      dp_->sum_on_host(outputs.data(), static_cast<std::int64_t>(outputs.size()));
      const std::size_t n = ev.predictions.size();
      for (std::size_t i = 0; i < n; ++i) ev.predictions[i] = static_cast<int>(outputs[i]);
      for (std::size_t i = 0; i < ev.probabilities.size(); ++i) ev.probabilities[i] = static_cast<float>(outputs[n + i]);
    }
    return totals.back();
  }

  // ensures: out = the model's outputs for `images` [N, K], or their row-wise softmax.
  void outputs_of_model(const Tensor<T>& images, Tensor<T>& out, bool softmax) {
    const Tensor<T>& logits = on_host(model_.forward(on_model_device(images)));
    out.resize(logits.shape());
    std::copy(logits.begin(), logits.end(), out.begin());
    if (softmax) softmax_rows(out);
  }

  static void softmax_rows(Tensor<T>& t) {
    const std::int64_t N = t.dim(0), K = t.dim(1);
    for (std::int64_t n = 0; n < N; ++n) {
      T* p = t.data() + n * K;
      const T top = *std::max_element(p, p + K);
      double sum = 0;
      for (std::int64_t k = 0; k < K; ++k) sum += p[k] = std::exp(p[k] - top);
      for (std::int64_t k = 0; k < K; ++k) p[k] = static_cast<T>(p[k] / sum);
    }
  }

  // ensures: `t` itself on a CPU model, else a copy on the model's device.
  const Tensor<T>& on_model_device(const Tensor<T>& t) {
    if (model_.device() == t.device()) return t;
    device_input_ = to_device(t, model_.device());
    return device_input_;
  }
  // ensures: `t` itself when on the host, else a host copy (for metrics).
  const Tensor<T>& on_host(const Tensor<T>& t) {
    if (t.device() == Device::cpu) return t;
    host_output_ = to_device(t, Device::cpu);
    return host_output_;
  }

  CheckpointExtras extras(int epochs_done, const FitOptions& options) const {
    CheckpointExtras e;
    e.epoch = epochs_done;
    e.metadata = options.metadata;
    e.metadata.emplace_back("lr_schedule_state", schedule_.state());
    return e;
  }

  // ensures: the epoch's one-line summary (without val_* when there was no validation set).
  static std::string epoch_line(const EpochRecord& r, int epochs) {
    char validation[96] = "";
    if (!std::isnan(r.val_loss))
      std::snprintf(validation, sizeof validation, " - val_loss: %.4f - val_accuracy: %.4f", r.val_loss,
                    r.val_accuracy);
    char line[320];
    std::snprintf(line, sizeof line,
                  "Epoch %d/%d - %.0fs - loss: %.4f - accuracy: %.4f%s - lr: %.3g - %.0f img/s - data wait %.1f%%",
                  r.epoch, epochs, r.seconds, r.train_loss, r.train_accuracy, validation, r.learning_rate,
                  r.images_per_second, r.seconds > 0 ? 100 * r.data_wait_seconds / r.seconds : 0.0);
    return line;
  }

  Layer<T>& model_;
  SoftmaxCrossEntropy<T>& loss_;
  Optimizer<T>& optimizer_;
  LrSchedule& schedule_;
  Tensor<T> probs_, view_outputs_, view_;  // test-time views and their outputs
  Tensor<T> device_input_, host_output_;  // transfers when the model lives on a GPU
  DataParallel<T>* dp_ = nullptr;
  Tensor<T> scaled_loss_grad_;  // data-parallel: this rank's share of the loss gradient
};

// ensures: restores a fit() checkpoint (model, optimizer, schedule); returns epochs done.
template <class T>
int resume_training(const std::string& checkpoint_path, Layer<T>& model, Optimizer<T>& optimizer,
                    LrSchedule& schedule) {
  const CheckpointExtras e = load_checkpoint(checkpoint_path, model, &optimizer);
  for (const auto& kv : e.metadata)
    if (kv.first == "lr_schedule_state") schedule.restore(kv.second);
  return static_cast<int>(e.epoch);
}

}  // namespace tinynet
