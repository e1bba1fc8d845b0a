// tinynet/io/checkpoint_file.hpp: a checkpoint file's fixed header and its checksum.
//
// Every checkpoint starts with the magic "TINYNET\0" and a u32 format version. Version 2
// files end with the CRC-32 (io/crc32.hpp) of all bytes before it; version 1 files have no
// checksum and still load. verify_checkpoint_file() checks both before the loader
// (io/checkpoint.hpp) reads a field, so a flipped byte is reported as such, not as whatever
// field it happened to hit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "tinynet/core/error.hpp"
#include "tinynet/io/crc32.hpp"

namespace tinynet {

constexpr char checkpoint_magic[8] = {'T', 'I', 'N', 'Y', 'N', 'E', 'T', '\0'};
constexpr std::uint32_t checkpoint_version = 2;          // written; 1 and 2 are read
constexpr std::uint32_t checkpoint_endian_marker = 0x01020304;
constexpr std::int64_t checkpoint_max_epoch = 1 << 30;  // epochs fit an int with room to spare

// ensures: the format version of the checkpoint at `path` (1 or 2); for version 2 its
// checksum verified. An Error naming the file otherwise (missing, not a checkpoint, a
// version this tinynet does not read, or a checksum mismatch).
inline std::uint32_t verify_checkpoint_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  check(in.is_open(), "load_checkpoint: cannot open '", path, "'");
  const std::streamoff size = in.tellg();
  in.seekg(0);
  char header[12];
  check(size >= 12 && in.read(header, 12), path, ": not a tinynet checkpoint (", size < 0 ? 0 : size,
        " bytes, shorter than the 12-byte header)");
  check(std::memcmp(header, checkpoint_magic, 8) == 0, path, ": not a tinynet checkpoint (bad magic)");
  std::uint32_t version;
  std::memcpy(&version, header + 8, 4);
  check(version == 1 || version == 2, path, ": checkpoint version ", version, " at byte offset 8; this tinynet reads ",
        "versions 1 and 2");
  if (version == 1) return version;

  check(size >= 16, path, ": too short (", size, " bytes) to hold a version 2 checkpoint's checksum");
  Crc32 crc;
  crc.update(header, 12);
  std::streamoff left = size - 16;
  char buffer[1 << 16];
  while (left > 0) {
    const auto piece = static_cast<std::streamsize>(std::min<std::streamoff>(left, sizeof buffer));
    check(static_cast<bool>(in.read(buffer, piece)), path, ": read failed at byte offset ", size - 4 - left);
    crc.update(buffer, static_cast<std::size_t>(piece));
    left -= piece;
  }
  std::uint32_t stored;
  check(static_cast<bool>(in.read(reinterpret_cast<char*>(&stored), 4)), path, ": cannot read the checksum");
  check(stored == crc.value(), path, ": checksum mismatch (stored CRC-32 ", stored, ", computed ", crc.value(),
        " over bytes 0..", size - 4, "): the file is corrupt (flipped bytes or an incomplete copy)");
  return version;
}

}  // namespace tinynet
