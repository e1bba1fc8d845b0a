// examples/common/standard_flags.hpp: the command-line flags the example programs and the
// benchmark share, each declared once here with CLI11.
//
//   CLI::App app("Train a CNN ...", "cifar_scratch");
//   StandardFlags flags;
//   add_standard_flags(app, flags, "out/cifar_scratch");
//   parse_or_exit(app, argc, argv);    // --help prints usage and exits 0; errors exit 2
//   apply_thread_flag(flags.threads);
//   apply_common_flags(flags, job);
// An unset std::optional means "the recipe's value" (or the program's own default).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <iostream>
#include <optional>
#include <string>

#include "common/cifar_job.hpp"
#include "common/distributed_setup.hpp"
#include "tinynet/core/threading.hpp"

namespace tinynet_examples {

// The flags every CIFAR training example accepts.
struct StandardFlags {
  std::string data;
  std::optional<int> epochs;
  std::optional<std::int64_t> batch;
  std::optional<double> lr;
  std::optional<int> threads;
  int workers = 2;
  std::uint64_t seed = 1;
  std::string out;
  std::int64_t limit = 0;
  std::string device = "cpu";
  std::optional<double> validation;
  bool resume = false;
  bool resume_or_start = false;
  std::optional<double> clip_grad_norm;
  std::optional<double> max_loss;
  DistributedFlags distributed;
};

// A check that a number flag is at least 1 (CLI::PositiveNumber's message would print DBL_MAX).
inline const CLI::Range at_least_one(1, std::numeric_limits<int>::max(), "POSITIVE");

// requires: argv as main() got it. ensures: `app` parsed; exits 0 after --help, 2 with a
// message naming the program and the option on bad input.
inline void parse_or_exit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) std::cerr << app.get_name() << ": ";
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
}

// ensures: --threads declared on `app`, read into `threads`; `default_note` ends its help.
inline CLI::Option* add_threads_flag(CLI::App& app, std::optional<int>& threads, const std::string& default_note) {
  return app.add_option("--threads", threads, "compute threads (default: " + default_note + ")")
      ->check(at_least_one);
}

// ensures: --batch declared on `app`, read into `batch`; `default_note` ends its help.
inline CLI::Option* add_batch_flag(CLI::App& app, std::optional<std::int64_t>& batch, const std::string& default_note) {
  return app.add_option("--batch", batch, "training batch size (default: " + default_note + ")")
      ->check(at_least_one);
}

// ensures: --size declared on `app` (a square input resolution), read into `size`.
inline CLI::Option* add_size_flag(CLI::App& app, std::optional<int>& size, const std::string& help) {
  return app.add_option("--size", size, help)->check(at_least_one);
}

// ensures: --weights declared on `app` (ResNet50 ImageNet weights), read into `weights`.
inline CLI::Option* add_weights_flag(CLI::App& app, std::string& weights, const std::string& when_empty) {
  return app.add_option("--weights", weights,
                        "ResNet50 ImageNet weights: Keras .h5, TF.js folder/model.json or tinynet .tnck (" +
                            when_empty + ")");
}

// ensures: --data declared on `app`, read into `data`.
inline CLI::Option* add_data_flag(CLI::App& app, std::string& data) {
  return app.add_option("--data", data, "CIFAR-10 folder (binary release or image folder)");
}

// ensures: --limit declared on `app`, read into `limit`.
inline CLI::Option* add_limit_flag(CLI::App& app, std::int64_t& limit) {
  return app.add_option("--limit", limit, "use only N training and N/5 test images, evenly over the classes (quick runs)")
      ->capture_default_str();
}

// ensures: --data, --epochs, --batch, --lr, --threads, --workers, --seed, --out, --limit,
// --device, --validation, --resume, --resume-or-start, --clip-grad-norm, --max-loss and the
// data-parallel flags declared on `app`, read into `flags`
// (epochs/batch/lr/validation default to the recipe's; --out to `default_out`).
inline void add_standard_flags(CLI::App& app, StandardFlags& flags, const std::string& default_out) {
  flags.out = default_out;
  add_data_flag(app, flags.data);
  app.add_option("--epochs", flags.epochs, "epochs (default: the recipe's, 15)")->check(at_least_one);
  add_batch_flag(app, flags.batch, "the recipe's");
  app.add_option("--lr", flags.lr, "learning rate, or the one-cycle peak (default: the recipe's)");
  add_threads_flag(app, flags.threads, "TINYNET_NUM_THREADS or all cores");
  app.add_option("--workers", flags.workers, "augmentation worker threads")->capture_default_str();
  app.add_option("--seed", flags.seed, "random seed")->capture_default_str();
  app.add_option("--out", flags.out, "output folder (model, history, metrics)")->capture_default_str();
  add_limit_flag(app, flags.limit);
  app.add_option("--device", flags.device, "cpu, or cuda when built with -DTINYNET_WITH_CUDNN=ON")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--validation", flags.validation,
                 "fraction of the training set held out for validation, in [0, 1) (default: the recipe's)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--resume", flags.resume, "continue from <out>/checkpoint.tnck (an error when there is none)");
  app.add_flag("--resume-or-start", flags.resume_or_start,
               "continue from <out>/checkpoint.tnck, or start from scratch when there is none");
  app.add_option("--clip-grad-norm", flags.clip_grad_norm,
                 "scale the gradients so that their global L2 norm is at most this (default: no clipping)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-loss", flags.max_loss, "stop training when a batch loss exceeds this (default 100)")
      ->check(CLI::PositiveNumber);
  add_distributed_flags(app, flags.distributed);
}

// ensures: start_job() with the threads, data-parallel flags and device of `flags`.
inline JobWorld& start_job(const StandardFlags& flags, const std::string& program) {
  return start_job(flags.threads, flags.distributed, program, flags.device == "cuda");
}

// ensures: the thread count from TINYNET_NUM_THREADS, overridden by --threads when given.
inline void apply_thread_flag(const std::optional<int>& threads) {
  tinynet::init_threads_from_env();
  if (threads) tinynet::set_num_threads(*threads);
}

// ensures: --epochs, --batch, --lr, --seed, --workers, --out, --resume, --device, --validation
// applied to `job` (the optional ones only when given); the job trains on job_world()'s ranks.
inline void apply_common_flags(const StandardFlags& flags, CifarJob& job) {
  job.device = flags.device == "cuda" ? Device::cuda : Device::cpu;
  if (flags.epochs) job.epochs = *flags.epochs;
  if (flags.batch) job.batch_size = *flags.batch;
  job.seed = flags.seed;
  job.workers = flags.workers;
  job.out_dir = flags.out;
  job.resume = flags.resume || flags.resume_or_start;
  job.start_if_no_checkpoint = flags.resume_or_start;
  if (flags.clip_grad_norm) job.divergence.clip_gradient_norm = *flags.clip_grad_norm;
  if (flags.max_loss) job.divergence.max_loss = *flags.max_loss;
  if (flags.lr) job.learning_rate = *flags.lr;
  if (flags.validation) job.validation_fraction = *flags.validation;
  job.ranks = job_world().comm.get();
  job.gpu_ranks = job_world().gpu_comm.get();
  job.parallel = job_world().parallel;
}

}  // namespace tinynet_examples
