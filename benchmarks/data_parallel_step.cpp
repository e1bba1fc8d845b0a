// benchmarks/data_parallel_step.cpp: data-parallel training throughput and how much of the
// gradient allreduce the backward pass hides.
//
//   mpirun -np 2 tinynet_dp_bench --model fast --batch 512 --threads 1     # 2 ranks x 1 thread
//   tinynet_dp_bench --model fast --batch 512 --threads 2                  # 1 rank x 2 threads
//
// One step: forward, softmax cross-entropy, backward, SGD (Nesterov 0.9) on the rank's
// batch / ranks images of a fixed random global batch, the gradients summed over the ranks in
// buckets (DataParallel; the examples' --bucket-mb, --no-overlap, --sync-bn). Started alone it
// runs the same step without any communication. Timing as tinynet_train_bench (--warmup,
// --repeats, --min-time; --steps fixes the steps per repeat instead). Per repeat (ranks in lock
// step) rank 0 reports the median over --repeats of global images per second, and, with several ranks, the seconds per step spent
// waiting for buckets after the backward (exposed) against the seconds a blocking allreduce of
// the whole gradient takes (its full cost): hidden = 1 - exposed / full. One line:
//   tinynet_dp fast ranks=2 threads=1 batch=512 bucket_mb=25 overlap=1 images_per_s=... ...
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_flags.hpp"
#include "bench_models.hpp"
#include "tinynet/distributed/data_parallel.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"
#include "tinynet/optim/sgd.hpp"

namespace {

using namespace tinynet;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string model = "fast";
  std::optional<std::int64_t> batch = 512;
  std::optional<int> threads, size;
  int steps = 0;  // 0: as many as --min-time asks
  tinynet_bench::Timing timing;
  tinynet_examples::DistributedFlags distributed;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void run(const Flags& flags, Communicator& comm, const DataParallelOptions& options) {
  const int size = flags.size ? *flags.size : tinynet_bench::default_image_size(flags.model);
  const std::int64_t global = *flags.batch;
  check(global % comm.size() == 0, "tinynet_dp_bench: --batch ", global, " does not divide among ", comm.size(),
        " ranks");
  const std::int64_t local = global / comm.size();
  auto model = tinynet_bench::make_bench_model(flags.model, size);
  Sequential<float>& net = *model.net;
  net.set_input_grad_needed(false);
  net.set_training(true);
  Rng rng(7 + comm.rank());
  Tensor<float> x(Shape{local, 3, size, size});
  for (float& v : x) v = static_cast<float>(rng.normal());
  Batch batch;
  batch.global_size = global;
  batch.global_offset = local * comm.rank();
  for (std::int64_t i = 0; i < local; ++i) batch.labels.push_back(static_cast<int>(rng.below(tinynet_bench::classes)));
  SoftmaxCrossEntropy<float> loss;
  SGD<float> sgd(SgdOptions{0.01, 0.9, true, 5e-4});
  std::unique_ptr<DataParallel<float>> dp;
  if (comm.size() > 1) {
    dp = std::make_unique<DataParallel<float>>(comm, net, options);
    dp->broadcast_parameters();
  }
  Tensor<float> scaled;
  auto step = [&] {
    if (dp) dp->begin_step(batch);
    loss.forward(net.forward(x), batch.labels);
    const Tensor<float>& dlogits = loss.backward();
    scaled.resize(dlogits.shape());
    scale_shift(dlogits, dp ? dp->gradient_scale() : 1.0f, 0.0f, scaled);
    net.backward(scaled);
    if (dp) dp->finish_gradients();
    sgd.step(net);
  };
  double last_warmup = 0;
  for (int i = 0; i < flags.timing.warmup; ++i) {
    const auto start = Clock::now();
    step();
    last_warmup = std::chrono::duration<double>(Clock::now() - start).count();
  }
  comm.broadcast(&last_warmup, 1, 0);  // every rank takes the same number of steps
  const int steps = flags.steps > 0 ? flags.steps
                                    : std::max(1, static_cast<int>(std::ceil(flags.timing.min_seconds /
                                                                             std::max(last_warmup, 1e-6))));
  std::vector<double> rates, exposed, full;
  Tensor<float> grads = net.parameters().grads().clone();
  for (int r = 0; r < flags.timing.repeats; ++r) {
    comm.barrier();
    const double waited = dp ? dp->wait_seconds() : 0;
    const auto start = Clock::now();
    for (int s = 0; s < steps; ++s) step();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    rates.push_back(static_cast<double>(global) * steps / seconds);
    if (!dp) continue;
    exposed.push_back((dp->wait_seconds() - waited) / steps);
    comm.barrier();
    const auto reduce_start = Clock::now();
    comm.allreduce_sum(grads.data(), grads.numel());
    full.push_back(std::chrono::duration<double>(Clock::now() - reduce_start).count());
  }
  if (comm.rank() != 0) return;
  std::printf("tinynet_dp %s ranks=%d threads=%d batch=%lld size=%d bucket_mb=%g overlap=%d buckets=%zu "
              "images_per_s=%.2f",
              flags.model.c_str(), comm.size(), num_threads(), static_cast<long long>(global), size,
              static_cast<double>(options.bucket_bytes) / (1024 * 1024), options.overlap ? 1 : 0,
              dp ? dp->bucket_count() : std::size_t(0), median(rates));
  if (dp) {
    const double e = median(exposed), f = median(full);
    std::printf(" exposed_wait_ms=%.2f full_allreduce_ms=%.2f hidden=%.2f", 1e3 * e, 1e3 * f, f > 0 ? 1 - e / f : 0);
  }
  std::printf(" steps=%d repeats=%d\n", steps, flags.timing.repeats);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tinynet_examples;
  CLI::App app("Images per second of data-parallel training steps (start with mpirun -np N)", "tinynet_dp_bench");
  Flags flags;
  tinynet_bench::add_model_flag(app, flags.model);
  add_batch_flag(app, flags.batch, "512; the global batch, split among the ranks");
  add_threads_flag(app, flags.threads, "per rank: the cores shared out among the machine's ranks");
  add_size_flag(app, flags.size, "image side (default: 32, 48 for resnet50)");
  tinynet_bench::add_timing_flags(app, flags.timing);
  app.add_option("--steps", flags.steps, "steps per timed repeat (default: enough for --min-time)");
  add_distributed_flags(app, flags.distributed);
  parse_or_exit(app, argc, argv);
  JobWorld* world = nullptr;
  try {
    world = &start_job(flags.threads, flags.distributed, "tinynet_dp_bench");
  } catch (const std::exception& e) {
    return fail_job("tinynet_dp_bench", e);
  }
  return run_or_abort(*world->comm, "tinynet_dp_bench", [&] {
    run(flags, *world->comm, world->parallel);
    return 0;
  });
}
