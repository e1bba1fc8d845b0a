// tinynet/core/shape.hpp: a tensor shape of rank 0..4 (NCHW order for images).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"

namespace tinynet {

class Shape {
 public:
  static constexpr int max_rank = 4;

  Shape() = default;
  // requires: at most 4 dimensions, each >= 0.
  Shape(std::initializer_list<std::int64_t> dims) {
    check(dims.size() <= static_cast<std::size_t>(max_rank), "Shape: rank ", dims.size(), " exceeds the maximum ",
          max_rank);
    for (auto d : dims) {
      check(d >= 0, "Shape: dimension ", rank_, " is negative (", d, ")");
      dims_[rank_++] = d;
    }
  }

  // requires: at most 4 dimensions, each >= 0.
  explicit Shape(const std::vector<std::int64_t>& dims) {
    check(dims.size() <= static_cast<std::size_t>(max_rank), "Shape: rank ", dims.size(), " exceeds the maximum ",
          max_rank);
    for (auto d : dims) {
      check(d >= 0, "Shape: dimension ", rank_, " is negative (", d, ")");
      dims_[rank_++] = d;
    }
  }

  int rank() const { return rank_; }
  // (the checks on hot paths build their messages only when they fail: no allocation otherwise)
  std::int64_t operator[](int i) const {
    if (i < 0 || i >= rank_) fail("Shape ", str(), ": no dimension ", i);
    return dims_[i];
  }
  std::int64_t& operator[](int i) {
    if (i < 0 || i >= rank_) fail("Shape ", str(), ": no dimension ", i);
    return dims_[i];
  }
  // ensures: product of all dimensions (1 for rank 0).
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  // ensures: the shape without its first (batch) dimension.
  Shape drop_front() const {
    Shape s;
    for (int i = 1; i < rank_; ++i) s.dims_[s.rank_++] = dims_[i];
    return s;
  }
  // ensures: a shape with `first` prepended (e.g. a batch size).
  Shape prepend(std::int64_t first) const {
    check(rank_ < max_rank, "Shape ", str(), ": cannot prepend to a rank-4 shape");
    Shape s;
    s.dims_[s.rank_++] = first;
    for (int i = 0; i < rank_; ++i) s.dims_[s.rank_++] = dims_[i];
    return s;
  }

  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[i] != o.dims_[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  // ensures: "[8,3,32,32]".
  std::string str() const {
    std::ostringstream os;
    os << '[';
    for (int i = 0; i < rank_; ++i) os << (i ? "," : "") << dims_[i];
    os << ']';
    return os.str();
  }

 private:
  std::array<std::int64_t, max_rank> dims_{};
  int rank_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

}  // namespace tinynet
