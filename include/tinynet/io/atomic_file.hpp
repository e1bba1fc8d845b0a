// tinynet/io/atomic_file.hpp: write a file so readers see the old or the new version, never half.
//
// write_file_atomically(path, writer) runs writer(std::ostream&) into "<path>.tmp.<pid>",
// flushes and fsyncs it, then renames it over `path`. On any failure the temporary file
// is removed, `path` is untouched, and an Error names the path.
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "tinynet/core/error.hpp"

namespace tinynet {

inline void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      check(out.good(), "cannot open '", tmp, "' for writing");
      writer(out);
      out.flush();
      check(out.good(), "writing '", tmp, "' failed (disk full?)");
    }
    const int fd = ::open(tmp.c_str(), O_RDONLY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    check(!ec, "cannot rename '", tmp, "' to '", path, "': ", ec.message());
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    fail("saving '", path, "': ", e.what());
  }
}

}  // namespace tinynet
