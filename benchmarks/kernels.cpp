// benchmarks/kernels.cpp: Google Benchmark suite of tinynet's CPU kernels at the shapes the
// three benchmarked networks use (the notebook's scratch CNN and the fast recipe's whitened
// CNN on 32x32, ResNet50 + head on 48x48; batch 64).
//
// The shapes are read off the built models (benchmarks/bench_models.hpp): every distinct
// Conv2D geometry, the GEMMs those convolutions and the Dense layers issue, the BatchNorm,
// MaxPool2D, ReLU and GELU inputs, the residual sums of the Bottleneck blocks, and the Adam update
// over each network's parameter buffer (also with ~1e-19 gradients, whose squares are
// denormal, with and without flushing: adam_tiny_grads). Each benchmark name is <op>/<model>/<shape>, a
// convolution's shape being C<in>_<H>x<W>_OC<out>_k<KH>x<KW>_s<SH>x<SW>_p<top>.<left>.<bottom>.<right>
// (compare_pytorch.py --conv-shapes reads these names), followed for shapes with more than one
// path by the path (/im2col, /winograd2, /winograd3, /winograd4, /plane: backend/cpu/conv_algorithm.hpp); its label names the first layer with
// that shape and how many layers share it. Counters: GFLOP/s (2*M*N*K per GEMM; a convolution counts the
// direct convolution's 2*OC*C*KH*KW*N*OH*OW, whichever path runs) or GB/s (the bytes an op must read and write at least, divided by the time).
//
//   tinynet_kernels                                  # everything, about 2 minutes
//   tinynet_kernels --benchmark_filter='conv_.*/scratch'
// Threads: TINYNET_NUM_THREADS (default: OpenMP's count, 2 on the reference machine).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "bench_models.hpp"
#include "tinynet/backend/activation.hpp"
#include "tinynet/backend/batch_norm.hpp"
#include "tinynet/backend/conv2d.hpp"
#include "tinynet/backend/cpu/gemm.hpp"
#include "tinynet/backend/elementwise.hpp"
#include "tinynet/backend/optimizer_update.hpp"
#include "tinynet/backend/pooling.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/layers/batch_norm.hpp"
#include "tinynet/layers/bottleneck.hpp"
#include "tinynet/layers/conv2d.hpp"
#include "tinynet/layers/dense.hpp"
#include "tinynet/layers/gelu.hpp"
#include "tinynet/layers/max_pool2d.hpp"
#include "tinynet/layers/relu.hpp"

namespace {

using tinynet::ConvGeometry;
using tinynet::Layer;
using tinynet::Shape;
using tinynet::Tensor;

constexpr std::int64_t batch = 64;
constexpr double min_seconds = 0.15;  // per benchmark; the whole suite takes about 2 minutes

// ensures: t holds deterministic values in [-1, 1) (cheap enough for 100M-element buffers).
void fill_pseudo_random(Tensor<float>& t, std::uint32_t seed) {
  float* p = t.data();
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    const std::uint32_t h = (static_cast<std::uint32_t>(i) + seed) * 2654435761u;
    p[i] = static_cast<float>(h >> 8) / 8388608.0f - 1.0f;
  }
}

Tensor<float> random_tensor(const Shape& shape, std::uint32_t seed) {
  Tensor<float> t(shape);
  fill_pseudo_random(t, seed);
  return t;
}

// A layer shape seen in a model: where it first occurs and how many layers share it.
template <class Key>
struct Occurrences {
  struct Entry {
    Key key;
    std::string first_layer;
    int uses = 0;
  };
  std::vector<Entry> entries;                 // in model order
  std::map<std::string, std::size_t> by_id;   // shape id -> position in entries

  // ensures: a new entry for an unseen id, else one more use of the existing one.
  void add(const Key& key, const std::string& layer, const std::string& id) {
    const auto found = by_id.find(id);
    if (found != by_id.end()) {
      ++entries[found->second].uses;
      return;
    }
    by_id.emplace(id, entries.size());
    entries.push_back({key, layer, 1});
  }
};

std::string shape_id(const Shape& s) {
  std::string out;
  for (int i = 0; i < s.rank(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

std::string conv_id(const ConvGeometry& g) {
  return "C" + std::to_string(g.channels) + "_" + std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + "_OC" +
         std::to_string(g.out_channels) + "_k" + std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w) +
         "_s" + std::to_string(g.stride_h) + "x" + std::to_string(g.stride_w) + "_p" + std::to_string(g.pad_top) +
         "." + std::to_string(g.pad_left) + "." + std::to_string(g.pad_bottom) + "." + std::to_string(g.pad_right);
}

struct Gemm {
  bool trans_a, trans_b;
  std::int64_t M, N, K;
  std::string id() const {
    return std::string(trans_a ? "T" : "N") + (trans_b ? "T" : "N") + "_M" + std::to_string(M) + "_N" +
           std::to_string(N) + "_K" + std::to_string(K);
  }
};

// Everything the suite measures for one model, read off its layers.
struct ModelShapes {
  Occurrences<ConvGeometry> convs;
  Occurrences<Gemm> gemms;
  Occurrences<Shape> batch_norms, relus, gelus, residual_sums;
  Occurrences<std::pair<ConvGeometry, Shape>> max_pools;
  std::int64_t parameter_count = 0;  // of the backbone (the model without a training head)
};

ModelShapes collect_shapes(const std::string& model_name) {
  using namespace tinynet;
  const auto model = tinynet_bench::make_bench_model(model_name, tinynet_bench::default_image_size(model_name));
  ModelShapes s;
  s.parameter_count = model.backbone->parameters().size();
  auto add_gemm = [&](const Gemm& g, const std::string& path, const char* role) {
    s.gemms.add(g, path + " (" + role + ")", g.id());
  };
  tinynet_bench::for_each_layer(*model.net, "", [&](const Layer<float>& layer, const std::string& path) {
    const Shape in = layer.input_shape();
    if (const auto* conv = dynamic_cast<const Conv2D<float>*>(&layer)) {
      const ConvGeometry& g = conv->geometry();
      s.convs.add(g, path, conv_id(g));
      // The three GEMMs of backend/cpu/conv2d.hpp: forward, kernel gradient, patch gradient.
      const std::int64_t NP = batch * g.out_pixels();
      add_gemm({false, false, g.out_channels, NP, g.patch_size()}, path, "conv fwd");
      add_gemm({false, true, g.out_channels, g.patch_size(), NP}, path, "conv dW");
      add_gemm({true, false, g.patch_size(), NP, g.out_channels}, path, "conv dX");
    } else if (const auto* dense = dynamic_cast<const Dense<float>*>(&layer)) {
      const std::int64_t IN = in[0], OUT = dense->output_shape()[0];
      add_gemm({false, false, batch, OUT, IN}, path, "dense fwd");
      add_gemm({false, true, batch, IN, OUT}, path, "dense dX");
      add_gemm({true, false, IN, OUT, batch}, path, "dense dW");
    } else if (dynamic_cast<const BatchNorm<float>*>(&layer)) {
      s.batch_norms.add(in, path, shape_id(in));
    } else if (dynamic_cast<const ReLU<float>*>(&layer)) {
      s.relus.add(in, path, shape_id(in));
    } else if (dynamic_cast<const GELU<float>*>(&layer)) {
      s.gelus.add(in, path, shape_id(in));
    } else if (const auto* pool = dynamic_cast<const MaxPool2D<float>*>(&layer)) {
      s.max_pools.add({pool->geometry(), in}, path, conv_id(pool->geometry()));
    } else if (dynamic_cast<const Bottleneck<float>*>(&layer)) {
      s.residual_sums.add(layer.output_shape(), path, shape_id(layer.output_shape()));
    }
  });
  return s;
}

void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
void set_bytes(benchmark::State& state, double bytes_per_iteration) {
  state.counters["GB/s"] = benchmark::Counter(bytes_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
std::string label(const std::string& first_layer, int uses) {
  return first_layer + (uses > 1 ? " +" + std::to_string(uses - 1) + " more" : "");
}

// ---- the benchmark bodies ----------------------------------------------------------

void bm_gemm(benchmark::State& state, Gemm g, std::string where) {
  const Tensor<float> a = random_tensor(Shape{g.M * g.K}, 1), b = random_tensor(Shape{g.K * g.N}, 2);
  Tensor<float> c(Shape{g.M * g.N});
  const std::int64_t lda = g.trans_a ? g.M : g.K, ldb = g.trans_b ? g.K : g.N;
  auto run = [&] {
    tinynet::cpu::gemm<float>(g.trans_a, g.trans_b, g.M, g.N, g.K, 1.0f, a.data(), lda, b.data(), ldb, 0.0f,
                              c.data(), g.N);
  };
  run();  // untimed warm-up
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * g.M * g.N * g.K);
  state.SetLabel(where);
}

enum class ConvPass { forward, backward_data, backward_weights };

// algorithm: the path forced while the benchmark runs (automatic: the measured choice).
void bm_conv(benchmark::State& state, ConvGeometry g, ConvPass pass, tinynet::cpu::ConvAlgorithm algorithm,
             std::string where) {
  using namespace tinynet;
  const cpu::ConvAlgorithm setting_before = cpu::conv_algorithm();
  cpu::set_conv_algorithm(algorithm);
  const Shape x_shape{batch, g.channels, g.in_h, g.in_w}, y_shape{batch, g.out_channels, g.out_h, g.out_w};
  const Tensor<float> x = random_tensor(x_shape, 1), dy = random_tensor(y_shape, 4);
  const Tensor<float> kernel = random_tensor(Shape{g.out_channels, g.channels, g.kernel_h, g.kernel_w}, 2);
  const Tensor<float> bias = random_tensor(Shape{g.out_channels}, 3);
  Tensor<float> y(y_shape), dx(x_shape), dkernel(kernel.shape()), dbias(bias.shape());
  ConvWorkspace<float> ws;
  Tensor<float>* const not_wanted = nullptr;
  auto run = [&] {
    if (pass == ConvPass::forward)
      conv2d_forward(x, kernel, bias, y, g, ws);
    else if (pass == ConvPass::backward_data)
      conv2d_backward(x, kernel, dy, &dx, not_wanted, not_wanted, g, ws);
    else
      conv2d_backward(x, kernel, dy, not_wanted, &dkernel, &dbias, g, ws);
  };
  run();  // untimed warm-up (allocates the gradient workspace)
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  cpu::set_conv_algorithm(setting_before);
  set_flops(state, 2.0 * g.out_channels * batch * g.out_pixels() * g.patch_size());  // the direct convolution's
  state.SetLabel(where);
}

void bm_batch_norm(benchmark::State& state, Shape sample, bool backward, std::string where) {
  using namespace tinynet;
  const Shape shape = sample.prepend(batch), channels{sample[0]};
  const Tensor<float> x = random_tensor(shape, 1), dy = random_tensor(shape, 2);
  Tensor<float> y(shape), dx(shape), gamma(channels), beta(channels), dgamma(channels), dbeta(channels);
  Tensor<float> moving_mean(channels), moving_variance(channels), saved_mean(channels), saved_inv_std(channels);
  gamma.fill(1.0f);
  moving_variance.fill(1.0f);
  auto forward = [&] {
    batch_norm_forward_training(x, gamma, beta, 0.99, 1e-3, moving_mean, moving_variance, y, saved_mean, saved_inv_std,
                                false);
  };
  forward();
  const Tensor<float>* const no_relu = nullptr;
  auto run = [&] {
    if (backward)
      batch_norm_backward_training(x, dy, no_relu, gamma, saved_mean, saved_inv_std, &dx, &dgamma, &dbeta);
    else
      forward();
  };
  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }
  set_bytes(state, (backward ? 3.0 : 2.0) * shape.numel() * sizeof(float));  // x,dy -> dx | x -> y
  state.SetLabel(where);
}

void bm_max_pool(benchmark::State& state, ConvGeometry g, Shape sample, bool backward, std::string where) {
  using namespace tinynet;
  const Shape in_shape = sample.prepend(batch), out_shape{batch, g.channels, g.out_h, g.out_w};
  const Tensor<float> x = random_tensor(in_shape, 1), dy = random_tensor(out_shape, 2);
  Tensor<float> y(out_shape), dx(in_shape);
  Tensor<std::int32_t> argmax(out_shape);
  max_pool2d_forward(x, y, argmax, g);
  for (auto _ : state) {
    if (backward)
      max_pool2d_backward(x, y, dy, argmax, dx, g);
    else
      max_pool2d_forward(x, y, argmax, g);
    benchmark::ClobberMemory();
  }
  // forward: x -> y, argmax; backward: dy, argmax -> dx (int32 argmax is 4 bytes too)
  set_bytes(state, (in_shape.numel() + 2.0 * out_shape.numel()) * 4);
  state.SetLabel(where);
}

enum class Elementwise { relu_forward, relu_backward, gelu_forward, gelu_backward, add, add_relu };

void bm_elementwise(benchmark::State& state, Shape sample, Elementwise op, std::string where) {
  using namespace tinynet;
  const Shape shape = sample.prepend(batch);
  const Tensor<float> a = random_tensor(shape, 1), b = random_tensor(shape, 2);
  Tensor<float> out(shape);
  for (auto _ : state) {
    switch (op) {
      case Elementwise::relu_forward: relu_forward(a, out); break;
      case Elementwise::relu_backward: relu_backward(a, b, out); break;
      case Elementwise::gelu_forward: gelu_forward(a, out); break;
      case Elementwise::gelu_backward: gelu_backward(a, b, out); break;
      case Elementwise::add: add_forward(a, b, out); break;
      case Elementwise::add_relu: add_relu_forward(a, b, out); break;
    }
    benchmark::ClobberMemory();
  }
  const bool one_input = op == Elementwise::relu_forward || op == Elementwise::gelu_forward;
  set_bytes(state, (one_input ? 2.0 : 3.0) * shape.numel() * sizeof(float));
  state.SetLabel(where);
}

// grad_scale < 1e-19 makes the squared gradients denormal floats; flush says whether
// the threads flush them to zero (core/denormals.hpp) while the benchmark runs.
void bm_adam(benchmark::State& state, std::int64_t count, float grad_scale, bool flush, std::string where) {
  using namespace tinynet;
  Tensor<float> values = random_tensor(Shape{count}, 1), m = random_tensor(Shape{count}, 3);
  Tensor<float> grads = random_tensor(Shape{count}, 2);
  for (float& e : grads) e *= grad_scale;
  Tensor<float> v = random_tensor(Shape{count}, 4);
  for (float& e : v) e = e * e;  // second moments are >= 0
  const AdamCoefficients<float> coefficients{0.9f, 0.999f, 1e-3f, 1e-7f, 0.0f};
  const bool flush_before = flush_denormals();
  set_flush_denormals(flush);
  for (auto _ : state) {
    adam_update(values, grads, m, v, 0, count, coefficients);
    benchmark::ClobberMemory();
  }
  set_flush_denormals(flush_before);
  set_bytes(state, 7.0 * count * sizeof(float));  // read p, g, m, v; write p, m, v
  state.SetLabel(where);
}

// ---- registration ------------------------------------------------------------------

template <class Body>
void add(const std::string& name, Body&& body) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<Body>(body))
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(min_seconds);
}

void register_model(const std::string& model) {
  const ModelShapes s = collect_shapes(model);
  for (const auto& e : s.gemms.entries)
    add("gemm/" + model + "/" + e.key.id(),
        [=](benchmark::State& st) { bm_gemm(st, e.key, label(e.first_layer, e.uses)); });
  const std::pair<const char*, ConvPass> passes[] = {{"conv_fwd", ConvPass::forward},
                                                     {"conv_bwd_data", ConvPass::backward_data},
                                                     {"conv_bwd_weights", ConvPass::backward_weights}};
  using tinynet::cpu::ConvAlgorithm;
  for (const auto& p : passes)
    for (const auto& e : s.convs.entries) {
      const std::string name = std::string(p.first) + "/" + model + "/" + conv_id(e.key);
      // shapes with a choice once per path, the others by im2col
      if (!tinynet::cpu::has_choice(e.key)) {
        add(name, [=](benchmark::State& st) {
          bm_conv(st, e.key, p.second, ConvAlgorithm::im2col, label(e.first_layer, e.uses));
        });
        continue;
      }
      for (ConvAlgorithm a : tinynet::cpu::conv_candidates(e.key))
        add(name + "/" + tinynet::cpu::conv_algorithm_name(a),
            [=](benchmark::State& st) { bm_conv(st, e.key, p.second, a, label(e.first_layer, e.uses)); });
    }
  for (bool backward : {false, true})
    for (const auto& e : s.batch_norms.entries)
      add(std::string(backward ? "bn_bwd/" : "bn_fwd/") + model + "/" + shape_id(e.key),
          [=](benchmark::State& st) { bm_batch_norm(st, e.key, backward, label(e.first_layer, e.uses)); });
  for (bool backward : {false, true})
    for (const auto& e : s.max_pools.entries)
      add(std::string(backward ? "maxpool_bwd/" : "maxpool_fwd/") + model + "/" + conv_id(e.key.first),
          [=](benchmark::State& st) {
            bm_max_pool(st, e.key.first, e.key.second, backward, label(e.first_layer, e.uses));
          });
  // one benchmark per shape in `seen`, named prefix/model/shape, its label ending in `note`
  auto add_elementwise = [&](const Occurrences<Shape>& seen, Elementwise op, const char* prefix, const char* note) {
    for (const auto& e : seen.entries)
      add(prefix + model + "/" + shape_id(e.key), [=](benchmark::State& st) {
        bm_elementwise(st, e.key, op, label(e.first_layer, e.uses) + note);
      });
  };
  add_elementwise(s.relus, Elementwise::relu_forward, "relu_fwd/", "");
  add_elementwise(s.relus, Elementwise::relu_backward, "relu_bwd/", "");
  add_elementwise(s.gelus, Elementwise::gelu_forward, "gelu_fwd/", "");
  add_elementwise(s.gelus, Elementwise::gelu_backward, "gelu_bwd/", "");
  add_elementwise(s.residual_sums, Elementwise::add_relu, "add_relu/", "");
  add_elementwise(s.residual_sums, Elementwise::add, "add/", " (backward)");
  const std::int64_t params = s.parameter_count;
  add("adam/" + model + "/" + std::to_string(params),
      [=](benchmark::State& st) { bm_adam(st, params, 1.0f, true, model + " backbone parameter buffer"); });
  for (bool flush : {true, false})  // gradients of 1e-19: their squares are denormal
    add("adam_tiny_grads/" + model + "/" + std::to_string(params) + (flush ? "/flush" : "/keep_denormals"),
        [=](benchmark::State& st) { bm_adam(st, params, 1e-19f, flush, model + " backbone, gradients ~1e-19"); });
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const int threads = tinynet::init_threads_from_env();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::AddCustomContext("tinynet_threads", std::to_string(threads));
    benchmark::AddCustomContext("batch", std::to_string(batch));
    register_model("scratch");
    register_model("fast");
    register_model("resnet50");
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tinynet_kernels: %s\n", e.what());
    return 1;
  }
  return 0;
}
