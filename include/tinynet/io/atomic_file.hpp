// tinynet/io/atomic_file.hpp: write a file so readers see the old or the new version, never half.
//
// write_file_atomically(path, writer) runs writer(std::ostream&) into "<path>.tmp.<pid>",
// flushes and fsyncs it, renames it over `path` and fsyncs the directory, so the rename
// survives a power loss. On any failure (open, write, fsync, rename) the temporary file is
// removed, `path` is untouched, and an Error names the path and the step that failed. A
// temporary left by a killed process (its pid no longer runs) is removed by the next write
// to the same path.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "tinynet/core/error.hpp"

namespace tinynet {
namespace detail {

// ensures: the data and metadata of the file or directory at `path` are on disk; an Error
// naming it otherwise (a directory on a file system that cannot sync one is accepted).
inline void fsync_path(const std::string& path, bool is_directory) {
  const int fd = ::open(path.c_str(), is_directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  check(fd >= 0, "cannot open '", path, "' to sync it: ", std::strerror(errno));
  const int synced = ::fsync(fd);
  const int sync_error = errno;
  const int closed = ::close(fd);
  check(synced == 0 || (is_directory && sync_error == EINVAL), "fsync of '", path, "' failed: ",
        std::strerror(sync_error));
  check(closed == 0, "closing '", path, "' failed: ", std::strerror(errno));
}

// ensures: the "<path>.tmp.<pid>" files of processes that no longer run are removed.
inline void remove_stale_temporaries(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  const std::string prefix = path.filename().string() + ".tmp.";
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid_text = name.substr(prefix.size());
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9)
      continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    std::error_code ignored;
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove(it->path(), ignored);
  }
}

}  // namespace detail

// requires: writer writes the whole contents to the stream it is given.
// ensures: `path` holds what writer wrote, or (on an Error naming `path`) is unchanged and no
// temporary file is left.
inline void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  detail::remove_stale_temporaries(path);
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      check(out.is_open(), "cannot open '", tmp, "' for writing: ", std::strerror(errno));
      writer(out);
      out.flush();
      check(out.good(), "writing '", tmp, "' failed (disk full?)");
      out.close();
      check(!out.fail(), "closing '", tmp, "' failed (disk full?)");
    }
    detail::fsync_path(tmp, false);
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    check(!ec, "cannot rename '", tmp, "' to '", path, "': ", ec.message());
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    fail("saving '", path, "': ", e.what());
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  try {
    detail::fsync_path(parent.empty() ? "." : parent.string(), true);
  } catch (const Error& e) {
    fail("saving '", path, "': the file is in place, but ", e.what());
  }
}

}  // namespace tinynet
