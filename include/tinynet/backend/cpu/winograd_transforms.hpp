// tinynet/backend/cpu/winograd_transforms.hpp: the tile transforms of Winograd's minimal
// filtering algorithms F(2x2,3x3), F(3x3,3x3) and F(4x4,3x3) (Lavin & Gray, arXiv
// 1509.09308).
//
// A 3x3 correlation of an alpha x alpha input tile d (alpha = m + 2) gives an m x m output
// tile Y = A^T [(G g G^T) . (B^T d B)] A, with "." the element-wise product. F(2x2,3x3)
// uses the interpolation points 0, 1, -1 (alpha 4: 16 multiplications for 4 outputs instead
// of 36); F(3x3,3x3) the points 0, 1, -1, 2 (alpha 5: 25 for 9 instead of 81); F(4x4,3x3)
// the points 0, 1, -1, 2, -2 (alpha 6: 36 for 16 instead of 144). The float rounding error
// grows with the tile (docs/performance.md states the measured bounds).
//
// Each transform is written out term by term (a generic matrix product would multiply by
// the zeros and ones too: the compiler may not drop x * 0 for floats). The 2-D transforms
// apply the 1-D one to the columns, then to the rows (separable_2d), on any element type E
// with +, - and a scalar product: T itself or Lanes<T> (eight tiles at once, so the
// arithmetic runs in SIMD registers).
#pragma once

#include <type_traits>

namespace tinynet {
namespace cpu {

#if defined(__GNUC__) && defined(__AVX__)
// Eight floats in one AVX register (the GCC/Clang vector extension): the transforms' values
// stay in registers. Without AVX the lanes are a plain array (a 32-byte vector passed by value
// would change the calling convention there).
typedef float FloatLanesVector __attribute__((vector_size(32)));
template <class T>
using LaneStorage = std::conditional_t<std::is_same_v<T, float>, FloatLanesVector, T[8]>;
#else
template <class T>
using LaneStorage = T[8];
#endif

// Eight values of T handled together (one AVX register of floats); v[l] reads or writes lane l.
template <class T>
struct Lanes {
  static constexpr int count = 8;
  LaneStorage<T> v;

  friend Lanes operator+(Lanes a, const Lanes& b) {
    if constexpr (std::is_array_v<LaneStorage<T>>) {
      for (int l = 0; l < count; ++l) a.v[l] += b.v[l];
    } else {
      a.v += b.v;
    }
    return a;
  }
  friend Lanes operator-(Lanes a, const Lanes& b) {
    if constexpr (std::is_array_v<LaneStorage<T>>) {
      for (int l = 0; l < count; ++l) a.v[l] -= b.v[l];
    } else {
      a.v -= b.v;
    }
    return a;
  }
  friend Lanes operator*(T s, Lanes a) {
    if constexpr (std::is_array_v<LaneStorage<T>>) {
      for (int l = 0; l < count; ++l) a.v[l] *= s;
    } else {
      a.v *= s;
    }
    return a;
  }
};

// F(2x2,3x3): B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5;
// 0 0 1], A^T = [1 1 1 0; 0 1 -1 -1].
template <class T>
struct WinogradF2 {
  static constexpr int m = 2, alpha = 4;

  template <class E>
  static void input_1d(const E (&d)[alpha], E (&out)[alpha]) {
    out[0] = d[0] - d[2];
    out[1] = d[1] + d[2];
    out[2] = d[2] - d[1];
    out[3] = d[1] - d[3];
  }
  template <class E>
  static void kernel_1d(const E (&g)[3], E (&out)[alpha]) {
    out[0] = g[0];
    out[1] = T(0.5) * (g[0] + g[1] + g[2]);
    out[2] = T(0.5) * (g[0] - g[1] + g[2]);
    out[3] = g[2];
  }
  template <class E>
  static void output_1d(const E (&v)[alpha], E (&out)[m]) {
    out[0] = v[0] + v[1] + v[2];
    out[1] = v[1] - v[2] - v[3];
  }
  template <class E>
  static void output_gradient_1d(const E (&y)[m], E (&out)[alpha]) {  // A y
    out[0] = y[0];
    out[1] = y[0] + y[1];
    out[2] = y[0] - y[1];
    out[3] = T(-1) * y[1];
  }
  template <class E>
  static void kernel_gradient_1d(const E (&u)[alpha], E (&out)[3]) {  // G^T u
    const E half_sum = T(0.5) * (u[1] + u[2]);
    out[0] = u[0] + half_sum;
    out[1] = T(0.5) * (u[1] - u[2]);
    out[2] = half_sum + u[3];
  }
};

// F(3x3,3x3): B^T = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1],
// G = [1/2 0 0; -1/2 -1/2 -1/2; -1/6 1/6 -1/6; 1/6 1/3 2/3; 0 0 1], A^T = [1 1 1 1 0;
// 0 1 -1 2 0; 0 1 1 4 1] (points 0, 1, -1, 2: alpha 5, 25 multiplications for 9 outputs
// instead of 81). A 3x3 or 6x6 plane is covered by whole tiles, where F(4x4,3x3) would
// compute 16 outputs per 9 kept.
template <class T>
struct WinogradF3 {
  static constexpr int m = 3, alpha = 5;

  template <class E>
  static void input_1d(const E (&d)[alpha], E (&out)[alpha]) {
    const E d3_minus_d1 = d[3] - d[1];
    out[0] = T(2) * (d[0] - d[2]) + d3_minus_d1;
    out[1] = d3_minus_d1 - d[1] - d[2];
    out[2] = d[3] + T(2) * d[1] - T(3) * d[2];
    out[3] = d3_minus_d1;
    out[4] = T(2) * (d[1] - d[3]) + d[4] - d[2];
  }
  template <class E>
  static void kernel_1d(const E (&g)[3], E (&out)[alpha]) {
    const E outer = g[0] + g[2];
    out[0] = T(0.5) * g[0];
    out[1] = T(-0.5) * (outer + g[1]);
    out[2] = T(-1.0 / 6) * (outer - g[1]);
    out[3] = T(1.0 / 6) * g[0] + T(1.0 / 3) * g[1] + T(2.0 / 3) * g[2];
    out[4] = g[2];
  }
  template <class E>
  static void output_1d(const E (&v)[alpha], E (&out)[m]) {
    const E sum12 = v[1] + v[2];
    out[0] = v[0] + sum12 + v[3];
    out[1] = v[1] - v[2] + T(2) * v[3];
    out[2] = sum12 + T(4) * v[3] + v[4];
  }
  template <class E>
  static void output_gradient_1d(const E (&y)[m], E (&out)[alpha]) {  // A y
    const E even = y[0] + y[2];
    out[0] = y[0];
    out[1] = even + y[1];
    out[2] = even - y[1];
    out[3] = y[0] + T(2) * y[1] + T(4) * y[2];
    out[4] = y[2];
  }
  template <class E>
  static void kernel_gradient_1d(const E (&u)[alpha], E (&out)[3]) {  // G^T u
    out[0] = T(0.5) * (u[0] - u[1]) + T(1.0 / 6) * (u[3] - u[2]);
    out[1] = T(-0.5) * u[1] + T(1.0 / 6) * u[2] + T(1.0 / 3) * u[3];
    out[2] = T(-0.5) * u[1] - T(1.0 / 6) * u[2] + T(2.0 / 3) * u[3] + u[4];
  }
};

// F(4x4,3x3): B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
// 0 2 -1 -2 1 0; 0 4 0 -5 0 1], G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
// 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1], A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0;
// 0 1 1 4 4 0; 0 1 -1 8 -8 1].
template <class T>
struct WinogradF4 {
  static constexpr int m = 4, alpha = 6;

  template <class E>
  static void input_1d(const E (&d)[alpha], E (&out)[alpha]) {
    const E d4_minus_4d2 = d[4] - T(4) * d[2], d3_minus_4d1 = d[3] - T(4) * d[1];
    const E d4_minus_d2 = d[4] - d[2], d3_minus_d1 = d[3] - d[1];
    out[0] = T(4) * d[0] - T(5) * d[2] + d[4];
    out[1] = d4_minus_4d2 + d3_minus_4d1;
    out[2] = d4_minus_4d2 - d3_minus_4d1;
    out[3] = d4_minus_d2 + T(2) * d3_minus_d1;
    out[4] = d4_minus_d2 - T(2) * d3_minus_d1;
    out[5] = T(4) * d[1] - T(5) * d[3] + d[5];
  }
  template <class E>
  static void kernel_1d(const E (&g)[3], E (&out)[alpha]) {
    const E outer = g[0] + g[2];
    out[0] = T(0.25) * g[0];
    out[1] = T(-1.0 / 6) * (outer + g[1]);
    out[2] = T(-1.0 / 6) * (outer - g[1]);
    out[3] = T(1.0 / 24) * g[0] + T(1.0 / 12) * g[1] + T(1.0 / 6) * g[2];
    out[4] = T(1.0 / 24) * g[0] - T(1.0 / 12) * g[1] + T(1.0 / 6) * g[2];
    out[5] = g[2];
  }
  template <class E>
  static void output_1d(const E (&v)[alpha], E (&out)[m]) {
    const E sum12 = v[1] + v[2], diff12 = v[1] - v[2], sum34 = v[3] + v[4], diff34 = v[3] - v[4];
    out[0] = v[0] + sum12 + sum34;
    out[1] = diff12 + T(2) * diff34;
    out[2] = sum12 + T(4) * sum34;
    out[3] = diff12 + T(8) * diff34 + v[5];
  }
  template <class E>
  static void output_gradient_1d(const E (&y)[m], E (&out)[alpha]) {  // A y
    const E even = y[0] + y[2], odd = y[1] + y[3];
    const E even4 = y[0] + T(4) * y[2], odd4 = T(2) * y[1] + T(8) * y[3];
    out[0] = y[0];
    out[1] = even + odd;
    out[2] = even - odd;
    out[3] = even4 + odd4;
    out[4] = even4 - odd4;
    out[5] = y[3];
  }
  template <class E>
  static void kernel_gradient_1d(const E (&u)[alpha], E (&out)[3]) {  // G^T u
    const E sum12 = u[1] + u[2], sum34 = u[3] + u[4];
    out[0] = T(0.25) * u[0] - T(1.0 / 6) * sum12 + T(1.0 / 24) * sum34;
    out[1] = T(1.0 / 6) * (u[2] - u[1]) + T(1.0 / 12) * (u[3] - u[4]);
    out[2] = T(1.0 / 6) * (sum34 - sum12) + u[5];
  }
};

// ensures: out = T d T^T for the 1-D transform T that `apply(in, out)` computes (n values to
// k): applied to every column of d, then to every row of the result.
template <int n, int k, class E, class Apply>
void separable_2d(const E (&d)[n][n], E (&out)[k][k], Apply apply) {
  E columns[n][k];  // columns[j] = T applied to column j of d
  for (int j = 0; j < n; ++j) {
    E column[n];
    for (int i = 0; i < n; ++i) column[i] = d[i][j];
    apply(column, columns[j]);
  }
  for (int i = 0; i < k; ++i) {
    E row[n];
    for (int j = 0; j < n; ++j) row[j] = columns[j][i];
    apply(row, out[i]);
  }
}

// ensures: out = B^T d B (alpha x alpha).
template <class F, class E>
void winograd_input_2d(const E (&d)[F::alpha][F::alpha], E (&out)[F::alpha][F::alpha]) {
  separable_2d(d, out, [](const auto& in, auto& result) { F::input_1d(in, result); });
}

// ensures: out = G g G^T (alpha x alpha) for a 3x3 kernel g.
template <class F, class E>
void winograd_kernel_2d(const E (&g)[3][3], E (&out)[F::alpha][F::alpha]) {
  separable_2d(g, out, [](const auto& in, auto& result) { F::kernel_1d(in, result); });
}

// ensures: out = A^T v A (m x m).
template <class F, class E>
void winograd_output_2d(const E (&v)[F::alpha][F::alpha], E (&out)[F::m][F::m]) {
  separable_2d(v, out, [](const auto& in, auto& result) { F::output_1d(in, result); });
}

// ensures: out = A y A^T (alpha x alpha) for an m x m output-tile gradient y.
template <class F, class E>
void winograd_output_gradient_2d(const E (&y)[F::m][F::m], E (&out)[F::alpha][F::alpha]) {
  separable_2d(y, out, [](const auto& in, auto& result) { F::output_gradient_1d(in, result); });
}

// ensures: out = G^T u G (3 x 3) for an alpha x alpha gradient u of the transformed kernel.
template <class F, class E>
void winograd_kernel_gradient_2d(const E (&u)[F::alpha][F::alpha], E (&out)[3][3]) {
  separable_2d(u, out, [](const auto& in, auto& result) { F::kernel_gradient_1d(in, result); });
}

}  // namespace cpu
}  // namespace tinynet
