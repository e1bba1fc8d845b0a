// The NCCL communicator on real GPUs: sums, broadcast and non-blocking sums of device buffers,
// and a data-parallel training step of a small CNN on the GPU equal to one process's.
// Run: mpirun -np N test_nccl_communicator (N ranks, one GPU each; N = 1 works). Without a
// CUDA device it says SKIPPED and exits 0 (CI builds it; tests/gpu/run_on_device.sh runs it).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tinynet/backend/cudnn/stream.hpp"
#include "tinynet/backend/device_copy.hpp"
#include "tinynet/distributed/data_parallel.hpp"
#include "tinynet/distributed/mpi_communicator.hpp"
#include "tinynet/distributed/nccl_communicator.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/flatten.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"
#include "tinynet/optim/sgd.hpp"

using namespace tinynet;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
  failures += ok ? 0 : 1;
}

Tensor<float> on_gpu(const std::vector<float>& values) {
  Tensor<float> host(Shape{static_cast<std::int64_t>(values.size())});
  for (std::size_t i = 0; i < values.size(); ++i) host[static_cast<std::int64_t>(i)] = values[i];
  return to_device(host, Device::cuda);
}

std::vector<float> on_host(const Tensor<float>& t) {
  const Tensor<float> host = to_device(t, Device::cpu);
  return std::vector<float>(host.begin(), host.end());
}

std::unique_ptr<Sequential<float>> small_cnn() {
  auto net = std::make_unique<Sequential<float>>("small_cnn");
  net->add<Conv2D<float>>(4, 3);
  net->add<ReLU<float>>();
  net->add<Flatten<float>>();
  net->add<Dense<float>>(3);
  net->setup(Shape{2, 6, 6}, 9);
  return net;
}

// ensures: the parameters after 2 SGD steps on a fixed batch of 4 (this rank's share when dp).
std::vector<float> two_steps(Communicator* nccl, Communicator* mpi) {
  auto model = small_cnn();
  model->to(Device::cuda);
  SGD<float> sgd(SgdOptions{0.1, 0.9, false, 0});
  SoftmaxCrossEntropy<float> loss;
  std::unique_ptr<DataParallel<float>> dp;
  if (nccl) dp = std::make_unique<DataParallel<float>>(*nccl, *model, DataParallelOptions{256, true, false}, mpi);
  const int ranks = nccl ? nccl->size() : 1, rank = nccl ? nccl->rank() : 0;
  Tensor<float> all(Shape{4 * ranks, 2, 6, 6});
  Rng rng(3);
  for (float& v : all) v = static_cast<float>(rng.uniform());
  std::vector<int> labels;
  for (int i = 0; i < 4 * ranks; ++i) labels.push_back(i % 3);
  Batch batch;
  batch.global_size = 4 * ranks;
  batch.global_offset = nccl ? 4 * rank : 0;
  const std::int64_t count = nccl ? 4 : 4 * ranks;
  batch.images = all.view(batch.global_offset * 72, Shape{count, 2, 6, 6}).clone();
  batch.labels.assign(labels.begin() + batch.global_offset, labels.begin() + batch.global_offset + count);
  if (dp) dp->broadcast_parameters();
  const Tensor<float> input = to_device(batch.images, Device::cuda);
  Tensor<float> scaled;
  for (int step = 0; step < 2; ++step) {
    if (dp) dp->begin_step(batch);
    loss.forward(model->forward(input), batch.labels);
    const Tensor<float>& dlogits = loss.backward();
    scaled.resize(dlogits.shape(), dlogits.device());
    scale_shift(dlogits, dp ? dp->gradient_scale() : 1.0f, 0.0f, scaled);
    model->backward(scaled);
    if (dp) dp->finish_gradients();
    sgd.step(*model);
  }
  return on_host(model->parameters().values());
}

}  // namespace

int main() {
  const std::string why = cudnn::cuda_unavailable_reason();
  if (!why.empty()) {
    std::printf("SKIPPED: the NCCL communicator needs a CUDA device (%s)\n", why.c_str());
    return 0;
  }
  MpiCommunicator mpi;
  NcclCommunicator nccl(mpi);
  const int R = nccl.size(), r = nccl.rank();
  std::printf("rank %d of %d: %s over %s\n", r, R, nccl.name().c_str(), mpi.name().c_str());

  Tensor<float> x = on_gpu({1.0f + r, 2.0f * r, -3.0f});
  nccl.allreduce_sum(x.data(), x.numel());
  const std::vector<float> sum = on_host(x);
  expect(sum[0] == R + R * (R - 1) / 2.0f && sum[1] == R * (R - 1.0f) && sum[2] == -3.0f * R, "allreduce_sum");

  Tensor<float> y = on_gpu({static_cast<float>(r), 7.0f});
  nccl.broadcast(y.data(), y.numel(), 0);
  expect(on_host(y) == std::vector<float>({0.0f, 7.0f}), "broadcast from rank 0");

  Tensor<float> z = on_gpu(std::vector<float>(1 << 20, 1.0f));
  const Communicator::Request request = nccl.start_allreduce_sum(z.data(), z.numel());
  nccl.wait(request);
  expect(on_host(z)[12345] == static_cast<float>(R) && nccl.test(request), "start_allreduce_sum, wait, test");

  const std::vector<float> parallel = two_steps(&nccl, &mpi);
  const std::vector<float> single = two_steps(nullptr, nullptr);
  double worst = 0, size = 0;
  for (std::size_t i = 0; i < single.size(); ++i) {
    worst = std::max(worst, std::abs(double(parallel[i]) - double(single[i])));
    size = std::max(size, std::abs(double(single[i])));
  }
  expect(worst <= 1e-5 * size, "2 data-parallel SGD steps on the GPU equal one process (max difference " +
                                   std::to_string(worst) + " of " + std::to_string(size) + ")");
  nccl.barrier();
  return failures == 0 ? 0 : 1;
}
