// ONNX export and import (io/onnx_export.hpp, io/onnx_import.hpp): round trips of the three
// models and the composites (identical outputs and parameters), bad files (clear errors), and
// the hidden [onnx_files] case that writes the files tests/onnx_reference.py checks.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "layer_test_helpers.hpp"
#include "test_support.hpp"
#include "tinynet/io/checkpoint.hpp"
#include "tinynet/io/onnx_export.hpp"
#include "tinynet/io/onnx_import.hpp"
#include "tinynet/model/notebook_cnn.hpp"
#include "tinynet/model/resnet50.hpp"
#include "tinynet/model/whitened_cnn.hpp"

using namespace tinynet;
using tinynet_test::error_message;
using tinynet_test::random_tensor;
using tinynet_test::TempDir;

namespace {

// ensures: one of the models the export covers, unbuilt: "notebook" (the notebook CNN),
// "whitened" / "whitened_relu" (the fast recipe's net, narrower, with GELU / ReLU), "resnet50" (ResNet50 with a small head, as the
// fine-tuning recipe builds it) or "composites" (Residual, 'same' max pooling, ZeroPadding2D,
// global pooling, Rescaling with an offset).
template <class T>
std::unique_ptr<Sequential<T>> make_model(const std::string& which) {
  if (which == "notebook") return make_notebook_cnn<T>(10, 3);
  if (which == "whitened" || which == "whitened_relu") {
    WhitenedCnnOptions o;
    o.widths = {16, 32, 32};
    if (which == "whitened_relu") o.activation = Activation::relu;
    return make_whitened_cnn<T>(o);
  }
  auto net = std::make_unique<Sequential<T>>(which);
  if (which == "resnet50") {
    net->add(make_resnet50<T>());
    net->template add<Dense<T>>(16);
    net->template add<ReLU<T>>();
    net->template add<Dropout<T>>(0.5);
    net->template add<Dense<T>>(10);
    return net;
  }
  net->template add<Conv2D<T>>(8, 3, 2, Padding::same);
  auto branch = std::make_unique<Sequential<T>>();
  branch->template add<Conv2D<T>>(8, 3, 1, Padding::same, false);
  branch->template add<BatchNorm<T>>(BatchNormOptions{0.9, 1e-3, true});
  branch->template add<Conv2D<T>>(8, 1, 1, Padding::valid);
  net->template add<Residual<T>>(std::move(branch));
  net->template add<MaxPool2D<T>>(3, 2, Padding::same);
  net->template add<ZeroPadding2D<T>>(1, 2, 0, 1);
  net->template add<Conv2D<T>>(6, 2, 1, Padding::valid);
  net->template add<GlobalAveragePooling2D<T>>();
  net->template add<Dense<T>>(5);
  net->template add<Rescaling<T>>(0.125, 0.5);
  return net;
}

// ensures: model built for `sample`, random weights, BatchNorm scales and statistics away
// from 1 and 0 (so a wrong epsilon, mean or variance shows), in inference mode.
template <class T>
void prepare(Sequential<T>& model, const Shape& sample) {
  model.setup(sample, 7);
  Rng rng(11);
  auto& ps = model.parameters();
  for (std::size_t i = 0; i < ps.entries().size(); ++i) {
    const std::string& name = ps.entries()[i].name;
    const auto ends = [&](const std::string& tail) {
      return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    };
    double lo = 0, hi = 0;
    if (ends("/gamma") || ends("/moving_variance")) lo = 0.5, hi = 1.5;
    if (ends("/beta") || ends("/moving_mean")) lo = -0.5, hi = 0.5;
    if (ends("/bias")) lo = -0.1, hi = 0.1;
    if (hi > lo)
      for (auto& v : ps.value(static_cast<int>(i))) v = static_cast<T>(rng.uniform(lo, hi));
  }
  model.set_training(false);
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

template <class T>
T max_abs_difference(const Tensor<T>& a, const Tensor<T>& b) {
  REQUIRE(a.shape() == b.shape());
  T worst = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// ensures: export -> bytes -> import gives the same outputs, the same parameters (names,
// shapes, values) and, when the model has no Dropout, a byte-identical checkpoint; with
// Dropout (dropped from the inference graph) the imported checkpoint loads strictly into
// the original architecture.
template <class T>
void require_round_trip(const std::string& which, const Shape& sample) {
  INFO(which << " on " << sample << (sizeof(T) == 8 ? " (double)" : " (float)"));
  auto original = make_model<T>(which);
  prepare(*original, sample);
  const Tensor<T> x = random_tensor<T>(sample.prepend(3), 5);
  const Tensor<T> expected = original->forward(x).clone();

  std::string bytes;
  REQUIRE(to_onnx(*original).SerializeToString(&bytes));
  onnx::ModelProto parsed;
  REQUIRE(parsed.ParseFromString(bytes));
  OnnxImport<T> imported = from_onnx<T>(parsed, which);
  REQUIRE(imported.input_sample_shape == sample);
  REQUIRE_FALSE(imported.preprocessing);
  imported.model->set_training(false);
  CHECK(max_abs_difference(imported.model->forward(x), expected) == 0);

  const auto& a = original->parameters();
  const auto& b = imported.model->parameters();
  REQUIRE(a.entries().size() == b.entries().size());
  for (std::size_t i = 0; i < a.entries().size(); ++i) {
    CHECK(a.entries()[i].name == b.entries()[i].name);
    CHECK(a.entries()[i].shape == b.entries()[i].shape);
  }
  CHECK(max_abs_difference(a.values(), b.values()) == 0);

  TempDir dir("onnx");
  save_checkpoint<T>(dir.file("original.tnck"), *original, nullptr);
  save_checkpoint<T>(dir.file("imported.tnck"), *imported.model, nullptr);
  std::vector<std::pair<std::string, Rng*>> generators;
  original->collect_rngs(generators);
  if (generators.empty()) {
    CHECK(file_bytes(dir.file("original.tnck")) == file_bytes(dir.file("imported.tnck")));
  } else {
    auto reloaded = make_model<T>(which);
    reloaded->setup(sample, 99);
    load_checkpoint<T>(dir.file("imported.tnck"), *reloaded, nullptr);
    reloaded->set_training(false);
    CHECK(max_abs_difference(reloaded->forward(x), expected) == 0);
  }
}

onnx::ModelProto exported_whitened_cnn(const std::string& which = "whitened_relu") {
  auto model = make_model<float>(which);
  prepare(*model, Shape{3, 32, 32});
  return to_onnx(*model);
}

onnx::NodeProto& node_named(onnx::ModelProto& m, const std::string& name) {
  for (auto& n : *m.mutable_graph()->mutable_node())
    if (n.name() == name) return n;
  FAIL("no node named " << name);
  throw;
}

// ensures: the error load_onnx gives for `model` saved to a file.
std::string import_error(const onnx::ModelProto& model) {
  TempDir dir("onnx_bad");
  const std::string path = dir.file("bad.onnx");
  std::ofstream(path, std::ios::binary) << model.SerializeAsString();
  return error_message([&] { load_onnx<float>(path); });
}

// ensures: <dir>/<name>/{model.onnx, input_0.pb, output_0.pb}: the exported model, an input
// and tinynet's output for it.
template <class T>
void write_case(const std::string& name, const Sequential<T>& model, const Tensor<T>& x, const Tensor<T>& y,
                const OnnxExportOptions& options, const std::string& dir) {
  const std::filesystem::path folder = std::filesystem::path(dir) / name;
  std::filesystem::create_directories(folder);
  save_onnx<T>((folder / "model.onnx").string(), model, options);
  onnx::TensorProto input, output;
  fill_onnx_tensor(input, options.input_name, x);
  fill_onnx_tensor(output, options.output_name, y);
  std::ofstream((folder / "input_0.pb").string(), std::ios::binary) << input.SerializeAsString();
  std::ofstream((folder / "output_0.pb").string(), std::ios::binary) << output.SerializeAsString();
}

}  // namespace

TEST_CASE("ONNX round trip: the notebook CNN", "[onnx]") {
  require_round_trip<float>("notebook", Shape{3, 32, 32});
  require_round_trip<double>("notebook", Shape{3, 31, 29});
}

TEST_CASE("ONNX round trip: the whitened CNN (fast recipe), with GELU and with ReLU", "[onnx]") {
  require_round_trip<float>("whitened", Shape{3, 32, 32});
  require_round_trip<double>("whitened", Shape{3, 33, 35});
  require_round_trip<float>("whitened_relu", Shape{3, 32, 32});
}

TEST_CASE("ONNX import: GELU's erf form in its variants, and near misses", "[onnx][gelu]") {
  const onnx::ModelProto exported = exported_whitened_cnn("whitened");
  auto gelus = [](const OnnxImport<float>& imported) {
    int n = 0;
    for (std::size_t i = 0; i < imported.model->size(); ++i) n += imported.model->layer(i).type() == "GELU";
    return n;
  };
  TempDir dir("onnx_gelu");
  const std::string path = dir.file("gelu.onnx");
  auto import = [&](const onnx::ModelProto& m) {
    std::ofstream(path, std::ios::binary) << m.SerializeAsString();
    return load_onnx<float>(path);
  };
  CHECK(gelus(import(exported)) == 7);  // after the stem and each of the six BatchNorms

  // Mul by 1/sqrt(2) in place of Div by sqrt(2), and every commutative operand order swapped.
  onnx::ModelProto m = exported;
  onnx::NodeProto& scale = node_named(m, "gelu/scale");
  scale.set_op_type("Mul");
  for (auto& init : *m.mutable_graph()->mutable_initializer())
    if (init.name() == "gelu/sqrt2") {
      const double inverse = std::sqrt(0.5);
      fill_onnx_tensor<float>(init, "gelu/sqrt2", {}, &inverse);
    }
  for (const char* name : {"gelu/plus_one", "gelu/times_x", "gelu"}) {
    onnx::NodeProto& n = node_named(m, name);
    const std::string first = n.input(0);
    n.set_input(0, n.input(1));
    n.set_input(1, first);
  }
  CHECK(gelus(import(m)) == 7);

  // Add 2 where GELU adds 1: not GELU; the fork it leaves is named.
  m = exported;
  for (auto& init : *m.mutable_graph()->mutable_initializer())
    if (init.name() == "gelu/one") {
      const double two = 2;
      fill_onnx_tensor<float>(init, "gelu/one", {}, &two);
    }
  CHECK_THAT(import_error(m), Catch::Contains("the two paths from tensor 'whitening'") &&
                                  Catch::Contains("GELU's exact erf form"));
}

TEST_CASE("ONNX round trip: ResNet50 with its head (Bottleneck blocks)", "[onnx]") {
  require_round_trip<float>("resnet50", Shape{3, 35, 33});
  require_round_trip<double>("resnet50", Shape{3, 32, 32});
}

TEST_CASE("ONNX round trip: Residual, 'same' max pooling, padding, global pooling, Rescaling", "[onnx]") {
  require_round_trip<float>("composites", Shape{3, 15, 13});
  require_round_trip<double>("composites", Shape{2, 16, 17});
}

TEST_CASE("ONNX export: node names, initializer names, dynamic batch, preprocessing metadata", "[onnx]") {
  auto model = make_model<float>("resnet50");
  prepare(*model, Shape{3, 32, 32});
  OnnxExportOptions options;
  options.input_name = "image";
  options.output_name = "logits";
  options.preprocessing = Preprocessing::caffe();
  onnx::ModelProto m = to_onnx(*model, options);
  CHECK(m.opset_import(0).version() == 13);
  CHECK(m.graph().input(0).name() == "image");
  CHECK(m.graph().input(0).type().tensor_type().shape().dim(0).dim_param() == "N");
  CHECK(m.graph().output(0).name() == "logits");
  CHECK(node_named(m, "resnet50/res3a/conv_shortcut").op_type() == "Conv");
  CHECK(node_named(m, "resnet50/bn_conv1/relu").op_type() == "Relu");
  CHECK(node_named(m, "preprocessing/channels").op_type() == "Gather");
  bool kernel_named = false;
  for (const auto& init : m.graph().initializer()) kernel_named |= init.name() == "resnet50/res5c/conv_c/kernel";
  CHECK(kernel_named);
  for (const auto& n : m.graph().node()) CHECK(n.op_type() != "Dropout");

  const OnnxImport<float> back = from_onnx<float>(m, "resnet50 with caffe preprocessing");
  REQUIRE(back.preprocessing);
  CHECK(back.preprocessing->kind == Preprocessing::Kind::caffe);
  CHECK(back.input_name == "image");

  ChannelStats stats{{0.49, 0.48, 0.45}, {0.25, 0.24, 0.26}};
  options.preprocessing = Preprocessing::standardize(stats);
  const OnnxImport<float> standardized = from_onnx<float>(to_onnx(*model, options), "standardized");
  REQUIRE(standardized.preprocessing);
  CHECK(standardized.preprocessing->stats.mean == stats.mean);
  CHECK(standardized.preprocessing->stats.stddev == stats.stddev);
}

TEST_CASE("ONNX import: bad files give errors naming the file, node and value", "[onnx]") {
  TempDir dir("onnx_files");
  const std::string bytes = exported_whitened_cnn().SerializeAsString();

  const std::string truncated = dir.file("truncated.onnx");
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const std::string message = error_message([&] { load_onnx<float>(truncated); });
  CHECK_THAT(message, Catch::Contains("truncated.onnx") && Catch::Contains("not a valid ONNX"));
  CHECK_THAT(error_message([&] { load_onnx<float>(dir.file("absent.onnx")); }), Catch::Contains("cannot open"));

  onnx::ModelProto m;
  m.ParseFromString(bytes);
  m.mutable_opset_import(0)->set_version(9);
  CHECK_THAT(import_error(m), Catch::Contains("opset 9") && Catch::Contains("13 to 17"));

  m.ParseFromString(bytes);
  node_named(m, "re_lu").set_op_type("Selu");
  CHECK_THAT(import_error(m), Catch::Contains("node 're_lu' (Selu)") && Catch::Contains("not supported"));

  m.ParseFromString(bytes);
  auto* inits = m.mutable_graph()->mutable_initializer();
  for (int i = 0; i < inits->size(); ++i)
    if (inits->Get(i).name() == "conv2d_1/kernel") inits->DeleteSubrange(i, 1);
  CHECK_THAT(import_error(m), Catch::Contains("node 'conv2d_1' (Conv)") && Catch::Contains("'conv2d_1/kernel'") &&
                                  Catch::Contains("missing initializer"));

  m.ParseFromString(bytes);
  for (auto& init : *m.mutable_graph()->mutable_initializer())
    if (init.name() == "batch_normalization/beta") {
      const std::vector<double> seventeen(17, 0.0);
      init.Clear();
      fill_onnx_tensor<float>(init, "batch_normalization/beta", {17}, seventeen.data());
    }
  CHECK_THAT(import_error(m), Catch::Contains("node 'batch_normalization' (BatchNormalization)") &&
                                  Catch::Contains("[17]") && Catch::Contains("shape mismatch"));

  m.ParseFromString(bytes);
  for (auto& a : *node_named(m, "conv2d").mutable_attribute())
    if (a.name() == "group") a.set_i(2);
  CHECK_THAT(import_error(m), Catch::Contains("group 2"));
}

TEST_CASE("ONNX import: truncated and corrupted files give an Error or a model, never a crash", "[onnx]") {
  auto model = make_model<float>("composites");
  prepare(*model, Shape{3, 15, 13});
  const std::string bytes = to_onnx(*model).SerializeAsString();
  TempDir dir("onnx_corrupt");
  const std::string path = dir.file("corrupt.onnx");
  const auto import_outcome = [&](const std::string& contents) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
    try {
      load_onnx<float>(path);
      return 1;
    } catch (const Error& e) {
      CHECK_THAT(e.what(), Catch::Contains("corrupt.onnx"));
      return 0;
    }
  };
  int errors = 0;
  for (int k = 1; k < 20; ++k) errors += 1 - import_outcome(bytes.substr(0, bytes.size() * k / 20));
  CHECK(errors == 19);  // every truncation is refused
  Rng rng(3);
  for (int k = 0; k < 200; ++k) {
    std::string damaged = bytes;
    for (int flips = 0; flips < 4; ++flips)
      damaged[rng.below(damaged.size())] = static_cast<char>(rng.below(256));
    import_outcome(damaged);  // either outcome; a crash or another exception type fails the test
  }
}

TEST_CASE("ONNX import: a model tinynet did not write runs as numpy computes it, and trains", "[onnx]") {
  // tests/fixtures/onnx_foreign: made with onnx.helper, its output by tests/onnx_reference.py's
  // numpy evaluator (tests/reference/foreign_onnx_model.py).
  const std::filesystem::path folder = std::filesystem::path(__FILE__).parent_path() / "fixtures" / "onnx_foreign";
  OnnxImport<double> imported = load_onnx<double>((folder / "model.onnx").string());
  Sequential<double>& model = *imported.model;
  std::vector<std::string> types;
  for (std::size_t i = 0; i < model.size(); ++i) types.push_back(model.layer(i).type());
  CHECK(types == std::vector<std::string>{"Conv2D", "BatchNormalization", "Residual", "MaxPooling2D", "Flatten",
                                          "Dropout", "Dense", "Rescaling"});
  CHECK(model.layer(0).config() == "4 3x3/2 same");  // auto_pad SAME_UPPER
  const auto& bn = dynamic_cast<const BatchNorm<double>&>(model.layer(1));
  CHECK((bn.relu() && bn.epsilon() == 1e-5 && bn.momentum() == 0.9));  // ONNX's defaults, the Relu fused
  CHECK(dynamic_cast<const Dropout<double>&>(model.layer(5)).rate() == 0.3);
  CHECK(model.parameters().entries()[0].name == "stem/kernel");
  CHECK(model.parameters().entries()[6].name == "block/branch/conv1/kernel");

  const auto read_tensor = [&](const char* file) {
    onnx::TensorProto proto;
    std::ifstream in((folder / file).string(), std::ios::binary);
    REQUIRE(proto.ParseFromIstream(&in));
    const OnnxTensorValues v = read_onnx_tensor(proto, file);
    Tensor<double> t(v.shape());
    std::copy(v.values.begin(), v.values.end(), t.begin());
    return t;
  };
  const Tensor<double> x = read_tensor("input_0.pb"), expected = read_tensor("output_0.pb");
  model.set_training(false);
  const Tensor<double> y = model.forward(x).clone();
  double scale = 0;
  for (double v : expected) scale = std::max(scale, std::abs(v));
  CHECK(max_abs_difference(y, expected) <= 1e-12 * scale);

  // One gradient step on 0.5 |y|^2 lowers it: the imported model trains.
  const auto half_square = [](const Tensor<double>& t) {
    double sum = 0;
    for (double v : t) sum += 0.5 * v * v;
    return sum;
  };
  model.backward(y);
  Tensor<double> values = model.parameters().values();
  const Tensor<double> grads = model.parameters().grads();
  for (const auto& range : model.trainable_ranges())
    for (std::int64_t k = range.first; k < range.first + range.second; ++k) values[k] -= 1e-3 * grads[k];
  CHECK(half_square(model.forward(x)) < half_square(y));
}

// Hidden: run by ctest as onnx_reference_files; writes <dir>/<case>/{model.onnx,input_0.pb,
// output_0.pb} (ONNX's test-data layout) for tests/onnx_reference.py.
TEST_CASE("ONNX reference files for the python checks", "[.][onnx_files]") {
  const char* dir = std::getenv("TINYNET_ONNX_FILES");
  REQUIRE(dir != nullptr);
  const auto write_model = [&](const std::string& which, const Shape& sample, auto zero) {
    using T = decltype(zero);
    auto model = make_model<T>(which);
    prepare(*model, sample);
    const Tensor<T> x = random_tensor<T>(sample.prepend(3), 21);
    write_case(which + "_" + std::to_string(sample[1]) + "x" + std::to_string(sample[2]) +
                   (sizeof(T) == 8 ? "_double" : "_float"),
               *model, x, model->forward(x).clone(), OnnxExportOptions{}, dir);
  };
  for (const char* which : {"notebook", "whitened", "resnet50", "composites"}) {
    write_model(which, Shape{3, 32, 32}, 0.0f);
    write_model(which, Shape{3, 33, 35}, 0.0);
  }
  // The fast recipe's preprocessing as leading nodes: the graph takes 0..255 pixels.
  auto model = make_model<float>("whitened");
  prepare(*model, Shape{3, 32, 32});
  const auto pixels = random_tensor<std::uint8_t>(Shape{3, 3, 32, 32}, 4, 0, 256);
  OnnxExportOptions options;
  options.preprocessing = Preprocessing::standardize(ChannelStats{{0.49, 0.48, 0.45}, {0.25, 0.24, 0.26}});
  Tensor<float> x;
  preprocess_images(pixels, *options.preprocessing, x);
  Tensor<float> pixel_values(pixels.shape());
  for (std::int64_t i = 0; i < pixels.numel(); ++i) pixel_values[i] = pixels[i];
  write_case("whitened_standardized_pixels_float", *model, pixel_values, model->forward(x).clone(), options, dir);
}
