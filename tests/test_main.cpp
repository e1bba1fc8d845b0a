// The single Catch2 main for every test executable; applies TINYNET_NUM_THREADS first.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "tinynet/core/threading.hpp"

int main(int argc, char* argv[]) {
  tinynet::init_threads_from_env();
  return Catch::Session().run(argc, argv);
}
