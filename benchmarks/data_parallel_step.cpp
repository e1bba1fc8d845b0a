// benchmarks/data_parallel_step.cpp: data-parallel training throughput and how much of the
// gradient allreduce the backward pass hides.
//
//   mpirun -np 2 tinynet_dp_bench --model fast --batch 512 --threads 1     # 2 ranks x 1 thread
//   tinynet_dp_bench --model fast --batch 512 --threads 2                  # 1 rank x 2 threads
//
// One step: forward, softmax cross-entropy, backward, SGD (Nesterov 0.9) on the rank's
// batch / ranks images of a fixed random global batch, the gradients summed over the ranks in
// buckets (DataParallel; --bucket-mb, --no-overlap). Started alone it runs the same step
// without any communication. Per repeat (ranks in lock step) rank 0 reports the median over
// --repeats of global images per second, and, with several ranks, the seconds per step spent
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

#include <CLI/CLI.hpp>

#include "bench_models.hpp"
#include "tinynet/distributed/data_parallel.hpp"
#include "tinynet/distributed/mpi_communicator.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"
#include "tinynet/optim/sgd.hpp"

namespace {

using namespace tinynet;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string model = "fast";
  std::int64_t batch = 512;
  int threads = 1, size = 0, steps = 5, repeats = 5, warmup = 2;
  double bucket_mb = 25;
  bool no_overlap = false;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void run(const Flags& flags, Communicator& comm) {
  set_num_threads(flags.threads);
  const int size = flags.size ? flags.size : tinynet_bench::default_image_size(flags.model);
  check(flags.batch % comm.size() == 0, "tinynet_dp_bench: --batch ", flags.batch, " does not divide among ",
        comm.size(), " ranks");
  const std::int64_t local = flags.batch / comm.size();
  auto model = tinynet_bench::make_bench_model(flags.model, size);
  Sequential<float>& net = *model.net;
  net.set_input_grad_needed(false);
  net.set_training(true);
  Rng rng(7 + comm.rank());
  Tensor<float> x(Shape{local, 3, size, size});
  for (float& v : x) v = static_cast<float>(rng.normal());
  Batch batch;
  batch.global_size = flags.batch;
  batch.global_offset = local * comm.rank();
  for (std::int64_t i = 0; i < local; ++i) batch.labels.push_back(static_cast<int>(rng.below(tinynet_bench::classes)));
  SoftmaxCrossEntropy<float> loss;
  SGD<float> sgd(SgdOptions{0.01, 0.9, true, 5e-4});
  std::unique_ptr<DataParallel<float>> dp;
  DataParallelOptions options;
  options.bucket_bytes = static_cast<std::int64_t>(flags.bucket_mb * 1024 * 1024);
  options.overlap = !flags.no_overlap;
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
  for (int i = 0; i < flags.warmup; ++i) step();
  std::vector<double> rates, exposed, full;
  Tensor<float> grads = net.parameters().grads().clone();
  for (int r = 0; r < flags.repeats; ++r) {
    comm.barrier();
    const double waited = dp ? dp->wait_seconds() : 0;
    const auto start = Clock::now();
    for (int s = 0; s < flags.steps; ++s) step();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    rates.push_back(static_cast<double>(flags.batch) * flags.steps / seconds);
    if (!dp) continue;
    exposed.push_back((dp->wait_seconds() - waited) / flags.steps);
    comm.barrier();
    const auto reduce_start = Clock::now();
    comm.allreduce_sum(grads.data(), grads.numel());
    full.push_back(std::chrono::duration<double>(Clock::now() - reduce_start).count());
  }
  if (comm.rank() != 0) return;
  std::printf("tinynet_dp %s ranks=%d threads=%d batch=%lld size=%d bucket_mb=%g overlap=%d buckets=%zu "
              "images_per_s=%.2f",
              flags.model.c_str(), comm.size(), flags.threads, static_cast<long long>(flags.batch), size,
              flags.bucket_mb, flags.no_overlap ? 0 : 1, dp ? dp->bucket_count() : std::size_t(0), median(rates));
  if (dp) {
    const double e = median(exposed), f = median(full);
    std::printf(" exposed_wait_ms=%.2f full_allreduce_ms=%.2f hidden=%.2f", 1e3 * e, 1e3 * f, f > 0 ? 1 - e / f : 0);
  }
  std::printf(" steps=%d repeats=%d\n", flags.steps, flags.repeats);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Images per second of data-parallel training steps (start with mpirun -np N)", "tinynet_dp_bench");
  Flags flags;
  app.add_option("--model", flags.model, "scratch, fast or resnet50")
      ->check(CLI::IsMember({"scratch", "fast", "resnet50"}))
      ->capture_default_str();
  app.add_option("--batch", flags.batch, "global batch (split among the ranks)")->capture_default_str();
  app.add_option("--threads", flags.threads, "compute threads per rank")->capture_default_str();
  app.add_option("--size", flags.size, "image side (default: 32, 48 for resnet50)");
  app.add_option("--steps", flags.steps, "steps per timed repeat")->capture_default_str();
  app.add_option("--repeats", flags.repeats, "timed repeats (the median is reported)")->capture_default_str();
  app.add_option("--warmup", flags.warmup, "untimed steps first")->capture_default_str();
  app.add_option("--bucket-mb", flags.bucket_mb, "gradient bucket size in MB")->capture_default_str();
  app.add_flag("--no-overlap", flags.no_overlap, "sum the gradients after the backward pass");
  CLI11_PARSE(app, argc, argv);
  std::unique_ptr<Communicator> comm;
  if (started_by_mpi_launcher())
    comm = std::make_unique<MpiCommunicator>();
  else
    comm = std::make_unique<SingleProcessCommunicator>();
  return run_or_abort(*comm, "tinynet_dp_bench", [&] {
    run(flags, *comm);
    return 0;
  });
}
