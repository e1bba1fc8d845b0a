// Tests of ResNet50: the Bottleneck block (gradient checks), make_resnet50 (Keras' names,
// parameter count, shapes), the weight import (synthetic Keras files in both naming schemes,
// errors), and agreement with the independent numpy reference on the real ImageNet weights
// (tests/fixtures/resnet50_reference.txt, made by tests/reference/resnet50_reference.py).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "test_support.hpp"
#include "layer_test_helpers.hpp"
#include "tinynet/io/checkpoint.hpp"
#include "tinynet/io/read_weight_file.hpp"
#include "tinynet/layers/bottleneck.hpp"
#include "tinynet/model/pretrained_resnet50.hpp"
#include "tinynet/model/resnet50.hpp"
#include "tinynet/model/resnet50_weights.hpp"
#ifdef TINYNET_WITH_HDF5
#include "tinynet/io/keras_hdf5.hpp"
#endif

using namespace tinynet;
using tinynet_test::TempDir;
using tinynet_test::error_message;
using tinynet_test::random_tensor;
using tinynet_test::require_gradients_match;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t keras_notop_parameters = 23587712;  // keras.applications.ResNet50(include_top=False)



template <class T>
std::unique_ptr<Sequential<T>> built_resnet50(int size, double bn_epsilon = 1e-3) {
  ResNet50Options options;
  options.bn_epsilon = bn_epsilon;
  auto net = make_resnet50<T>(options);
  net->build_once(Shape{3, size, size});
  return net;
}

template <class T>
Layer<T>& sub_layer(Sequential<T>& net, const std::string& block, const std::string& name) {
  return dynamic_cast<Composite<T>&>(net.layer(block)).layer(name);
}
template <class T>
Conv2D<T>& conv(Sequential<T>& net, const std::string& block, const std::string& name) {
  return dynamic_cast<Conv2D<T>&>(block.empty() ? net.layer(name) : sub_layer(net, block, name));
}
template <class T>
BatchNorm<T>& batch_norm(Sequential<T>& net, const std::string& block, const std::string& name) {
  return dynamic_cast<BatchNorm<T>&>(block.empty() ? net.layer(name) : sub_layer(net, block, name));
}

// ensures: the epsilon of every BatchNorm in `net` (53 of them in ResNet50).
template <class T>
std::vector<double> all_bn_epsilons(Sequential<T>& net) {
  std::vector<double> epsilons;
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (auto* bn = dynamic_cast<BatchNorm<T>*>(&net.layer(i))) epsilons.push_back(bn->epsilon());
    if (auto* block = dynamic_cast<Composite<T>*>(&net.layer(i)))
      for (std::size_t j = 0; j < block->size(); ++j)
        if (auto* bn = dynamic_cast<BatchNorm<T>*>(&block->layer(j))) epsilons.push_back(bn->epsilon());
  }
  return epsilons;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Bottleneck

// Tolerance 1e-5: a conv bias feeding a training-mode BatchNorm has a true gradient of 0 (the batch
// mean cancels it); central differences give ~1e-11, which the checker's 1e-6 floor turns into ~4e-6.
TEST_CASE("Bottleneck gradients: identity and projection blocks, strides 1 and 2", "[bottleneck][gradcheck]") {
  struct Case {
    int n, c, h, w, filters, stride;
    bool projection;
  };
  const Case cases[] = {
      {1, 12, 5, 5, 3, 1, false}, {2, 12, 5, 7, 3, 1, false},  // identity: 12 = 4 x 3 channels
      {1, 5, 5, 5, 2, 1, true},   {2, 5, 7, 6, 2, 1, true},    // projection, channels 5 -> 8
      {1, 5, 7, 7, 3, 2, true},   {2, 5, 7, 6, 2, 2, true},    // projection with stride 2
  };
  for (const auto& cs : cases) {
    SECTION((cs.projection ? "projection" : "identity") + std::string(" n") + std::to_string(cs.n) + " c" +
            std::to_string(cs.c) + " " + std::to_string(cs.h) + "x" + std::to_string(cs.w) + " filters " +
            std::to_string(cs.filters) + " stride " + std::to_string(cs.stride)) {
      BottleneckOptions options;
      options.stride = cs.stride;
      options.projection = cs.projection;
      Bottleneck<double> block(cs.filters, options);
      // conv_a's bias feeds a BatchNorm: its exact gradient is 0, and the central differences of
      // the block in double (Winograd or im2col, whichever its timing picks) give ~1e-11: floor 1e-5.
      require_gradients_match(block, random_tensor(Shape{cs.n, cs.c, cs.h, cs.w}, 21 + cs.n + cs.stride), 1e-5, {},
                              1e-5);
      CHECK(block.output_shape() ==
            Shape{4 * cs.filters, (cs.h - 1) / cs.stride + 1, (cs.w - 1) / cs.stride + 1});
    }
  }
  SECTION("inference mode (moving statistics), projection stride 2") {
    BottleneckOptions options;
    options.stride = 2;
    options.projection = true;
    Bottleneck<double> block(2, options);
    block.set_training(false);
    require_gradients_match(block, random_tensor(Shape{2, 5, 5, 6}, 31), 1e-6);  // no batch statistics
  }
}

TEST_CASE("Bottleneck forward: zero main path passes relu(shortcut) through", "[bottleneck]") {
  // All weights zero (BN: gamma 0, beta 0) in inference mode: the main path gives 0, so the
  // identity block outputs relu(x) and the projection block relu(bn_shortcut(conv_shortcut(x))).
  Bottleneck<double> identity(2);
  identity.build_once(Shape{8, 3, 3});
  identity.set_training(false);
  const Tensor<double> x = random_tensor(Shape{1, 8, 3, 3}, 5);
  const Tensor<double>& y = identity.forward(x);
  for (std::int64_t i = 0; i < x.numel(); ++i) CHECK(y[i] == std::max(x[i], 0.0));

  BottleneckOptions options;
  options.stride = 2;
  options.projection = true;
  Bottleneck<double> projection(1, options);  // 2 -> 4 channels, 3x3 -> 2x2
  projection.build_once(Shape{2, 3, 3});
  projection.set_training(false);
  auto& shortcut = dynamic_cast<Conv2D<double>&>(projection.layer("conv_shortcut"));
  auto& bn = dynamic_cast<BatchNorm<double>&>(projection.layer("bn_shortcut"));
  shortcut.kernel().at(3, 1, 0, 0) = 2.0;  // output channel 3 = 2 * input channel 1 (+ bias 0.5)
  shortcut.bias().fill(0.5);
  bn.gamma().fill(1.0);
  bn.moving_variance().fill(1.0 - 1e-3);  // so that BN is the identity
  const Tensor<double> in(Shape{1, 2, 3, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, -2, 3, -4, 5, -6, 7, -8, 9});
  const Tensor<double>& out = projection.forward(in);
  REQUIRE(out.shape() == Shape{1, 4, 2, 2});
  // Stride 2 samples rows/cols 0 and 2 of channel 1: 1, 3, 7, 9 -> 2v + 0.5.
  const double expected[4] = {2.5, 6.5, 14.5, 18.5};
  for (int i = 0; i < 4; ++i) {
    CHECK(out.at(0, 3, i / 2, i % 2) == Approx(expected[i]).epsilon(1e-12));
    CHECK(out.at(0, 0, i / 2, i % 2) == Approx(0.5));  // bias only
  }
}

TEST_CASE("Bottleneck inference folds its batch norms: same output as layer by layer", "[bottleneck]") {
  for (bool projection : {false, true}) {
    INFO((projection ? "projection" : "identity"));
    BottleneckOptions options;
    options.projection = projection;
    options.stride = projection ? 2 : 1;
    Bottleneck<double> block(2, options);
    const Shape in{projection ? 5 : 8, 5, 6};
    block.build_once(in);
    Rng rng(3);
    block.initialize(rng);
    std::uint64_t seed = 70;
    for (const char* bn_name : {"bn_a", "bn_b", "bn_c", "bn_shortcut"}) {
      if (!projection && std::string(bn_name) == "bn_shortcut") continue;
      auto& bn = dynamic_cast<BatchNorm<double>&>(block.layer(bn_name));
      bn.gamma().copy_from(random_tensor<double>(bn.gamma().shape(), ++seed, 0.5, 1.5));
      bn.beta().copy_from(random_tensor<double>(bn.beta().shape(), ++seed));
      bn.moving_mean().copy_from(random_tensor<double>(bn.gamma().shape(), ++seed));
      bn.moving_variance().copy_from(random_tensor<double>(bn.gamma().shape(), ++seed, 0.2, 2));
    }
    const Tensor<double> x = random_tensor<double>(in.prepend(3), 80);
    block.set_training(false);
    const Tensor<double> folded = block.forward(x).clone();
    // The same block, layer by layer: its sub-layers in inference mode.
    const Tensor<double>* h = &x;
    for (const char* name : {"conv_a", "bn_a", "conv_b", "bn_b", "conv_c", "bn_c"})  // bn_a, bn_b with their ReLUs
      h = &block.layer(name).forward(*h);
    const Tensor<double>& shortcut = projection ? block.layer("bn_shortcut").forward(block.layer("conv_shortcut").forward(x)) : x;
    REQUIRE(folded.shape() == h->shape());
    for (std::int64_t i = 0; i < folded.numel(); ++i)
      REQUIRE(folded[i] == Approx(std::max((*h)[i] + shortcut[i], 0.0)).margin(1e-12));
  }
}

TEST_CASE("Bottleneck rejects an identity shortcut that does not fit", "[bottleneck]") {
  Bottleneck<float> block(3);  // 12 output channels
  block.set_name("res2b");
  CHECK_THAT(error_message([&] { block.build_once(Shape{5, 8, 8}); }),
             Catch::Contains("'res2b'") && Catch::Contains("[5,8,8]") && Catch::Contains("[12,8,8]") &&
                 Catch::Contains("use projection"));
}

// ---------------------------------------------------------------------------------------------
// make_resnet50

TEST_CASE("make_resnet50: Keras' layer names, parameter counts and output shapes", "[resnet50]") {
  auto net = built_resnet50<float>(32);
  const std::vector<std::string> keras_names = {
      "conv1_pad", "conv1", "bn_conv1", "pool1_pad", "pool1", "res2a", "res2b", "res2c", "res3a", "res3b", "res3c",
      "res3d",     "res4a", "res4b",    "res4c",     "res4d", "res4e", "res4f", "res5a", "res5b", "res5c", "avg_pool"};
  std::vector<std::string> names;
  for (std::size_t i = 0; i < net->size(); ++i) names.push_back(net->layer(i).name());
  CHECK(names == keras_names);
  CHECK(net->name() == "resnet50");

  // Keras' model.summary(): 23,587,712 total, 23,534,592 trainable, 53,120 non-trainable.
  CHECK(net->parameters().size() == keras_notop_parameters);
  std::int64_t trainable = 0;
  for (const auto& r : net->trainable_ranges()) trainable += r.second;
  CHECK(trainable == 23534592);
  CHECK(net->layer("conv1").parameters().size() == 7 * 7 * 3 * 64 + 64);
  CHECK(net->layer("res2a").parameters().size() == 76928);   // incl. the projection shortcut
  CHECK(net->layer("res5c").parameters().size() == 4471808);
  auto& res3a = dynamic_cast<Composite<float>&>(net->layer("res3a"));
  REQUIRE(res3a.size() == 8);  // 3 x (conv, BN with its ReLU fused where one follows) + shortcut conv, BN
  CHECK(res3a.layer(6).name() == "conv_shortcut");
  CHECK(dynamic_cast<Composite<float>&>(net->layer("res3b")).size() == 6);
  CHECK(conv(*net, "res3a", "conv_a").geometry().stride_h == 2);  // v1: the stride sits on the first 1x1

  CHECK(net->output_shape() == Shape{2048});
  net->set_training(false);
  CHECK(net->forward(random_tensor<float>(Shape{2, 3, 32, 32}, 3, -100, 100)).shape() == Shape{2, 2048});
  auto net48 = built_resnet50<float>(48);
  net48->set_training(false);
  CHECK(net48->forward(random_tensor<float>(Shape{1, 3, 48, 48}, 4, -100, 100)).shape() == Shape{1, 2048});
  CHECK(net48->layer("res4a").output_shape() == Shape{1024, 3, 3});

  CHECK(net->layer("res5c").output_shape() == Shape{2048, 1, 1});
  ResNet50Options no_pooling;
  no_pooling.global_pooling = false;
  CHECK(make_resnet50<float>(no_pooling)->build_once(Shape{3, 48, 48}) == Shape{2048, 2, 2});
}

// ---------------------------------------------------------------------------------------------
// Synthetic Keras weight files

namespace {

// The value a synthetic file stores at flat (file-order, HWIO for kernels) element `e` of its
// k-th layer; exact in float (k < 1000, e mod 16381 < 2^14).
float synthetic_value(std::size_t k, std::int64_t e) { return static_cast<float>(k * 16384 + e % 16381); }

// ensures: Keras' ResNet50 base layers with weights, in Keras' order, named in the given scheme,
// shaped as Keras stores them, holding synthetic_value(); then one head layer outside the base
// (fc1000 / predictions, smaller than the real one). Independent of tinynet's name mapping.
WeightFile synthetic_keras_resnet50(bool legacy) {
  WeightFile file;
  file.source = legacy ? "synthetic-legacy" : "synthetic-tf-keras";
  using Shapes = std::vector<std::pair<std::string, std::vector<std::int64_t>>>;  // (weight, shape)
  const auto add_layer = [&](const std::string& layer, const Shapes& weights) {
    LayerWeights entry{layer, {}};
    const std::size_t k = file.layers.size();
    for (const auto& w : weights) {
      WeightArray array{layer + "/" + w.first + ":0", w.second, {}};
      std::int64_t count = 1;
      for (auto d : w.second) count *= d;
      array.data.resize(static_cast<std::size_t>(count));
      for (std::int64_t e = 0; e < count; ++e) array.data[static_cast<std::size_t>(e)] = synthetic_value(k, e);
      entry.weights.push_back(std::move(array));
    }
    file.layers.push_back(std::move(entry));
  };
  const auto add_conv_bn = [&](const std::string& conv_name, const std::string& bn_name, std::int64_t kernel,
                               std::int64_t in, std::int64_t out) {
    add_layer(conv_name, {{"kernel", {kernel, kernel, in, out}}, {"bias", {out}}});
    add_layer(bn_name, {{"gamma", {out}}, {"beta", {out}}, {"moving_mean", {out}}, {"moving_variance", {out}}});
  };
  add_conv_bn(legacy ? "conv1" : "conv1_conv", legacy ? "bn_conv1" : "conv1_bn", 7, 3, 64);
  const int blocks[4] = {3, 4, 6, 3};
  std::int64_t in = 64;
  for (int s = 0; s < 4; ++s) {
    const std::int64_t f = 64 << s;
    for (int b = 0; b < blocks[s]; ++b) {
      const std::string legacy_id = std::to_string(s + 2) + static_cast<char>('a' + b);
      const std::string tf_id = "conv" + std::to_string(s + 2) + "_block" + std::to_string(b + 1) + "_";
      const auto branch = [&](const std::string& legacy_branch, const std::string& tf_index, std::int64_t kernel,
                              std::int64_t cin, std::int64_t cout) {
        add_conv_bn(legacy ? "res" + legacy_id + "_branch" + legacy_branch : tf_id + tf_index + "_conv",
                    legacy ? "bn" + legacy_id + "_branch" + legacy_branch : tf_id + tf_index + "_bn", kernel, cin,
                    cout);
      };
      branch("2a", "1", 1, in, f);
      branch("2b", "2", 3, f, f);
      branch("2c", "3", 1, f, 4 * f);
      if (b == 0) branch("1", "0", 1, in, 4 * f);
      in = 4 * f;
    }
  }
  add_layer(legacy ? "fc1000" : "predictions", {{"kernel", {2048, 10}}, {"bias", {10}}});
  return file;
}

// ensures: the index of `layer` in `file` (the k of synthetic_value).
std::size_t layer_index(const WeightFile& file, const std::string& layer) {
  for (std::size_t k = 0; k < file.layers.size(); ++k)
    if (file.layers[k].layer == layer) return k;
  FAIL("no layer " << layer);
  return 0;
}

// ensures: `file`'s named weight of `layer` replaced / removed.
WeightArray* weight(WeightFile& file, const std::string& layer, const std::string& name) {
  for (auto& l : file.layers)
    if (l.layer == layer)
      for (auto& w : l.weights)
        if (w.base_name() == name) return &w;
  FAIL("no weight " << layer << "/" << name);
  return nullptr;
}

// The hand-computed transposition checks, common to both schemes: each element of ours
// (OIHW index) must hold the file's value at the HWIO index worked out by hand.
void check_landing_positions(Sequential<float>& net, const WeightFile& file, bool legacy) {
  const auto k = [&](const char* legacy_name, const char* tf_name) {
    return layer_index(file, legacy ? legacy_name : tf_name);
  };
  // conv1: file [7,7,3,64]; ours (o5, i2, h3, w6) <- HWIO ((3*7 + 6)*3 + 2)*64 + 5 = 5317.
  CHECK(conv(net, "", "conv1").kernel().at(5, 2, 3, 6) == synthetic_value(k("conv1", "conv1_conv"), 5317));
  CHECK(conv(net, "", "conv1").kernel().at(0, 0, 0, 0) == synthetic_value(k("conv1", "conv1_conv"), 0));
  // (o63, i0, h0, w0) <- HWIO 63; (o0, i1, h0, w0) <- 64.
  CHECK(conv(net, "", "conv1").kernel().at(63, 0, 0, 0) == synthetic_value(k("conv1", "conv1_conv"), 63));
  CHECK(conv(net, "", "conv1").kernel().at(0, 1, 0, 0) == synthetic_value(k("conv1", "conv1_conv"), 64));
  // res3a conv_b: file [3,3,128,128]; (o7, i100, h2, w1) <- ((2*3 + 1)*128 + 100)*128 + 7 = 127495.
  CHECK(conv(net, "res3a", "conv_b").kernel().at(7, 100, 2, 1) ==
        synthetic_value(k("res3a_branch2b", "conv3_block1_2_conv"), 127495));
  // res4a shortcut: file [1,1,512,1024]; (o1000, i300) <- 300*1024 + 1000 = 308200.
  CHECK(conv(net, "res4a", "conv_shortcut").kernel().at(1000, 300, 0, 0) ==
        synthetic_value(k("res4a_branch1", "conv4_block1_0_conv"), 308200));
  // res2b conv_c: file [1,1,64,256]; (o200, i10) <- 10*256 + 200 = 2760 (the OIHW index would be 12810).
  CHECK(conv(net, "res2b", "conv_c").kernel().at(200, 10, 0, 0) ==
        synthetic_value(k("res2b_branch2c", "conv2_block2_3_conv"), 2760));
  CHECK(conv(net, "res5c", "conv_a").bias()[511] == synthetic_value(k("res5c_branch2a", "conv5_block3_1_conv"), 511));
  // BatchNorm: gamma, beta, moving_mean, moving_variance are the file's 1st..4th arrays.
  const std::size_t bn = k("bn4f_branch2b", "conv4_block6_2_bn");
  CHECK(batch_norm(net, "res4f", "bn_b").gamma()[17] == synthetic_value(bn, 17));
  CHECK(batch_norm(net, "res4f", "bn_b").beta()[255] == synthetic_value(bn, 255));
  CHECK(batch_norm(net, "res4f", "bn_b").moving_mean()[0] == synthetic_value(bn, 0));
  CHECK(batch_norm(net, "res4f", "bn_b").moving_variance()[100] == synthetic_value(bn, 100));
  CHECK(batch_norm(net, "", "bn_conv1").moving_variance()[63] == synthetic_value(k("bn_conv1", "conv1_bn"), 63));
  CHECK(batch_norm(net, "res2a", "bn_shortcut").gamma()[3] ==
        synthetic_value(k("bn2a_branch1", "conv2_block1_0_bn"), 3));
}

#ifdef TINYNET_WITH_HDF5
using hdf5_detail::Handle;

// ensures: a fixed-length (NUL-padded) string-array attribute, as h5py writes Keras' lists.
void write_string_list(hid_t object, const char* name, const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  REQUIRE(H5Tset_size(type.get(), width) >= 0);
  REQUIRE(H5Tset_strpad(type.get(), H5T_STR_NULLPAD) >= 0);
  const hsize_t count = values.size();
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle attribute(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  REQUIRE(attribute.valid());
  if (values.empty()) return;
  std::vector<char> buffer(values.size() * width, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) std::memcpy(&buffer[i * width], values[i].data(), values[i].size());
  REQUIRE(H5Awrite(attribute.get(), type.get(), buffer.data()) >= 0);
}

// ensures: `file` written at `path` in Keras' save_weights layout (layer_names, one group per
// layer with weight_names, datasets at <layer>/<layer>/<weight>:0), layers in `order`.
void write_keras_h5(const std::string& path, const WeightFile& file, const std::vector<std::size_t>& order) {
  Handle h5(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  REQUIRE(h5.valid());
  std::vector<std::string> layer_names{"input_1"};  // a layer without weights, as Keras lists them
  for (const std::size_t k : order) layer_names.push_back(file.layers[k].layer);
  write_string_list(h5.get(), "layer_names", layer_names);
  Handle(H5Gcreate2(h5.get(), "input_1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  write_string_list(Handle(H5Gopen2(h5.get(), "input_1", H5P_DEFAULT), H5Gclose).get(), "weight_names", {});
  Handle link_properties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  REQUIRE(H5Pset_create_intermediate_group(link_properties.get(), 1) >= 0);
  for (const std::size_t k : order) {
    const LayerWeights& layer = file.layers[k];
    Handle group(H5Gcreate2(h5.get(), layer.layer.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    REQUIRE(group.valid());
    std::vector<std::string> weight_names;
    for (const auto& w : layer.weights) weight_names.push_back(w.name);
    write_string_list(group.get(), "weight_names", weight_names);
    for (const auto& w : layer.weights) {
      const std::vector<hsize_t> dims(w.shape.begin(), w.shape.end());
      Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
      Handle dataset(H5Dcreate2(group.get(), w.name.c_str(), H5T_IEEE_F32LE, space.get(), link_properties.get(),
                                H5P_DEFAULT, H5P_DEFAULT),
                     H5Dclose);
      REQUIRE(dataset.valid());
      REQUIRE(H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w.data.data()) >= 0);
    }
  }
}
#endif

}  // namespace

TEST_CASE("ResNet50 weights: synthetic Keras HDF5 files in both naming schemes", "[resnet50][weights][hdf5]") {
#ifndef TINYNET_WITH_HDF5
  WARN("SKIPPED: tinynet built without libhdf5; the in-memory mapping tests below still run");
  CHECK_THAT(error_message([] { read_weight_file("weights.h5"); }), Catch::Contains("without libhdf5"));
#else
  for (const bool legacy : {true, false}) {
    SECTION(legacy ? "legacy Keras names, Keras' layer order" : "tf.keras names, layers in reverse order") {
      TempDir dir;
      const std::string path = dir.file(legacy ? "legacy.h5" : "tf_keras.hdf5");
      const WeightFile written = synthetic_keras_resnet50(legacy);
      std::vector<std::size_t> order(written.layers.size());
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = legacy ? k : order.size() - 1 - k;
      write_keras_h5(path, written, order);

      auto net = built_resnet50<float>(32, /*bn_epsilon=*/0.5);  // every epsilon must be replaced
      const ResNet50WeightReport report = load_pretrained_resnet50(*net, path);
      CHECK(report.scheme == (legacy ? "legacy Keras" : "tf.keras"));
      CHECK(report.layers_loaded == 106);
      CHECK(report.tensors_loaded == 318);
      CHECK(report.values_loaded == keras_notop_parameters);
      CHECK(report.skipped_layers == std::vector<std::string>{legacy ? "fc1000" : "predictions"});
      const double epsilon = legacy ? 1e-3 : 1.001e-5;
      CHECK(report.bn_epsilon == epsilon);
      const auto epsilons = all_bn_epsilons(*net);
      CHECK(epsilons.size() == 53);
      CHECK(std::all_of(epsilons.begin(), epsilons.end(), [&](double e) { return e == epsilon; }));
      check_landing_positions(*net, written, legacy);

      // The same file through a converted tinynet checkpoint: identical parameters, epsilon kept.
      const std::string checkpoint = dir.file("converted.tnck");
      const ResNet50WeightReport converted = convert_resnet50_weights(path, checkpoint);
      CHECK(converted.scheme == report.scheme);
      auto reloaded = built_resnet50<float>(48);  // default epsilon 1e-3, another input size
      const ResNet50WeightReport from_checkpoint = load_pretrained_resnet50(*reloaded, checkpoint);
      CHECK(from_checkpoint.scheme == "tinynet checkpoint (from " + report.scheme + ")");
      CHECK(from_checkpoint.layers_loaded == 106);
      CHECK(from_checkpoint.tensors_loaded == 318);
      CHECK(from_checkpoint.bn_epsilon == epsilon);
      CHECK(all_bn_epsilons(*reloaded) == epsilons);
      const auto& a = net->parameters().values();
      const auto& b = reloaded->parameters().values();
      REQUIRE(a.numel() == b.numel());
      CHECK(std::equal(a.begin(), a.end(), b.begin()));
    }
  }
#endif
}

TEST_CASE("ResNet50 weights: name mapping and transposition (in memory, both schemes)", "[resnet50][weights]") {
  CHECK(keras_resnet50_layer_name("res4c/bn_shortcut", ResNet50Naming::legacy_keras) == "bn4c_branch1");
  CHECK(keras_resnet50_layer_name("res4c/bn_shortcut", ResNet50Naming::tf_keras) == "conv4_block3_0_bn");
  CHECK(keras_resnet50_layer_name("res5a/conv_b", ResNet50Naming::tf_keras) == "conv5_block1_2_conv");
  CHECK(keras_resnet50_layer_name("res2c/conv_c", ResNet50Naming::legacy_keras) == "res2c_branch2c");
  CHECK(keras_resnet50_layer_name("pool1_pad", ResNet50Naming::legacy_keras).empty());
  CHECK(keras_resnet50_layer_name("dense", ResNet50Naming::tf_keras).empty());
  for (const bool legacy : {true, false}) {
    SECTION(legacy ? "legacy Keras" : "tf.keras") {
      const WeightFile file = synthetic_keras_resnet50(legacy);
      CHECK(detect_resnet50_naming(file) == (legacy ? ResNet50Naming::legacy_keras : ResNet50Naming::tf_keras));
      auto net = built_resnet50<float>(40);
      const ResNet50WeightReport report = load_resnet50_weights(*net, file);
      CHECK(report.tensors_loaded == 318);
      check_landing_positions(*net, file, legacy);
    }
  }
}

TEST_CASE("ResNet50 weights: errors name the Keras layer and our layer path", "[resnet50][weights]") {
  static const auto net = built_resnet50<float>(32);  // built once for all sections; never loaded
  static const WeightFile legacy = synthetic_keras_resnet50(true), tf_keras = synthetic_keras_resnet50(false);
  const auto unchanged = [&] {
    const auto& v = net->parameters().values();
    return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; });  // built, never initialised
  };
  SECTION("a missing layer (legacy)") {
    WeightFile file = legacy;
    file.layers.erase(file.layers.begin() + static_cast<std::ptrdiff_t>(layer_index(file, "res4c_branch2b")));
    CHECK_THAT(error_message([&] { load_resnet50_weights(*net, file); }),
               Catch::Contains("'synthetic-legacy'") && Catch::Contains("no layer 'res4c_branch2b'") &&
                   Catch::Contains("resnet50/res4c/conv_b"));
  }
  SECTION("a wrong kernel shape (tf.keras)") {
    WeightFile file = tf_keras;
    WeightArray* kernel = weight(file, "conv3_block1_2_conv", "kernel");
    kernel->shape = {3, 3, 128, 127};
    kernel->data.resize(3 * 3 * 128 * 127);
    CHECK_THAT(error_message([&] { load_resnet50_weights(*net, file); }),
               Catch::Contains("Keras layer 'conv3_block1_2_conv'") && Catch::Contains("resnet50/res3a/conv_b") &&
                   Catch::Contains("[3,3,128,127]") && Catch::Contains("needs [3,3,128,128]") &&
                   Catch::Contains("OIHW [128,128,3,3]"));
  }
  SECTION("a wrong BatchNorm shape") {
    WeightFile file = legacy;
    weight(file, "bn5c_branch2c", "beta")->shape = {2047};
    CHECK_THAT(error_message([&] { load_resnet50_weights(*net, file); }),
               Catch::Contains("'bn5c_branch2c'") && Catch::Contains("resnet50/res5c/bn_c") &&
                   Catch::Contains("[2047]") && Catch::Contains("needs [2048]"));
  }
  SECTION("a missing weight") {
    WeightFile file = legacy;
    auto& weights = file.layers[layer_index(file, "bn2a_branch2a")].weights;
    weights.erase(weights.begin() + 3);  // moving_variance
    CHECK_THAT(error_message([&] { load_resnet50_weights(*net, file); }),
               Catch::Contains("'bn2a_branch2a'") && Catch::Contains("resnet50/res2a/bn_a") &&
                   Catch::Contains("no weight 'moving_variance'"));
  }
  SECTION("an unexpected weight") {
    WeightFile file = tf_keras;
    file.layers[layer_index(file, "conv1_conv")].weights.push_back({"conv1_conv/scale:0", {64}, {}});
    CHECK_THAT(error_message([&] { load_resnet50_weights(*net, file); }),
               Catch::Contains("'conv1_conv'") && Catch::Contains("resnet50/conv1") &&
                   Catch::Contains("unexpected weight 'conv1_conv/scale:0'"));
  }
  SECTION("not a ResNet50 file") {
    const WeightFile file{{{"dense_1", {{"dense_1/kernel:0", {2, 2}, {1, 2, 3, 4}}}}}, "other.h5"};
    CHECK_THAT(error_message([&] { load_resnet50_weights(*net, file); }),
               Catch::Contains("'other.h5'") && Catch::Contains("not a Keras ResNet50") &&
                   Catch::Contains("first layers: dense_1"));
  }
  CHECK(unchanged());  // a failed load changes nothing

  SECTION("an unbuilt model") {
    auto unbuilt = make_resnet50<float>();
    CHECK_THAT(error_message([&] { load_resnet50_weights(*unbuilt, legacy); }),
               Catch::Contains("not built"));
  }
  SECTION("unrecognised files") {
    TempDir dir;
    CHECK_THAT(error_message([&] { read_weight_file(dir.file("weights.bin")); }),
               Catch::Contains("cannot tell the format of '" + dir.file("weights.bin") + "'"));
    CHECK_THAT(error_message([&] { read_weight_file(dir.path.string()); }),
               Catch::Contains("directory without a model.json"));
  }
  SECTION("a checkpoint of another model (strict names)") {
    TempDir dir;
    Sequential<float> other("other");
    other.add<Conv2D<float>>(4, 3);
    other.setup(Shape{3, 8, 8}, 1);
    save_checkpoint<float>(dir.file("other.tnck"), other, nullptr);
    CHECK_THAT(error_message([&] { load_pretrained_resnet50(*net, dir.file("other.tnck")); }),
               Catch::Contains(dir.file("other.tnck")) && Catch::Contains("'conv2d/kernel'"));
  }
}

TEST_CASE("read_weight_file reads a TF.js layers model from its folder or model.json", "[weights][tfjs]") {
  TempDir dir;
  const float values[3] = {1.5f, -2.0f, 0.25f};
  std::ofstream(dir.file("group1-shard1of1.bin"), std::ios::binary)
      .write(reinterpret_cast<const char*>(values), sizeof values);  // little-endian hosts only (x86, ARM)
  std::ofstream(dir.file("model.json"))
      << R"({"format": "layers-model", "weightsManifest": [{"paths": ["group1-shard1of1.bin"],
            "weights": [{"name": "conv1/bias", "shape": [3], "dtype": "float32"}]}]})";
  for (const std::string& path : {dir.path.string(), dir.file("model.json")}) {
    const WeightFile file = read_weight_file(path);
    REQUIRE(file.layers.size() == 1);
    CHECK(file.at("conv1").find("bias")->data == std::vector<float>{1.5f, -2.0f, 0.25f});
  }
}

// ---------------------------------------------------------------------------------------------
// The real ImageNet weights against the numpy reference

namespace {

// ensures: the shared ResNet50 .h5 path, or "" (after a visible warning) when it is absent.
std::string real_weights_path() {
  const char* shared = std::getenv("TINYNET_SHARED_DIR");
  const std::string path = std::string(shared ? shared : "") + "/models/resnet50_imagenet_notop.h5";
  if (shared == nullptr || !fs::exists(path)) {
    WARN("SKIPPED: " << path << " not found (set TINYNET_SHARED_DIR to the shared/ folder)");
    return "";
  }
  if (!hdf5_available()) {
    WARN("SKIPPED: tinynet built without libhdf5; cannot read " << path);
    return "";
  }
  return path;
}

// The real weights, read once per process.
const WeightFile& real_weights(const std::string& path) {
  static const WeightFile file = read_weight_file(path);
  return file;
}

struct ReferenceInput {
  int height = 0, width = 0;
  double freq = 0, phase = 0, sum = 0, l2 = 0;
  int argmax = -1;
  std::vector<std::pair<int, double>> features;  // (index, value): first16, every128, top8
};

struct Reference {
  double amplitude = 0, bn_epsilon = 0;
  std::vector<ReferenceInput> inputs;
};

// ensures: tests/fixtures/resnet50_reference.txt parsed (format of resnet50_reference.py's report()).
Reference read_reference() {
  const fs::path path = fs::path(__FILE__).parent_path() / "fixtures" / "resnet50_reference.txt";
  std::ifstream in(path);
  REQUIRE(in.good());
  Reference ref;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key.empty() || key[0] == '#') continue;
    if (key == "amplitude") words >> ref.amplitude;
    if (key == "bn_epsilon") words >> ref.bn_epsilon;
    if (key == "input") {
      ReferenceInput input;
      std::string h, w, f, p;
      int index = 0;
      words >> index >> h >> input.height >> w >> input.width >> f >> input.freq >> p >> input.phase;
      REQUIRE((h == "height" && w == "width" && f == "freq" && p == "phase"));
      ref.inputs.push_back(input);
      continue;
    }
    if (ref.inputs.empty()) continue;
    ReferenceInput& input = ref.inputs.back();
    if (key == "sum") words >> input.sum;
    if (key == "l2") words >> input.l2;
    if (key == "argmax") words >> input.argmax;
    const int stride = key == "first16" ? 1 : key == "every128" ? 128 : 0;
    double value = 0;
    for (int i = 0; stride > 0 && words >> value; ++i) input.features.emplace_back(i * stride, value);
    if (key == "top8") {
      std::string pair;
      while (words >> pair) input.features.emplace_back(std::stoi(pair), std::stod(pair.substr(pair.find(':') + 1)));
    }
  }
  REQUIRE(ref.inputs.size() == 4);
  for (const auto& input : ref.inputs) REQUIRE(input.features.size() == 16 + 16 + 8);
  return ref;
}

// ensures: the reference inputs of size height x width as one NCHW batch:
// x[n][c][h][w] = amplitude * sin(freq * ((h * width + w) * 3 + c) + phase) (the script's NHWC formula).
template <class T>
Tensor<T> reference_batch(const Reference& ref, const std::vector<const ReferenceInput*>& inputs) {
  const int height = inputs.front()->height, width = inputs.front()->width;
  Tensor<T> x(Shape{static_cast<std::int64_t>(inputs.size()), 3, height, width});
  for (std::size_t n = 0; n < inputs.size(); ++n)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < height; ++h)
        for (int w = 0; w < width; ++w)
          x.at(static_cast<std::int64_t>(n), c, h, w) = static_cast<T>(
              ref.amplitude * std::sin(inputs[n]->freq * ((h * width + w) * 3 + c) + inputs[n]->phase));
  return x;
}

struct Agreement {
  double worst_feature = 0;  // max |ours - ref| / max(|ref|, floor) over the listed features
  double worst_sum_l2 = 0;   // max relative error of the sum and the L2 norm
  bool argmax_equal = true;
};

// ensures: ResNet50 with the real weights (epsilon from the file's scheme) run in eval mode on
// every reference input; the agreement with the reference features.
template <class T>
Agreement measure_agreement(const Reference& ref, const WeightFile& weights, double floor) {
  Agreement agreement;
  for (const int size : {32, 48}) {
    std::vector<const ReferenceInput*> inputs;
    for (const auto& input : ref.inputs)
      if (input.height == size) inputs.push_back(&input);
    auto net = built_resnet50<T>(size);
    const auto report = load_resnet50_weights(*net, weights);
    REQUIRE(report.bn_epsilon == ref.bn_epsilon);
    net->set_training(false);
    const Tensor<T>& features = net->forward(reference_batch<T>(ref, inputs));
    REQUIRE(features.shape() == Shape{static_cast<std::int64_t>(inputs.size()), 2048});
    for (std::size_t n = 0; n < inputs.size(); ++n) {
      const T* f = features.data() + n * 2048;
      double sum = 0, squares = 0;
      for (int i = 0; i < 2048; ++i) sum += f[i], squares += double(f[i]) * f[i];
      agreement.worst_sum_l2 = std::max({agreement.worst_sum_l2, std::abs(sum - inputs[n]->sum) / inputs[n]->sum,
                                         std::abs(std::sqrt(squares) - inputs[n]->l2) / inputs[n]->l2});
      agreement.argmax_equal &= std::max_element(f, f + 2048) - f == inputs[n]->argmax;
      for (const auto& [index, value] : inputs[n]->features)
        agreement.worst_feature =
            std::max(agreement.worst_feature, std::abs(f[index] - value) / std::max(std::abs(value), floor));
    }
  }
  return agreement;
}

}  // namespace

TEST_CASE("ResNet50 with the ImageNet weights matches the numpy reference", "[resnet50][reference]") {
  const std::string path = real_weights_path();
  if (path.empty()) return;
  const Reference ref = read_reference();
  const WeightFile& weights = real_weights(path);
  CHECK(detect_resnet50_naming(weights) == ResNet50Naming::legacy_keras);

  // Features are averages of ReLU outputs, up to ~40; below `floor` the tolerance is absolute
  // (relative tolerance x floor), since a reference 0 may come out as a rounding-level value.
  const double floor = 1e-2;
  const auto start = std::chrono::steady_clock::now();
  const Agreement in_double = measure_agreement<double>(ref, weights, floor);
  const double double_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Agreement in_float = measure_agreement<float>(ref, weights, floor);
  WARN("ResNet50 vs numpy reference (4 inputs, 40 listed features each, floor " << floor << "): double: worst "
       "feature deviation " << in_double.worst_feature << ", sum/L2 " << in_double.worst_sum_l2 << " ("
       << double_seconds << " s); float: worst feature " << in_float.worst_feature << ", sum/L2 "
       << in_float.worst_sum_l2);
  CHECK(in_double.worst_feature < 1e-4);
  CHECK(in_double.worst_sum_l2 < 1e-4);
  CHECK(in_double.argmax_equal);
  CHECK(in_float.worst_feature < 1e-3);
  CHECK(in_float.worst_sum_l2 < 1e-3);
  CHECK(in_float.argmax_equal);
}

TEST_CASE("resnet50_convert path: real weights -> .tnck -> identical parameters", "[resnet50][checkpoint]") {
  const std::string path = real_weights_path();
  if (path.empty()) return;
  TempDir dir;
  const std::string checkpoint = dir.file("resnet50.tnck");
  const ResNet50WeightReport converted = convert_resnet50_weights(path, checkpoint);
  CHECK(converted.scheme == "legacy Keras");
  CHECK(converted.layers_loaded == 106);
  CHECK(converted.skipped_layers.empty());

  auto direct = built_resnet50<float>(32);
  load_resnet50_weights(*direct, real_weights(path));
  auto reloaded = built_resnet50<float>(32, /*bn_epsilon=*/0.5);
  const ResNet50WeightReport report = load_pretrained_resnet50(*reloaded, checkpoint);
  CHECK(report.values_loaded == keras_notop_parameters);
  CHECK(report.bn_epsilon == 1e-3);
  CHECK(all_bn_epsilons(*reloaded) == all_bn_epsilons(*direct));
  const auto& a = direct->parameters();
  const auto& b = reloaded->parameters();
  REQUIRE(a.entries().size() == b.entries().size());
  for (std::size_t i = 0; i < a.entries().size(); ++i) CHECK(a.entries()[i].name == b.entries()[i].name);
  CHECK(std::equal(a.values().begin(), a.values().end(), b.values().begin()));
  CHECK(std::count(b.values().begin(), b.values().end(), 0.0f) < keras_notop_parameters / 100);  // not empty

  const char* tfjs = std::getenv("TINYNET_TFJS_RESNET50");  // the npm package's ResNet50 folder or model.json
  if (tfjs == nullptr) {
    WARN("SKIPPED the TF.js half: set TINYNET_TFJS_RESNET50 to the package's ResNet50 folder");
    return;
  }
  auto from_tfjs = built_resnet50<float>(32, /*bn_epsilon=*/0.5);
  const ResNet50WeightReport tfjs_report = load_pretrained_resnet50(*from_tfjs, tfjs);
  CHECK(tfjs_report.scheme == "legacy Keras");
  CHECK(tfjs_report.skipped_layers == std::vector<std::string>{"fc1000"});
  CHECK(all_bn_epsilons(*from_tfjs) == all_bn_epsilons(*direct));
  const auto& c = from_tfjs->parameters().values();
  CHECK(std::equal(a.values().begin(), a.values().end(), c.begin()));
}
