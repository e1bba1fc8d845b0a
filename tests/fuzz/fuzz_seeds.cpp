// Writes the seed corpora of the fuzz targets: small valid inputs made by tinynet's own
// writers (and stb_image_write), one folder per target under the given root.
// Usage: fuzz_seeds <corpus-root>   (the Keras HDF5 seeds come from make_keras_seed.py)
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <stb_image_write.h>

#include "tiny_models.hpp"
#include "tinynet/data/cifar_binary.hpp"
#include "tinynet/io/checkpoint.hpp"

namespace fs = std::filesystem;
using namespace tinynet;

namespace {

void write_seed(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void cifar_seeds(const fs::path& dir) {
  ImageDataset d;
  d.class_names = cifar10_default_class_names();
  d.images = Tensor<std::uint8_t>(Shape{2, 3, 32, 32});
  for (std::int64_t i = 0; i < d.images.numel(); ++i) d.images[i] = static_cast<std::uint8_t>(i * 7);
  d.labels = {3, 9};
  const fs::path batch = dir / "batch.tmp";
  fs::create_directories(dir);
  write_cifar_batch_file(d, batch.string());
  write_seed(dir / "batch", std::string(1, '\0') + file_bytes(batch));
  fs::remove(batch);
  write_seed(dir / "meta", "\x01" "airplane\nautomobile\nbird\r\ncat \n\ndeer\n");
}

void image_seeds(const fs::path& dir) {
  std::vector<std::uint8_t> pixels(8 * 6 * 4);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 13);
  const auto to_string = [](void* out, void* data, int size) {
    static_cast<std::string*>(out)->append(static_cast<char*>(data), static_cast<std::size_t>(size));
  };
  for (int channels : {1, 3, 4}) {
    std::string png, bmp, jpg;
    stbi_write_png_to_func(to_string, &png, 8, 6, channels, pixels.data(), 8 * channels);
    stbi_write_bmp_to_func(to_string, &bmp, 8, 6, channels, pixels.data());
    stbi_write_jpg_to_func(to_string, &jpg, 8, 6, channels, pixels.data(), 90);
    write_seed(dir / ("c" + std::to_string(channels) + ".png"), png);
    write_seed(dir / ("c" + std::to_string(channels) + ".bmp"), bmp);
    write_seed(dir / ("c" + std::to_string(channels) + ".jpg"), jpg);
  }
}

std::string little_endian_floats(std::size_t count, float first) {
  std::string bytes;
  for (std::size_t i = 0; i < count; ++i) {
    const float v = first + 0.5f * static_cast<float>(i);
    bytes.append(reinterpret_cast<const char*>(&v), 4);
  }
  return bytes;
}

// The input format of fuzz_tfjs_model.cpp: json, NUL, u16 a, u16 b, shard bytes.
void tfjs_seeds(const fs::path& dir) {
  const std::string json = R"({"format": "layers-model", "modelTopology": {"model_config": {"config": {"layers": [
      {"class_name": "Dense", "config": {"name": "dense"}}, {"class_name": "Conv2D", "config": {"name": "conv"}}]}}},
    "weightsManifest": [{"paths": ["shard1.bin", "shard2.bin", "shard3.bin"], "weights": [
      {"name": "conv/kernel", "shape": [2, 2, 1, 3], "dtype": "float32"},
      {"name": "conv/bias", "shape": [3], "dtype": "float32"},
      {"name": "dense/kernel", "shape": [3, 2], "dtype": "float32"},
      {"name": "step/count", "shape": [], "dtype": "int32"}]}]})";
  const std::string shards = little_endian_floats(12 + 3 + 6, -1) + std::string("\x07\0\0\0", 4);
  const std::uint16_t a = 40, b = 40;  // shards of 40, 40 and 8 bytes
  std::string input = json + '\0';
  input.append(reinterpret_cast<const char*>(&a), 2);
  input.append(reinterpret_cast<const char*>(&b), 2);
  write_seed(dir / "three_shards", input + shards);
}

void checkpoint_seeds(const fs::path& dir) {
  auto net = tinynet_test::tiny_net();
  Adam<float> adam;
  adam.step(*net);
  fs::create_directories(dir);
  save_checkpoint((dir / "with_adam").string(), *net, &adam, CheckpointExtras{3, {{"lr_schedule_state", "1 2"}}});
  save_checkpoint<float>((dir / "model_only").string(), *net, nullptr);
  std::string v1 = file_bytes(dir / "model_only");
  v1.resize(v1.size() - 4);  // version 1: no checksum
  v1[8] = 1;
  write_seed(dir / "version1", v1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds <corpus-root>\n";
    return 2;
  }
  const fs::path root = argv[1];
  cifar_seeds(root / "fuzz_cifar_binary");
  image_seeds(root / "fuzz_image_decode");
  tfjs_seeds(root / "fuzz_tfjs_model");
  checkpoint_seeds(root / "fuzz_checkpoint");
  std::cout << "seed corpora written under " << root.string() << "\n";
  return 0;
}
