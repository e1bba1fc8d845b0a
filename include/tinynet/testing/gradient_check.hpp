// tinynet/testing/gradient_check.hpp: central-difference gradient checking.
//
// check_gradient() compares an analytic gradient with central differences
//   (f(x + h e_i) - f(x - h e_i)) / 2h
// for a few step sizes h, keeping per element the smallest relative error
//   |analytic - numeric| / max(|analytic|, |numeric|, floor).
// check_layer_gradients() applies it to a layer: with a fixed random projection r of
// the output, f(x) = sum(r * layer.forward(x)), it checks dL/dx and dL/dparam for
// every trainable parameter entry. Use double precision layers.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "tinynet/core/random.hpp"
#include "tinynet/core/tensor.hpp"
#include "tinynet/layers/layer.hpp"

namespace tinynet {
namespace testing {

struct GradientCheckOptions {
  std::vector<double> steps{1e-3, 1e-4, 1e-5};
  double floor = 1e-6;            // denominators below this count as this (near-zero gradients)
  std::int64_t max_elements = 64; // elements checked per tensor (a seeded sample when larger)
  std::uint64_t seed = 7;
};

struct GradientCheckResult {
  double max_relative_error = 0;
  std::string worst;  // which element, e.g. "kernel[17]: analytic 0.12 numeric 0.13"
  std::int64_t checked = 0;
  bool passed(double tolerance) const { return checked > 0 && max_relative_error <= tolerance; }
};

// requires: f reads `x` (which it may see perturbed); analytic.numel() == x.numel().
// ensures: x is restored; the result folds into `result` under the label `what`.
inline void check_gradient(const std::function<double()>& f, Tensor<double> x, const Tensor<double>& analytic,
                           const std::string& what, const GradientCheckOptions& options,
                           GradientCheckResult& result) {
  check(analytic.numel() == x.numel(), "check_gradient(", what, "): gradient ", analytic.shape(), " for ", x.shape());
  std::vector<std::int64_t> indices(x.numel());
  for (std::int64_t i = 0; i < x.numel(); ++i) indices[i] = i;
  if (x.numel() > options.max_elements) {
    Rng rng(options.seed);
    for (std::int64_t i = 0; i < options.max_elements; ++i)
      std::swap(indices[i], indices[i + rng.below(x.numel() - i)]);
    indices.resize(options.max_elements);
  }
  for (std::int64_t i : indices) {
    const double saved = x[i];
    double best = std::numeric_limits<double>::infinity(), best_numeric = 0;
    for (double h : options.steps) {
      x[i] = saved + h;
      const double plus = f();
      x[i] = saved - h;
      const double minus = f();
      x[i] = saved;
      const double numeric = (plus - minus) / (2 * h);
      const double denom = std::max({std::abs(analytic[i]), std::abs(numeric), options.floor});
      const double err = std::abs(analytic[i] - numeric) / denom;
      if (err < best) best = err, best_numeric = numeric;
    }
    ++result.checked;
    if (best >= result.max_relative_error) {
      result.max_relative_error = best;
      result.worst = what + "[" + std::to_string(i) + "]: analytic " + std::to_string(analytic[i]) + " numeric " +
                     std::to_string(best_numeric);
    }
  }
}

// requires: layer built for x's sample shape and initialised. `before_forward` (optional)
// runs before every forward pass, e.g. to re-seed a Dropout layer.
// ensures: the worst relative error over dL/dx and every trainable parameter (those in the
// layer's collect_trainable_ranges(): frozen sub-layers and BatchNorm's fixed scale are left out).
inline GradientCheckResult check_layer_gradients(Layer<double>& layer, const Tensor<double>& x,
                                                 const GradientCheckOptions& options = {},
                                                 const std::function<void()>& before_forward = {}) {
  Tensor<double> input = x.clone();
  auto run = [&]() -> const Tensor<double>& {
    if (before_forward) before_forward();
    return layer.forward(input);
  };
  Tensor<double> projection(run().shape());
  Rng rng(options.seed + 1);
  for (auto& v : projection) v = rng.uniform(-1, 1);
  auto f = [&] {
    const Tensor<double>& y = run();
    double s = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) s += projection[i] * y[i];
    return s;
  };
  run();
  Tensor<double> dx = layer.backward(projection).clone();
  Tensor<double> dparams = layer.parameters().grads().clone();

  GradientCheckResult result;
  if (layer.input_grad_needed()) check_gradient(f, input, dx, "input", options, result);
  std::vector<std::pair<std::int64_t, std::int64_t>> trainable;  // frozen sub-layers are left out
  layer.collect_trainable_ranges(0, trainable);
  const auto& ps = layer.parameters();
  for (std::size_t e = 0; e < ps.entries().size(); ++e) {
    const auto& entry = ps.entries()[e];
    const bool updated = std::any_of(trainable.begin(), trainable.end(), [&](const auto& range) {
      return entry.offset >= range.first && entry.offset + entry.shape.numel() <= range.first + range.second;
    });
    if (!updated) continue;
    check_gradient(f, ps.value(static_cast<int>(e)), dparams.view(entry.offset, entry.shape), entry.name, options,
                   result);
  }
  return result;
}

}  // namespace testing
}  // namespace tinynet
