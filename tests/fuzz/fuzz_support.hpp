// Shared by the fuzz targets: a per-process scratch folder and the rule that a reader may
// only fail with a tinynet::Error naming the file (any other exception, a crash, a sanitizer
// report or an allocation above libFuzzer's -malloc_limit_mb is a finding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "tinynet/core/error.hpp"

namespace tinynet_fuzz {

// ensures: a folder of this process under $TMPDIR (or /tmp), created once.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    auto d = std::filesystem::path(tmp ? tmp : "/tmp") / ("tinynet_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// ensures: `path` holds exactly `size` bytes from `data`.
inline void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// requires: `read` reads the file at `path`. ensures: it returned, or threw a tinynet::Error whose
// message names `path` (otherwise: abort, which libFuzzer reports with the input).
template <class Read>
void expect_clean_failure(const std::string& path, Read&& read) {
  try {
    read();
  } catch (const tinynet::Error& e) {
    if (std::string(e.what()).find(path) == std::string::npos) {
      std::fprintf(stderr, "error message does not name the file '%s': %s\n", path.c_str(), e.what());
      std::abort();
    }
  }
}

}  // namespace tinynet_fuzz
