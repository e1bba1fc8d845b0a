// tinynet/core/random.hpp: a seeded random generator whose state can be saved.
//
// All randomness in tinynet (initialisers, dropout, shuffling, augmentation)
// comes from Rng objects created from a user seed, so runs are reproducible and a
// checkpoint can store and restore the exact state.
#pragma once

#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "tinynet/core/error.hpp"

namespace tinynet {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : engine_(seed) {}

  // ensures: uniform in [lo, hi).
  double uniform(double lo = 0.0, double hi = 1.0) { return std::uniform_real_distribution<double>(lo, hi)(engine_); }
  double normal(double mean = 0.0, double stddev = 1.0) {
    return std::normal_distribution<double>(mean, stddev)(engine_);
  }
  // ensures: uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(engine_); }
  std::uint64_t next() { return engine_(); }
  // ensures: a new generator whose seed is drawn from this one (for worker threads).
  Rng split() { return Rng(engine_()); }

  // ensures: text that restore() turns back into the same generator state.
  std::string state() const {
    std::ostringstream os;
    os << engine_;
    return os.str();
  }
  // requires: `state` from state(). ensures: the generator as it was then; an Error saying what
  // is wrong with the text otherwise (the generator unchanged).
  void restore(const std::string& state) {
    std::istringstream is(state);
    std::mt19937_64 restored;
    is >> restored;
    check(!is.fail(), "Rng::restore: corrupt generator state (", state.size(), " bytes; expected an mt19937_64 ",
          "state in text form, as state() writes it)");
    is >> std::ws;
    check(is.eof(), "Rng::restore: generator state has extra text after the mt19937_64 state (at character ",
          static_cast<std::int64_t>(is.tellg()), " of ", state.size(), ")");
    engine_ = restored;
  }

  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace tinynet
