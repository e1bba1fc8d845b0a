// tinynet/io/crc32.hpp: CRC-32 (IEEE 802.3, as zlib's crc32 and Python's zlib.crc32).
//
// Crc32 accumulates the checksum of a byte sequence given in pieces; checkpoints (format
// version 2, docs/checkpoint-format.md) end with the CRC-32 of every byte before it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tinynet {

class Crc32 {
 public:
  // ensures: the checksum now covers `bytes` more bytes at `data`.
  void update(const void* data, std::size_t bytes) {
    static const std::array<std::uint32_t, 256> table = make_table();
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) state_ = table[(state_ ^ p[i]) & 0xFFu] ^ (state_ >> 8);
  }
  // ensures: the CRC-32 of all bytes given so far (0 for none).
  std::uint32_t value() const { return state_ ^ 0xFFFFFFFFu; }

 private:
  static std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[n] = c;
    }
    return table;
  }
  std::uint32_t state_ = 0xFFFFFFFFu;
};

}  // namespace tinynet
