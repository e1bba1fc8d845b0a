#include <catch2/catch.hpp>

#include <cstdlib>

#include "tinynet/core/threading.hpp"

namespace {
// ensures: how many of the pool's threads (after set_num_threads(threads)) compute
// 1e-30f * 1e-10f (a denormal result) as 0, and read the denormal 1e-40f as 0.
struct FlushCounts {
  int threads = 0, flushed_results = 0, zeroed_inputs = 0;
};
FlushCounts count_flushing_threads() {
  int threads = 0, flushed_results = 0, zeroed_inputs = 0;
#pragma omp parallel reduction(+ : threads, flushed_results, zeroed_inputs)
  {
    volatile float small = 1e-30f, tiny = 1e-10f, denormal = 1e-40f;
    threads += 1;
    flushed_results += (small * tiny == 0.0f) ? 1 : 0;
    zeroed_inputs += (denormal * 1.0f == 0.0f) ? 1 : 0;
  }
  return FlushCounts{threads, flushed_results, zeroed_inputs};
}
}  // namespace

TEST_CASE("Denormals are flushed on the caller and every pool thread by default, and can be kept", "[threading]") {
  if (!tinynet::can_flush_denormals()) {
    WARN("SKIPPED: this target has no FTZ/DAZ control (not x86 SSE2)");
    return;
  }
  const int threads = 3;  // more than one, even on a 1-core machine
  REQUIRE(tinynet::flush_denormals());  // the default
  tinynet::set_num_threads(threads);
  FlushCounts on = count_flushing_threads();
  CHECK(on.threads == threads);
  CHECK(on.flushed_results == threads);
  CHECK(on.zeroed_inputs == threads);
  CHECK(tinynet::flushes_denormals_on_this_thread());

  tinynet::set_flush_denormals(false);
  FlushCounts off = count_flushing_threads();
  CHECK(off.flushed_results == 0);
  CHECK(off.zeroed_inputs == 0);
  CHECK_FALSE(tinynet::flushes_denormals_on_this_thread());
  tinynet::set_num_threads(2);  // a resized pool keeps the choice
  CHECK(count_flushing_threads().flushed_results == 0);

  tinynet::set_flush_denormals(true);
  CHECK(count_flushing_threads().flushed_results == 2);
  tinynet::init_threads_from_env();
}

TEST_CASE("TINYNET_FLUSH_DENORMALS accepts 0 or 1 only", "[threading]") {
  ::setenv("TINYNET_FLUSH_DENORMALS", "yes", 1);
  CHECK_THROWS_WITH(tinynet::init_threads_from_env(), Catch::Contains("TINYNET_FLUSH_DENORMALS='yes'"));
  ::setenv("TINYNET_FLUSH_DENORMALS", "0", 1);
  tinynet::init_threads_from_env();
  CHECK_FALSE(tinynet::flush_denormals());
  ::setenv("TINYNET_FLUSH_DENORMALS", "1", 1);
  tinynet::init_threads_from_env();
  CHECK(tinynet::flush_denormals());
  ::unsetenv("TINYNET_FLUSH_DENORMALS");
}
