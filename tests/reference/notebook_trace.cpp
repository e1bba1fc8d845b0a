// notebook_trace: the notebook CNN trained step by step on fixed batches, every quantity a
// comparison with another framework needs written to files (tests/reference/notebook_trace.py
// runs this program and the same steps in PyTorch, then compares them).
//
//   notebook_trace DATA_DIR OUT_DIR STEPS BATCH SEED RECORD_EVERY EVAL_IMAGES OPTIMIZER
//
// DATA_DIR: a CIFAR-10 folder (binary release or image folder). The run takes STEPS * BATCH
// training images in a seeded order and EVAL_IMAGES test images at an even stride, and writes
// into OUT_DIR:
//   data/          those images as a CIFAR-10 binary release, in training order (batch k is
//                  images k*BATCH .. (k+1)*BATCH-1 of data_batch_1..5 read in order);
//   params.json    the parameter buffer's entries: name, kind, shape, offset (float32 elements);
//   params_S.bin   the whole parameter buffer (moving statistics included) after step S, as
//                  little-endian float32, for S = 0 (initial), every RECORD_EVERY steps and STEPS;
//   trace.json     "loss": the training loss of every step; "eval_logits": {S: [EVAL_IMAGES x
//                  classes]} in inference mode after step S; "eval_labels".
// Training: the notebook CNN without its Dropout layers (masks cannot match across frameworks),
// inputs x / 255, no augmentation, mean cross-entropy, OPTIMIZER "adam" (Keras' Adam: lr 1e-3,
// epsilon 1e-7, the notebook's) or "sgd" (plain SGD, lr 0.01: no step normalisation, so float
// rounding is not amplified into whole steps where a gradient is near zero).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinynet/core/random.hpp"
#include "tinynet/data/cifar_binary.hpp"
#include "tinynet/data/load_dataset.hpp"
#include "tinynet/data/normalize.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"
#include "tinynet/model/notebook_cnn.hpp"
#include "tinynet/optim/adam.hpp"
#include "tinynet/optim/sgd.hpp"

using namespace tinynet;

namespace {

std::int64_t positive_argument(const char* text, const char* what) {
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  check(end != text && *end == '\0' && value >= 1, "notebook_trace: ", what, " must be a whole number >= 1, got '",
        text, "'");
  return value;
}

void write_parameters(const Sequential<float>& net, const std::string& path) {
  const Tensor<float>& values = net.parameters().values();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(values.numel() * sizeof(float)));
  check(out.good(), "notebook_trace: cannot write ", path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::cerr << "usage: notebook_trace DATA_DIR OUT_DIR STEPS BATCH SEED RECORD_EVERY EVAL_IMAGES adam|sgd\n";
    return 2;
  }
  try {
    const std::string data_dir = argv[1], out = argv[2];
    const std::int64_t steps = positive_argument(argv[3], "STEPS"), batch = positive_argument(argv[4], "BATCH");
    const std::uint64_t seed = static_cast<std::uint64_t>(positive_argument(argv[5], "SEED"));
    const std::int64_t record_every = positive_argument(argv[6], "RECORD_EVERY");
    const std::int64_t eval_images = positive_argument(argv[7], "EVAL_IMAGES");
    const std::string optimizer_name = argv[8];
    check(optimizer_name == "adam" || optimizer_name == "sgd", "notebook_trace: OPTIMIZER must be adam or sgd, got '",
          optimizer_name, "'");
    const TrainTestSplit all = load_dataset(data_dir);

    // The training images in a seeded order (repeating the set if the steps need more), and
    // the evaluation images at an even stride over the (class-ordered) test set.
    Rng rng(seed);
    std::vector<std::int64_t> order(static_cast<std::size_t>(all.train.size()));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    std::vector<std::int64_t> train_indices, eval_indices;
    for (std::int64_t i = 0; i < steps * batch; ++i) train_indices.push_back(order[i % order.size()]);
    const std::int64_t eval_count = std::min(eval_images, all.test.size());
    for (std::int64_t i = 0; i < eval_count; ++i) eval_indices.push_back(i * all.test.size() / eval_count);
    const TrainTestSplit used{subset(all.train, train_indices), subset(all.test, eval_indices)};
    std::filesystem::create_directories(out);
    write_cifar10_binary(used, out + "/data");

    auto net = make_notebook_cnn<float>(used.train.num_classes(), seed, false);
    net->setup(Shape{3, 32, 32}, seed);
    nlohmann::ordered_json entries = nlohmann::ordered_json::array();
    for (const auto& e : net->parameters().entries()) {
      std::vector<std::int64_t> shape;
      for (int d = 0; d < e.shape.rank(); ++d) shape.push_back(e.shape[d]);
      entries.push_back({{"name", e.name},
                         {"kind", e.kind == ParameterKind::weight ? "weight" : "statistic"},
                         {"shape", shape},
                         {"offset", e.offset}});
    }
    std::ofstream(out + "/params.json") << entries.dump(1) << '\n';

    std::unique_ptr<Optimizer<float>> optimizer;
    if (optimizer_name == "adam")
      optimizer = std::make_unique<Adam<float>>(AdamOptions{});
    else
      optimizer = std::make_unique<SGD<float>>(SgdOptions{0.01});
    SoftmaxCrossEntropy<float> loss;
    Tensor<float> x, eval_x;
    preprocess_images(used.test.images, Preprocessing::unit_range(), eval_x);
    nlohmann::ordered_json trace;
    trace["eval_labels"] = used.test.labels;
    auto record = [&](std::int64_t step) {
      write_parameters(*net, out + "/params_" + std::to_string(step) + ".bin");
      net->set_training(false);
      const Tensor<float>& logits = net->forward(eval_x);
      trace["eval_logits"][std::to_string(step)] = std::vector<float>(logits.begin(), logits.end());
    };
    record(0);
    std::vector<std::int64_t> positions(static_cast<std::size_t>(batch));
    std::vector<int> labels(static_cast<std::size_t>(batch));
    for (std::int64_t step = 1; step <= steps; ++step) {
      for (std::int64_t k = 0; k < batch; ++k) {
        positions[k] = (step - 1) * batch + k;
        labels[k] = used.train.labels[positions[k]];
      }
      preprocess_batch(used.train.images, positions, Preprocessing::unit_range(), x);
      net->set_training(true);
      trace["loss"].push_back(loss.forward(net->forward(x), labels));
      net->backward(loss.backward());
      optimizer->step(*net);
      if (step % record_every == 0 || step == steps) record(step);
    }
    std::ofstream(out + "/trace.json") << trace.dump() << '\n';
    std::cout << "notebook_trace: " << steps << " steps of " << batch << " images, traces in " << out << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "notebook_trace: " << e.what() << std::endl;
    return 1;
  }
}
