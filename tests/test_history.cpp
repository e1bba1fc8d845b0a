// Tests of the JSON writer, the training History files and the ConfusionMatrix.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "tinynet/training/history.hpp"
#include "tinynet/training/metrics.hpp"

using namespace tinynet;
namespace fs = std::filesystem;

namespace {

// A fresh, empty folder under the system temp directory, removed when the test ends.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag)
      : path(fs::temp_directory_path() / ("tinynet_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// ensures: the names in `dir` that contain ".tmp" (leftovers of an interrupted atomic write).
std::vector<std::string> temporary_files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp") != std::string::npos) out.push_back(entry.path().string());
  return out;
}

const double not_a_number = std::numeric_limits<double>::quiet_NaN();
const double infinity = std::numeric_limits<double>::infinity();

History sample_history() {
  History h;
  h.epochs.push_back({1, 2.302585092994046, 0.1, 2.1, 0.2, 1e-3, 61.25, 812.5, 0.75});
  h.epochs.push_back({2, 1.0 / 3, 0.45678, 0.9999999999999999, 0.5, 1e-3 / 3, 60.0, 1234.0, 1.5e-7});
  h.epochs.push_back({3, 0.125, 0.875, 1e-300, 0.8125, 2.5e-5, 59.5, 1e6, 0});
  return h;
}
}  // namespace

TEST_CASE("History CSV round trip is exact and leaves no temporary file", "[history]") {
  TempDir dir("history_csv");
  const History h = sample_history();
  h.write_csv(dir.file("history.csv"));
  CHECK(temporary_files(dir.path).empty());
  const std::string text = read_file(dir.file("history.csv"));
  CHECK(text.rfind(std::string(History::csv_header) + "\n1,2.302585092994046,0.1,2.1,0.2,0.001,61.25,812.5,0.75\n",
                   0) == 0);
  const History back = History::read_csv(dir.file("history.csv"));
  REQUIRE(back.epochs.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(back.epochs[i] == h.epochs[i]);

  // Overwriting replaces the file; NaN and infinities survive.
  History odd;
  odd.epochs.push_back({7, not_a_number, 0.5, infinity, -infinity, 0.01, 1, 2, 3});
  odd.write_csv(dir.file("history.csv"));
  const History odd_back = History::read_csv(dir.file("history.csv"));
  REQUIRE(odd_back.epochs.size() == 1);
  CHECK(std::isnan(odd_back.epochs[0].train_loss));
  CHECK(odd_back.epochs[0].val_loss == infinity);
  CHECK(odd_back.epochs[0].val_accuracy == -infinity);
  CHECK(odd_back.epochs[0].epoch == 7);
  CHECK(temporary_files(dir.path).empty());

  // An empty history is just the header, and reads back empty; Windows line ends are accepted.
  History().write_csv(dir.file("empty.csv"));
  CHECK(read_file(dir.file("empty.csv")) == std::string(History::csv_header) + "\n");
  CHECK(History::read_csv(dir.file("empty.csv")).epochs.empty());
  write_text(dir.file("crlf.csv"), std::string(History::csv_header) + "\r\n4,1,0.5,1,0.5,0.1,1,1,0\r\n");
  CHECK(History::read_csv(dir.file("crlf.csv")).epochs.at(0).epoch == 4);
}

TEST_CASE("History JSON holds every field, NaN as null", "[history]") {
  TempDir dir("history_json");
  History h;
  h.epochs.push_back({1, 0.5, 0.75, not_a_number, 0.625, 0.001, 12.5, 1000, 0.25});
  h.write_json(dir.file("history.json"));
  CHECK(temporary_files(dir.path).empty());
  CHECK(read_file(dir.file("history.json")) ==
        "{\n  \"epochs\": [\n    {\n      \"epoch\": 1,\n      \"train_loss\": 0.5,\n      \"train_accuracy\": 0.75,\n"
        "      \"val_loss\": null,\n      \"val_accuracy\": 0.625,\n      \"learning_rate\": 0.001,\n"
        "      \"seconds\": 12.5,\n      \"images_per_second\": 1000.0,\n      \"data_wait_seconds\": 0.25\n    }\n  "
        "]\n}\n");
}

TEST_CASE("History::read_csv names the file and line of bad content", "[history]") {
  TempDir dir("history_bad");
  const std::string path = dir.file("bad.csv");
  const std::string header = std::string(History::csv_header) + "\n";
  const std::string good_row = "1,1,0.5,1,0.5,0.1,1,1,0\n";

  write_text(path, header + good_row + "2,1,0.5,1,0.5,0.1,1,1\n");
  CHECK_THROWS_WITH(History::read_csv(path),
                    Catch::Contains(path + ":3") && Catch::Contains("expected 9") && Catch::Contains("found 8"));
  write_text(path, header + good_row + "2,1,0.5,1,0.5,0.1,1,1,0,\n");
  CHECK_THROWS_WITH(History::read_csv(path), Catch::Contains(path + ":3") && Catch::Contains("found 10"));
  write_text(path, header + good_row + "2,1,abc,1,0.5,0.1,1,1,0\n");
  CHECK_THROWS_WITH(History::read_csv(path),
                    Catch::Contains(path + ":3") && Catch::Contains("train_accuracy") && Catch::Contains("'abc'"));
  write_text(path, header + "1,1,0.5,,0.5,0.1,1,1,0\n");
  CHECK_THROWS_WITH(History::read_csv(path), Catch::Contains(path + ":2") && Catch::Contains("val_loss"));
  write_text(path, header + "1.5,1,0.5,1,0.5,0.1,1,1,0\n");
  CHECK_THROWS_WITH(History::read_csv(path), Catch::Contains(path + ":2") && Catch::Contains("positive integer"));
  write_text(path, header + good_row + good_row);
  CHECK_THROWS_WITH(History::read_csv(path), Catch::Contains(path + ":3") && Catch::Contains("does not follow"));
  write_text(path, "epoch,loss\n" + good_row);
  CHECK_THROWS_WITH(History::read_csv(path), Catch::Contains(path + ":1") && Catch::Contains("header"));
  write_text(path, "");
  CHECK_THROWS_WITH(History::read_csv(path), Catch::Contains(path) && Catch::Contains("empty"));
  CHECK_THROWS_WITH(History::read_csv(dir.file("missing.csv")), Catch::Contains("missing.csv"));
  CHECK_THROWS_WITH(sample_history().write_csv(dir.file("no_such_dir/h.csv")), Catch::Contains("no_such_dir/h.csv"));
  CHECK(temporary_files(dir.path).empty());
}

TEST_CASE("ConfusionMatrix counts and accuracies by hand", "[metrics]") {
  ConfusionMatrix m(3);
  // true 0: predicted 0,0,1   true 1: predicted 1,1,1,2   true 2: predicted 0
  const int pairs[][2] = {{0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 2}, {2, 0}};
  for (const auto& p : pairs) m.add(p[0], p[1]);
  CHECK(m.counts() == std::vector<std::int64_t>{2, 1, 0, 0, 3, 1, 1, 0, 0});
  CHECK(m.count(1, 2) == 1);
  CHECK(m.total() == 8);
  CHECK(m.correct() == 5);
  CHECK(m.row_total(1) == 4);
  CHECK(m.accuracy() == 5.0 / 8);
  const auto per_class = m.per_class_accuracy();
  REQUIRE(per_class.size() == 3);
  CHECK(per_class[0] == 2.0 / 3);
  CHECK(per_class[1] == 0.75);
  CHECK(per_class[2] == 0.0);

  ConfusionMatrix sparse(2);
  sparse.add(0, 0);
  CHECK(std::isnan(sparse.per_class_accuracy()[1]));  // class 1 has no samples

  CHECK_THROWS_WITH(m.add(3, 0), Catch::Contains("add(3, 0)") && Catch::Contains("[0,3)"));
  CHECK_THROWS_WITH(m.add(0, -1), Catch::Contains("add(0, -1)"));
  CHECK_THROWS_WITH(ConfusionMatrix(2).accuracy(), Catch::Contains("no samples"));
  CHECK_THROWS_WITH(ConfusionMatrix(0), Catch::Contains("at least one class"));

  TempDir dir("confusion");
  m.write_csv(dir.file("cm.csv"), {"cat", "dog", "ship"});
  CHECK(read_file(dir.file("cm.csv")) == "true\\predicted,cat,dog,ship\ncat,2,1,0\ndog,0,3,1\nship,1,0,0\n");
  m.write_csv(dir.file("cm_index.csv"));
  CHECK(read_file(dir.file("cm_index.csv")) == "true\\predicted,0,1,2\n0,2,1,0\n1,0,3,1\n2,1,0,0\n");
  CHECK_THROWS_WITH(m.write_csv(dir.file("x.csv"), {"a", "b"}), Catch::Contains("2 class names for 3"));
  CHECK_THROWS_WITH(m.write_csv(dir.file("x.csv"), {"a", "b,c", "d"}), Catch::Contains("'b,c'"));
  CHECK(temporary_files(dir.path).empty());
}
