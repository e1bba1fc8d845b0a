#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/cli.hpp"

using tinynet_examples::CommandLine;

namespace {
// ensures: cli parsed from the given arguments (argv[0] = "prog").
void parse(CommandLine& cli, std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(&a[0]);
  cli.parse(static_cast<int>(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("CommandLine tells options named on the command line from defaults", "[cli]") {
  CommandLine cli("prog", "test");
  cli.option("limit", "0", "images");
  cli.option("size", "48", "resolution");
  cli.option("weights", "", "path");
  cli.flag("quick", "short run");
  parse(cli, {"--size=48", "--quick"});
  CHECK(cli.integer("limit") == 0);
  CHECK_FALSE(cli.passed("limit"));  // --quick may replace the default
  CHECK(cli.given("limit"));         // it has a value all the same
  CHECK(cli.passed("size"));         // named, even with the default value
  CHECK(cli.integer("size") == 48);
  CHECK(cli.passed("quick"));
  CHECK(cli.is_set("quick"));
  CHECK_FALSE(cli.given("weights"));
  CHECK_FALSE(cli.passed("weights"));
}

TEST_CASE("CommandLine reads --name value and --name=value", "[cli]") {
  CommandLine cli("prog", "test");
  cli.option("epochs", "15", "epochs");
  cli.option("lr", "0.001", "rate");
  parse(cli, {"--epochs", "3", "--lr=0.5"});
  CHECK(cli.integer("epochs") == 3);
  CHECK(cli.number("lr") == 0.5);
  CHECK(cli.passed("epochs"));
  CHECK(cli.passed("lr"));
}
