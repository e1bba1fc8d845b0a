// benchmarks/bench_flags.hpp: the flags the benchmark programs share, declared once (CLI11).
//
// Beside the examples' shared flags (examples/common/standard_flags.hpp: --batch, --threads,
// --size, the data-parallel flags), the benchmarks share how they time: --warmup untimed
// steps, then --repeats timed repeats (the median is reported) of at least --min-time seconds.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "common/standard_flags.hpp"

namespace tinynet_bench {

struct Timing {
  int warmup = 2;
  int repeats = 5;
  double min_seconds = 1.0;
};

// ensures: --warmup, --repeats and --min-time declared on `app`, read into `timing`.
inline void add_timing_flags(CLI::App& app, Timing& timing) {
  app.add_option("--repeats", timing.repeats, "timed repeats (the median is reported)")
      ->check(tinynet_examples::at_least_one)
      ->capture_default_str();
  app.add_option("--warmup", timing.warmup, "untimed steps before timing")
      ->check(tinynet_examples::at_least_one)
      ->capture_default_str();
  app.add_option("--min-time", timing.min_seconds, "seconds each repeat lasts at least")->capture_default_str();
}

// ensures: --model declared on `app` (the models of bench_models.hpp), read into `model`.
inline void add_model_flag(CLI::App& app, std::string& model) {
  app.add_option("--model", model,
                 "scratch (notebook CNN), fast (the fast recipe's whitened CNN) or resnet50 (with the GAP-256-10 head)")
      ->check(CLI::IsMember({"scratch", "fast", "resnet50"}))
      ->capture_default_str();
}

}  // namespace tinynet_bench
