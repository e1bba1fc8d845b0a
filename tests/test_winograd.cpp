#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "conv_path_helpers.hpp"
#include "layer_test_helpers.hpp"
#include "test_support.hpp"
#include "tinynet/backend/cpu/conv2d.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/layers/conv2d.hpp"

using namespace tinynet;
using cpu::ConvAlgorithm;
using tinynet_test::ConvResults;
using tinynet_test::converted;
using tinynet_test::error_message;
using tinynet_test::ForcedConvAlgorithm;
using tinynet_test::relative_difference;
using tinynet_test::run_conv;
using tinynet_test::random_tensor;

namespace {

constexpr ConvAlgorithm winograd_paths[] = {ConvAlgorithm::winograd_2x2, ConvAlgorithm::winograd_3x3,
                                             ConvAlgorithm::winograd_4x4};

struct ConvCase {
  std::string what;
  std::int64_t batch, channels, h, w, out_channels;
  Padding padding;
  ExplicitPadding amounts = {};
};

ConvGeometry geometry_of(const ConvCase& k) {
  return make_conv_geometry("test", k.channels, k.h, k.w, k.out_channels, 3, 3, 1, 1, k.padding, k.amounts);
}

// Tiles reaching past odd edges, 'same', 'valid' and explicit padding (also > 2: the backward
// pass then pads negatively), one and many tile blocks (threads sharing blocks, or sharing one
// block's steps), tile groups running across samples, 1 to 512 channels, and channel counts
// that leave partial 6-row and 16-column panels in the AVX2 products.
const ConvCase odd_cases[] = {
    {"3 samples of 1 channel, 7x5 same", 3, 1, 7, 5, 2, Padding::same},
    {"5 samples, 11x9 valid", 5, 4, 11, 9, 3, Padding::valid},
    {"explicit 0/3 2/1 padding", 2, 3, 6, 7, 5, Padding::explicit_amounts, {0, 3, 2, 1}},
    {"many blocks: 24 samples of 16x16", 24, 8, 16, 16, 6, Padding::same},
    {"2x2 planes, 512 -> 64 channels", 3, 512, 2, 2, 64, Padding::same},
    {"3x3 planes, 64 -> 512 channels", 2, 64, 3, 3, 512, Padding::same},
    {"17 channels at 13x13 -> 9", 4, 17, 13, 13, 9, Padding::same},
    {"9 channels at 13x13 -> 17", 4, 9, 13, 13, 17, Padding::same},
};

}  // namespace

TEST_CASE("Winograd tile transforms give a 3x3 correlation of one tile", "[conv2d][winograd]") {
  auto check_tile = [](auto transforms) {
    using F = decltype(transforms);
    constexpr int a = F::alpha, m = F::m;
    double d[a][a], g[3][3], v[a][a], u[a][a], product[a][a], y[m][m];
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) d[i][j] = std::sin(1.0 + i * 7 + j);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) g[i][j] = std::cos(2.0 + i * 3 + j);
    cpu::winograd_input_2d<F>(d, v);
    cpu::winograd_kernel_2d<F>(g, u);
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) product[i][j] = u[i][j] * v[i][j];
    cpu::winograd_output_2d<F>(product, y);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) {
        double expected = 0;
        for (int p = 0; p < 3; ++p)
          for (int q = 0; q < 3; ++q) expected += d[i + p][j + q] * g[p][q];
        INFO("F(" << m << "x" << m << ",3x3) output (" << i << "," << j << ")");
        CHECK(y[i][j] == Approx(expected).margin(1e-13));
      }
  };
  check_tile(cpu::WinogradF2<double>{});
  check_tile(cpu::WinogradF3<double>{});
  check_tile(cpu::WinogradF4<double>{});
}

TEST_CASE("Winograd kernel-gradient transforms give a tile's 3x3 kernel gradient", "[conv2d][winograd]") {
  // For y = correlate(d, g) on one tile, dL/dg[p][q] = sum over (i, j) of dy[i][j] d[i+p][j+q].
  auto check_tile = [](auto transforms) {
    using F = decltype(transforms);
    constexpr int a = F::alpha, m = F::m;
    double d[a][a], dy[m][m], v[a][a], w[a][a], product[a][a], dg[3][3];
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) d[i][j] = std::sin(1.0 + i * 7 + j);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < m; ++j) dy[i][j] = std::cos(3.0 + i * 5 + j);
    cpu::winograd_input_2d<F>(d, v);
    cpu::winograd_output_gradient_2d<F>(dy, w);
    for (int i = 0; i < a; ++i)
      for (int j = 0; j < a; ++j) product[i][j] = w[i][j] * v[i][j];
    cpu::winograd_kernel_gradient_2d<F>(product, dg);
    for (int p = 0; p < 3; ++p)
      for (int q = 0; q < 3; ++q) {
        double expected = 0;
        for (int i = 0; i < m; ++i)
          for (int j = 0; j < m; ++j) expected += dy[i][j] * d[i + p][j + q];
        INFO("F(" << m << "x" << m << ",3x3) kernel gradient (" << p << "," << q << ")");
        CHECK(dg[p][q] == Approx(expected).margin(1e-13));
      }
  };
  check_tile(cpu::WinogradF2<double>{});
  check_tile(cpu::WinogradF3<double>{});
  check_tile(cpu::WinogradF4<double>{});
}

TEST_CASE("Winograd convolutions equal im2col in double: forward, both gradients, at odd sizes and paddings",
          "[conv2d][winograd]") {
  const int threads_before = num_threads();
  for (const ConvCase& k : odd_cases) {
    const ConvGeometry g = geometry_of(k);
    const auto [x, kernel, bias, dy] = tinynet_test::ConvInputs(g, k.batch, 91);
    const ConvResults<double> expected = run_conv(ConvAlgorithm::im2col, g, x, kernel, bias, dy);
    for (int threads : {1, 3}) {
      set_num_threads(threads);
      for (ConvAlgorithm a : winograd_paths) {
        INFO(k.what << ", " << cpu::conv_algorithm_name(a) << ", " << threads << " threads");
        const ConvResults<double> r = run_conv(a, g, x, kernel, bias, dy);
        CHECK(relative_difference(expected.y, r.y) < 1e-12);
        CHECK(relative_difference(expected.dx, r.dx) < 1e-12);
        CHECK(relative_difference(expected.dkernel, r.dkernel) < 1e-12);
        CHECK(relative_difference(expected.dbias, r.dbias) < 1e-12);
        Tensor<double> direct(kernel.shape());  // the Winograd kernel gradient itself, not through the choice
        cpu::WinogradWorkspace<double> scratch;
        cpu::winograd_conv2d_backward_kernel(x, dy, direct, g, cpu::winograd_output_tile(a), scratch);
        CHECK(relative_difference(expected.dkernel, direct) < 1e-12);
      }
    }
  }
  set_num_threads(threads_before);
}

TEST_CASE("A first layer's gradients (no dx) come from the Winograd kernel gradient and the bias sum",
          "[conv2d][winograd]") {
  const ConvCase k{"", 3, 5, 9, 7, 6, Padding::same};
  const ConvGeometry g = geometry_of(k);
  const Tensor<double> x = random_tensor(Shape{3, 5, 9, 7}, 51), kernel = random_tensor(Shape{6, 5, 3, 3}, 52);
  const Tensor<double> dy = random_tensor(Shape{3, 6, 9, 7}, 53);
  auto run = [&](ConvAlgorithm a) {
    ForcedConvAlgorithm forced(a);
    cpu::ConvWorkspace<double> ws;
    ConvResults<double> r{Tensor<double>(), Tensor<double>(), Tensor<double>(kernel.shape()), Tensor<double>(Shape{6})};
    cpu::conv2d_backward(x, kernel, dy, static_cast<Tensor<double>*>(nullptr), &r.dkernel, &r.dbias, g, ws);
    return r;
  };
  const ConvResults<double> expected = run(ConvAlgorithm::im2col);
  for (ConvAlgorithm a : winograd_paths) {
    INFO(cpu::conv_algorithm_name(a));
    const ConvResults<double> r = run(a);
    CHECK(relative_difference(expected.dkernel, r.dkernel) < 1e-12);
    CHECK(relative_difference(expected.dbias, r.dbias) < 1e-12);
  }
}

TEST_CASE("Winograd in float stays within the stated error bound at the three models' 3x3 shapes",
          "[conv2d][winograd]") {
  // Every 3x3 stride-1 convolution shape of the notebook CNN (32x32), the whitened CNN
  // (32x32) and ResNet50 (48x48 and 96x96), two samples each, against im2col in double;
  // then the odd shapes, for the float-only AVX2 products' partial panels.
  // The bounds (docs/performance.md) are max |error| / max |exact| over y, dx and dkernel.
  std::vector<ConvCase> cases = {
      {"notebook conv1 3->32 32x32 same", 2, 3, 32, 32, 32, Padding::same},
      {"notebook conv2 32->32 32x32 valid", 2, 32, 32, 32, 32, Padding::valid},
      {"notebook conv3 32->64 15x15 same", 2, 32, 15, 15, 64, Padding::same},
      {"notebook conv4 64->64 15x15 valid", 2, 64, 15, 15, 64, Padding::valid},
      {"whitened 24->64 31x31", 2, 24, 31, 31, 64, Padding::same},
      {"whitened 64->64 15x15", 2, 64, 15, 15, 64, Padding::same},
      {"whitened 64->256 15x15", 2, 64, 15, 15, 256, Padding::same},
      {"whitened 256->256 7x7", 2, 256, 7, 7, 256, Padding::same},
      {"whitened 256->256 3x3", 2, 256, 3, 3, 256, Padding::same},
      {"resnet50 64 24x24", 2, 64, 24, 24, 64, Padding::same},
      {"resnet50 64 12x12", 2, 64, 12, 12, 64, Padding::same},
      {"resnet50 128 6x6", 2, 128, 6, 6, 128, Padding::same},
      {"resnet50 256 3x3", 2, 256, 3, 3, 256, Padding::same},
      {"resnet50 512 2x2", 2, 512, 2, 2, 512, Padding::same},
  };
  cases.insert(cases.end(), std::begin(odd_cases), std::end(odd_cases));
  const double bound[] = {2e-6, 1e-5, 2e-5};  // F(2x2,3x3), F(3x3,3x3), F(4x4,3x3)
  double worst[] = {0, 0, 0}, worst_kernel[] = {0, 0, 0};
  for (const ConvCase& k : cases) {
    const ConvGeometry g = geometry_of(k);
    const Tensor<double> x = random_tensor(Shape{k.batch, k.channels, k.h, k.w}, 95);
    const Tensor<double> kernel = random_tensor(Shape{k.out_channels, k.channels, 3, 3}, 96);
    const Tensor<double> bias(Shape{k.out_channels});
    const Tensor<double> dy = random_tensor(Shape{k.batch, k.out_channels, g.out_h, g.out_w}, 97);
    const ConvResults<double> exact = run_conv(ConvAlgorithm::im2col, g, x, kernel, bias, dy);
    for (int p = 0; p < 3; ++p) {
      const ConvResults<float> r = run_conv(winograd_paths[p], g, converted<float>(x), converted<float>(kernel),
                                            converted<float>(bias), converted<float>(dy));
      const double error = std::max(relative_difference(exact.y, r.y), relative_difference(exact.dx, r.dx));
      const double kernel_error = relative_difference(exact.dkernel, r.dkernel);
      INFO(k.what << ", " << cpu::conv_algorithm_name(winograd_paths[p]) << ": y and dx " << error << ", dkernel "
                  << kernel_error);
      CHECK(error < bound[p]);
      CHECK(kernel_error < bound[p]);
      worst[p] = std::max(worst[p], error);
      worst_kernel[p] = std::max(worst_kernel[p], kernel_error);
    }
  }
  WARN("float error bound check: worst y/dx winograd2 " << worst[0] << ", winograd3 " << worst[1] << ", winograd4 "
                                                         << worst[2] << "; dkernel winograd2 " << worst_kernel[0]
                                                         << ", winograd3 " << worst_kernel[1] << ", winograd4 "
                                                         << worst_kernel[2]);
}

#ifdef TINYNET_WINOGRAD_WINDOW_ROWS
// ensures: for every group of the plan that reads whole rows, the windows equal the
// pixel-by-pixel gather (the same floats, zeros outside); returns (groups read as rows,
// of those the groups with padding).
template <int n, int m>
std::pair<int, int> compare_window_rows(std::int64_t batch, std::int64_t channels, std::int64_t h, std::int64_t w,
                                        std::int64_t top, std::int64_t left, std::int64_t out_h, std::int64_t out_w) {
  ConvGeometry g = make_conv_geometry("rows", channels, out_h + 2, out_w + 2, 1, 3, 3, 1, 1, Padding::valid, {});
  const cpu::winograd::TilePlan plan(batch, g, m, m + 2, sizeof(float));
  Tensor<float> source(Shape{batch, channels, h, w});
  for (std::int64_t i = 0; i < source.numel(); ++i) source[i] = 1.0f + float(i % 9973);
  int row_groups = 0, padded_groups = 0;
  for (std::int64_t group = 0; group < plan.groups; ++group) {
    const std::int64_t first = group * cpu::winograd::lanes;
    cpu::winograd::WindowRows<n, m> rows;
    if (!cpu::winograd::plan_window_rows(plan, first, top, left, h, w, channels, rows)) continue;
    ++row_groups;
    padded_groups += rows.padded;
    std::int64_t where[n][n][cpu::winograd::lanes];
    cpu::winograd::locate_window(plan, first, m, top, left, h, w, channels * h * w, where);
    for (std::int64_t c = 0; c < channels; ++c) {
      cpu::Lanes<float> window[n][n];
      cpu::winograd::load_windows(source.data() + c * h * w, rows, window);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          for (int l = 0; l < cpu::winograd::lanes; ++l) {
            const float expected = where[i][j][l] < 0 ? 0.0f : source[c * h * w + where[i][j][l]];
            if (window[i][j].v[l] != expected) {
              INFO("group " << group << " channel " << c << " pixel (" << i << ", " << j << ") lane " << l);
              REQUIRE(window[i][j].v[l] == expected);
            }
          }
    }
  }
  return {row_groups, padded_groups};
}

// ensures: for every group of the plan that writes whole rows, the output equals the
// pixel-by-pixel scatter, and nothing outside the group's tiles changes; returns (groups
// written as rows, of those the groups reaching past the right or bottom edge).
template <int m>
std::pair<int, int> compare_tile_rows(std::int64_t batch, std::int64_t channels, std::int64_t h, std::int64_t w,
                                      bool relu) {
  ConvGeometry g = make_conv_geometry("rows", 1, h + 2, w + 2, channels, 3, 3, 1, 1, Padding::valid, {});
  const cpu::winograd::TilePlan plan(batch, g, m, m + 2, sizeof(float));
  const float scale = 2, shift = -3, untouched = -12345;
  int row_groups = 0, edge_groups = 0;
  for (std::int64_t group = 0; group < plan.groups; ++group) {
    const std::int64_t first = group * cpu::winograd::lanes;
    cpu::winograd::TileRows<m> rows;
    if (!cpu::winograd::plan_tile_rows(plan, first, h, w, channels, rows)) continue;
    ++row_groups;
    std::int64_t where[m][m][cpu::winograd::lanes];
    cpu::winograd::locate_window(plan, first, m, 0, 0, h, w, channels * h * w, where);
    bool edge = false;
    Tensor<float> written(Shape{batch, channels, h, w}), expected(Shape{batch, channels, h, w});
    written.fill(untouched);
    expected.fill(untouched);
    for (std::int64_t c = 0; c < channels; ++c) {
      cpu::Lanes<float> tile[m][m];
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < m; ++j)
          for (int l = 0; l < cpu::winograd::lanes; ++l) {
            tile[i][j].v[l] = float((group * 131 + c * 17 + i * 7 + j * 3 + l) % 23) - 11;
            if (where[i][j][l] < 0) {
              edge = true;
              continue;
            }
            const float value = tile[i][j].v[l] * scale + shift;
            expected[c * h * w + where[i][j][l]] = relu ? std::max(value, 0.0f) : value;
          }
      cpu::winograd::store_tiles<m>(tile, scale, shift, relu, rows, written.data() + c * h * w);
    }
    edge_groups += edge;
    for (std::int64_t i = 0; i < written.numel(); ++i)
      if (written[i] != expected[i]) {
        INFO("group " << group << ", element " << i);
        REQUIRE(written[i] == expected[i]);
      }
  }
  return {row_groups, edge_groups};
}
#endif

TEST_CASE("Winograd windows read as whole rows equal the pixel-by-pixel gather", "[conv2d][winograd]") {
#ifdef TINYNET_WINOGRAD_WINDOW_ROWS
  // Input windows ('same' padding: top/left -1; 'valid': 0; wider explicit padding) and
  // output-gradient windows (n = m), for tile rows of 1 to 16 tiles (groups of eight that
  // span tile rows and samples); the first and last groups of the tensor read by pixel.
  const std::pair<int, int> counts[] = {
      compare_window_rows<6, 4>(5, 2, 7, 7, -1, -1, 7, 7),     compare_window_rows<6, 4>(17, 2, 3, 3, -1, -1, 3, 3),
      compare_window_rows<4, 4>(5, 3, 7, 7, 0, 0, 7, 7),       compare_window_rows<4, 2>(5, 2, 3, 3, -1, -1, 3, 3),
      compare_window_rows<6, 4>(3, 2, 31, 31, -1, -1, 31, 31), compare_window_rows<6, 4>(2, 3, 32, 32, 0, 0, 30, 30),
      compare_window_rows<6, 4>(3, 2, 15, 15, -1, -1, 15, 15), compare_window_rows<6, 4>(2, 2, 13, 17, -2, -1, 15, 17),
      compare_window_rows<4, 2>(2, 2, 31, 31, -1, -1, 31, 31), compare_window_rows<4, 2>(3, 3, 15, 15, -1, -1, 15, 15),
      compare_window_rows<4, 2>(3, 2, 7, 7, -1, -1, 7, 7),     compare_window_rows<4, 4>(2, 2, 30, 30, 0, 0, 30, 30),
      compare_window_rows<4, 4>(3, 2, 15, 15, 0, 0, 15, 15),   compare_window_rows<2, 2>(2, 3, 15, 15, 0, 0, 15, 15),
      compare_window_rows<2, 2>(2, 2, 31, 31, 0, 0, 31, 31),   compare_window_rows<6, 4>(2, 2, 12, 12, -1, -1, 12, 12),
      compare_window_rows<5, 3>(17, 2, 3, 3, -1, -1, 3, 3),    compare_window_rows<5, 3>(5, 2, 6, 6, -1, -1, 6, 6),
      compare_window_rows<5, 3>(2, 2, 13, 17, -2, -1, 15, 17), compare_window_rows<3, 3>(3, 2, 15, 15, 0, 0, 15, 15),
  };
  int row_groups = 0, padded_groups = 0;
  for (const auto& [rows, padded] : counts) {
    CHECK(rows > 0);
    row_groups += rows;
    padded_groups += padded;
  }
  CHECK(padded_groups > 0);
  CHECK(padded_groups < row_groups);
#else
  WARN("SKIPPED: window rows are read by AVX only (this build has no __AVX__)");
#endif
}

TEST_CASE("Winograd output tiles written as whole rows equal the pixel-by-pixel scatter", "[conv2d][winograd]") {
#ifdef TINYNET_WINOGRAD_WINDOW_ROWS
  // Outputs whose tile rows end inside (32, 16) and past the edge (30, 15, 13, 31, 7, 3), with
  // and without ReLU, groups spanning tile rows and samples; nothing outside a group's tiles
  // may change.
  const std::pair<int, int> counts[] = {
      compare_tile_rows<4>(2, 2, 32, 32, false), compare_tile_rows<4>(2, 2, 30, 30, true),
      compare_tile_rows<4>(3, 2, 15, 15, false), compare_tile_rows<4>(2, 3, 13, 30, true),
      compare_tile_rows<2>(2, 2, 31, 31, true),  compare_tile_rows<2>(3, 2, 15, 15, false),
      compare_tile_rows<2>(2, 2, 16, 16, false), compare_tile_rows<2>(3, 2, 7, 7, true),
      compare_tile_rows<4>(5, 2, 7, 7, true),    compare_tile_rows<4>(9, 2, 3, 3, false),
      compare_tile_rows<2>(5, 3, 3, 3, false),   compare_tile_rows<3>(9, 2, 3, 3, true),
      compare_tile_rows<3>(5, 2, 6, 6, false),   compare_tile_rows<3>(2, 2, 13, 14, true),
  };
  int row_groups = 0, edge_groups = 0;
  for (const auto& [rows, edge] : counts) {
    CHECK(rows > 0);
    row_groups += rows;
    edge_groups += edge;
  }
  CHECK(edge_groups > 0);
  CHECK(edge_groups < row_groups);
#else
  WARN("SKIPPED: output tiles are written by AVX only (this build has no __AVX__)");
#endif
}

TEST_CASE("Conv2D gradients pass the finite-difference check through each Winograd path",
          "[conv2d][winograd][gradcheck]") {
  for (ConvAlgorithm a : winograd_paths) {
    ForcedConvAlgorithm forced(a);
    SECTION(std::string(cpu::conv_algorithm_name(a)) + " same") {
      Conv2D<double> conv(4, 3, 1, Padding::same);
      tinynet_test::require_gradients_match(conv, random_tensor(Shape{2, 3, 7, 6}, 13));
    }
    SECTION(std::string(cpu::conv_algorithm_name(a)) + " valid") {
      Conv2D<double> conv(3, 3, 1, Padding::valid);
      tinynet_test::require_gradients_match(conv, random_tensor(Shape{2, 2, 9, 8}, 14));
    }
  }
}

TEST_CASE("A folded batch norm and ReLU run through the Winograd output pass", "[conv2d][winograd][batch_norm]") {
  const ConvGeometry g = geometry_of(ConvCase{"", 3, 5, 9, 7, 6, Padding::same});
  const Tensor<double> expected = tinynet_test::batch_norm_conv(ConvAlgorithm::im2col, g, 3, 31);
  for (ConvAlgorithm a : winograd_paths)
    CHECK(relative_difference(expected, tinynet_test::batch_norm_conv(a, g, 3, 31)) < 1e-12);
}

TEST_CASE("The automatic choice measures every path once per shape and keeps it", "[conv2d][winograd]") {
  ForcedConvAlgorithm automatic(ConvAlgorithm::automatic);
  // 200 samples: the paths are timed on the first 128 (measured_samples), the results cover all.
  const std::int64_t batch = 200;
  REQUIRE(cpu::measured_samples(batch) == 128);
  const ConvCase k{"", batch, 8, 10, 10, 8, Padding::same};
  const ConvGeometry g = geometry_of(k);
  const Tensor<float> x = converted<float>(random_tensor(Shape{batch, 8, 10, 10}, 41));
  const Tensor<float> kernel = converted<float>(random_tensor(Shape{8, 8, 3, 3}, 42));
  const Tensor<float> bias(Shape{8}), dy = converted<float>(random_tensor(Shape{batch, 8, 10, 10}, 43));
  const ConvResults<float> expected = run_conv(ConvAlgorithm::im2col, g, x, kernel, bias, dy);
  const ConvResults<float> chosen = run_conv(ConvAlgorithm::automatic, g, x, kernel, bias, dy);
  CHECK(relative_difference(expected.y, chosen.y) < 1e-4);
  CHECK(relative_difference(expected.dx, chosen.dx) < 1e-4);
  CHECK(relative_difference(expected.dkernel, chosen.dkernel) < 1e-4);
  // run_conv's scope restored "automatic", which forgets the choices: measure again and keep
  // them for the report.
  cpu::ConvWorkspace<float> ws;
  Tensor<float> y(dy.shape()), dx(x.shape());
  cpu::conv2d_forward(x, kernel, bias, y, g, ws);
  cpu::conv2d_forward(x, kernel, bias, y, g, ws);
  Tensor<float> dkernel(kernel.shape());
  cpu::conv2d_backward(x, kernel, dy, &dx, &dkernel, static_cast<Tensor<float>*>(nullptr), g, ws);
  cpu::conv2d_backward(x, kernel, dy, &dx, &dkernel, static_cast<Tensor<float>*>(nullptr), g, ws);
  const std::vector<std::string> report = cpu::conv_algorithm_report();
  REQUIRE(report.size() == 3);  // one shape in each direction (forward, dx, dkernel): measured once each
  CHECK(std::count_if(report.begin(), report.end(),
                      [](const std::string& line) { return line.rfind("backward-kernel ", 0) == 0; }) == 1);
  for (const std::string& line : report) {
    INFO(line);
    CHECK(line.find("im2col ") != std::string::npos);
    CHECK(line.find("winograd2 ") != std::string::npos);
    CHECK(line.find("winograd3 ") != std::string::npos);
    CHECK(line.find("winograd4 ") != std::string::npos);
  }
}

TEST_CASE("Convolution algorithm names: parsed, and a wrong one is a clear error", "[conv2d][winograd]") {
  CHECK(cpu::parse_conv_algorithm("winograd4") == ConvAlgorithm::winograd_4x4);
  CHECK(cpu::parse_conv_algorithm("winograd3") == ConvAlgorithm::winograd_3x3);
  CHECK(cpu::parse_conv_algorithm("auto") == ConvAlgorithm::automatic);
  const std::string message = error_message([] { cpu::parse_conv_algorithm("fast"); });
  CHECK(message.find("'fast'") != std::string::npos);
  CHECK(message.find("winograd2") != std::string::npos);
}
