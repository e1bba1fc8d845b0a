// examples/common/cifar_job.hpp: one CIFAR-10 training run, as the examples share it.
//
// run_cifar_job() splits off a seeded validation set, builds the model (or resumes it
// from <out>/checkpoint.tnck), trains with augmentation on worker threads, evaluates
// on the test set and writes into <out>: history.csv/json, checkpoint.tnck (resumable),
// best.tnck (best validation accuracy), model.tnck (final weights), metrics.json.
#pragma once

#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "tinynet/core/threading.hpp"
#include "tinynet/data/batch_loader.hpp"
#include "tinynet/data/split.hpp"
#include "tinynet/io/json_writer.hpp"
#include "tinynet/model/sequential.hpp"
#include "tinynet/training/trainer.hpp"

namespace tinynet_examples {

using namespace tinynet;

struct CifarJob {
  std::string name;          // e.g. "scratch_cnn"; also the report's label
  std::string approach;      // e.g. "CNN from scratch"
  std::string out_dir;
  int epochs = 15;
  std::int64_t batch_size = 64;
  double learning_rate = 1e-3;  // the schedule's base (or peak) rate
  std::uint64_t seed = 1;
  int workers = 2;           // augmentation threads
  bool resume = false;
  double validation_fraction = 0.1;
  BatchFormat format;        // uint8 -> model input (conversion, resize); train, val and test alike
  AugmentOptions augment;
  bool flip_tta = false;     // test-time: average the prediction of the image and its mirror
  double label_smoothing = 0;
  // Factories; they read the job's final settings (seed, epochs, learning_rate).
  std::function<std::unique_ptr<Sequential<float>>(const CifarJob&)> build;  // unbuilt model
  std::function<void(Sequential<float>&)> initialize_weights;  // optional: pretrained weights (fresh runs)
  std::function<std::unique_ptr<Optimizer<float>>(const CifarJob&)> make_optimizer;
  std::function<std::unique_ptr<LrSchedule>(const CifarJob&)> make_schedule;
};

struct CifarJobResult {
  std::string name, approach, architecture;
  std::int64_t parameters = 0;
  History history;
  Evaluation test;
  double train_seconds = 0, images_per_second = 0;
};

// ensures: metrics.json in the job's folder with every final figure.
inline void write_job_metrics(const CifarJob& job, const CifarJobResult& r, const std::vector<std::string>& classes) {
  write_file_atomically(job.out_dir + "/metrics.json", [&](std::ostream& out) {
    JsonWriter json(out);
    json.begin_object()
        .field("name", r.name)
        .field("approach", r.approach)
        .field("architecture", r.architecture)
        .field("parameters", r.parameters)
        .field("epochs", static_cast<std::int64_t>(r.history.epochs.size()))
        .field("batch_size", job.batch_size)
        .field("threads", num_threads())
        .field("test_accuracy", r.test.accuracy)
        .field("test_loss", r.test.loss)
        .field("train_seconds", r.train_seconds)
        .field("images_per_second", r.images_per_second)
        .field("class_names", classes)
        .field("per_class_accuracy", r.test.confusion.per_class_accuracy())
        .field("confusion", r.test.confusion.counts())
        .field("predictions", r.test.predictions);
    json.end_object();
  });
}

// requires: data.train / data.test non-empty with the same classes.
inline CifarJobResult run_cifar_job(const CifarJob& job, const TrainTestSplit& data) {
  std::filesystem::create_directories(job.out_dir);
  const auto split = split_train_validation(data.train, ValidationSplitOptions{job.validation_fraction, true, job.seed});
  std::cout << job.name << ": " << split.train.size() << " training, " << split.validation.size() << " validation, "
            << data.test.size() << " test images, " << num_threads() << " threads" << std::endl;

  auto model = job.build(job);
  const Shape sample = job.format.sample_shape(data.train.sample_shape(), job.name.c_str());
  model->setup(sample, job.seed);
  auto optimizer = job.make_optimizer(job);
  auto schedule = job.make_schedule(job);
  SoftmaxCrossEntropy<float> loss(job.label_smoothing);
  Trainer<float> trainer(*model, loss, *optimizer, *schedule);

  FitOptions fit;
  fit.epochs = job.epochs;
  fit.checkpoint_path = job.out_dir + "/checkpoint.tnck";
  fit.best_model_path = job.out_dir + "/best.tnck";
  fit.history_prefix = job.out_dir + "/history";
  fit.validation_format = job.format;
  fit.metadata = {{"job", job.name}};
  if (job.resume && std::filesystem::exists(fit.checkpoint_path)) {
    fit.first_epoch = resume_training(fit.checkpoint_path, *model, *optimizer, *schedule);
    if (std::filesystem::exists(fit.history_prefix + ".csv")) fit.history = History::read_csv(fit.history_prefix + ".csv");
    fit.history.epochs.resize(std::min<std::size_t>(fit.history.epochs.size(), fit.first_epoch));
    std::cout << job.name << ": resumed from " << fit.checkpoint_path << " after epoch " << fit.first_epoch << std::endl;
  } else if (job.initialize_weights) {
    job.initialize_weights(*model);
  }
  model->summary(std::cout);

  BatchLoaderOptions loader_options;
  loader_options.batch_size = job.batch_size;
  loader_options.seed = job.seed;
  loader_options.workers = job.workers;
  loader_options.augment = job.augment;
  loader_options.format = job.format;
  BatchLoader loader(split.train, loader_options);

  CifarJobResult r;
  r.name = job.name;
  r.approach = job.approach;
  r.architecture = model->name();
  r.parameters = model->parameters().size();
  r.history = trainer.fit(loader, &split.validation, fit);
  for (const auto& e : r.history.epochs) r.train_seconds += e.seconds;
  double training_seconds = 0;  // without validation: images / (images per second)
  for (const auto& e : r.history.epochs)
    training_seconds += e.images_per_second > 0 ? split.train.size() / e.images_per_second : 0;
  r.images_per_second = training_seconds > 0 ? split.train.size() * r.history.epochs.size() / training_seconds : 0;

  save_checkpoint<float>(job.out_dir + "/model.tnck", *model, nullptr, {});
  r.test = trainer.evaluate(data.test, job.format, 256, true, job.flip_tta);
  write_job_metrics(job, r, data.test.class_names);
  r.test.confusion.write_csv(job.out_dir + "/confusion.csv", data.test.class_names);
  std::printf("%s: test loss %.4f, %.0f s training, %.0f images/s\n", job.name.c_str(), r.test.loss, r.train_seconds,
              r.images_per_second);
  std::printf("Test accuracy: %.2f%%\n", 100.0 * r.test.accuracy);
  return r;
}

}  // namespace tinynet_examples
