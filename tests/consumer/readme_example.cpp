// The usage example of README.md (kept identical by the readme_example_in_sync test).
#include <tinynet/tinynet.hpp>

#include <iostream>

int main() {
  using namespace tinynet;
  Sequential<float> model;
  model.add<Conv2D<float>>(8, 3);                 // 8 filters, 3x3, 'same' padding
  model.add<ReLU<float>>();
  model.add<BatchNorm<float>>();
  model.add<MaxPool2D<float>>(2);
  model.add<Flatten<float>>();
  model.add<Dense<float>>(3);                     // logits for 3 classes
  model.setup(Shape{3, 16, 16}, /*seed=*/42);     // build for 3x16x16 inputs + Keras init
  model.summary(std::cout);

  Tensor<float> images(Shape{6, 3, 16, 16});      // a fixed synthetic batch
  Rng rng(1);
  for (float& v : images) v = static_cast<float>(rng.uniform());
  const std::vector<int> labels{0, 1, 2, 0, 1, 2};

  SoftmaxCrossEntropy<float> loss;
  Adam<float> adam(AdamOptions{});
  float value = 0;
  for (int step = 0; step < 60; ++step) {
    value = loss.forward(model.forward(images), labels);
    model.backward(loss.backward());
    adam.step(model);
  }
  std::cout << "loss after 60 steps: " << value << "\n";
  return value < 0.1f ? 0 : 1;
}
