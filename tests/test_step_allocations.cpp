// A training step allocates nothing after the first: every buffer (layer outputs and
// gradients, workspaces, optimizer state) is kept from one step to the next. Counted through
// this executable's own global operator new, which every tensor storage block (a
// make_shared<Storage>) and every standard container goes through.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "tinynet/core/random.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/dropout.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/losses/softmax_cross_entropy.hpp"
#include "tinynet/model/notebook_cnn.hpp"
#include "tinynet/model/resnet50.hpp"
#include "tinynet/model/whitened_cnn.hpp"
#include "tinynet/optim/adam.hpp"
#include "tinynet/optim/lookahead.hpp"
#include "tinynet/optim/sgd.hpp"

namespace {
std::atomic<long> allocations{0};
}  // namespace

// (GCC takes the free() in these replacements for a mismatch with the new they pair with)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t bytes) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(bytes ? bytes : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t bytes) { return operator new(bytes); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace tinynet;

namespace {

// ensures: the allocations of training steps 2..4 (after a first one that sizes everything).
long allocations_after_first_step(Sequential<float>& net, Optimizer<float>& optimizer, int size, std::int64_t batch) {
  Rng rng(3);
  Tensor<float> x(Shape{batch, 3, size, size});
  for (float& v : x) v = static_cast<float>(rng.normal());
  std::vector<int> labels(static_cast<std::size_t>(batch));
  for (int& label : labels) label = static_cast<int>(rng.below(10));
  SoftmaxCrossEntropy<float> loss(0.2);
  net.set_training(true);
  net.set_input_grad_needed(false);
  auto step = [&] {
    loss.forward(net.forward(x), labels);
    net.backward(loss.backward());
    optimizer.step(net);
  };
  step();
  const long before = allocations.load();
  for (int i = 0; i < 3; ++i) step();
  return allocations.load() - before;
}

}  // namespace

TEST_CASE("A training step allocates nothing after the first", "[training][allocations]") {
  SECTION("notebook CNN, Adam") {
    auto net = make_notebook_cnn<float>(10, 1);
    net->setup(Shape{3, 32, 32}, 1);
    Adam<float> adam(AdamOptions{});
    CHECK(allocations_after_first_step(*net, adam, 32, 16) == 0);
  }
  SECTION("whitened CNN, SGD Nesterov with Lookahead") {
    auto net = make_whitened_cnn<float>();
    net->setup(Shape{3, 32, 32}, 1);
    LookaheadOptions every_5{};
    every_5.total_steps = 100;
    every_5.steps_per_epoch = 2;  // steps 2-4 cross an epoch's end and a synchronisation
    every_5.reset_each_epoch = true;
    Lookahead<float> lookahead(std::make_unique<SGD<float>>(SgdOptions{0.1, 0.85, true, 5e-4}), every_5);
    CHECK(allocations_after_first_step(*net, lookahead, 32, 16) == 0);
  }
  SECTION("ResNet50 with its training head, SGD") {
    Sequential<float> net("resnet50_classifier");
    net.add(make_resnet50<float>());
    net.add<Dense<float>>(256);
    net.add<ReLU<float>>();
    net.add<Dropout<float>>(0.5, 1);
    net.add<Dense<float>>(10);
    net.setup(Shape{3, 32, 32}, 1);
    SGD<float> sgd(SgdOptions{0.01, 0.9, true, 5e-3});
    CHECK(allocations_after_first_step(net, sgd, 32, 4) == 0);
  }
}
