// tinynet/io/binary_stream.hpp: little-endian primitive I/O with offsets in errors.
//
// BinaryWriter/BinaryReader move integers, floats, strings and arrays in the
// checkpoint format's byte order (little-endian; tinynet refuses to run on a
// big-endian host rather than write files other machines misread). Every read
// error names the file and the byte offset. Both keep the CRC-32 of the bytes they moved
// (io/crc32.hpp), and the reader knows how many bytes remain, so a size read from the file
// can be checked against the file before anything is allocated for it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/io/crc32.hpp"

namespace tinynet {

inline bool host_is_little_endian() {
  const std::uint32_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

class BinaryWriter {
 public:
  explicit BinaryWriter(std::ostream& out) : out_(out) {
    check(host_is_little_endian(), "BinaryWriter: big-endian hosts are not supported");
  }
  template <class V>
  void put(V value) {
    static_assert(std::is_arithmetic<V>::value, "put: arithmetic values only");
    write(&value, sizeof(V));
  }
  void put_string(const std::string& s) {
    put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    write(s.data(), s.size());
  }
  template <class V>
  void put_array(const V* data, std::int64_t count) {
    write(data, sizeof(V) * static_cast<std::size_t>(count));
  }
  // ensures: the CRC-32 of every byte written so far.
  std::uint32_t checksum() const { return crc_.value(); }

 private:
  void write(const void* data, std::size_t bytes) {
    crc_.update(data, bytes);
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  }
  std::ostream& out_;
  Crc32 crc_;
};

class BinaryReader {
 public:
  // requires: `in` seekable (a file), positioned at its start.
  BinaryReader(std::istream& in, std::string source) : in_(in), source_(std::move(source)) {
    check(host_is_little_endian(), "BinaryReader: big-endian hosts are not supported");
    in_.seekg(0, std::ios::end);
    const std::streamoff end = in_.tellg();
    in_.seekg(0, std::ios::beg);
    check(end >= 0 && in_.good(), source_, ": cannot determine the file's size");
    size_ = static_cast<std::uint64_t>(end);
  }
  template <class V>
  V get(const char* what) {
    static_assert(std::is_arithmetic<V>::value, "get: arithmetic values only");
    V value;
    read(&value, sizeof(V), what);
    return value;
  }
  // requires: the string is at most `max_length` bytes (guards against corrupt lengths).
  std::string get_string(const char* what, std::uint32_t max_length = 1u << 20) {
    const auto n = get<std::uint32_t>(what);
    check(n <= max_length, source_, ": corrupt ", what, " length ", n, " at byte offset ", offset_ - 4,
          " (at most ", max_length, ")");
    require_room(n, 1, what);
    std::string s(n, '\0');
    read(&s[0], n, what);
    return s;
  }
  template <class V>
  void get_array(V* data, std::int64_t count, const char* what) {
    require_room(count, sizeof(V), what);
    read(data, sizeof(V) * static_cast<std::size_t>(count), what);
  }
  // ensures: an Error naming `what`, the count and the byte offset unless `count` items of
  // `item_bytes` each fit in the rest of the file (call before allocating for them).
  void require_room(std::int64_t count, std::size_t item_bytes, const std::string& what) const {
    check(count >= 0 && static_cast<std::uint64_t>(count) <= remaining() / item_bytes, source_, ": ", what,
          " claims ", count, " items of ", item_bytes, " bytes at byte offset ", offset_, ", but only ", remaining(),
          " bytes remain in the file (corrupt size?)");
  }
  // ensures: `bytes` bytes passed over (checked against the file first, read in pieces).
  void skip(std::uint64_t bytes, const char* what) {
    require_room(static_cast<std::int64_t>(std::min<std::uint64_t>(bytes, INT64_MAX)), 1, what);
    char buffer[1 << 16];
    while (bytes > 0) {
      const std::size_t piece = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, sizeof buffer));
      read(buffer, piece, what);
      bytes -= piece;
    }
  }
  std::uint64_t offset() const { return offset_; }
  std::uint64_t size() const { return size_; }
  std::uint64_t remaining() const { return size_ - offset_; }
  const std::string& source() const { return source_; }
  // ensures: the CRC-32 of every byte read so far.
  std::uint32_t checksum() const { return crc_.value(); }

 private:
  void read(void* dst, std::size_t bytes, const char* what) {
    if (bytes == 0) return;
    check(bytes <= remaining(), source_, ": truncated while reading ", what, " at byte offset ", offset_, " (wanted ",
          bytes, " bytes, ", remaining(), " remain)");
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(bytes));
    check(static_cast<std::size_t>(in_.gcount()) == bytes, source_, ": truncated while reading ", what,
          " at byte offset ", offset_, " (wanted ", bytes, " bytes)");
    crc_.update(dst, bytes);
    offset_ += bytes;
  }
  std::istream& in_;
  std::string source_;
  std::uint64_t offset_ = 0, size_ = 0;
  Crc32 crc_;
};

}  // namespace tinynet
