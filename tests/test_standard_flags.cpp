#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/standard_flags.hpp"

using namespace tinynet_examples;

namespace {
// ensures: `app` parsed from the given arguments (argv[0] = "prog"); CLI11's errors propagate.
void parse(CLI::App& app, std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  app.parse(static_cast<int>(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("Standard flags leave the recipe's settings alone unless given", "[flags]") {
  CLI::App app("test", "prog");
  StandardFlags flags;
  add_standard_flags(app, flags, "out/default");
  parse(app, {"--data", "d"});
  CifarJob job;
  job.epochs = 7;
  job.batch_size = 1024;
  job.learning_rate = 1.5;
  job.validation_fraction = 0;
  apply_common_flags(flags, job);
  CHECK(job.epochs == 7);
  CHECK(job.batch_size == 1024);
  CHECK(job.learning_rate == 1.5);
  CHECK(job.validation_fraction == 0);
  CHECK(job.out_dir == "out/default");
  CHECK(job.seed == 1);
  CHECK(job.workers == 2);
  CHECK(job.device == tinynet::Device::cpu);
  CHECK_FALSE(job.resume);
  CHECK(flags.data == "d");
  CHECK(flags.limit == 0);
  CHECK(app.count("--limit") == 0);  // cifar_compare --quick replaces only an unnamed --limit
}

TEST_CASE("Standard flags read --name value and --name=value into the job", "[flags]") {
  CLI::App app("test", "prog");
  StandardFlags flags;
  add_standard_flags(app, flags, "out/default");
  parse(app, {"--epochs", "3", "--lr=0.5", "--batch", "25", "--seed=9", "--out", "o", "--validation", "0.2",
              "--resume", "--limit", "0", "--threads", "4"});
  CifarJob job;
  apply_common_flags(flags, job);
  CHECK(job.epochs == 3);
  CHECK(job.learning_rate == 0.5);
  CHECK(job.batch_size == 25);
  CHECK(job.seed == 9);
  CHECK(job.out_dir == "o");
  CHECK(job.validation_fraction == 0.2);
  CHECK(job.resume);
  CHECK(app.count("--limit") == 1);  // named, even with the default value
  CHECK(flags.threads == 4);
}

TEST_CASE("Standard flags reject unknown options and bad values", "[flags]") {
  const std::vector<std::vector<std::string>> bad = {
      {"--epoch", "3"}, {"--epochs", "three"}, {"--device", "tpu"}, {"--batch", "0"}, {"--lr"}, {"extra"}};
  for (const auto& args : bad) {
    CLI::App app("test", "prog");
    StandardFlags flags;
    add_standard_flags(app, flags, "out");
    CHECK_THROWS_AS(parse(app, args), CLI::ParseError);
  }
}
