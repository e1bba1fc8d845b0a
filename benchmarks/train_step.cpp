// benchmarks/train_step.cpp: end-to-end throughput of a training step and of inference.
//
//   tinynet_train_bench --model scratch|fast|resnet50 --batch 64 --threads 2 --repeats 5
//                       --phase train|infer|both [--size 48] [--infer-batch 256]
//
// train: one step = forward, softmax cross-entropy, backward, Adam(lr 1e-3, eps 1e-7) step,
//        in training mode (batch statistics, dropout), on a fixed random batch.
// infer: one forward pass in inference mode on a batch of --infer-batch images.
// Method (the same as benchmarks/compare_pytorch.py): --warmup untimed steps; the last one
// sets the steps per repeat so a repeat lasts at least --min-time seconds; the result is the
// median over --repeats repeats of images / wall-clock second. One line per measurement:
//   tinynet scratch train batch=64 threads=2 images_per_s=512.3 size=32 steps=8 repeats=5
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "bench_flags.hpp"
#include "bench_models.hpp"
#include "tinynet/backend/cpu/conv_algorithm.hpp"
#include "tinynet/core/random.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"
#include "tinynet/optim/adam.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using tinynet_bench::Timing;

struct Throughput {
  double images_per_s = 0;
  int steps_per_repeat = 0;
};

double seconds_of(const std::function<void()>& step, int steps) {
  const auto start = Clock::now();
  for (int i = 0; i < steps; ++i) step();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ensures: the median over the repeats of images per second (warm-up excluded).
Throughput measure(const std::function<void()>& step, std::int64_t images_per_step, const Timing& timing) {
  double last_warmup = 0;
  for (int i = 0; i < timing.warmup; ++i) last_warmup = seconds_of(step, 1);
  Throughput result;
  result.steps_per_repeat =
      std::max(1, static_cast<int>(std::ceil(timing.min_seconds / std::max(last_warmup, 1e-6))));
  std::vector<double> rates;
  for (int r = 0; r < timing.repeats; ++r)
    rates.push_back(static_cast<double>(images_per_step) * result.steps_per_repeat /
                    seconds_of(step, result.steps_per_repeat));
  std::sort(rates.begin(), rates.end());
  const std::size_t n = rates.size();
  result.images_per_s = n % 2 ? rates[n / 2] : 0.5 * (rates[n / 2 - 1] + rates[n / 2]);
  return result;
}

tinynet::Tensor<float> random_images(std::int64_t count, int size, tinynet::Rng& rng) {
  tinynet::Tensor<float> x(tinynet::Shape{count, 3, size, size});
  for (float& v : x) v = static_cast<float>(rng.normal());
  return x;
}

void report(const std::string& model, const char* phase, std::int64_t batch, int threads, int size,
            const Throughput& t, int repeats) {
  std::printf("tinynet %s %s batch=%lld threads=%d images_per_s=%.2f size=%d steps=%d repeats=%d\n", model.c_str(),
              phase, static_cast<long long>(batch), threads, t.images_per_s, size, t.steps_per_repeat, repeats);
  std::fflush(stdout);
}

// The benchmark's settings, as its flags set them.
struct BenchFlags {
  std::string model = "scratch", phase = "both";
  std::optional<std::int64_t> batch = 64;
  std::int64_t infer_batch = 256;
  std::optional<int> threads = 2, size;
  Timing timing;
  bool show_conv_choices = false;
};

void run(const BenchFlags& flags) {
  using namespace tinynet;
  const std::string& model_name = flags.model;
  const std::string& phase = flags.phase;
  const std::int64_t batch = *flags.batch, infer_batch = flags.infer_batch;
  const int threads = *flags.threads;
  const int size = flags.size ? *flags.size : tinynet_bench::default_image_size(model_name);
  const Timing& timing = flags.timing;
  set_num_threads(threads);

  auto model = tinynet_bench::make_bench_model(model_name, size);
  Sequential<float>& net = *model.net;
  net.set_input_grad_needed(false);  // as in training: no gradient for the images
  Rng rng(7);

  if (phase != "infer") {
    const Tensor<float> x = random_images(batch, size, rng);
    std::vector<int> labels(batch);
    for (std::int64_t i = 0; i < batch; ++i) labels[i] = static_cast<int>(rng.below(tinynet_bench::classes));
    SoftmaxCrossEntropy<float> loss;
    Adam<float> adam(AdamOptions{});  // lr 1e-3, beta 0.9/0.999, epsilon 1e-7
    float last_loss = 0;
    auto step = [&] {
      last_loss = loss.forward(net.forward(x), labels);
      net.backward(loss.backward());
      adam.step(net);
    };
    net.set_training(true);
    const Throughput t = measure(step, batch, timing);
    check(std::isfinite(last_loss), model_name, " training step: the loss became ", last_loss);
    report(model_name, "train", batch, threads, size, t, timing.repeats);
  }
  if (phase != "train") {
    const Tensor<float> x = random_images(infer_batch, size, rng);
    net.set_training(false);
    const Throughput t = measure([&] { net.forward(x); }, infer_batch, timing);
    report(model_name, "infer", infer_batch, threads, size, t, timing.repeats);
  }
  if (flags.show_conv_choices)
    for (const std::string& line : cpu::conv_algorithm_report()) std::printf("conv choice %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tinynet_examples;
  CLI::App app("Images per second of a full training step and of inference", "tinynet_train_bench");
  BenchFlags flags;
  tinynet_bench::add_model_flag(app, flags.model);
  app.add_option("--phase", flags.phase, "train, infer or both")
      ->check(CLI::IsMember({"train", "infer", "both"}))
      ->capture_default_str();
  add_batch_flag(app, flags.batch, "64");
  app.add_option("--infer-batch", flags.infer_batch, "inference batch size")
      ->check(at_least_one)
      ->capture_default_str();
  add_threads_flag(app, flags.threads, "2");
  add_size_flag(app, flags.size, "image side (default: 32 for scratch and fast, 48 for resnet50)");
  tinynet_bench::add_timing_flags(app, flags.timing);
  app.add_flag("--show-conv-choices", flags.show_conv_choices,
               "print the path measured fastest for each convolution shape and direction, with the timings");
  parse_or_exit(app, argc, argv);
  try {
    run(flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tinynet_train_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
