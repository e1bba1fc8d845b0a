// Fuzzes the .tnck checkpoint reader, loading into a small model with Adam. A version 2 input
// gets its CRC-32 recomputed first, so mutations reach the field checks instead of all
// stopping at the checksum (tests/test_checkpoint_files.cpp covers the checksum itself).
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_support.hpp"
#include "tiny_models.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  if (size >= 16 && bytes[8] == 2 && bytes[9] == 0 && bytes[10] == 0 && bytes[11] == 0) {
    tinynet::Crc32 crc;
    crc.update(bytes.data(), size - 4);
    const std::uint32_t sum = crc.value();
    std::memcpy(bytes.data() + size - 4, &sum, 4);
  }
  const std::string path = (tinynet_fuzz::scratch_dir() / "model.tnck").string();
  tinynet_fuzz::write_file(path, bytes.data(), bytes.size());
  static const auto model = tinynet_test::tiny_net();
  tinynet::Adam<float> adam;
  tinynet_fuzz::expect_clean_failure(path, [&] { tinynet::load_checkpoint(path, *model, &adam); });
  tinynet::CheckpointLoadOptions partial;
  partial.strict = false;
  partial.load_optimizer = false;
  tinynet_fuzz::expect_clean_failure(path, [&] { tinynet::load_checkpoint(path, *model, &adam, partial); });
  return 0;
}
