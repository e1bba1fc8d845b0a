// Small helpers shared by the test files: scratch folders and expected-error messages.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

#include "tinynet/core/error.hpp"

namespace tinynet_test {

// A fresh folder under the system temp dir, removed with its contents at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag = "scratch") {
    static int count = 0;
    path = std::filesystem::temp_directory_path() /
           ("tinynet_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(count++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// ensures: the message of the tinynet::Error `f` throws (the test fails when it throws none).
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const tinynet::Error& e) {
    return e.what();
  }
  FAIL("expected a tinynet::Error");
  return {};
}

}  // namespace tinynet_test
