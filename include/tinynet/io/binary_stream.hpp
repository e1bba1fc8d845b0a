// tinynet/io/binary_stream.hpp: little-endian primitive I/O with offsets in errors.
//
// BinaryWriter/BinaryReader move integers, floats, strings and arrays in the
// checkpoint format's byte order (little-endian; tinynet refuses to run on a
// big-endian host rather than write files other machines misread). Every read
// error names the file and the byte offset.
#pragma once

#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "tinynet/core/error.hpp"

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
    out_.write(reinterpret_cast<const char*>(&value), sizeof(V));
  }
  void put_string(const std::string& s) {
    put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    out_.write(s.data(), static_cast<std::streamsize>(s.size()));
  }
  template <class V>
  void put_array(const V* data, std::int64_t count) {
    out_.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(sizeof(V) * count));
  }

 private:
  std::ostream& out_;
};

class BinaryReader {
 public:
  BinaryReader(std::istream& in, std::string source) : in_(in), source_(std::move(source)) {
    check(host_is_little_endian(), "BinaryReader: big-endian hosts are not supported");
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
    check(n <= max_length, source_, ": corrupt ", what, " length ", n, " at byte offset ", offset_ - 4);
    std::string s(n, '\0');
    read(&s[0], n, what);
    return s;
  }
  template <class V>
  void get_array(V* data, std::int64_t count, const char* what) {
    read(data, sizeof(V) * static_cast<std::size_t>(count), what);
  }
  std::uint64_t offset() const { return offset_; }
  const std::string& source() const { return source_; }

 private:
  void read(void* dst, std::size_t bytes, const char* what) {
    if (bytes == 0) return;
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(bytes));
    check(static_cast<std::size_t>(in_.gcount()) == bytes, source_, ": truncated while reading ", what,
          " at byte offset ", offset_, " (wanted ", bytes, " bytes)");
    offset_ += bytes;
  }
  std::istream& in_;
  std::string source_;
  std::uint64_t offset_ = 0;
};

}  // namespace tinynet
