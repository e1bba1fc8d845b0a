// examples/common/cifar_job.hpp: one CIFAR-10 training run, as the examples share it.
//
// run_cifar_job() splits off a seeded validation set, builds the model (or resumes it
// from <out>/checkpoint.tnck), trains with augmentation on worker threads, evaluates
// on the test set (the final weights, and the best-validation checkpoint when there is a
// validation set) and writes into <out>: history.csv/json, checkpoint.tnck (resumable),
// best.tnck (best validation accuracy), model.tnck (final weights), metrics.json.
#pragma once

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "common/run_result.hpp"
#include "common/job_checks.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/data/batch_loader.hpp"
#include "tinynet/data/normalize.hpp"
#include "tinynet/data/split.hpp"
#include "tinynet/distributed/data_parallel.hpp"
#include "tinynet/layers/sequential.hpp"
#include "tinynet/optim/lookahead.hpp"
#include "tinynet/training/trainer.hpp"

namespace tinynet_examples {

using namespace tinynet;

struct CifarJob {
  std::string name;          // e.g. "scratch_cnn"; also the report's label
  std::string approach;      // e.g. "CNN from scratch"
  std::string recipe = "notebook";  // the recipe that set the job up ("notebook" or "fast")
  std::string out_dir;
  int epochs = 15;
  std::int64_t batch_size = 64;
  double learning_rate = 1e-3;  // the schedule's base (or peak) rate
  std::uint64_t seed = 1;
  int workers = 2;           // augmentation threads
  bool resume = false;
  bool start_if_no_checkpoint = false;  // with resume: no checkpoint starts afresh (else an Error)
  DivergenceOptions divergence;         // loss bound, NaN checks, gradient clipping
  double validation_fraction = 0.1;
  Preprocessing preprocessing;  // uint8 -> float (train, validation and test alike)
  std::int64_t input_size = 0;  // > 0: images resized to input_size x input_size (tf.image.resize)
  AugmentOptions augment;
  TestTimeAugmentation tta;  // test-time views (mirror, shifts) whose predictions are averaged
  double label_smoothing = 0;
  bool drop_last = false;    // drop the last partial training batch of each epoch
  std::optional<LookaheadOptions> lookahead;  // slow-weight averaging (total_steps: set by the run)
  // Factories; they read the job's final settings (seed, epochs, learning_rate).
  std::function<std::unique_ptr<Sequential<float>>(const CifarJob&)> build;  // unbuilt model
  std::function<void(Sequential<float>&)> initialize_weights;  // optional: pretrained weights (fresh runs)
  std::function<std::unique_ptr<Optimizer<float>>(const CifarJob&)> make_optimizer;
  std::function<std::unique_ptr<LrSchedule>(const CifarJob&)> make_schedule;
  // Optional first phase: for the first `first_phase_epochs` epochs set_phase(model, true)
  // (e.g. the pretrained base frozen, or the whitening bias learning), then set_phase(model,
  // false); first_phase_note says what the phase does in the log.
  int first_phase_epochs = 0;
  std::function<void(Sequential<float>&, bool first_phase)> set_phase;
  std::string first_phase_note;
  std::vector<std::string> recipe_fixes;  // the recipe's fixes and changes in use (recipes.hpp), recorded in metrics.json
  Device device = Device::cpu;
  // Data-parallel training (docs/distributed.md): the job's ranks (null: one process) and how
  // they synchronise. batch_size stays the global batch; rank 0 alone prints and writes files.
  Communicator* ranks = nullptr;
  Communicator* gpu_ranks = nullptr;  // GPU models: NCCL over the same ranks (null: use `ranks`)
  DataParallelOptions parallel;
};

// ensures: the batch validation and test images are evaluated in: each rank's share of the
// training batch (as Keras' validation_batch_size), so evaluation needs no more memory than
// a training step.
inline std::int64_t eval_batch_size(const CifarJob& job, int ranks) {
  return std::max<std::int64_t>(1, (job.batch_size + ranks - 1) / ranks);
}

// ensures: a BatchFormat converter applying `p` (thread-safe: it shares only `p`).
inline ImageConverter make_image_converter(Preprocessing p) {
  return [p](const ImageDataset& data, const std::int64_t* indices, std::int64_t count, float* out) {
    preprocess_into(data.images, indices, count, p, out);
  };
}

// ensures: how the job turns dataset images into model inputs.
inline BatchFormat job_format(const CifarJob& job) {
  BatchFormat f;
  f.convert = make_image_converter(job.preprocessing);
  f.resize_height = f.resize_width = job.input_size;
  return f;
}

// requires: r.history complete, from a run with a validation set (which wrote `path`);
// `test_accuracy` evaluates the model on the test set (on every rank, as Trainer::evaluate
// does). ensures: when rank 0 holds the best-validation checkpoint `path`, the model holds its
// weights (on every rank) and
// r.best_epoch / best_validation_accuracy / best_test_accuracy are set; otherwise r.best_epoch stays 0.
template <class Evaluate>
void evaluate_best_checkpoint(const std::string& path, Communicator& ranks, Sequential<float>& model,
                              DataParallel<float>* data_parallel, Evaluate&& test_accuracy, CifarJobResult& r) {
  float found = ranks.rank() == 0 && std::filesystem::exists(path) ? 1.0f : 0.0f;
  if (ranks.size() > 1) ranks.broadcast(&found, 1, 0);
  if (found == 0 || r.history.epochs.empty()) return;
  if (ranks.rank() == 0) {  // checkpoints load into host models
    const Device device = model.device();
    if (device != Device::cpu) model.to(Device::cpu);
    load_checkpoint<float>(path, model, nullptr);
    if (device != Device::cpu) model.to(device);
  }
  if (data_parallel) data_parallel->broadcast_parameters();
  const auto best = std::max_element(r.history.epochs.begin(), r.history.epochs.end(),
                                     [](const EpochRecord& a, const EpochRecord& b) { return a.val_accuracy < b.val_accuracy; });
  r.best_epoch = best->epoch;
  r.best_validation_accuracy = best->val_accuracy;
  r.best_test_accuracy = test_accuracy();
}

// requires: data.train / data.test non-empty with the same classes. Pass the data with
// std::move when the caller needs it no more: the training images are released once split into
// training and validation subsets, so the job holds them once.
inline CifarJobResult run_cifar_job(const CifarJob& job, TrainTestSplit data) {
  SingleProcessCommunicator single_process;
  Communicator& ranks = job.ranks ? *job.ranks : single_process;
  const bool leader = ranks.rank() == 0;
  std::ostream silent(nullptr);  // the other ranks' output goes nowhere
  std::ostream& log = leader ? std::cout : silent;
  std::filesystem::create_directories(job.out_dir);
  const auto split = split_train_validation(data.train, ValidationSplitOptions{job.validation_fraction, true, job.seed});
  data.train = ImageDataset();
  log << job.name << ": " << split.train.size() << " training, " << split.validation.size() << " validation, "
      << data.test.size() << " test images, " << num_threads() << " threads"
      << (ranks.size() > 1 ? " on each of " + std::to_string(ranks.size()) + " ranks (" + ranks.name() + ")" : "")
      << std::endl;

  auto model = job.build(job);
  const BatchFormat format = job_format(job);
  const Shape sample = format.sample_shape(split.train.sample_shape(), job.name.c_str());
  model->setup(sample, job.seed);
  check_model_fits_classes(job.name, *model, split.train);
  BatchLoaderOptions loader_options;
  loader_options.batch_size = job.batch_size;
  loader_options.seed = job.seed;
  loader_options.workers = job.workers;
  loader_options.augment = job.augment;
  loader_options.drop_last = job.drop_last;
  loader_options.format = format;
  loader_options.shard = ranks.rank();
  loader_options.shards = ranks.size();
  BatchLoader loader(split.train, loader_options);
  std::unique_ptr<Optimizer<float>> optimizer = job.make_optimizer(job);
  if (job.lookahead) {
    LookaheadOptions lookahead = *job.lookahead;
    lookahead.steps_per_epoch = loader.batches_per_epoch();
    lookahead.total_steps = loader.batches_per_epoch() * job.epochs;
    optimizer = std::make_unique<Lookahead<float>>(std::move(optimizer), lookahead);
  }
  auto schedule = job.make_schedule(job);
  SoftmaxCrossEntropy<float> loss(job.label_smoothing);
  Trainer<float> trainer(*model, loss, *optimizer, *schedule);

  FitOptions fit;
  fit.epochs = job.epochs;
  fit.checkpoint_path = job.out_dir + "/checkpoint.tnck";
  fit.best_model_path = job.out_dir + "/best.tnck";
  fit.history_prefix = job.out_dir + "/history";
  fit.validation_format = format;
  fit.metadata = {{"job", job.name}};
  fit.divergence = job.divergence;
  fit.eval_batch_size = eval_batch_size(job, ranks.size());
  check_resume_possible(job.name, job.resume, job.start_if_no_checkpoint, fit.checkpoint_path, log);
  if (job.resume && std::filesystem::exists(fit.checkpoint_path)) {
    fit.first_epoch = resume_training(fit.checkpoint_path, *model, *optimizer, *schedule);
    if (std::filesystem::exists(fit.history_prefix + ".csv")) fit.history = History::read_csv(fit.history_prefix + ".csv");
    fit.history.epochs.resize(std::min<std::size_t>(fit.history.epochs.size(), fit.first_epoch));
    log << job.name << ": resumed from " << fit.checkpoint_path << " after epoch " << fit.first_epoch << std::endl;
  } else if (job.initialize_weights) {
    job.initialize_weights(*model);
  }
  model->summary(log);

  const ImageDataset* validation = split.validation.size() > 0 ? &split.validation : nullptr;  // none: --validation 0

  CifarJobResult r;
  r.name = job.name;
  r.approach = job.approach;
  r.recipe = job.recipe;
  r.recipe_fixes = job.recipe_fixes;
  r.architecture = model->name();
  r.device = job.device == Device::cpu ? "cpu (" + std::to_string(num_threads()) + " threads)" : "cuda";
  if (ranks.size() > 1) r.device = std::to_string(ranks.size()) + " ranks x " + r.device;
  r.input_size = job.input_size;
  r.batch_size = job.batch_size;
  r.preprocessing = job.preprocessing;
  r.class_names = data.test.class_names;
  r.parameters = model->parameters().size();
  r.input_shape = sample;
  if (job.device != Device::cpu) model->to(job.device);
  std::unique_ptr<DataParallel<float>> data_parallel;  // rank 0's weights are broadcast by fit()
  if (ranks.size() > 1) {
    Communicator& gradients = job.gpu_ranks ? *job.gpu_ranks : ranks;
    data_parallel = std::make_unique<DataParallel<float>>(gradients, *model, job.parallel, &ranks);
    trainer.set_data_parallel(data_parallel.get());
  }
  if (job.first_phase_epochs > 0 && fit.first_epoch < job.first_phase_epochs) {
    check(static_cast<bool>(job.set_phase), job.name, ": first_phase_epochs set without a set_phase function");
    FitOptions first = fit;
    first.epochs = std::min(job.first_phase_epochs, job.epochs);
    job.set_phase(*model, true);
    log << job.name << ": epochs " << fit.first_epoch + 1 << "-" << first.epochs << " " << job.first_phase_note
        << std::endl;
    fit.history = trainer.fit(loader, validation, first);
    fit.first_epoch = first.epochs;
  }
  if (job.set_phase) job.set_phase(*model, false);
  r.history = trainer.fit(loader, validation, fit);
  for (const auto& e : r.history.epochs) r.train_seconds += e.seconds;
  double training_seconds = 0;  // without validation: images / (images per second)
  for (const auto& e : r.history.epochs)
    training_seconds += e.images_per_second > 0 ? split.train.size() / e.images_per_second : 0;
  r.images_per_second = training_seconds > 0 ? split.train.size() * r.history.epochs.size() / training_seconds : 0;

  if (leader) save_checkpoint<float>(job.out_dir + "/model.tnck", *model, nullptr, {});
  r.test = trainer.evaluate(data.test, format, fit.eval_batch_size, true, job.tta);  // each rank its share, reduced
  if (validation)  // only then did this run write best.tnck: one in the folder is an earlier run's
    evaluate_best_checkpoint(fit.best_model_path, ranks, *model, data_parallel.get(), [&] {
      return trainer.evaluate(data.test, format, fit.eval_batch_size, false, job.tta).accuracy;
    }, r);
  else if (std::filesystem::exists(fit.best_model_path))
    log << job.name << ": " << fit.best_model_path << " is an earlier run's (this run has no validation set), left as is"
        << std::endl;
  if (!leader) return r;
  write_run_result(job.out_dir + "/metrics.json", r);
  r.test.confusion.write_csv(job.out_dir + "/confusion.csv", data.test.class_names);
  std::printf("%s: test loss %.4f, %.0f s training, %.0f images/s\n", job.name.c_str(), r.test.loss, r.train_seconds,
              r.images_per_second);
  std::printf("Test accuracy: %.2f%%\n", 100.0 * r.test.accuracy);
  if (r.best_epoch > 0)
    std::printf("%s: the best-validation checkpoint (epoch %d, validation %.2f%%) scores %.2f%% on the test set\n",
                job.name.c_str(), r.best_epoch, 100 * r.best_validation_accuracy, 100 * r.best_test_accuracy);
  return r;
}

}  // namespace tinynet_examples
