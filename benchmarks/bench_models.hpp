// benchmarks/bench_models.hpp: the two benchmarked networks and a walk over their layers.
//
// make_bench_model("scratch" | "fast" | "resnet50", image_size) builds (and initialises) the
// network exactly as it is trained: the notebook scratch CNN, the fast recipe's whitened
// CNN, or ResNet50 followed by the training head GlobalAveragePooling -> Dense 256 ->
// ReLU -> Dropout 0.5 -> Dense classes.
// for_each_layer() visits every layer depth-first, so the kernel suite derives its shapes
// from the models instead of repeating them.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "tinynet/core/error.hpp"
#include "tinynet/layers/composite.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/dropout.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/layers/sequential.hpp"
#include "tinynet/model/notebook_cnn.hpp"
#include "tinynet/model/resnet50.hpp"
#include "tinynet/model/whitened_cnn.hpp"

namespace tinynet_bench {

constexpr int classes = 10;

struct BenchModel {
  std::string name;             // "scratch", "fast" or "resnet50"
  int image_size = 0;           // square RGB inputs
  std::unique_ptr<tinynet::Sequential<float>> net;   // the whole trained network
  const tinynet::Layer<float>* backbone = nullptr;   // ResNet50 without the head; the CNN itself
};

// ensures: the default input size of `name`: 32 (CIFAR) for scratch, 48 for resnet50.
inline int default_image_size(const std::string& name) { return name == "resnet50" ? 48 : 32; }

// requires: name "scratch", "fast" or "resnet50"; image_size >= 32 (an Error otherwise).
// ensures: the network built for [3, image_size, image_size] inputs, initialised from seed 1.
inline BenchModel make_bench_model(const std::string& name, int image_size) {
  using namespace tinynet;
  check(name == "scratch" || name == "fast" || name == "resnet50", "make_bench_model: unknown model '", name,
        "' (expected scratch, fast or resnet50)");
  check(image_size >= 32, "make_bench_model: image size ", image_size, " is below 32");
  BenchModel m{name, image_size, nullptr, nullptr};
  if (name == "scratch") {
    m.net = make_notebook_cnn<float>(classes, /*seed=*/1);
    m.backbone = m.net.get();
  } else if (name == "fast") {
    WhitenedCnnOptions options;
    options.classes = classes;
    m.net = make_whitened_cnn<float>(options);
    m.backbone = m.net.get();
  } else {
    m.net = std::make_unique<Sequential<float>>("resnet50_classifier");
    m.backbone = &m.net->add(make_resnet50<float>());
    m.net->add<Dense<float>>(256);
    m.net->add<ReLU<float>>();
    m.net->add<Dropout<float>>(0.5, /*seed=*/1);
    m.net->add<Dense<float>>(classes);
  }
  m.net->setup(Shape{3, image_size, image_size}, /*seed=*/1);
  return m;
}

// ensures: visit(layer, path) for `layer` and, depth-first, for every sub-layer of a
// Composite (Sequential, Bottleneck, ...); path is the '/'-joined names below the root.
inline void for_each_layer(const tinynet::Layer<float>& layer, const std::string& path,
                           const std::function<void(const tinynet::Layer<float>&, const std::string&)>& visit) {
  visit(layer, path);
  if (const auto* composite = dynamic_cast<const tinynet::Composite<float>*>(&layer))
    for (std::size_t i = 0; i < composite->size(); ++i) {
      const auto& child = composite->layer(i);
      for_each_layer(child, path.empty() ? child.name() : path + "/" + child.name(), visit);
    }
}

}  // namespace tinynet_bench
