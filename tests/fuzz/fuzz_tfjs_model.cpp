// Fuzzes the TF.js layers-model reader. Input: model.json text, a NUL byte, two little-endian
// u16 lengths a and b, then the shard bytes: shard1.bin gets the next a bytes, shard2.bin the
// next b, shard3.bin the rest (the seeds' manifests list these three files).
#include <cstring>

#include "fuzz_support.hpp"
#include "tinynet/io/tfjs_layers_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* nul = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
  const std::size_t json_size = nul ? static_cast<std::size_t>(nul - data) : size;
  const auto& dir = tinynet_fuzz::scratch_dir();
  const std::string model = (dir / "model.json").string();
  tinynet_fuzz::write_file(model, data, json_size);
  std::size_t at = json_size + 1;
  std::size_t lengths[2] = {0, 0};
  for (auto& length : lengths) {
    if (at + 2 <= size) length = data[at] | static_cast<std::size_t>(data[at + 1]) << 8;
    at += 2;
  }
  for (int shard = 0; shard < 3; ++shard) {
    const std::size_t begin = std::min(at, size);
    const std::size_t n = shard < 2 ? std::min(lengths[shard], size - begin) : size - begin;
    tinynet_fuzz::write_file(dir / ("shard" + std::to_string(shard + 1) + ".bin"), data + begin, n);
    at = begin + n;
  }
  tinynet_fuzz::expect_clean_failure(model, [&] { tinynet::read_tfjs_layers_model(model); });
  return 0;
}
