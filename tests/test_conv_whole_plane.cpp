// The whole-plane convolution path (backend/cpu/conv2d_whole_plane.hpp) against im2col.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "conv_path_helpers.hpp"
#include "layer_test_helpers.hpp"
#include "tinynet/backend/cpu/conv2d.hpp"
#include "tinynet/core/threading.hpp"
#include "tinynet/layers/conv2d.hpp"

using namespace tinynet;
using cpu::ConvAlgorithm;
using tinynet_test::ConvInputs;
using tinynet_test::ConvResults;
using tinynet_test::converted;
using tinynet_test::ForcedConvAlgorithm;
using tinynet_test::random_tensor;
using tinynet_test::relative_difference;
using tinynet_test::run_conv;

namespace {

using Results = ConvResults<double>;

struct PlaneCase {
  std::string what;
  std::int64_t batch, channels, h, w, out_channels;
  int kernel, stride;
  Padding padding;
  ExplicitPadding amounts = {};
};

}  // namespace

TEST_CASE("Whole-plane convolutions equal im2col in double: forward, both gradients", "[conv2d][whole_plane]") {
  // Planes with fewer pixels than taps: 'same' 3x3 on 2x2, 1x1, 2x1 and 1x3 planes, a
  // stride of 2, explicit padding that leaves taps unused on one side, a 5x5 kernel on 3x3.
  const PlaneCase cases[] = {
      {"2x2 planes, 3x3 same, 24 -> 40 channels", 5, 24, 2, 2, 40, 3, 1, Padding::same},
      {"1x1 planes, 3x3 same", 3, 7, 1, 1, 9, 3, 1, Padding::same},
      {"2x1 planes", 4, 5, 2, 1, 6, 3, 1, Padding::same},
      {"1x3 planes", 2, 3, 1, 3, 4, 3, 1, Padding::same},
      {"2x2 planes, stride 2", 3, 6, 2, 2, 5, 3, 2, Padding::same},
      {"2x3 planes, explicit 0/2 1/0 padding", 2, 4, 2, 3, 3, 3, 1, Padding::explicit_amounts, {0, 2, 1, 0}},
      {"3x3 planes, 5x5 kernel", 3, 4, 3, 3, 5, 5, 1, Padding::same},
  };
  const int threads_before = num_threads();
  for (const PlaneCase& k : cases) {
    const ConvGeometry g = make_conv_geometry("test", k.channels, k.h, k.w, k.out_channels, k.kernel, k.kernel,
                                              k.stride, k.stride, k.padding, k.amounts);
    REQUIRE(cpu::whole_plane_applies(g));
    const auto [x, kernel, bias, dy] = ConvInputs(g, k.batch, 61);
    const Results expected = run_conv(ConvAlgorithm::im2col, g, x, kernel, bias, dy);
    for (int threads : {1, 3}) {
      set_num_threads(threads);
      INFO(k.what << ", " << threads << " threads");
      const Results r = run_conv(ConvAlgorithm::whole_plane, g, x, kernel, bias, dy);
      CHECK(relative_difference(expected.y, r.y) < 1e-12);
      CHECK(relative_difference(expected.dx, r.dx) < 1e-12);
      CHECK(relative_difference(expected.dkernel, r.dkernel) < 1e-12);
      CHECK(relative_difference(expected.dbias, r.dbias) < 1e-12);
    }
  }
  set_num_threads(threads_before);
}

TEST_CASE("Whole-plane convolutions in float equal the double result at ResNet50's shapes",
          "[conv2d][whole_plane]") {
  // ResNet50's last stage at 48x48 (2x2 planes, 512 channels) and at 32x32 (1x1 planes); odd
  // channel counts (partial six-row slivers and 16-channel panels); 20 and 17 samples (a partial
  // panel of samples).
  const PlaneCase cases[] = {
      {"2x2 planes, 512 -> 512", 20, 512, 2, 2, 512, 3, 1, Padding::same},
      {"1x1 planes, 512 -> 512", 6, 512, 1, 1, 512, 3, 1, Padding::same},
      {"2x2 planes, 37 -> 45", 17, 37, 2, 2, 45, 3, 1, Padding::same},
  };
  const int threads_before = num_threads();
  for (const PlaneCase& k : cases) {
    const ConvGeometry g = make_conv_geometry("test", k.channels, k.h, k.w, k.out_channels, k.kernel, k.kernel,
                                              k.stride, k.stride, k.padding);
    const auto [x, kernel, bias, dy] = ConvInputs(g, k.batch, 65);
    const Results expected = run_conv(ConvAlgorithm::im2col, g, x, kernel, bias, dy);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      INFO(k.what << ", " << threads << " threads");
      const ConvResults<float> r = run_conv(ConvAlgorithm::whole_plane, g, converted<float>(x), converted<float>(kernel),
                                            converted<float>(bias), converted<float>(dy));
      CHECK(relative_difference(expected.y, r.y) < 2e-6);
      CHECK(relative_difference(expected.dx, r.dx) < 2e-6);
      CHECK(relative_difference(expected.dkernel, r.dkernel) < 2e-6);
    }
  }
  set_num_threads(threads_before);
}

TEST_CASE("The whole-plane path applies only where the plane has fewer pixels than taps", "[conv2d][whole_plane]") {
  CHECK_FALSE(cpu::whole_plane_applies(make_conv_geometry("t", 8, 3, 3, 8, 3, 3, 1, 1, Padding::same)));
  CHECK_FALSE(cpu::whole_plane_applies(make_conv_geometry("t", 8, 2, 2, 8, 1, 1, 1, 1, Padding::same)));
  CHECK(cpu::whole_plane_applies(make_conv_geometry("t", 512, 2, 2, 512, 3, 3, 1, 1, Padding::same)));
  CHECK_FALSE(cpu::whole_plane_applies(make_conv_geometry("t", 2048, 2, 2, 2048, 3, 3, 1, 1, Padding::same)));
  // forced where it does not apply: im2col runs
  const ConvGeometry g = make_conv_geometry("t", 3, 4, 4, 2, 3, 3, 1, 1, Padding::same);
  const Tensor<double> x = random_tensor(Shape{2, 3, 4, 4}, 71), kernel = random_tensor(Shape{2, 3, 3, 3}, 72);
  const Tensor<double> bias = random_tensor(Shape{2}, 73), dy = random_tensor(Shape{2, 2, 4, 4}, 74);
  const Results expected = run_conv(ConvAlgorithm::im2col, g, x, kernel, bias, dy);
  const Results forced = run_conv(ConvAlgorithm::whole_plane, g, x, kernel, bias, dy);
  CHECK(relative_difference(expected.y, forced.y) == 0);
  CHECK(relative_difference(expected.dkernel, forced.dkernel) == 0);
  CHECK(cpu::parse_conv_algorithm("plane") == ConvAlgorithm::whole_plane);
}

TEST_CASE("A folded batch norm and ReLU run through the whole-plane output pass", "[conv2d][whole_plane]") {
  const ConvGeometry g = make_conv_geometry("t", 5, 2, 2, 6, 3, 3, 1, 1, Padding::same);
  const Tensor<double> expected = tinynet_test::batch_norm_conv(ConvAlgorithm::im2col, g, 3, 81);
  const Tensor<double> plane = tinynet_test::batch_norm_conv(ConvAlgorithm::whole_plane, g, 3, 81);
  CHECK(relative_difference(expected, plane) < 1e-12);
  CHECK(std::count_if(plane.begin(), plane.end(), [](double v) { return v == 0; }) > 0);  // ReLU clipped some
}

TEST_CASE("Conv2D gradients pass the finite-difference check through the whole-plane path",
          "[conv2d][whole_plane][gradcheck]") {
  ForcedConvAlgorithm forced(ConvAlgorithm::whole_plane);
  Conv2D<double> conv(4, 3, 1, Padding::same);
  tinynet_test::require_gradients_match(conv, random_tensor(Shape{2, 3, 2, 2}, 91));
}

TEST_CASE("The automatic choice times the whole-plane path where it applies", "[conv2d][whole_plane]") {
  ForcedConvAlgorithm automatic(ConvAlgorithm::automatic);
  const ConvGeometry g = make_conv_geometry("t", 16, 2, 2, 16, 3, 3, 1, 1, Padding::same);
  const Tensor<double> x = random_tensor(Shape{4, 16, 2, 2}, 95), kernel = random_tensor(Shape{16, 16, 3, 3}, 96);
  Tensor<double> y(Shape{4, 16, 2, 2});
  cpu::ConvWorkspace<double> ws;
  cpu::conv2d_forward(x, kernel, Tensor<double>(), y, g, ws);
  const std::vector<std::string> report = cpu::conv_algorithm_report();
  REQUIRE(report.size() == 1);
  CHECK(report[0].find("plane ") != std::string::npos);
  CHECK(report[0].find("winograd4 ") != std::string::npos);
}
