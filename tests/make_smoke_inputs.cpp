// Writes the inputs of the end-to-end smoke test of cifar_compare (tests/smoke_compare.sh):
// a tiny CIFAR-10 binary release with class-dependent synthetic images, and a randomly
// initialised ResNet50 checkpoint standing in for the ImageNet weights.
//   make_smoke_inputs OUT_DIR
#include <filesystem>
#include <iostream>

#include "tinynet/data/cifar_binary.hpp"
#include "tinynet/io/checkpoint.hpp"
#include "tinynet/model/resnet50.hpp"

using namespace tinynet;

namespace {
ImageDataset synthetic(std::int64_t n, std::uint64_t seed) {
  ImageDataset d;
  d.class_names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  d.images = Tensor<std::uint8_t>(Shape{n, 3, 32, 32});
  Rng rng(seed);
  for (std::int64_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(i % 10);
    d.labels.push_back(label);
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 32; ++h)
        for (int w = 0; w < 32; ++w)
          d.images.at(i, c, h, w) = static_cast<std::uint8_t>((h / 4 == label ? 200 : 30) + rng.below(50));
  }
  return d;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_smoke_inputs OUT_DIR\n";
    return 2;
  }
  const std::string out = argv[1];
  std::filesystem::create_directories(out + "/cifar-10-batches-bin");
  write_cifar10_binary(TrainTestSplit{synthetic(250, 1), synthetic(50, 2)}, out + "/cifar-10-batches-bin");
  auto resnet = make_resnet50<float>();
  resnet->setup(Shape{3, 32, 32}, 3);
  save_checkpoint<float>(out + "/resnet50_random.tnck", *resnet, nullptr);
  std::cout << "wrote " << out << "/cifar-10-batches-bin and " << out << "/resnet50_random.tnck\n";
  return 0;
}
