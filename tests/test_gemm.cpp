#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tinynet/backend/cpu/gemm.hpp"

using namespace tinynet;

namespace {

struct GemmCase {
  bool trans_a, trans_b;
  std::int64_t M, N, K;
  float beta;
};

// Partial 6-row slivers, 16-column panels and 32-column kernel calls (AVX-512: N = 23 and 45
// end in a partial second panel, 37 in a lone partial one, 144 in a lone whole one), more
// than one block of rows (144), depth (256) and columns (3072); leading dimensions wider
// than the matrices.
const GemmCase cases[] = {
    {false, false, 7, 23, 40, 0}, {true, false, 150, 37, 300, 1}, {false, true, 33, 3100, 70, 0},
    {true, true, 50, 45, 513, 1}, {false, false, 64, 144, 64, 0},  {false, true, 13, 5, 2, 1},
};

// ensures: the largest |C - expected| over the M x N result, each term divided by the sum of
// the magnitudes of its products (float rounding grows with them), or 1 when any value
// outside the M x N block of C (the ldc padding) changed.
template <class T, class Gemm>
double worst_error(const GemmCase& k, Gemm&& gemm) {
  std::mt19937 random(static_cast<unsigned>(k.M * 131 + k.N * 7 + k.K));
  std::uniform_real_distribution<double> value(-1, 1);
  const std::int64_t lda = (k.trans_a ? k.M : k.K) + 3, ldb = (k.trans_b ? k.K : k.N) + 1, ldc = k.N + 2;
  std::vector<T> A(static_cast<std::size_t>((k.trans_a ? k.K : k.M) * lda));
  std::vector<T> B(static_cast<std::size_t>((k.trans_b ? k.N : k.K) * ldb));
  std::vector<T> C(static_cast<std::size_t>(k.M * ldc));
  for (T& v : A) v = static_cast<T>(value(random));
  for (T& v : B) v = static_cast<T>(value(random));
  for (T& v : C) v = static_cast<T>(value(random));
  const std::vector<T> before = C;
  const double alpha = 0.5;
  gemm(k.trans_a, k.trans_b, k.M, k.N, k.K, static_cast<T>(alpha), A.data(), lda, B.data(), ldb, static_cast<T>(k.beta),
       C.data(), ldc);
  double worst = 0;
  for (std::int64_t i = 0; i < k.M; ++i) {
    for (std::int64_t j = 0; j < k.N; ++j) {
      double sum = 0, magnitude = 0;
      for (std::int64_t p = 0; p < k.K; ++p) {
        const double term = double(k.trans_a ? A[p * lda + i] : A[i * lda + p]) *
                            double(k.trans_b ? B[j * ldb + p] : B[p * ldb + j]);
        sum += term;
        magnitude += std::abs(term);
      }
      const double expected = alpha * sum + k.beta * double(before[i * ldc + j]);
      worst = std::max(worst, std::abs(expected - double(C[i * ldc + j])) / (alpha * magnitude + 1));
    }
    for (std::int64_t j = k.N; j < ldc; ++j)
      if (C[i * ldc + j] != before[i * ldc + j]) return 1;
  }
  return worst;
}

std::string name_of(const GemmCase& k) {
  return std::string(k.trans_a ? "T" : "N") + (k.trans_b ? "T" : "N") + " " + std::to_string(k.M) + "x" +
         std::to_string(k.N) + "x" + std::to_string(k.K) + " beta " + std::to_string(int(k.beta));
}

}  // namespace

TEST_CASE("The packed float GEMM equals a double reference: every transpose, partial tiles, several blocks",
          "[gemm]") {
#ifdef TINYNET_REGISTER_KERNEL
  for (const GemmCase& k : cases) {
    INFO(name_of(k));
    CHECK(worst_error<float>(k, [](auto... args) { cpu::packed::gemm(args...); }) < 1e-6);
  }
#else
  WARN("skipped: tinynet's register kernel needs AVX2 + FMA (this build uses Eigen's GEMM)");
#endif
}

TEST_CASE("cpu::gemm, threaded, in float and double, equals a double reference", "[gemm]") {
  for (const GemmCase& k : cases) {
    INFO(name_of(k));
    CHECK(worst_error<float>(k, [](auto... args) { cpu::gemm<float>(args...); }) < 1e-6);
    CHECK(worst_error<double>(k, [](auto... args) { cpu::gemm<double>(args...); }) < 1e-14);
  }
}

TEST_CASE("The packed GEMM takes the shapes it is faster at", "[gemm]") {
  CHECK(cpu::packed::suits(256, 144, 64));      // a pointwise convolution per sample
  CHECK_FALSE(cpu::packed::suits(64, 10, 256));  // a Dense layer's 10 outputs
  CHECK_FALSE(cpu::packed::suits(64, 147, 36864));  // a first layer's kernel gradient
}

TEST_CASE("cpu::gemm_grouped multiplies matrices stored side by side as one, grouped by columns or by depth",
          "[gemm]") {
  const auto check = [](auto zero, bool trans_b, std::int64_t group) {
    using T = decltype(zero);
    // X: 40 rows (its K, or its N when transposed) by 33 grouped indices, in groups of 7 (the
    // last of 5) or 20 (runs the 8 x 8 transposes of the transposed packing cover, with a
    // remainder), each group a 40 x group block with rows `group` apart, blocks 3 further apart.
    const std::int64_t M = 36, rows = 40, grouped = 33, stride = rows * group + 3;
    std::mt19937 random(trans_b ? 3 : 4);
    std::uniform_real_distribution<double> value(-1, 1);
    std::vector<T> B(static_cast<std::size_t>((grouped + group - 1) / group * stride));
    std::vector<T> A(static_cast<std::size_t>(M * (trans_b ? grouped : rows)));
    for (T& v : B) v = static_cast<T>(value(random));
    for (T& v : A) v = static_cast<T>(value(random));
    const auto x = [&](std::int64_t r, std::int64_t j) {  // X(r, j) with j grouped
      return double(B[j / group * stride + r * group + j % group]);
    };
    const std::int64_t N = trans_b ? rows : grouped, K = trans_b ? grouped : rows;
    std::vector<T> C(static_cast<std::size_t>(M * N), T(1));
    cpu::gemm_grouped<T>(trans_b, M, N, K, T(1), A.data(), K, B.data(), group, group, stride, T(1), C.data(), N);
    double worst = 0;
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t j = 0; j < N; ++j) {
        double expected = 1;
        for (std::int64_t k = 0; k < K; ++k) expected += double(A[i * K + k]) * (trans_b ? x(j, k) : x(k, j));
        worst = std::max(worst, std::abs(expected - double(C[i * N + j])));
      }
    return worst;
  };
  for (bool trans_b : {false, true})
    for (std::int64_t group : {7, 20}) {
      INFO((trans_b ? "grouped depth" : "grouped columns") << ", groups of " << group);
      CHECK(check(0.0f, trans_b, group) < 1e-5);
      CHECK(check(0.0, trans_b, group) < 1e-12);
    }
}
