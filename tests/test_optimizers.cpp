#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layer_test_helpers.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/flatten.hpp"
#include "tinynet/layers/relu.hpp"
#include "tinynet/layers/sequential.hpp"
#include "tinynet/optim/adam.hpp"
#include "tinynet/optim/lookahead.hpp"
#include "tinynet/optim/sgd.hpp"

using namespace tinynet;
using tinynet_test::random_tensor;

namespace {

using Ranges = Optimizer<double>::Ranges;

Approx exactly(double expected) { return Approx(expected).epsilon(1e-12).margin(1e-15); }

// ensures: runs one step per gradient vector on `values` over the whole buffer.
void run_steps(Optimizer<double>& optimizer, Tensor<double>& values, const std::vector<std::vector<double>>& grads) {
  Tensor<double> g(values.shape());
  for (const auto& step_grads : grads) {
    std::copy(step_grads.begin(), step_grads.end(), g.begin());
    optimizer.step(values, g, Ranges{{0, values.numel()}});
  }
}

// A layer y = x * scale with a BatchNorm-like statistic entry: optimizers must skip "moving_mean".
template <class T>
class ScaleWithStatistic : public Layer<T> {
 public:
  std::string type() const override { return "ScaleWithStatistic"; }
  Shape build(const Shape& in) override {
    this->params_.add("scale", in);
    this->params_.add("moving_mean", in, ParameterKind::statistic);
    return in;
  }
  void initialize(Rng&) override { this->params_.value(0).fill(T(1)); }
  const Tensor<T>& forward(const Tensor<T>& x) override {
    this->check_input(x);
    input_ = x;
    output_.resize(x.shape());
    const Tensor<T> scale = this->params_.value(0);
    for (std::int64_t i = 0; i < x.numel(); ++i) output_[i] = x[i] * scale[i % scale.numel()];
    return output_;
  }
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    this->check_grad_output(dy, output_);
    grad_input_.resize(dy.shape());
    Tensor<T> scale = this->params_.value(0), dscale = this->params_.grad(0);
    if (this->trainable()) dscale.zero();
    for (std::int64_t i = 0; i < dy.numel(); ++i) {
      grad_input_[i] = dy[i] * scale[i % scale.numel()];
      if (this->trainable()) dscale[i % scale.numel()] += dy[i] * input_[i];
    }
    return grad_input_;
  }

 private:
  Tensor<T> input_, output_, grad_input_;
};

}  // namespace

TEST_CASE("Adam follows TensorFlow's formula step by step", "[optim][adam]") {
  const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-7;
  Adam<double> adam(AdamOptions{lr, b1, b2, eps, 0});
  CHECK(adam.name() == "Adam");
  Tensor<double> p(Shape{3}, {1.0, -2.0, 0.5});
  const std::vector<std::vector<double>> grads{{0.5, 0.0, -3.0}, {-0.2, 0.0, 4.0}, {1.0, 1e-3, 0.25}};

  // Hand arithmetic for element 0 (g = 0.5, -0.2, 1.0), as in the header's formula:
  // t=1: m = 0.05, v = 2.5e-4, lr_t = 0.1*sqrt(0.001)/0.1, p = 1 - lr_t*m/(sqrt(v)+eps).
  run_steps(adam, p, {grads[0]});
  CHECK(adam.iterations() == 1);
  CHECK(p[0] == exactly(1 - 0.1 * std::sqrt(0.001) / 0.1 * 0.05 / (std::sqrt(2.5e-4) + 1e-7)));
  CHECK(p[0] == exactly(0.9000006324515321));  // the same, evaluated in Python
  CHECK(p[1] == -2.0);                         // zero gradient, zero moments: no move
  run_steps(adam, p, {grads[1], grads[2]});
  CHECK(p[0] == exactly(0.796526632414422));

  // All elements against the formula evaluated here in plain double arithmetic.
  std::vector<double> expected{1.0, -2.0, 0.5}, m(3, 0.0), v(3, 0.0);
  for (int t = 1; t <= 3; ++t) {
    const double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (int i = 0; i < 3; ++i) {
      const double g = grads[t - 1][i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      expected[i] -= lr_t * m[i] / (std::sqrt(v[i]) + eps);
    }
  }
  REQUIRE(adam.state().size() == 2);
  CHECK(adam.state()[0].first == "m");
  CHECK(adam.state()[1].first == "v");
  for (int i = 0; i < 3; ++i) {
    CHECK(p[i] == exactly(expected[i]));
    CHECK((*adam.state()[0].second)[i] == exactly(m[i]));
    CHECK((*adam.state()[1].second)[i] == exactly(v[i]));
  }
}

TEST_CASE("SGD follows Keras: plain, momentum and Nesterov", "[optim][sgd]") {
  // Element 0: p0 = 1, lr 0.1, momentum 0.9, g = 0.5, -0.2, 1.0; element 1 mirrors it.
  const std::vector<std::vector<double>> grads{{0.5, -0.5}, {-0.2, 0.2}, {1.0, -1.0}};
  struct Case {
    const char* what;
    SgdOptions options;
    std::vector<double> after_each_step;
  };
  const Case cases[] = {
      // p -= lr*g: 1 - 0.05 = 0.95, + 0.02 = 0.97, - 0.1 = 0.87
      {"no momentum", SgdOptions{0.1, 0.0, false, 0}, {0.95, 0.97, 0.87}},
      // velocity -0.05, -0.025, -0.1225; p += velocity
      {"momentum", SgdOptions{0.1, 0.9, false, 0}, {0.95, 0.925, 0.8025}},
      // p += 0.9*velocity - 0.1*g: 1 - 0.045 - 0.05, - 0.0225 + 0.02, - 0.11025 - 0.1
      {"nesterov", SgdOptions{0.1, 0.9, true, 0}, {0.905, 0.9025, 0.69225}},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      SGD<double> sgd(c.options);
      Tensor<double> p(Shape{2}, {1.0, -1.0});
      for (int step = 0; step < 3; ++step) {
        run_steps(sgd, p, {grads[step]});
        CHECK(p[0] == exactly(c.after_each_step[step]));
        CHECK(p[1] == exactly(-c.after_each_step[step]));
      }
      const auto state = sgd.state();
      CHECK(state.size() == (c.options.momentum > 0 ? 1u : 0u));
      if (!state.empty()) CHECK(state[0].first == "velocity");
    }
  }
}

TEST_CASE("Weight decay is decoupled: p -= lr*wd*p, outside the adaptive scaling", "[optim]") {
  SECTION("Adam: a zero-gradient element only decays") {
    // An L2 penalty added to the gradient would be normalised by Adam and move p by ~lr = 0.1.
    Adam<double> adam(AdamOptions{0.1, 0.9, 0.999, 1e-7, 0.05});
    Tensor<double> p(Shape{2}, {2.0, 2.0});
    run_steps(adam, p, {{0.0, 0.5}});
    CHECK(p[0] == exactly(2 - 0.1 * 0.05 * 2));  // 1.99
    CHECK(p[1] == exactly(2 - 0.1 * 0.05 * 2 - 0.1 * std::sqrt(0.001) / 0.1 * 0.05 / (std::sqrt(2.5e-4) + 1e-7)));
    run_steps(adam, p, {{0.0, 0.5}});
    CHECK(p[0] == exactly(1.99 * (1 - 0.1 * 0.05)));  // 1.98005
  }
  SECTION("SGD with momentum") {
    SGD<double> sgd(SgdOptions{0.1, 0.9, false, 0.01});
    Tensor<double> p(Shape{1}, {2.0});
    run_steps(sgd, p, {{0.5}});
    CHECK(p[0] == exactly(2 - 0.002 - 0.05));  // 1.948
    run_steps(sgd, p, {{0.5}});
    CHECK(p[0] == exactly(1.948 - 0.001948 - 0.095));  // velocity -0.045 - 0.05
  }
}

TEST_CASE("Only the given ranges change, the rest stays bit-identical", "[optim]") {
  SECTION("flat buffer") {
    Tensor<double> p = random_tensor(Shape{10}, 3), g = random_tensor(Shape{10}, 4);
    const Tensor<double> before = p.clone();
    Adam<double> adam(AdamOptions{0.1, 0.9, 0.999, 1e-7, 0.01});
    const Ranges ranges{{1, 2}, {3, 1}, {6, 0}, {7, 2}};  // [1,4) after merging, and [7,9)
    adam.step(p, g, ranges);
    adam.step(p, g, ranges);
    for (int i = 0; i < 10; ++i) {
      const bool inside = (i >= 1 && i < 4) || (i >= 7 && i < 9);
      INFO("element " << i);
      CHECK((p[i] != before[i]) == inside);
      CHECK(((*adam.state()[0].second)[i] != 0) == inside);
    }
  }

  SECTION("a Sequential with a frozen layer and a statistic entry") {
    Sequential<float> model;
    auto& conv = model.add<Conv2D<float>>(2, 3);
    model.add<Flatten<float>>();
    model.add<Dense<float>>(4);
    model.add<ScaleWithStatistic<float>>();
    model.setup(Shape{1, 4, 4}, 5);
    conv.set_trainable(false);
    auto& params = model.parameters();
    const std::int64_t conv_size = conv.parameters().size(), dense_size = model.layer(2).parameters().size();
    // per entry: dense/kernel [32,4], dense/bias [4], scale [1,4,4]... of the Dense output [4]
    REQUIRE(dense_size == 32 * 4 + 4);
    REQUIRE(model.trainable_ranges() ==
            Optimizer<float>::Ranges{{conv_size, 128}, {conv_size + 128, 4}, {conv_size + dense_size, 4}});
    const std::int64_t statistic_offset = conv_size + dense_size + 4;
    for (std::int64_t i = statistic_offset; i < params.size(); ++i) params.values()[i] = 3.0f;

    const Tensor<float> x = random_tensor<float>(Shape{2, 1, 4, 4}, 6);
    Adam<float> adam(AdamOptions{0.01, 0.9, 0.999, 1e-7, 0.1});
    SGD<float> sgd(SgdOptions{0.01, 0.9, true, 0.1});
    const Tensor<float> before = params.values().clone();
    for (int step = 0; step < 3; ++step) {
      model.forward(x);
      model.backward(random_tensor<float>(Shape{2, 4}, 7 + step));
      params.grads().view(0, Shape{conv_size}).fill(1.0f);  // stale gradients the optimizer must ignore
      params.grads().view(statistic_offset, Shape{4}).fill(1.0f);
      adam.step(model);
      sgd.step(model);
    }
    for (std::int64_t i = 0; i < params.size(); ++i) {
      const bool trainable = i >= conv_size && i < statistic_offset;
      INFO("parameter " << i << " (" << (trainable ? "trainable" : "frozen or statistic") << ")");
      if (trainable)
        CHECK(params.values()[i] != before[i]);
      else
        CHECK(std::memcmp(&params.values()[i], &before[i], sizeof(float)) == 0);
    }
  }
}

TEST_CASE("Update multipliers scale the rate and the decay of their runs only", "[optim]") {
  // Ranges [0,4) and [6,10); a multiplier run [3,8) straddles the gap, [9,10) freezes its element.
  const Ranges ranges{{0, 4}, {6, 4}};
  const std::vector<UpdateMultiplier> multipliers{{3, 5, 4.0, 0.5}, {9, 1, 0.0, 1.0}};
  SECTION("SGD: p -= lr*mult*wd*decay_mult*p + lr*mult*g") {
    SGD<double> sgd(SgdOptions{0.1, 0, false, 0.01});
    Tensor<double> p(Shape{10}), g(Shape{10});
    p.fill(1.0);
    g.fill(1.0);
    sgd.step(p, g, ranges, multipliers);
    for (int i = 0; i < 10; ++i) {
      INFO("element " << i);
      if (i == 4 || i == 5 || i == 9) CHECK(p[i] == 1.0);                        // outside the ranges, or lr_mult 0
      else if (i >= 3 && i < 8) CHECK(p[i] == exactly(1 - 0.4 * 0.01 * 0.5 - 0.4));  // 0.598
      else CHECK(p[i] == exactly(1 - 0.1 * 0.01 - 0.1));                          // 0.899
    }
  }
  SECTION("Adam: a run with lr_mult k moves as under an Adam with rate k*lr") {
    Adam<double> scaled(AdamOptions{0.01, 0.9, 0.999, 1e-7, 0.1}), plain(AdamOptions{0.04, 0.9, 0.999, 1e-7, 0.05});
    Tensor<double> p = random_tensor(Shape{10}, 11), g = random_tensor(Shape{10}, 12);
    Tensor<double> q = p.clone();
    for (int step = 0; step < 3; ++step) {
      scaled.step(p, g, ranges, multipliers);
      plain.step(q, g, Ranges{{0, 10}});
    }
    for (int i : {3, 6, 7}) {
      INFO("element " << i);
      CHECK(p[i] == exactly(q[i]));
    }
  }
  SECTION("a model reports BatchNorm's beta multipliers at its offset") {
    Sequential<float> model;
    model.add<Conv2D<float>>(2, 3);
    model.add<BatchNorm<float>>(BatchNormOptions{0.9, 1e-3, false, false, 64, 1.0 / 64});
    model.setup(Shape{1, 5, 5}, 3);
    std::vector<UpdateMultiplier> found;
    model.collect_update_multipliers(0, found);
    const std::int64_t beta_offset = model.layer(0).parameters().size() + 2;  // after the conv and gamma [2]
    REQUIRE(found.size() == 1);
    CHECK(found[0].offset == beta_offset);
    CHECK(found[0].count == 2);
    CHECK(found[0].lr_mult == 64);
    CHECK(found[0].decay_mult == 1.0 / 64);
    // One SGD step without momentum: beta moves 64x as far as under plain SGD.
    model.forward(random_tensor<float>(Shape{4, 1, 5, 5}, 4));
    model.backward(random_tensor<float>(Shape{4, 2, 5, 5}, 5));
    const float before = model.parameters().values()[beta_offset];
    const float grad = model.parameters().grads()[beta_offset];
    SGD<float> sgd(SgdOptions{0.01, 0, false, 0});
    sgd.step(model);
    CHECK(model.parameters().values()[beta_offset] == Approx(before - 0.64f * grad));
  }
  SECTION("bad multipliers are refused with the parameter's name") {
    BatchNorm<float> bn;
    bn.build_once(Shape{3});
    CHECK_THROWS_WITH(bn.parameters().set_update_multipliers("moving_mean", 2, 1), Catch::Contains("moving_mean"));
    CHECK_THROWS_WITH(bn.parameters().set_update_multipliers("beta", -1, 1), Catch::Contains("'beta'"));
    CHECK_THROWS_WITH(bn.parameters().set_update_multipliers("bias", 2, 1), Catch::Contains("no parameter 'bias'"));
    Tensor<double> p(Shape{10}), g(Shape{10});
    SGD<double> sgd;
    CHECK_THROWS_WITH(sgd.step(p, g, ranges, {{3, 5, 2, 1}, {4, 1, 2, 1}}), Catch::Contains("overlaps"));
  }
}

TEST_CASE("Adam trains a small float network end to end", "[optim][adam][training]") {
  Sequential<float> model;
  model.add<Dense<float>>(32);
  model.add<ReLU<float>>();
  model.add<Dense<float>>(1);
  model.setup(Shape{4}, 11);

  const std::int64_t n = 64;
  const Tensor<float> x = random_tensor<float>(Shape{n, 4}, 12);
  Tensor<float> target(Shape{n, 1}), dy(Shape{n, 1});
  for (std::int64_t i = 0; i < n; ++i) {
    const float* xi = x.data() + 4 * i;
    target[i] = std::sin(2 * xi[0]) + xi[1] * xi[2] - 0.5f * xi[3];
  }
  Adam<float> adam(AdamOptions{0.01});
  // loss = sum((y - t)^2) / N, dL/dy = 2 (y - t) / N
  auto loss_and_gradient = [&]() {
    const Tensor<float>& y = model.forward(x);
    double loss = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const float r = y[i] - target[i];
      loss += double(r) * r / n;
      dy[i] = 2 * r / n;
    }
    return loss;
  };
  const double initial = loss_and_gradient();
  double loss = initial;
  for (int step = 0; step < 400; ++step) {
    model.backward(dy);
    adam.step(model);
    loss = loss_and_gradient();
  }
  INFO("loss " << initial << " -> " << loss);
  CHECK(adam.iterations() == 400);
  CHECK(loss < initial / 100);
}

TEST_CASE("Restoring state and iterations continues exactly like an uninterrupted run", "[optim][checkpoint]") {
  // Gradient of sum((p - target)^2): the trajectory depends on every step's state.
  const Tensor<double> target = random_tensor(Shape{6}, 21), start = random_tensor(Shape{6}, 22);
  auto run = [&](Optimizer<double>& optimizer, Tensor<double>& p, int steps) {
    Tensor<double> g(p.shape());
    for (int s = 0; s < steps; ++s) {
      for (int i = 0; i < 6; ++i) g[i] = 2 * (p[i] - target[i]);
      optimizer.step(p, g, Ranges{{0, 4}, {5, 1}});
    }
  };
  const auto make_adam = [] { return std::make_unique<Adam<double>>(AdamOptions{0.05, 0.9, 0.999, 1e-7, 0.01}); };
  const auto make_sgd = [] { return std::make_unique<SGD<double>>(SgdOptions{0.05, 0.8, true, 0.01}); };
  using Factory = std::function<std::unique_ptr<Optimizer<double>>()>;
  for (const auto& make : {Factory(make_adam), Factory(make_sgd)}) {
    auto uninterrupted = make();
    Tensor<double> p_full = start.clone();
    run(*uninterrupted, p_full, 7);

    auto first = make();
    Tensor<double> p_first = start.clone();
    run(*first, p_first, 4);
    // The "checkpoint": values, iterations and independent copies of the state tensors.
    const Tensor<double> saved_values = p_first.clone();
    std::vector<Tensor<double>> saved_state;
    for (const auto& s : first->state()) saved_state.push_back(s.second->clone());
    INFO(first->name());
    CHECK(first->state().size() == (first->name() == "Adam" ? 2u : 1u));

    auto resumed = make();
    REQUIRE(resumed->state().size() == saved_state.size());
    for (std::size_t i = 0; i < saved_state.size(); ++i) {
      CHECK(resumed->state()[i].second->empty());  // allocated lazily
      *resumed->state()[i].second = saved_state[i].clone();
    }
    resumed->set_iterations(first->iterations());
    Tensor<double> p_resumed = saved_values.clone();
    run(*resumed, p_resumed, 3);
    CHECK(resumed->iterations() == 7);
    for (int i = 0; i < 6; ++i) CHECK(p_resumed[i] == p_full[i]);  // bit-identical
    CHECK(p_resumed[4] == start[4]);                                   // outside the ranges

    if (first->name() == "Adam") {  // the step count matters: without it the bias correction differs
      auto forgetful = make();
      for (std::size_t i = 0; i < saved_state.size(); ++i) *forgetful->state()[i].second = saved_state[i].clone();
      Tensor<double> p_forgetful = saved_values.clone();
      run(*forgetful, p_forgetful, 3);
      CHECK(p_forgetful[0] != p_full[0]);
    }
  }
}

TEST_CASE("Lookahead: every k steps slow += (1 - d)(p - slow), p = slow; the last step too", "[optim][lookahead]") {
  // SGD without momentum, lr 0.1, gradient 1 on element 0 (element 1 is outside the range).
  // every 2, decay 0.5, power 1, 5 steps: d = 0.5 * t / 5 at t = 2, 4 and the last step 5.
  Lookahead<double> sgd(std::make_unique<SGD<double>>(SgdOptions{0.1}), LookaheadOptions{2, 0.5, 1, 5});
  Tensor<double> p(Shape{2}, {1.0, 0.3}), g(Shape{2}, {1.0, 1.0});
  double fast = 1.0, slow = 1.0;  // the slow copy starts as the weights before the first step
  for (int t = 1; t <= 5; ++t) {
    sgd.step(p, g, Ranges{{0, 1}});
    fast -= 0.1;
    if (t % 2 == 0 || t == 5) {
      const double d = 0.5 * t / 5.0;
      slow += (1 - d) * (fast - slow);
      fast = slow;
    }
    INFO("step " << t);
    CHECK(p[0] == exactly(fast));
    CHECK(p[1] == 0.3);  // equal to its slow copy: untouched, bit for bit
  }
  const auto state = sgd.state();
  REQUIRE(state.size() == 1);
  CHECK(state[0].first == "slow_weights");
  CHECK((*state[0].second)[0] == exactly(slow));
  CHECK(sgd.options().total_steps == 5);
  CHECK(sgd.name() == "SGD");  // checkpoints record the inner optimizer
  CHECK(sgd.iterations() == 5);
  CHECK(sgd.inner().iterations() == 5);
}

TEST_CASE("Lookahead as airbench94: a slow copy from epoch start_epoch, weights reset to it after each epoch",
          "[optim][lookahead]") {
  // SGD lr 0.1, gradient 1; every 2 steps, decay 0.5, power 1, 4 epochs of 3 steps, from epoch 1.
  LookaheadOptions options{2, 0.5, 1, 12};
  options.steps_per_epoch = 3;
  options.start_epoch = 1;
  options.reset_each_epoch = true;
  Lookahead<double> sgd(std::make_unique<SGD<double>>(SgdOptions{0.1}), options);
  Tensor<double> p(Shape{1}, {1.0}), g(Shape{1}, {1.0});
  double fast = 1.0, slow = 0;
  bool started = false;
  for (int t = 1; t <= 12; ++t) {
    if (t == 4) {  // the first step of epoch 1: the copy is taken before it
      slow = fast;
      started = true;
    }
    sgd.step(p, g, Ranges{{0, 1}});
    fast -= 0.1;
    if (started && t % 2 == 0) {
      slow += (1 - 0.5 * t / 12.0) * (fast - slow);
      fast = slow;
    }
    if (started && t % 3 == 0) fast = slow;  // an epoch's end: back to the average
    INFO("step " << t);
    CHECK(p[0] == exactly(fast));
    CHECK(sgd.state()[0].second->empty() == !started);
  }
  CHECK(p[0] == exactly(slow));  // the run ends on the average
  LookaheadOptions no_epochs{2, 0.5, 1, 12};
  no_epochs.reset_each_epoch = true;
  CHECK_THROWS_WITH(Lookahead<double>(std::make_unique<SGD<double>>(SgdOptions{0.1}), no_epochs),
                    Catch::Contains("steps_per_epoch"));
}

TEST_CASE("Lookahead with momentum resumes exactly from its saved slow copy", "[optim][lookahead][checkpoint]") {
  const Tensor<double> target = random_tensor(Shape{5}, 31), start = random_tensor(Shape{5}, 32);
  const auto make = [] {
    return std::make_unique<Lookahead<double>>(std::make_unique<SGD<double>>(SgdOptions{0.05, 0.85, true, 0.01}),
                                               LookaheadOptions{3, 0.8, 2, 10});
  };
  auto run = [&](Optimizer<double>& optimizer, Tensor<double>& p, int steps) {
    Tensor<double> g(p.shape());
    for (int s = 0; s < steps; ++s) {
      for (int i = 0; i < 5; ++i) g[i] = 2 * (p[i] - target[i]);
      optimizer.step(p, g, Ranges{{0, 5}});
    }
  };
  auto uninterrupted = make();
  Tensor<double> p_full = start.clone();
  run(*uninterrupted, p_full, 10);

  auto first = make();
  Tensor<double> p_resumed = start.clone();
  run(*first, p_resumed, 4);  // stops between synchronisations: the slow copy differs from p
  auto resumed = make();
  REQUIRE(resumed->state().size() == 2);  // velocity, slow_weights
  for (std::size_t i = 0; i < 2; ++i) *resumed->state()[i].second = first->state()[i].second->clone();
  resumed->set_iterations(first->iterations());
  run(*resumed, p_resumed, 6);
  for (int i = 0; i < 5; ++i) CHECK(p_resumed[i] == p_full[i]);  // bit-identical

  auto plain = std::make_unique<SGD<double>>(SgdOptions{0.05, 0.85, true, 0.01});
  Tensor<double> p_plain = start.clone();
  run(*plain, p_plain, 10);
  CHECK(p_plain[0] != p_full[0]);  // the averaging changed the trajectory
}

TEST_CASE("Lookahead refuses bad options, a used inner optimizer and a bad first step", "[optim][lookahead]") {
  const auto wrap = [](const LookaheadOptions& options, int steps_taken = 0) {
    auto sgd = std::make_unique<SGD<double>>(SgdOptions{0.1});
    Tensor<double> p(Shape{2}), g(Shape{2});
    for (int s = 0; s < steps_taken; ++s) sgd->step(p, g, Ranges{{0, 2}});
    return Lookahead<double>(std::move(sgd), options);
  };
  CHECK_THROWS_WITH(wrap(LookaheadOptions{0, 0.5, 1, 10}), Catch::Contains("every >= 1"));
  CHECK_THROWS_WITH(wrap(LookaheadOptions{5, 0.5, 1, 0}), Catch::Contains("total_steps"));
  CHECK_THROWS_WITH(wrap(LookaheadOptions{5, 1.5, 1, 10}), Catch::Contains("decay") && Catch::Contains("1.5"));
  CHECK_THROWS_WITH(wrap(LookaheadOptions{5, 0.5, 1, 10}, 1), Catch::Contains("before the first step"));
  CHECK_THROWS_WITH(Lookahead<double>(nullptr, LookaheadOptions{5, 0.5, 1, 10}), Catch::Contains("no inner optimizer"));

  Lookahead<double> lookahead = wrap(LookaheadOptions{5, 0.5, 1, 10});
  REQUIRE(lookahead.state().size() == 1);
  CHECK(lookahead.state()[0].second->empty());
  Tensor<double> p(Shape{2}), g(Shape{3});
  CHECK_THROWS_WITH(lookahead.step(p, g, Ranges{{0, 2}}), Catch::Contains("grads hold 3"));
  CHECK(lookahead.state()[0].second->empty());  // a refused first step takes no slow copy
  CHECK(lookahead.iterations() == 0);
}

TEST_CASE("Optimizers reject bad buffers, ranges, state and options with clear messages", "[optim]") {
  Adam<double> adam;
  Tensor<double> p(Shape{8}), g(Shape{8});
  CHECK_THROWS_WITH(adam.step(p, Tensor<double>(Shape{7}), Ranges{{0, 7}}),
                    Catch::Contains("Adam") && Catch::Contains("8") && Catch::Contains("7"));
  CHECK_THROWS_WITH(adam.step(p, g, Ranges{{4, 5}}), Catch::Contains("[4,9)") && Catch::Contains("8 elements"));
  CHECK_THROWS_WITH(adam.step(p, g, Ranges{{-1, 2}}), Catch::Contains("outside"));
  CHECK_THROWS_WITH(adam.step(p, g, Ranges{{2, 3}, {4, 1}}), Catch::Contains("overlaps") && Catch::Contains("5"));
  CHECK_THROWS_WITH(adam.step(p, g, Ranges{{4, 1}, {0, 2}}), Catch::Contains("ascending"));
  CHECK(adam.iterations() == 0);  // nothing happened

  *adam.state()[1].second = Tensor<double>(Shape{5});
  CHECK_THROWS_WITH(adam.step(p, g, Ranges{{0, 8}}),
                    Catch::Contains("'v'") && Catch::Contains("5") && Catch::Contains("8"));

  Tensor<double> m(Shape{8}), v(Shape{4});
  CHECK_THROWS_WITH(adam_update(p, g, m, v, 2, 3, AdamCoefficients<double>{0.9, 0.999, 0.1, 1e-7, 0}),
                    Catch::Contains("adam_update") && Catch::Contains("[2,5)") && Catch::Contains("4 elements"));

  CHECK_THROWS_WITH(Adam<double>(AdamOptions{1e-3, 1.0}), Catch::Contains("beta1 1"));
  CHECK_THROWS_WITH(Adam<double>(AdamOptions{1e-3, 0.9, 0.999, 0.0}), Catch::Contains("epsilon"));
  CHECK_THROWS_WITH(SGD<double>(SgdOptions{-0.1}), Catch::Contains("SGD") && Catch::Contains("-0.1"));
  CHECK_THROWS_WITH(SGD<double>(SgdOptions{0.1, 1.5}), Catch::Contains("momentum 1.5"));
  CHECK_THROWS_WITH(adam.set_weight_decay(-1), Catch::Contains("weight decay -1"));
  CHECK_THROWS_WITH(adam.set_iterations(-3), Catch::Contains("-3"));
  adam.set_learning_rate(0.5);
  CHECK(adam.learning_rate() == 0.5);
}
