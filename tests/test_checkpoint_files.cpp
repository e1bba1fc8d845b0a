// Checkpoints that cannot lie: the version 2 checksum, range checks on every field, sizes
// checked against the file, non-finite values refused, nothing changed by a failed load, and
// the atomic writer's clean-up. Each case is a hand-corrupted file whose Error must name it.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "test_support.hpp"
#include "tiny_models.hpp"
#include "tinynet/tinynet.hpp"

using namespace tinynet;
using tinynet_test::error_message;
using tinynet_test::TempDir;
using tinynet_test::tiny_net;
using Catch::Contains;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class V>
std::string bytes_of(V value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof(V));
}

// ensures: the offset of the one occurrence of `pattern` in `bytes`.
std::size_t unique_offset(const std::string& bytes, const std::string& pattern) {
  const std::size_t at = bytes.find(pattern);
  REQUIRE(at != std::string::npos);
  REQUIRE(bytes.find(pattern, at + 1) == std::string::npos);
  return at;
}

// ensures: `bytes` with the value at `offset` replaced, its version 2 checksum recomputed
// (so that the field checks, not the checksum, must catch the bad value).
template <class V>
std::string patched(std::string bytes, std::size_t offset, V value) {
  std::memcpy(&bytes[offset], &value, sizeof(V));
  Crc32 crc;
  crc.update(bytes.data(), bytes.size() - 4);
  const std::uint32_t sum = crc.value();
  std::memcpy(&bytes[bytes.size() - 4], &sum, 4);
  return bytes;
}

struct SavedCheckpoint {
  TempDir dir{"checkpoints"};
  std::unique_ptr<Sequential<float>> net = tiny_net();
  Adam<float> adam{AdamOptions{0.123456789}};
  std::string path = dir.file("run.tnck");
  std::string bytes;
  static constexpr std::int64_t epoch = 0x2ABCDEF1;  // distinctive bytes, to find the field

  SavedCheckpoint() {
    adam.step(*net);
    adam.set_iterations(0x1234567);
    save_checkpoint(path, *net, &adam, CheckpointExtras{epoch, {{"note", "hello"}}});
    bytes = read_bytes(path);
  }
  // ensures: the Error of loading `contents` (written to a file) into a fresh model; the model
  // and the optimizer are unchanged by the failed load.
  std::string load_error(const std::string& contents) {
    write_bytes(dir.file("bad.tnck"), contents);
    auto fresh = tiny_net();
    Adam<float> fresh_adam;
    const Tensor<float> before = fresh->parameters().values().clone();
    const std::string message = error_message([&] { load_checkpoint(dir.file("bad.tnck"), *fresh, &fresh_adam); });
    CHECK(std::equal(before.begin(), before.end(), fresh->parameters().values().begin()));
    CHECK(fresh_adam.iterations() == 0);
    CHECK_THAT(message, Contains(dir.file("bad.tnck")));
    return message;
  }
};

}  // namespace

TEST_CASE("CRC-32 is the IEEE / zlib checksum", "[checkpoint][crc]") {
  Crc32 crc;
  crc.update("1234", 4);
  crc.update("56789", 5);  // in pieces, as the writer feeds it
  CHECK(crc.value() == 0xCBF43926u);
  CHECK(Crc32().value() == 0u);
}

TEST_CASE("checkpoints are version 2 with a checksum; version 1 files still load", "[checkpoint]") {
  SavedCheckpoint saved;
  std::uint32_t version;
  std::memcpy(&version, saved.bytes.data() + 8, 4);
  CHECK(version == 2);
  CHECK(saved.bytes.substr(saved.bytes.size() - 8, 4) == "END!");
  Crc32 crc;
  crc.update(saved.bytes.data(), saved.bytes.size() - 4);
  CHECK(saved.bytes.substr(saved.bytes.size() - 4) == bytes_of(crc.value()));

  auto net = tiny_net();
  Adam<float> adam;
  CHECK(load_checkpoint(saved.path, *net, &adam).epoch == SavedCheckpoint::epoch);
  CHECK(adam.iterations() == 0x1234567);
  CHECK(adam.learning_rate() == 0.123456789);

  // Version 1: the same layout without the checksum.
  std::string v1 = saved.bytes.substr(0, saved.bytes.size() - 4);
  const std::uint32_t one = 1;
  std::memcpy(&v1[8], &one, 4);
  write_bytes(saved.dir.file("v1.tnck"), v1);
  auto old = tiny_net();
  CHECK(load_checkpoint<float>(saved.dir.file("v1.tnck"), *old, nullptr).epoch == SavedCheckpoint::epoch);
  CHECK(std::equal(old->parameters().values().begin(), old->parameters().values().end(),
                   saved.net->parameters().values().begin()));
}

TEST_CASE("a flipped byte or a truncated copy is a checksum mismatch; nothing is loaded", "[checkpoint]") {
  SavedCheckpoint saved;
  std::string flipped = saved.bytes;
  flipped[flipped.size() / 2] ^= 0x10;
  CHECK_THAT(saved.load_error(flipped), Contains("checksum mismatch") && Contains("corrupt"));
  CHECK_THAT(saved.load_error(saved.bytes.substr(0, 200)), Contains("checksum mismatch"));
  CHECK_THAT(saved.load_error(saved.bytes.substr(0, 7)), Contains("shorter than the 12-byte header"));
  std::string future = saved.bytes;
  future[8] = 3;
  CHECK_THAT(saved.load_error(future), Contains("checkpoint version 3"));
}

TEST_CASE("every checkpoint field is range-checked and names the file, field and offset", "[checkpoint]") {
  SavedCheckpoint saved;
  const std::string& b = saved.bytes;
  SECTION("epoch") {
    const std::size_t at = unique_offset(b, bytes_of<std::int64_t>(SavedCheckpoint::epoch));
    CHECK_THAT(saved.load_error(patched<std::int64_t>(b, at, -5)),
               Contains("epoch -5 at byte offset " + std::to_string(at)) && Contains("outside 0.."));
    CHECK_THAT(saved.load_error(patched<std::int64_t>(b, at, std::int64_t{1} << 40)),
               Contains("epoch 1099511627776"));
  }
  SECTION("parameter count and sizes are checked against the file before allocating") {
    CHECK_THAT(saved.load_error(patched<std::uint32_t>(b, 17, 0xFFFFFFFFu)),
               Contains("the parameter count claims 4294967295 items") && Contains("bytes remain"));
    const std::size_t first_dim = 21 + 4 + std::strlen("conv2d/kernel") + 2;
    REQUIRE(b.substr(25, 13) == "conv2d/kernel");
    CHECK_THAT(saved.load_error(patched<std::int64_t>(b, first_dim, std::int64_t{1} << 40)),
               Contains("parameter 'conv2d/kernel''s values claims") && Contains("bytes remain"));
    CHECK_THAT(saved.load_error(patched<std::int64_t>(b, first_dim, -3)),
               Contains("parameter 'conv2d/kernel': dimension 0 is -3 at byte offset " + std::to_string(first_dim)));
    CHECK_THAT(saved.load_error(patched<std::uint8_t>(b, first_dim - 1, 9)), Contains("rank 9"));
    CHECK_THAT(saved.load_error(patched<std::uint8_t>(b, first_dim - 2, 7)), Contains("kind 7"));
  }
  SECTION("optimizer fields") {
    const std::size_t iterations = unique_offset(b, bytes_of<std::int64_t>(0x1234567));
    CHECK_THAT(saved.load_error(patched<std::int64_t>(b, iterations, -2)), Contains("optimizer iterations -2"));
    const std::size_t rate = unique_offset(b, bytes_of<double>(0.123456789));
    CHECK_THAT(saved.load_error(patched<double>(b, rate, std::numeric_limits<double>::quiet_NaN())),
               Contains("learning rate nan at byte offset " + std::to_string(rate)));
    CHECK_THAT(saved.load_error(patched<double>(b, rate, -1.0)), Contains("learning rate -1"));
    const std::size_t m_size = unique_offset(b, std::string("\x01\0\0\0m", 5)) + 5;
    CHECK_THAT(saved.load_error(patched<std::int64_t>(b, m_size, std::int64_t{1} << 50)),
               Contains("optimizer state 'm' claims"));
    CHECK_THAT(saved.load_error(patched<std::int64_t>(b, m_size, -1)), Contains("optimizer state 'm': size -1"));
    CHECK_THAT(saved.load_error(patched<std::uint8_t>(b, rate - 8 - 4 - std::strlen("Adam") - 1, 2)),
               Contains("optimizer flag 2"));
  }
  SECTION("generator state") {
    std::vector<std::pair<std::string, Rng*>> rngs;
    saved.net->collect_rngs(rngs);
    REQUIRE(rngs.size() == 1);
    const std::size_t at = unique_offset(b, rngs[0].second->state());
    CHECK_THAT(saved.load_error(patched<char>(b, at, 'x')),
               Contains("generator '" + rngs[0].first + "'") && Contains("corrupt generator state"));
  }
}

TEST_CASE("non-finite values are refused on save and on load unless asked for", "[checkpoint]") {
  SavedCheckpoint saved;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::string path = saved.dir.file("nan.tnck");
  Tensor<float> values = saved.net->parameters().values();
  const auto& dense_bias = saved.net->parameters().entries().back();
  values[dense_bias.offset + 1] = nan;
  CHECK_THAT(error_message([&] { save_checkpoint(path, *saved.net, &saved.adam); }),
             Contains(path) && Contains("parameter '" + dense_bias.name + "'") && Contains("non-finite") &&
                 Contains("element 1 of 3"));
  CHECK_FALSE(std::filesystem::exists(path));

  save_checkpoint(path, *saved.net, &saved.adam, {}, CheckpointSaveOptions{true});
  CHECK_THAT(saved.load_error(read_bytes(path)),
             Contains("parameter '" + dense_bias.name + "'") && Contains("nan at element 1"));
  auto inspect = tiny_net();
  CheckpointLoadOptions allow;
  allow.allow_non_finite = true;
  load_checkpoint<float>(path, *inspect, nullptr, allow);
  CHECK(std::isnan(inspect->parameters().values()[dense_bias.offset + 1]));

  values[dense_bias.offset + 1] = 0;
  (*saved.adam.state()[1].second)[4] = std::numeric_limits<float>::infinity();
  CHECK_THAT(error_message([&] { save_checkpoint(path, *saved.net, &saved.adam); }),
             Contains("optimizer state 'v'") && Contains("inf at element 4"));
  save_checkpoint(path, *saved.net, &saved.adam, {}, CheckpointSaveOptions{true});
  CHECK_THAT(saved.load_error(read_bytes(path)), Contains("optimizer state 'v'") && Contains("inf at element 4"));
}

TEST_CASE("the atomic writer leaves no temporary behind and names what failed", "[checkpoint][atomic]") {
  TempDir dir("atomic");
  const std::string path = dir.file("file.bin");
  write_file_atomically(path, [](std::ostream& out) { out << "old"; });

  // A failing writer: the old contents stay, the temporary is removed.
  CHECK_THAT(error_message([&] {
               write_file_atomically(path, [](std::ostream& out) {
                 out << "half";
                 fail("writer gave up");
               });
             }),
             Contains("saving '" + path + "'") && Contains("writer gave up"));
  CHECK(read_bytes(path) == "old");
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path), std::filesystem::directory_iterator()) == 1);

  // A directory that does not exist: the open fails, named.
  const std::string nowhere = dir.file("missing/file.bin");
  CHECK_THAT(error_message([&] { write_file_atomically(nowhere, [](std::ostream& out) { out << "x"; }); }),
             Contains("cannot open '" + nowhere + ".tmp.") && Contains("No such file or directory"));

  // The temporary of a killed writer (its process is gone) is removed by the next write.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  ::waitpid(child, nullptr, 0);
  const std::string stale = path + ".tmp." + std::to_string(child);
  const std::string alive = path + ".tmp.1";  // pid 1 runs: not stale
  write_bytes(stale, "290 MB of a killed save");
  write_bytes(alive, "another writer's");
  write_file_atomically(path, [](std::ostream& out) { out << "new"; });
  CHECK(read_bytes(path) == "new");
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK(std::filesystem::exists(alive));
}
