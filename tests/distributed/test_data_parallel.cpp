// Data-parallel training against one process, run under mpirun (2 and 3 ranks: see
// tests/CMakeLists.txt). Every rank also trains the one-process reference itself (no
// communication), so each rank compares its replica with the run it must equal.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tinynet/backend/cpu/conv_algorithm.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/distributed/data_parallel.hpp"
#include "tinynet/distributed/mpi_communicator.hpp"
#include "tinynet/io/checkpoint.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/flatten.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/model/notebook_cnn.hpp"
#include "tinynet/optim/lookahead.hpp"
#include "tinynet/optim/sgd.hpp"
#include "tinynet/training/trainer.hpp"

using namespace tinynet;

namespace {

MpiCommunicator* world = nullptr;  // made in main()

// 4 classes of 12x12 images (a bright quadrant per class plus noise), or 32x32 for the
// notebook CNN.
ImageDataset synthetic_dataset(std::int64_t n, std::int64_t side, std::uint64_t seed) {
  ImageDataset d;
  d.class_names = {"a", "b", "c", "d"};
  d.images = Tensor<std::uint8_t>(Shape{n, 3, side, side});
  Rng rng(seed);
  for (std::int64_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng.below(4));
    d.labels.push_back(label);
    for (std::int64_t c = 0; c < 3; ++c)
      for (std::int64_t h = 0; h < side; ++h)
        for (std::int64_t w = 0; w < side; ++w) {
          const bool bright = (h * 2 / side) * 2 + (w * 2 / side) == label;
          d.images.at(i, c, h, w) = static_cast<std::uint8_t>((bright ? 170 : 40) + rng.below(80));
        }
  }
  return d;
}

// A CNN without BatchNorm, with Dropout (whose masks must follow the global batch).
std::unique_ptr<Sequential<float>> plain_cnn() {
  auto net = std::make_unique<Sequential<float>>("plain_cnn");
  net->add<Conv2D<float>>(8, 3);
  net->add<ReLU<float>>();
  net->add<MaxPool2D<float>>(2);
  net->add<Conv2D<float>>(12, 3);
  net->add<ReLU<float>>();
  net->add<Dropout<float>>(0.25, 7);
  net->add<Flatten<float>>();
  net->add<Dense<float>>(4);
  return net;
}

struct Run {
  int ranks = 1;                 // 1: one process, no communication
  bool sync_batch_norm = false;
  bool notebook = false;         // the notebook CNN (BatchNorm) instead of plain_cnn
  std::int64_t bucket_bytes = 2048;  // small: several buckets even for these models
  int epochs = 1, first_epoch = 0;
  std::string load, save;        // checkpoints ("" = none)
  bool nudge_weights = false;    // every initial weight one float ulp up or down: a rounding-sized change
};

// The parameter buffer after training (weights and statistics) and its entries.
struct Trained {
  std::vector<float> values;
  std::vector<ParameterSet<float>::Entry> entries;
};

// ensures: the parameters after training `run`.
Trained train(const ImageDataset& data, const Run& run) {
  const std::int64_t side = data.images.dim(2);
  auto model = run.notebook ? make_notebook_cnn<float>(4, 5) : plain_cnn();
  model->setup(Shape{3, side, side}, 11);
  if (run.nudge_weights) {
    Tensor<float>& values = model->parameters().values();
    for (std::int64_t i = 0; i < values.numel(); ++i)
      values[i] = std::nextafter(values[i], i % 2 ? INFINITY : -INFINITY);
  }
  BatchLoaderOptions lo;
  lo.batch_size = 12;  // global; 6 or 4 per rank
  lo.seed = 5;
  lo.workers = 1;
  lo.augment.horizontal_flip = true;
  lo.augment.crop_padding = 2;
  if (run.ranks > 1) {
    lo.shard = world->rank();
    lo.shards = world->size();
  }
  BatchLoader loader(data, lo);
  std::unique_ptr<Optimizer<float>> optimizer;
  std::unique_ptr<LrSchedule> schedule;
  if (run.notebook) {  // SGD with momentum: Adam's g / sqrt(v) would blow float rounding up where g ~ 0
    optimizer = std::make_unique<SGD<float>>(SgdOptions{0.005, 0.9, false, 0});
    schedule = std::make_unique<ConstantLr>(0.005);
  } else {
    optimizer = std::make_unique<Lookahead<float>>(std::make_unique<SGD<float>>(SgdOptions{0.05, 0.9, true, 5e-4}),
                                                   LookaheadOptions{3, 0.7, 1, loader.batches_per_epoch() * 2});
    schedule = std::make_unique<OneCycleLr>(0.05, 2);
  }
  SoftmaxCrossEntropy<float> loss;
  Trainer<float> trainer(*model, loss, *optimizer, *schedule);
  std::unique_ptr<DataParallel<float>> dp;
  if (run.ranks > 1) {
    dp = std::make_unique<DataParallel<float>>(*world, *model,
                                               DataParallelOptions{run.bucket_bytes, true, run.sync_batch_norm});
    trainer.set_data_parallel(dp.get());
  }
  FitOptions fit;
  fit.epochs = run.epochs;
  fit.log = nullptr;
  fit.live_progress = false;
  if (!run.load.empty()) fit.first_epoch = resume_training(run.load, *model, *optimizer, *schedule);
  fit.first_epoch = std::max(fit.first_epoch, run.first_epoch);
  fit.checkpoint_path = run.save;
  trainer.fit(loader, nullptr, fit);
  const Tensor<float>& v = model->parameters().values();
  return {std::vector<float>(v.begin(), v.end()), model->parameters().entries()};
}

// ensures: the largest difference of a parameter (a tensor: a kernel, a bias, a BatchNorm
// statistic) relative to its size: max over the entries of max |a - b| / max |b|.
double max_relative_difference(const Trained& a, const Trained& b) {
  REQUIRE(a.values.size() == b.values.size());
  double worst = 0;
  for (const auto& e : b.entries) {
    double difference = 0, size = 0;
    for (std::int64_t i = e.offset; i < e.offset + e.shape.numel(); ++i) {
      difference = std::max(difference, std::abs(double(a.values[i]) - double(b.values[i])));
      size = std::max(size, std::abs(double(b.values[i])));
    }
    worst = std::max(worst, size > 0 ? difference / size : difference);
  }
  return worst;
}

// ensures: |a - b| / |b| over the whole buffer (Euclidean norms).
double relative_norm_difference(const Trained& a, const Trained& b) {
  double difference = 0, size = 0;
  for (std::size_t i = 0; i < b.values.size(); ++i) {
    difference += (double(a.values[i]) - double(b.values[i])) * (double(a.values[i]) - double(b.values[i]));
    size += double(b.values[i]) * double(b.values[i]);
  }
  return std::sqrt(difference / size);
}

std::string shared_temp(const std::string& name) {  // one folder for all ranks (same machine)
  const auto dir = std::filesystem::temp_directory_path() / "tinynet_test_data_parallel";
  std::filesystem::create_directories(dir);
  return (dir / (name + "_" + std::to_string(world->size()))).string();
}

}  // namespace

TEST_CASE("data-parallel SGD with Nesterov, decay, one-cycle and Lookahead equals one process") {
  const ImageDataset data = synthetic_dataset(100, 12, 3);  // 8 batches of 12 and one of 4
  Run one, many;
  many.ranks = world->size();
  one.epochs = many.epochs = 2;
  const double difference = max_relative_difference(train(data, many), train(data, one));
  INFO("rank " << world->rank() << " of " << world->size() << ": max relative difference " << difference);
  CHECK(difference < 1e-5);
}

TEST_CASE("one bucket after the backward gives the same parameters as many buckets during it") {
  const ImageDataset data = synthetic_dataset(48, 12, 4);
  Run small, whole;
  small.ranks = whole.ranks = world->size();
  whole.bucket_bytes = std::int64_t(1) << 30;
  CHECK(max_relative_difference(train(data, small), train(data, whole)) < 1e-6);
}

// The notebook CNN (ReLU, max pooling) amplifies float rounding through its kinks: one process
// whose initial weights moved by one float ulp ends 2 steps up to 1e-2 and 4 steps about 0.1
// (relative) away at this rate. So it is compared after one step (12 images: both start from
// the same weights, so only rounding differs) to 1e-5, and over 4 steps against that noise
// floor (or the difference between 1 and 2 threads, where larger), which per-rank statistics
// exceed many times over.
TEST_CASE("the notebook CNN with synchronized BatchNorm equals one process; without, it differs boundedly") {
  Run one, synced, local;
  one.notebook = synced.notebook = local.notebook = true;
  synced.ranks = local.ranks = world->size();
  synced.sync_batch_norm = true;
  const ImageDataset one_step = synthetic_dataset(12, 32, 6);
  const Trained reference = train(one_step, one);
  const double synced_difference = max_relative_difference(train(one_step, synced), reference);
  const double local_difference = relative_norm_difference(train(one_step, local), reference);

  const ImageDataset four_steps = synthetic_dataset(48, 32, 6);
  const Trained longer = train(four_steps, one);
  set_num_threads(2);
  const double thread_noise = max_relative_difference(train(four_steps, one), longer);
  set_num_threads(1);
  Run nudged = one;
  nudged.nudge_weights = true;
  const double nudge_noise = max_relative_difference(train(four_steps, nudged), longer);
  const double noise_floor = std::max(thread_noise, nudge_noise);
  const double synced_longer = max_relative_difference(train(four_steps, synced), longer);
  const double local_longer = max_relative_difference(train(four_steps, local), longer);
  if (world->rank() == 0)
    std::printf("notebook CNN, %d ranks, SGD at global batch 12: 1 step: max relative parameter difference to one "
                "process %.3g with synchronized BatchNorm, relative norm of the difference %.3g with per-rank "
                "statistics; 4 steps: %.3g synchronized, %.3g per-rank; one process on 1 and on 2 threads %.3g apart, with its initial "
                "weights moved by one ulp %.3g\n",
                world->size(), synced_difference, local_difference, synced_longer, local_longer, thread_noise, nudge_noise);
  CHECK(synced_difference < 1e-5);
  CHECK(synced_longer < noise_floor);
  CHECK(local_longer > noise_floor);  // the bound tells the two apart (per-rank: 2 to 3)
  CHECK(local_difference > 1e-4);  // per-rank statistics do change the result...
  CHECK(local_difference < 0.05);  // ...but little: a step moves the weights by a few percent
}

TEST_CASE("a checkpoint written by N ranks resumes with 1, and one written by 1 resumes with N") {
  const ImageDataset data = synthetic_dataset(100, 12, 8);
  Run reference;
  reference.epochs = 2;
  const Trained expected = train(data, reference);

  Run first_many, then_one;  // N ranks -> 1
  first_many.ranks = world->size();
  first_many.save = shared_temp("from_many.tnck");
  then_one.epochs = 2;
  then_one.load = first_many.save;
  train(data, first_many);
  world->barrier();  // rank 0 has written it
  CHECK(max_relative_difference(train(data, then_one), expected) < 1e-5);

  Run first_one, then_many;  // 1 -> N ranks
  first_one.save = world->rank() == 0 ? shared_temp("from_one.tnck") : "";
  then_many.ranks = world->size();
  then_many.epochs = 2;
  then_many.load = shared_temp("from_one.tnck");
  train(data, first_one);
  world->barrier();
  CHECK(max_relative_difference(train(data, then_many), expected) < 1e-5);
}

TEST_CASE("evaluation over shares equals evaluation of the whole set") {
  const ImageDataset data = synthetic_dataset(37, 12, 9);  // not a multiple of the ranks
  auto model = plain_cnn();
  model->setup(Shape{3, 12, 12}, 11);
  SGD<float> sgd(SgdOptions{});
  ConstantLr lr(0.1);
  SoftmaxCrossEntropy<float> loss;
  Trainer<float> trainer(*model, loss, sgd, lr);
  const Evaluation whole = trainer.evaluate(data, BatchFormat{}, 8);
  DataParallel<float> dp(*world, *model);
  trainer.set_data_parallel(&dp);
  const Evaluation shared = trainer.evaluate(data, BatchFormat{}, 8);
  CHECK(shared.accuracy == whole.accuracy);
  CHECK(shared.loss == Approx(whole.loss).epsilon(1e-6));
  CHECK(shared.confusion.counts() == whole.confusion.counts());
  CHECK(shared.predictions == whole.predictions);
  REQUIRE(shared.probabilities.size() == whole.probabilities.size());
  for (std::size_t i = 0; i < whole.probabilities.size(); ++i)
    CHECK(shared.probabilities[i] == Approx(whole.probabilities[i]).epsilon(1e-6));
}

int main(int argc, char* argv[]) {
  MpiCommunicator comm;
  world = &comm;
  set_num_threads(1);
  // One convolution path for every batch size: the per-rank batches are smaller than the one
  // process's, and a path measured fastest for one but not the other would add its own rounding.
  cpu::set_conv_algorithm(cpu::ConvAlgorithm::im2col);
  const int failed = Catch::Session().run(argc, argv);
  double failures = failed;  // a rank that failed fails the job on every rank
  comm.allreduce_sum(&failures, 1);
  return failures > 0 ? 1 : 0;
}
