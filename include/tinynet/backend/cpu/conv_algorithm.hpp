// tinynet/backend/cpu/conv_algorithm.hpp: which CPU path computes a convolution, and the
// measured choice among the paths.
//
// ConvAlgorithm::automatic (the default): the first time a convolution that more than one
// path can compute (im2col + GEMM always; Winograd F(2x2,3x3), F(3x3,3x3) and F(4x4,3x3) for 3x3 stride-1
// kernels; the whole-plane GEMM where the input plane has fewer pixels than the kernel taps)
// runs with a given shape and direction, each path is run once to warm up, then timed in
// three rounds that take the paths in turn, each path keeping its fastest time (on the first
// samples of a large batch: backend/cpu/conv2d.hpp's measured_samples()), and the fastest is
// kept for that shape (batch, geometry, scalar type, threads, direction) for the rest of the
// process, like cuDNN's algorithm search. set_conv_algorithm(), or
// TINYNET_CONV_ALGORITHM=auto|im2col|winograd2|winograd3|winograd4|plane read at the first convolution,
// forces one path wherever it applies (im2col elsewhere). Measured choices may differ
// between runs on a busy machine, and with them the last bits of a result: force a path for
// bit-identical reruns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"

namespace tinynet {
namespace cpu {

enum class ConvAlgorithm { automatic, im2col, winograd_2x2, winograd_3x3, winograd_4x4, whole_plane };

inline const char* conv_algorithm_name(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::im2col: return "im2col";
    case ConvAlgorithm::winograd_2x2: return "winograd2";
    case ConvAlgorithm::winograd_3x3: return "winograd3";
    case ConvAlgorithm::winograd_4x4: return "winograd4";
    case ConvAlgorithm::whole_plane: return "plane";
    default: return "auto";
  }
}

// ensures: the algorithm named `name` (as conv_algorithm_name writes it); an Error naming
// `name` and the accepted names otherwise.
inline ConvAlgorithm parse_conv_algorithm(const std::string& name) {
  for (ConvAlgorithm a : {ConvAlgorithm::automatic, ConvAlgorithm::im2col, ConvAlgorithm::winograd_2x2,
                          ConvAlgorithm::winograd_3x3, ConvAlgorithm::winograd_4x4, ConvAlgorithm::whole_plane})
    if (name == conv_algorithm_name(a)) return a;
  fail("convolution algorithm '", name, "' is not one of auto, im2col, winograd2, winograd3, winograd4, plane");
}

// ensures: the output tile size m of a Winograd algorithm F(m x m, 3x3); 0 for the others.
inline int winograd_output_tile(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::winograd_2x2: return 2;
    case ConvAlgorithm::winograd_3x3: return 3;
    case ConvAlgorithm::winograd_4x4: return 4;
    default: return 0;
  }
}

namespace detail {
struct ConvChoice {
  ConvAlgorithm algorithm;
  std::string timings;  // "im2col 1.234 ms, winograd2 0.812 ms, ..."
};
struct ConvAlgorithmState {
  std::mutex mutex;
  bool environment_read = false;
  ConvAlgorithm setting = ConvAlgorithm::automatic;
  std::atomic<unsigned> generation{0};  // changes with every set_conv_algorithm(); read without the mutex
  std::map<std::string, ConvChoice> chosen;
};
inline ConvAlgorithmState& conv_algorithm_state() {
  static ConvAlgorithmState state;
  return state;
}
// requires: the state's mutex held.
inline void read_conv_algorithm_environment(ConvAlgorithmState& s) {
  if (s.environment_read) return;
  s.environment_read = true;
  if (const char* env = std::getenv("TINYNET_CONV_ALGORITHM")) s.setting = parse_conv_algorithm(env);
}
}  // namespace detail

// ensures: every convolution from now on uses `a` where it applies (automatic: the
// measured choice); measured choices are forgotten.
inline void set_conv_algorithm(ConvAlgorithm a) {
  detail::ConvAlgorithmState& s = detail::conv_algorithm_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.environment_read = true;
  s.setting = a;
  ++s.generation;
  s.chosen.clear();
}

// ensures: the setting in force (TINYNET_CONV_ALGORITHM applied on the first call).
inline ConvAlgorithm conv_algorithm() {
  detail::ConvAlgorithmState& s = detail::conv_algorithm_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  detail::read_conv_algorithm_environment(s);
  return s.setting;
}

// ensures: a number that changes whenever set_conv_algorithm() is called (a layer keeping
// a choice compares it to know its choice is still valid); no lock: every convolution asks.
inline unsigned conv_algorithm_generation() {
  return detail::conv_algorithm_state().generation.load(std::memory_order_acquire);
}

// ensures: one line per measured choice so far: "<shape key>: <algorithm> (<timings>)".
inline std::vector<std::string> conv_algorithm_report() {
  detail::ConvAlgorithmState& s = detail::conv_algorithm_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  std::vector<std::string> lines;
  for (const auto& [key, choice] : s.chosen)
    lines.push_back(key + ": " + conv_algorithm_name(choice.algorithm) + " (" + choice.timings + ")");
  return lines;
}

// requires: candidates not empty, its first the path used when the setting names none of
// them; run(a) computes the operation with algorithm a.
// ensures: the algorithm for the shape `key`: the forced setting when it is a candidate,
// else (automatic) the cached choice, measured the first time as the header says. The
// caller runs the returned algorithm itself (the outputs of the measuring runs are not kept).
template <class Run>
ConvAlgorithm choose_conv_algorithm(const std::string& key, const std::vector<ConvAlgorithm>& candidates, Run&& run) {
  detail::ConvAlgorithmState& s = detail::conv_algorithm_state();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    detail::read_conv_algorithm_environment(s);
    if (s.setting != ConvAlgorithm::automatic) {
      for (ConvAlgorithm a : candidates)
        if (a == s.setting) return a;
      return candidates.front();
    }
    const auto found = s.chosen.find(key);
    if (found != s.chosen.end()) return found->second.algorithm;
  }
  for (ConvAlgorithm a : candidates) run(a);  // warm-up: sizes the buffers, fills the caches
  // Rounds that take every candidate in turn, each keeping its fastest: a slow spell of the
  // machine then costs one candidate one round, not all of its timings.
  std::vector<double> fastest(candidates.size(), 0);
  for (int round = 0; round < 3; ++round)
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      run(candidates[i]);
      const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fastest[i] = round == 0 ? took : std::min(fastest[i], took);
    }
  std::size_t best = 0;
  std::ostringstream timings;
  timings.precision(4);
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    timings << (i == 0 ? "" : ", ") << conv_algorithm_name(candidates[i]) << " " << fastest[i] * 1e3 << " ms";
    if (fastest[i] < fastest[best]) best = i;
  }
  std::lock_guard<std::mutex> lock(s.mutex);
  s.chosen[key] = detail::ConvChoice{candidates[best], timings.str()};
  return candidates[best];
}

}  // namespace cpu
}  // namespace tinynet
