#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "tinynet/data/augment.hpp"
#include "tinynet/data/resize.hpp"

using namespace tinynet;

namespace {

// ensures: a [1, 1, h, w] tensor holding `values` row by row.
Tensor<float> one_plane(std::int64_t h, std::int64_t w, std::initializer_list<float> values) {
  return Tensor<float>(Shape{1, 1, h, w}, values);
}

// ensures: out = `t` applied by `aug` to a single-channel h x w image.
std::vector<float> transformed(const Augmenter& aug, const AugmentTransform& t, const std::vector<float>& image,
                               std::int64_t h, std::int64_t w) {
  std::vector<float> out(image.size(), -100.0f);
  aug.apply(t, image.data(), out.data(), 1, h, w);
  return out;
}

// ensures: an h x w image of zeros with a 1 at (row, col).
std::vector<float> marker_image(std::int64_t h, std::int64_t w, std::int64_t row, std::int64_t col) {
  std::vector<float> image(static_cast<std::size_t>(h * w), 0.0f);
  image[row * w + col] = 1;
  return image;
}

// ensures: 1..h*w row by row.
std::vector<float> counting_image(std::int64_t h, std::int64_t w) {
  std::vector<float> image(static_cast<std::size_t>(h * w));
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(i + 1);
  return image;
}

AugmentTransform shift_by(double rows, double cols) {
  AugmentTransform t;
  t.shift_rows = rows;
  t.shift_cols = cols;
  return t;
}

AugmentTransform rotate_by(double degrees) {
  AugmentTransform t;
  t.angle_degrees = degrees;
  return t;
}

Augmenter with_fill(FillMode mode, float cval = 0) {
  AugmentOptions o;
  o.fill_mode = mode;
  o.cval = cval;
  return Augmenter(o);
}

}  // namespace

TEST_CASE("resize 2x2 -> 4x4 matches TF half-pixel bilinear", "[resize]") {
  // scale 0.5: output d reads (d + 0.5) * 0.5 - 0.5 = -0.25 (clamped: pixel 0), 0.25, 0.75, 1.25 (clamped: pixel 1).
  // A row [a, b] becomes [a, .75a + .25b, .25a + .75b, b]; rows likewise.
  Tensor<float> y;
  resize_bilinear(one_plane(2, 2, {0, 4, 8, 12}), 4, 4, y);
  REQUIRE(y.shape() == Shape{1, 1, 4, 4});
  const float expected[16] = {0, 1, 3, 4,     // row 0 = input row 0
                              2, 3, 5, 6,     // .75 row0 + .25 row1
                              6, 7, 9, 10,    // .25 row0 + .75 row1
                              8, 9, 11, 12};  // input row 1
  for (int i = 0; i < 16; ++i) CHECK(y[i] == Approx(expected[i]));
}

TEST_CASE("resize 4x4 -> 2x2 averages 2x2 blocks (no antialiasing needed)", "[resize]") {
  // scale 2: output 0 reads 0.5, output 1 reads 2.5: the mean of each 2x2 block of 0..15.
  Tensor<float> y;
  resize_bilinear(one_plane(4, 4, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}), 2, 2, y);
  CHECK(y[0] == Approx((0 + 1 + 4 + 5) / 4.0));
  CHECK(y[1] == Approx((2 + 3 + 6 + 7) / 4.0));
  CHECK(y[2] == Approx((8 + 9 + 12 + 13) / 4.0));
  CHECK(y[3] == Approx((10 + 11 + 14 + 15) / 4.0));
}

TEST_CASE("resize 3x3 -> 5x5: corners, centre and in-between weights", "[resize]") {
  // scale 0.6: outputs read -0.2 (clamped to 0), 0.4, 1.0, 1.6, 2.2 (neighbours 2 and 2).
  SECTION("a linear ramp 3r + c stays linear in the clamped source coordinates") {
    Tensor<float> y;
    resize_bilinear(one_plane(3, 3, {0, 1, 2, 3, 4, 5, 6, 7, 8}), 5, 5, y);
    CHECK(y.at(0, 0, 0, 0) == Approx(0));              // corner: pixel (0,0)
    CHECK(y.at(0, 0, 4, 4) == Approx(8));              // corner: pixel (2,2)
    CHECK(y.at(0, 0, 2, 2) == Approx(4));              // centre: exactly pixel (1,1)
    CHECK(y.at(0, 0, 1, 1) == Approx(3 * 0.4 + 0.4));  // 1.6
    CHECK(y.at(0, 0, 1, 3) == Approx(3 * 0.4 + 1.6));  // 2.8
    CHECK(y.at(0, 0, 4, 0) == Approx(3 * 2 + 0));      // bottom-left corner: pixel (2,0)
  }
  SECTION("a centre impulse spreads with weights (1 - lerp) and lerp") {
    Tensor<float> y;
    resize_bilinear(one_plane(3, 3, {0, 0, 0, 0, 1, 0, 0, 0, 0}), 5, 5, y);
    CHECK(y.at(0, 0, 2, 2) == Approx(1));
    CHECK(y.at(0, 0, 1, 1) == Approx(0.4 * 0.4));  // source 0.4: pixel 1 has weight 0.4
    CHECK(y.at(0, 0, 3, 3) == Approx(0.4 * 0.4));  // source 1.6: pixel 1 has weight 0.4
    CHECK(y.at(0, 0, 1, 2) == Approx(0.4));
    CHECK(y.at(0, 0, 0, 2) == Approx(0));  // clamped to row 0
    CHECK(y.at(0, 0, 4, 4) == Approx(0));
  }
}

TEST_CASE("resize: batches, channels, same size and bad input", "[resize]") {
  Tensor<float> x(Shape{2, 3, 5, 7});
  for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(std::sin(0.37 * i));
  Tensor<float> y;
  resize_bilinear(x, 5, 7, y);
  for (std::int64_t i = 0; i < x.numel(); ++i) REQUIRE(y[i] == x[i]);  // scale 1 reads every pixel exactly

  resize_bilinear(x, 8, 4, y);
  REQUIRE(y.shape() == Shape{2, 3, 8, 4});
  std::vector<float> one(3 * 8 * 4);
  resize_bilinear_image(x.data() + 3 * 35, 3, 5, 7, one.data(), 8, 4);  // sample 1 alone, serially
  for (std::size_t i = 0; i < one.size(); ++i) REQUIRE(y[3 * 32 + static_cast<std::int64_t>(i)] == one[i]);

  CHECK_THROWS_WITH(resize_bilinear(Tensor<float>(Shape{3, 5, 7}), 4, 4, y), Catch::Contains("[N,C,H,W]"));
  CHECK_THROWS_WITH(resize_bilinear(x, 0, 4, y), Catch::Contains("0x4"));
  CHECK_THROWS_WITH(resize_bilinear(x, 4, 4, x), Catch::Contains("share"));
}

TEST_CASE("augment: zero transform is the identity, for any options", "[augment]") {
  AugmentOptions o;
  o.rotation_range = 15;
  o.width_shift_range = 0.1;
  o.height_shift_range = 0.1;
  o.horizontal_flip = true;
  const Augmenter aug(o);
  CHECK_FALSE(aug.is_identity());
  CHECK(Augmenter().is_identity());
  const auto image = counting_image(5, 6);
  CHECK(transformed(aug, AugmentTransform{}, image, 5, 6) == image);
  CHECK(transformed(aug, rotate_by(360), image, 5, 6) == image);  // a full turn samples integer points
}

TEST_CASE("augment: horizontal flip mirrors columns; twice is the identity", "[augment]") {
  const Augmenter aug;
  AugmentTransform flip;
  flip.flip = true;
  const auto image = counting_image(3, 4);
  const auto once = transformed(aug, flip, image, 3, 4);
  CHECK(once == std::vector<float>{4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9});
  CHECK(transformed(aug, flip, once, 3, 4) == image);
}

TEST_CASE("augment: a shift of k pixels moves a marker by k, both axes, both signs", "[augment]") {
  const Augmenter aug = with_fill(FillMode::constant, 0);
  const std::int64_t h = 7, w = 9, row = 3, col = 4;
  const auto image = marker_image(h, w, row, col);
  for (int k : {-3, -1, 1, 2}) {
    INFO("k = " << k);
    CHECK(transformed(aug, shift_by(k, 0), image, h, w) == marker_image(h, w, row + k, col));
    CHECK(transformed(aug, shift_by(0, k), image, h, w) == marker_image(h, w, row, col + k));
    CHECK(transformed(aug, shift_by(k, -k), image, h, w) == marker_image(h, w, row + k, col - k));
  }
}

TEST_CASE("augment: quarter and half turns of asymmetric images, hand-computed", "[augment]") {
  const Augmenter aug;
  // Positive angles turn clockwise as displayed: the top row becomes the right column.
  //  1 2 3      7 4 1
  //  4 5 6  ->  8 5 2
  //  7 8 9      9 6 3
  CHECK(transformed(aug, rotate_by(90), counting_image(3, 3), 3, 3) ==
        std::vector<float>{7, 4, 1, 8, 5, 2, 9, 6, 3});
  CHECK(transformed(aug, rotate_by(-90), counting_image(3, 3), 3, 3) ==
        std::vector<float>{3, 6, 9, 2, 5, 8, 1, 4, 7});
  // 4x4: the centre (1.5, 1.5) lies between pixels; out(r, c) = in(3 - c, r).
  const auto rotated = transformed(aug, rotate_by(90), counting_image(4, 4), 4, 4);
  CHECK(rotated == std::vector<float>{13, 9, 5, 1, 14, 10, 6, 2, 15, 11, 7, 3, 16, 12, 8, 4});
  // 3x4 half turn about (1, 1.5): out(r, c) = in(2 - r, 3 - c).
  CHECK(transformed(aug, rotate_by(180), counting_image(3, 4), 3, 4) ==
        std::vector<float>{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1});
}

TEST_CASE("augment: rotate, then shift, then flip, then crop", "[augment]") {
  const Augmenter aug = with_fill(FillMode::constant, 0);
  AugmentTransform t = rotate_by(90);
  t.shift_rows = 1;
  // Top-middle (0,2) of a 5x5 turns to the right-middle (2,4), then moves down to (3,4).
  CHECK(transformed(aug, t, marker_image(5, 5, 0, 2), 5, 5) == marker_image(5, 5, 3, 4));
  // Shift right to (1,1), flip to (1,3) (flipping first would push it off the image).
  t = shift_by(0, 1);
  t.flip = true;
  CHECK(transformed(aug, t, marker_image(5, 5, 1, 0), 5, 5) == marker_image(5, 5, 1, 3));
  // Then a crop displacement of (+1, -2) moves it to (2, 1).
  t.crop_rows = 1;
  t.crop_cols = -2;
  CHECK(transformed(aug, t, marker_image(5, 5, 1, 0), 5, 5) == marker_image(5, 5, 2, 1));
}

TEST_CASE("augment: fill modes at the borders", "[augment]") {
  const std::vector<float> row{1, 2, 3, 4};  // a 1x4 image
  SECTION("content moved right by 2: columns 0, 1 read -2, -1") {
    CHECK(transformed(with_fill(FillMode::nearest), shift_by(0, 2), row, 1, 4) == std::vector<float>{1, 1, 1, 2});
    CHECK(transformed(with_fill(FillMode::constant, 9), shift_by(0, 2), row, 1, 4) ==
          std::vector<float>{9, 9, 1, 2});
    CHECK(transformed(with_fill(FillMode::reflect), shift_by(0, 2), row, 1, 4) == std::vector<float>{2, 1, 1, 2});
    CHECK(transformed(with_fill(FillMode::wrap), shift_by(0, 2), row, 1, 4) == std::vector<float>{3, 4, 1, 2});
  }
  SECTION("content moved left by 2: columns 2, 3 read 4, 5") {
    CHECK(transformed(with_fill(FillMode::nearest), shift_by(0, -2), row, 1, 4) == std::vector<float>{3, 4, 4, 4});
    CHECK(transformed(with_fill(FillMode::constant, 9), shift_by(0, -2), row, 1, 4) ==
          std::vector<float>{3, 4, 9, 9});
    CHECK(transformed(with_fill(FillMode::reflect), shift_by(0, -2), row, 1, 4) == std::vector<float>{3, 4, 4, 3});
    CHECK(transformed(with_fill(FillMode::wrap), shift_by(0, -2), row, 1, 4) == std::vector<float>{3, 4, 1, 2});
  }
  SECTION("half-pixel shift interpolates, blending cval across the border") {
    const auto constant = transformed(with_fill(FillMode::constant, 0), shift_by(0, 0.5), row, 1, 4);
    CHECK(constant[0] == Approx(0.5));  // reads -0.5: half cval, half pixel 0
    CHECK(constant[1] == Approx(1.5));
    CHECK(constant[3] == Approx(3.5));
    CHECK(transformed(with_fill(FillMode::nearest), shift_by(0, 0.5), row, 1, 4)[0] == Approx(1));
  }
  SECTION("rows too: content moved down by 1 in a 3x2 image") {
    CHECK(transformed(with_fill(FillMode::nearest), shift_by(1, 0), counting_image(3, 2), 3, 2) ==
          std::vector<float>{1, 2, 1, 2, 3, 4});
    CHECK(transformed(with_fill(FillMode::wrap), shift_by(1, 0), counting_image(3, 2), 3, 2) ==
          std::vector<float>{5, 6, 1, 2, 3, 4});
  }
}

TEST_CASE("augment: pad-and-crop shifts with zero fill whatever the fill mode", "[augment]") {
  AugmentOptions o;
  o.crop_padding = 2;
  o.fill_mode = FillMode::nearest;
  const Augmenter aug(o);
  AugmentTransform t;
  t.crop_rows = 1;
  t.crop_cols = -2;
  // out(r, c) = in(r - 1, c + 2), 0 outside; in = 1..20 as 4x5.
  CHECK(transformed(aug, t, counting_image(4, 5), 4, 5) ==
        std::vector<float>{0, 0, 0, 0, 0, 3, 4, 5, 0, 0, 8, 9, 10, 0, 0, 13, 14, 15, 0, 0});

  // Drawn displacements cover exactly [-2, 2] on both axes.
  Rng rng(3);
  std::vector<int> seen_rows(5, 0), seen_cols(5, 0);
  for (int i = 0; i < 400; ++i) {
    const AugmentTransform d = aug.draw(rng, 8, 8);
    REQUIRE(std::abs(d.crop_rows) <= 2);
    REQUIRE(std::abs(d.crop_cols) <= 2);
    ++seen_rows[d.crop_rows + 2];
    ++seen_cols[d.crop_cols + 2];
  }
  for (int k = 0; k < 5; ++k) CHECK((seen_rows[k] > 40 && seen_cols[k] > 40));
}

TEST_CASE("augment: crop_reflect pads the crops by reflection, as PyTorch's 'reflect' (cb|abcd|cb)", "[augment]") {
  AugmentOptions o;
  o.crop_padding = 2;
  o.crop_reflect = true;
  const Augmenter aug(o);
  AugmentTransform t;
  t.crop_rows = 1;
  t.crop_cols = -2;
  // out(r, c) = in(m(r - 1), m(c + 2)), m reflecting without repeating the edge: rows read
  // 1, 0, 1, 2 and columns 2, 3, 4, 3, 2; in = 1..20 as 4x5.
  CHECK(transformed(aug, t, counting_image(4, 5), 4, 5) ==
        std::vector<float>{8, 9, 10, 9, 8, 3, 4, 5, 4, 3, 8, 9, 10, 9, 8, 13, 14, 15, 14, 13});
}

TEST_CASE("augment: cutout zeroes one square in every channel, clipped at the border", "[augment]") {
  AugmentOptions o;
  o.cutout_size = 2;
  const Augmenter aug(o);
  const std::vector<float> ones(2 * 4 * 4, 1.0f);  // 2 channels, 4x4
  std::vector<float> out(ones.size());
  AugmentTransform t;
  t.cutout_row = 2;
  t.cutout_col = 3;  // square rows [1,3), cols [2,4)
  aug.apply(t, ones.data(), out.data(), 2, 4, 4);
  for (int ch = 0; ch < 2; ++ch)
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c) {
        const bool inside = r >= 1 && r < 3 && c >= 2 && c < 4;
        CHECK(out[(ch * 4 + r) * 4 + c] == (inside ? 0.0f : 1.0f));
      }
  // Centre (0, 0) with size 3: rows/cols [-1, 2) clip to [0, 2): 4 zeros per channel.
  o.cutout_size = 3;
  t.cutout_row = t.cutout_col = 0;
  Augmenter(o).apply(t, ones.data(), out.data(), 2, 4, 4);
  int zeros = 0;
  for (float v : out) zeros += v == 0;
  CHECK(zeros == 2 * 4);
  CHECK(out[0] == 0);
  CHECK(out[1 * 4 + 1] == 0);
  CHECK(out[2 * 4 + 2] == 1);
}

TEST_CASE("augment: Keras-style draws stay in range and are reproducible", "[augment]") {
  AugmentOptions o;
  o.rotation_range = 15;
  o.width_shift_range = 0.1;
  o.height_shift_range = 3;  // >= 1: pixels
  o.horizontal_flip = true;
  const Augmenter aug(o);
  Rng rng(7);
  int flips = 0;
  double max_angle = 0, max_cols = 0, max_rows = 0;
  for (int i = 0; i < 2000; ++i) {
    const AugmentTransform t = aug.draw(rng, 32, 40);
    max_angle = std::max(max_angle, std::abs(t.angle_degrees));
    max_rows = std::max(max_rows, std::abs(t.shift_rows));
    max_cols = std::max(max_cols, std::abs(t.shift_cols));
    flips += t.flip;
  }
  CHECK(max_angle <= 15);
  CHECK(max_angle > 14);
  CHECK(max_rows <= 3);
  CHECK(max_rows > 2.8);
  CHECK(max_cols <= 4);  // 0.1 * width 40
  CHECK(max_cols > 3.8);
  CHECK(flips > 900);
  CHECK(flips < 1100);

  Tensor<float> a(Shape{3, 6, 6}), b(Shape{3, 6, 6});
  for (std::int64_t i = 0; i < a.numel(); ++i) a[i] = b[i] = static_cast<float>(i % 11);
  Rng r1(42), r2(42);
  aug.augment(a, r1);
  aug.augment(b, r2);
  for (std::int64_t i = 0; i < a.numel(); ++i) REQUIRE(a[i] == b[i]);
  Tensor<float> batch(Shape{1, 3, 6, 6});
  CHECK_THROWS_WITH(aug.augment(batch, r1), Catch::Contains("[C,H,W]"));
}

TEST_CASE("augment: bad options and arguments are reported", "[augment]") {
  AugmentOptions o;
  o.rotation_range = -1;
  CHECK_THROWS_WITH(Augmenter(o), Catch::Contains("rotation_range"));
  o = AugmentOptions{};
  o.width_shift_range = std::nan("");
  CHECK_THROWS_WITH(Augmenter(o), Catch::Contains("shift ranges"));
  o = AugmentOptions{};
  o.crop_padding = -2;
  CHECK_THROWS_WITH(Augmenter(o), Catch::Contains("crop_padding"));
  std::vector<float> image(16);
  CHECK_THROWS_WITH(Augmenter().apply(AugmentTransform{}, image.data(), image.data() + 4, 1, 4, 4),
                    Catch::Contains("overlap"));
  CHECK_THROWS_WITH(Augmenter().apply(AugmentTransform{}, image.data(), image.data(), 1, 0, 4),
                    Catch::Contains("[1,0,4]"));
}
