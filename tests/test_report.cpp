// Tests of the report pieces: SVG writing and charts, the bitmap font and PNG image grid,
// base64, observations, and the whole comparison report folder.
#include <stb_image.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cifar_compare/report/base64.hpp"
#include "cifar_compare/report/bitmap_font.hpp"
#include "cifar_compare/report/comparison_report.hpp"
#include "cifar_compare/report/confusion_heatmap.hpp"
#include "cifar_compare/report/image_grid.hpp"
#include "cifar_compare/report/plots.hpp"
#include "cifar_compare/report/svg.hpp"

using namespace tinynet;
using namespace tinynet_examples;
namespace fs = std::filesystem;

namespace {

const double not_a_number = std::numeric_limits<double>::quiet_NaN();

// ---- A strict XML well-formedness checker -------------------------------------------------------
// ensures: "" when `text` is well-formed XML: an optional prolog (<?xml ...?>, comments, one
// DOCTYPE), exactly one root element, tags balanced and properly nested, every attribute value
// quoted, no attribute twice on an element, no '<' in attribute values, '&' only in the five
// predefined entities or character references, and no text outside the root. Otherwise what is
// wrong and the line where.
std::string xml_problem(const std::string& text) {
  std::size_t i = 0;
  std::vector<std::string> open;
  bool root_seen = false, root_done = false;
  const auto where = [&](std::size_t pos) {
    return " (line " + std::to_string(1 + std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n')) + ")";
  };
  const auto name_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; };
  const auto name_char = [&](char c) {
    return name_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  };
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  const auto read_name = [&](std::string& name) {
    const std::size_t start = i;
    if (i >= text.size() || !name_start(text[i])) return false;
    while (i < text.size() && name_char(text[i])) ++i;
    name = text.substr(start, i - start);
    return true;
  };
  // At '&': consumes a valid reference or reports the problem.
  const auto reference = [&]() -> std::string {
    const std::size_t semi = text.find(';', i);
    if (semi == std::string::npos || semi - i > 12) return "bare '&'" + where(i);
    const std::string ref = text.substr(i + 1, semi - i - 1);
    bool ok = ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos";
    if (!ok && ref.size() >= 2 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      const std::string digits = ref.substr(hex ? 2 : 1);
      ok = !digits.empty();
      for (char c : digits)
        ok = ok && (hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c)));
    }
    if (!ok) return "unknown entity '&" + ref + ";'" + where(i);
    i = semi + 1;
    return "";
  };
  while (i < text.size()) {
    if (text[i] == '&') {
      if (open.empty()) return "reference outside the root" + where(i);
      const std::string problem = reference();
      if (!problem.empty()) return problem;
      continue;
    }
    if (text[i] != '<') {
      if (open.empty() && !space(text[i])) return "text outside the root element" + where(i);
      if (text.compare(i, 3, "]]>") == 0) return "']]>' in text" + where(i);
      ++i;
      continue;
    }
    if (text.compare(i, 4, "<!--") == 0) {
      const std::size_t end = text.find("-->", i + 4);
      if (end == std::string::npos) return "unterminated comment" + where(i);
      if (text.substr(i + 4, end - i - 4).find("--") != std::string::npos) return "'--' inside a comment" + where(i);
      i = end + 3;
    } else if (text.compare(i, 2, "<?") == 0) {
      if (root_seen) return "processing instruction after the root started" + where(i);
      const std::size_t end = text.find("?>", i);
      if (end == std::string::npos) return "unterminated processing instruction" + where(i);
      i = end + 2;
    } else if (text.compare(i, 9, "<!DOCTYPE") == 0) {
      if (root_seen) return "DOCTYPE after the root started" + where(i);
      const std::size_t end = text.find('>', i);
      if (end == std::string::npos || text.substr(i, end - i).find('[') != std::string::npos)
        return "unsupported DOCTYPE" + where(i);
      i = end + 1;
    } else if (text.compare(i, 2, "</") == 0) {
      i += 2;
      std::string name;
      if (!read_name(name)) return "bad closing tag" + where(i);
      while (i < text.size() && space(text[i])) ++i;
      if (i >= text.size() || text[i] != '>') return "closing tag </" + name + " not ended by '>'" + where(i);
      ++i;
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes " + (open.empty() ? "nothing" : "<" + open.back() + ">") + where(i);
      open.pop_back();
      if (open.empty()) root_done = true;
    } else {
      ++i;
      std::string name;
      if (!read_name(name)) return "bad start tag" + where(i);
      if (root_done) return "a second root element <" + name + ">" + where(i);
      root_seen = true;
      std::set<std::string> attributes;
      bool self_closing = false;
      for (;;) {
        const std::size_t before = i;
        while (i < text.size() && space(text[i])) ++i;
        if (i >= text.size()) return "unterminated tag <" + name + where(before);
        if (text[i] == '>') {
          ++i;
          break;
        }
        if (text.compare(i, 2, "/>") == 0) {
          i += 2;
          self_closing = true;
          break;
        }
        if (i == before) return "no space before an attribute of <" + name + ">" + where(i);
        std::string attribute;
        if (!read_name(attribute)) return "bad attribute name in <" + name + ">" + where(i);
        if (!attributes.insert(attribute).second)
          return "attribute " + attribute + " twice in <" + name + ">" + where(i);
        while (i < text.size() && space(text[i])) ++i;
        if (i >= text.size() || text[i] != '=') return "attribute " + attribute + " without '='" + where(i);
        ++i;
        while (i < text.size() && space(text[i])) ++i;
        if (i >= text.size() || (text[i] != '"' && text[i] != '\''))
          return "unquoted attribute " + attribute + where(i);
        const char quote = text[i++];
        while (i < text.size() && text[i] != quote) {
          if (text[i] == '<') return "'<' in attribute " + attribute + where(i);
          if (text[i] == '&') {
            const std::string problem = reference();
            if (!problem.empty()) return problem;
          } else {
            ++i;
          }
        }
        if (i >= text.size()) return "unterminated attribute " + attribute + where(i);
        ++i;
      }
      if (self_closing) {
        if (open.empty()) root_done = true;
      } else {
        open.push_back(name);
      }
    }
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  if (!root_seen) return "no root element";
  return "";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool contains(const std::string& text, const std::string& piece) { return text.find(piece) != std::string::npos; }

}  // namespace

TEST_CASE("the XML checker accepts well-formed documents and rejects broken ones", "[report][xml]") {
  CHECK(xml_problem(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE html>\n<a x=\"1\" y='&lt;&#60;&#x3c;'><b/>t &amp; u<!-- c --></a>\n")
            .empty());
  CHECK(contains(xml_problem("<a><b></a></b>"), "</a> closes <b>"));
  CHECK(contains(xml_problem("<a x=1/>"), "unquoted"));
  CHECK(contains(xml_problem("<a x=\"1\" x=\"2\"/>"), "twice"));
  CHECK(contains(xml_problem("<a>fish & chips</a>"), "'&"));
  CHECK(contains(xml_problem("<a>&nbsp;</a>"), "unknown entity"));
  CHECK(contains(xml_problem("<a x=\"<\"/>"), "'<' in attribute"));
  CHECK(contains(xml_problem("<a>"), "never closed"));
  CHECK(contains(xml_problem("<a/><b/>"), "second root"));
  CHECK(contains(xml_problem("<a/>tail"), "outside the root"));
  CHECK(contains(xml_problem("<a x=\"1\"y=\"2\"/>"), "no space"));
}

TEST_CASE("xml_escape and svg_number write exact text", "[report][svg]") {
  CHECK(xml_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  CHECK(xml_escape(std::string("x\x01y\tz", 5)) == "x\xEF\xBF\xBDy\tz");
  CHECK(svg_number(12) == "12");
  CHECK(svg_number(3.5) == "3.5");
  CHECK(svg_number(-0.004) == "0");
  CHECK(svg_number(2.345678) == "2.35");
  CHECK(svg_number(-7.10) == "-7.1");
  CHECK_THROWS_WITH(svg_number(not_a_number), Catch::Contains("non-finite"));

  SvgWriter svg(100, 50);
  svg.open("g", {{"fill", "red"}}).element("rect", {{"x", 1.25}, {"width", 10}}).close();
  svg.text(5, 6, "a<b", {{"font-size", 12}});
  CHECK(svg.finish() ==
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"50\" viewBox=\"0 0 100 50\" "
        "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<g fill=\"red\">\n  <rect x=\"1.25\" "
        "width=\"10\"/>\n</g>\n<text x=\"5\" y=\"6\" font-size=\"12\">a&lt;b</text>\n</svg>\n");
  SvgWriter unbalanced(10, 10);
  unbalanced.open("g");
  CHECK_THROWS_WITH(unbalanced.finish(), Catch::Contains("<g> is still open"));
  CHECK_THROWS_WITH(SvgWriter(10, 10).element("bad name", {}), Catch::Contains("'bad name'"));
}

TEST_CASE("nice_axis picks round ticks that cover the data", "[report][svg]") {
  const NiceAxis a = nice_axis({0.13, 0.87}, 6);
  CHECK(a.lo == 0);
  CHECK(a.hi == Approx(1));
  CHECK(a.step == Approx(0.2));
  REQUIRE(a.ticks.size() == 6);
  CHECK(a.label(a.ticks[2]) == "0.4");
  CHECK(a.label(a.ticks[0], "%") == "0.0%");

  const NiceAxis epochs = nice_axis({1, 2, 3}, 8, true);
  CHECK(epochs.step == 1);
  CHECK(epochs.ticks == std::vector<double>{1, 2, 3});
  CHECK(epochs.label(2) == "2");

  const NiceAxis wide = nice_axis({12.5, 93.1, not_a_number}, 6, false, true);
  CHECK(wide.lo == 0);
  CHECK(wide.hi == 100);
  CHECK(wide.step == 20);

  const NiceAxis single = nice_axis({5}, 6);  // a single value gets a margin
  CHECK(single.lo < 5);
  CHECK(single.hi > 5);
  const NiceAxis none = nice_axis({not_a_number}, 6);
  CHECK(none.lo == 0);
  CHECK(none.hi == 1);
}

TEST_CASE("base64 matches the RFC 4648 test vectors", "[report]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xff\xfe\x00", 3)) == "//4A");
}

TEST_CASE("the bitmap font draws known glyphs pixel by pixel", "[report][font]") {
  const Rgb black{0, 0, 0}, white{255, 255, 255};
  auto lit = [&](const RgbImage& img) {
    std::vector<std::pair<int, int>> out;
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x)
        if (img.at(x, y) == black) out.emplace_back(x, y);
    return out;
  };
  RgbImage dash(8, 9, white);
  draw_text(dash, 1, 1, "-", black);
  CHECK(lit(dash) == std::vector<std::pair<int, int>>{{1, 4}, {2, 4}, {3, 4}, {4, 4}, {5, 4}});

  RgbImage big(12, 16, white);
  draw_text(big, 0, 0, "/", black, 2);  // '/' is a diagonal: 5 font pixels -> 20 image pixels
  CHECK(lit(big).size() == 20);
  CHECK(big.at(8, 2) == black);   // font pixel (4, 1)
  CHECK(big.at(0, 10) == black);  // font pixel (0, 5)

  RgbImage lower(6, 8, white), upper(6, 8, white), unknown(6, 8, white), question(6, 8, white);
  draw_text(lower, 0, 0, "q", black);
  draw_text(upper, 0, 0, "Q", black);
  draw_text(unknown, 0, 0, "@", black);
  draw_text(question, 0, 0, "?", black);
  CHECK(lower.pixels == upper.pixels);
  CHECK(unknown.pixels == question.pixels);
  CHECK(text_pixel_width("ab", 2) == 22);
  CHECK(text_pixel_width("", 3) == 0);

  RgbImage clipped(3, 3, white);
  draw_text(clipped, -2, -3, "m", black);  // partly outside: clipped, no error
  CHECK_THROWS_WITH(draw_text(clipped, 0, 0, "a", black, 0), Catch::Contains("scale"));
}

namespace {
// A [C,H,W] image whose pixel (x, y) in channel c is 10*c + 3*x + 17*y (mod 256).
Tensor<std::uint8_t> pattern_image(int channels, int h, int w) {
  Tensor<std::uint8_t> img(Shape{channels, h, w});
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) img[(c * h + y) * w + x] = static_cast<std::uint8_t>((10 * c + 3 * x + 17 * y) % 256);
  return img;
}
}  // namespace

TEST_CASE("the mistake grid has the documented size, upscaled pixels and captions, and decodes as PNG",
          "[report][png]") {
  ImageGridOptions options;
  options.columns = 2;
  options.scale = 2;
  options.padding = 3;
  const std::vector<std::string> names{"cat", "dog"};
  std::vector<MisclassifiedSample> samples{
      {0, 0, 1, pattern_image(3, 4, 5)}, {7, 1, 0, pattern_image(3, 4, 5)}, {9, 1, 0, pattern_image(1, 4, 5)}};
  const RgbImage grid = render_mistake_grid(samples, names, options);
  // cell 10 x (8 + 20); 2 columns, 2 rows.
  CHECK(caption_height(options) == 20);
  CHECK(grid.width == 3 + 2 * (10 + 3));
  CHECK(grid.height == 3 + 2 * (28 + 3));
  // Source pixel (x=4, y=2) of the first image covers grid pixels (3+8..3+9, 3+4..3+5).
  CHECK(grid.at(3 + 8, 3 + 4) == Rgb{46, 56, 66});
  CHECK(grid.at(3 + 9, 3 + 5) == Rgb{46, 56, 66});
  // The grey third image (row 2, column 1) repeats its channel: pixel (1, 3) = 3 + 51.
  CHECK(grid.at(3 + 2, 3 + 31 + 6) == Rgb{54, 54, 54});
  // Captions: the strip under the first image has green text ("t" of "true:") and red text below.
  int green = 0, red = 0;
  for (int y = 3 + 8; y < 3 + 28; ++y)
    for (int x = 3; x < 3 + 10; ++x) {
      green += grid.at(x, y) == Rgb{0, 120, 40};
      red += grid.at(x, y) == Rgb{200, 20, 20};
    }
  // The 10-pixel cell fits one glyph per line: 'T' (a 5-pixel bar over a 6-pixel stem), 'P' (15 pixels).
  CHECK(green == 11);
  CHECK(red == 15);

  const std::string png = encode_png(grid);
  int w = 0, h = 0, channels = 0;
  unsigned char* decoded = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                                 static_cast<int>(png.size()), &w, &h, &channels, 3);
  REQUIRE(decoded != nullptr);
  CHECK(w == grid.width);
  CHECK(h == grid.height);
  CHECK(std::equal(grid.pixels.begin(), grid.pixels.end(), decoded));
  stbi_image_free(decoded);

  const RgbImage empty = render_mistake_grid({}, names);
  CHECK(empty.width > 0);
  samples[1].predicted_label = 2;
  CHECK_THROWS_WITH(render_mistake_grid(samples, names, options),
                    Catch::Contains("sample 7") && Catch::Contains("1 -> 2"));
  samples[1].predicted_label = 0;
  samples[1].image = pattern_image(2, 4, 5);
  CHECK_THROWS_WITH(render_mistake_grid(samples, names, options), Catch::Contains("[2,4,5]"));
}

TEST_CASE("charts are well-formed SVG with their labels, series and gaps", "[report][svg]") {
  LineChartOptions options;
  options.title = "Accuracy <per> epoch";
  options.x_label = "epoch";
  options.y_label = "accuracy (%)";
  options.y_suffix = "%";
  const std::string chart = line_chart_svg({{"cnn train", {1, 2, 3, 4}, {40, 55, not_a_number, 70}, "#1f77b4", true},
                                            {"cnn validation", {1, 2, 3, 4}, {38, 50, 58, 61}}},
                                           options);
  INFO(chart);
  CHECK(xml_problem(chart).empty());
  CHECK(contains(chart, "viewBox=\"0 0 760 440\""));
  CHECK(contains(chart, "Accuracy &lt;per&gt; epoch"));
  CHECK(contains(chart, ">cnn train<"));
  CHECK(contains(chart, ">cnn validation<"));
  CHECK(contains(chart, ">accuracy (%)<"));
  CHECK(contains(chart, ">70%<"));                     // y ticks 30..70 step 10
  CHECK(contains(chart, "stroke-dasharray=\"6 4\""));  // the dashed train series
  // The NaN splits the train series: two runs of two points, each a polyline; validation one.
  std::size_t polylines = 0;
  for (std::size_t at = chart.find("<polyline"); at != std::string::npos; at = chart.find("<polyline", at + 1))
    ++polylines;
  CHECK(polylines == 2);  // train {1,2} and validation {1..4}; train {4} alone is only a marker
  CHECK_THROWS_WITH(line_chart_svg({{"bad", {1, 2}, {1}}}, options),
                    Catch::Contains("'bad'") && Catch::Contains("2 x values"));

  ConfusionMatrix m(3);
  for (int i = 0; i < 12; ++i) m.add(0, 0);
  m.add(1, 2);
  m.add(2, 2);
  const std::string heatmap = confusion_heatmap_svg(m, {"cat", "dog & wolf", "ship"}, "Confusion: cnn");
  INFO(heatmap);
  CHECK(xml_problem(heatmap).empty());
  CHECK(contains(heatmap, ">dog &amp; wolf<"));
  CHECK(contains(heatmap, ">12<"));
  CHECK(contains(heatmap, ">predicted label<"));
  CHECK(contains(heatmap, ">true label<"));
  CHECK(contains(heatmap, "fill=\"#08306b\""));  // the largest count gets the darkest colour
  CHECK(contains(heatmap, "fill=\"#f7fbff\""));  // zero gets the lightest
  CHECK(blues_colour(0.5) == "#6baed6");
  CHECK_THROWS_WITH(confusion_heatmap_svg(m, {"a"}, "t"), Catch::Contains("1 class names for a 3-class"));

  BarChartOptions bar_options;
  bar_options.title = "Per-class accuracy";
  bar_options.value_suffix = "%";
  bar_options.value_max = 100;
  const std::string bars = horizontal_bar_chart_svg(
      {"cat", "dog"}, {{"cnn", {81.25, not_a_number}}, {"resnet", {92.5, 88.0}, "#ff7f0e"}}, bar_options);
  INFO(bars);
  CHECK(xml_problem(bars).empty());
  CHECK(contains(bars, ">81.2%<"));  // %.1f rounds half to even on 81.25
  CHECK(contains(bars, ">92.5%<"));
  CHECK(contains(bars, ">n/a<"));
  CHECK(contains(bars, ">100%<"));
  CHECK(contains(bars, ">resnet<"));
  CHECK_THROWS_WITH(horizontal_bar_chart_svg({"cat"}, {{"cnn", {1, 2}}}, bar_options),
                    Catch::Contains("2 values for 1"));
}

namespace {

const std::vector<std::string> cifar_classes{"airplane", "automobile", "bird",  "cat",  "deer",
                                             "dog",      "frog",       "horse", "ship", "truck"};

// A run with `epochs` epochs whose accuracies climb towards final_train/final_val, 100 test images
// per class of which `correct[c]` are right (the others predicted as the next class).
ModelRun fake_run(const std::string& name, double test_accuracy, int epochs, double final_train, double final_val,
                  const std::vector<int>& correct) {
  ModelRun run;
  run.name = name;
  run.approach = name == "resnet50" ? "fine-tuned from ImageNet" : "trained from scratch";
  run.architecture = name == "resnet50" ? "ResNet50 + GAP + Dense(10)" : "3x(Conv-Conv-Pool) + Dense";
  run.device = "cpu (16 threads)";
  run.parameters = name == "resnet50" ? 23608202 : 1250858;
  for (int e = 1; e <= epochs; ++e) {
    const double f = static_cast<double>(e) / epochs;
    run.history.epochs.push_back(
        {e, 2.0 - 1.5 * f, final_train * f, 2.1 - 1.4 * f, final_val * std::sqrt(f), 1e-3, 60, 800, 0.5});
  }
  run.test.accuracy = test_accuracy;
  run.test.loss = 0.6123;
  run.train_seconds = name == "resnet50" ? 2910 : 970;
  run.images_per_second = name == "resnet50" ? 412.5 : 1234.5;
  run.class_names = cifar_classes;
  run.input_shape = Shape{3, 32, 32};
  run.test.confusion = ConfusionMatrix(10);
  for (int c = 0; c < 10; ++c)
    for (int i = 0; i < 100; ++i) run.test.confusion.add(c, i < correct[c] ? c : (c + 1) % 10);
  for (int k = 0; k < 10; ++k) run.mistakes.push_back({k * 100 + 99, k, (k + 1) % 10, pattern_image(3, 32, 32)});
  return run;
}

struct ReportDir {
  fs::path path = fs::temp_directory_path() / ("tinynet_report_" + std::to_string(::getpid()));
  ReportDir() { fs::remove_all(path); }
  ~ReportDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("the comparison report folder: files, table, observations, figures", "[report]") {
  std::vector<ModelRun> runs{
      fake_run("scratch-cnn", 0.789, 5, 0.92, 0.80, {70, 85, 60, 55, 75, 65, 85, 80, 90, 85}),
      fake_run("resnet50", 0.931, 4, 0.95, 0.94, {95, 97, 90, 85, 92, 88, 96, 95, 97, 96})};
  runs[0].best_epoch = 4;  // a best-validation checkpoint for one run only
  runs[0].best_validation_accuracy = 0.81;
  runs[0].best_test_accuracy = 0.801;
  ReportDir dir;
  write_comparison_report(runs, dir.path.string(), "A quick look: fewer images and epochs.");

  for (const std::string file :
       {"report.md", "report.html", "accuracy.svg", "loss.svg", "per_class.svg", "confusion_scratch-cnn.svg",
        "confusion_resnet50.svg", "mistakes_scratch-cnn.png", "mistakes_resnet50.png", "results.json"})
    CHECK(fs::exists(dir.path / file));
  for (const auto& entry : fs::directory_iterator(dir.path)) {
    const std::string name = entry.path().filename().string();
    CHECK(name.find(".tmp") == std::string::npos);
    if (entry.path().extension() == ".svg" || entry.path().extension() == ".html") {
      INFO(name);
      CHECK(xml_problem(read_file(entry.path())) == "");
    }
  }

  const std::string accuracy = read_file(dir.path / "accuracy.svg");
  for (const std::string label : {">scratch-cnn train<", ">scratch-cnn validation<", ">resnet50 train<",
                                  ">resnet50 validation<", ">Accuracy per epoch<", ">epoch<", ">accuracy (%)<"})
    CHECK(contains(accuracy, label));
  CHECK(contains(read_file(dir.path / "loss.svg"), ">cross-entropy loss<"));
  const std::string confusion = read_file(dir.path / "confusion_resnet50.svg");
  CHECK(contains(confusion, ">automobile<"));
  CHECK(contains(confusion, ">97<"));
  const std::string per_class = read_file(dir.path / "per_class.svg");
  CHECK(contains(per_class, ">55.0%<"));
  CHECK(contains(per_class, ">resnet50<"));

  for (const std::string model : {"scratch-cnn", "resnet50"}) {
    int w = 0, h = 0, channels = 0;
    unsigned char* png = stbi_load((dir.path / ("mistakes_" + model + ".png")).c_str(), &w, &h, &channels, 0);
    REQUIRE(png != nullptr);
    stbi_image_free(png);
    CHECK(channels == 3);
    CHECK(w == 6 + 8 * (96 + 6));       // 10 mistakes, 8 columns of 32*3 pixels
    CHECK(h == 6 + 2 * (96 + 20 + 6));  // 2 rows, caption 20
  }

  const std::string md = read_file(dir.path / "report.md");
  INFO(md);
  CHECK(contains(md, "# Model comparison: scratch-cnn vs resnet50\n"));
  CHECK(contains(md,
                 "| Model | Approach | Architecture | Parameters | Test accuracy | Test loss | Best-validation checkpoint | "
                 "Training time | Images/s | Device |\n"));
  CHECK(contains(md,
                 "| scratch-cnn | trained from scratch | 3x(Conv-Conv-Pool) + Dense (input \\[3,32,32\\]) | 1,250,858 | 78.90% | "
                 "0.6123 | 80.10% (epoch 4) | 16 min 10 s | 1234.5 | cpu (16 threads) |\n"));
  CHECK(contains(md,
                 "| resnet50 | fine-tuned from ImageNet | ResNet50 + GAP + Dense(10) (input \\[3,32,32\\]) | 23,608,202 | 93.10% | "
                 "0.6123 | - | 48 min 30 s | 412.5 | cpu (16 threads) |\n"));
  CHECK(contains(md, "\nA quick look: fewer images and epochs.\n"));
  CHECK(contains(md,
                 "- resnet50 reaches 93.10% test accuracy, 14.20 points above scratch-cnn (78.90%), with 3.00x "
                 "its training time (48 min 30 s vs 16 min 10 s).\n"));
  CHECK(contains(md,
                 "- scratch-cnn: final train accuracy 92.00% vs validation 80.00%, a gap of 12.00 points (clear "
                 "overfitting).\n"));
  CHECK(contains(md,
                 "- resnet50: final train accuracy 95.00% vs validation 94.00%, a gap of 1.00 points (no clear "
                 "overfitting).\n"));
  CHECK(contains(md, "- scratch-cnn: 12.29 s of training per point of test accuracy (16 min 10 s for 78.90%).\n"));
  CHECK(contains(md, "- resnet50: best validation accuracy 94.00% at epoch 4 of 4.\n"));
  CHECK(contains(md, "![Confusion matrix of resnet50](confusion_resnet50.svg)\n"));
  CHECK(contains(md, "| cat | 55.00% | 85.00% |\n"));
  CHECK(contains(md, "| 5 | 0.5000 | 92.00% | 0.7000 | 80.00% | 0.001000 | 1 min 00 s | 800.0 | 0.5 s |\n"));

  const std::string html = read_file(dir.path / "report.html");
  CHECK(contains(html, "<img alt=\"scratch-cnn: 10 of 250 misclassified test images"));
  CHECK(contains(html, "src=\"data:image/png;base64,iVBORw0KGgo"));  // the PNG signature, base64
  CHECK(contains(html, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(contains(html, "<td>1,250,858</td>"));
  CHECK_FALSE(contains(html, "src=\"mistakes"));  // self-contained: no file references

  // results.json: each run in its metrics.json form (read back exactly) plus the report's additions.
  const auto results = nlohmann::json::parse(read_file(dir.path / "results.json"));
  const auto& resnet = results.at("models").at(1);
  const CifarJobResult back = run_result_from_json(resnet, "results.json");
  CHECK(back.test.accuracy == 0.931);
  CHECK(back.parameters == 23608202);
  CHECK(back.class_names == cifar_classes);
  CHECK(back.test.confusion.counts() == runs[1].test.confusion.counts());
  CHECK(resnet.at("per_class_accuracy").size() == 10);
  CHECK(resnet.at("history").size() == 4);
  CHECK(resnet.at("summary").at("best_epoch") == 4);
  CHECK(resnet.at("summary").contains("overfitting_gap"));
  CHECK(results.at("models").at(0).at("train_seconds") == 970);
  CHECK_FALSE(results.at("observations").empty());
}

TEST_CASE("the comparison report rejects runs it cannot report", "[report]") {
  ReportDir dir;
  const ModelRun good = fake_run("cnn", 0.5, 2, 0.6, 0.5, std::vector<int>(10, 50));
  CHECK_THROWS_WITH(write_comparison_report({}, dir.path.string()), Catch::Contains("no model runs"));
  CHECK_THROWS_WITH(write_comparison_report({good, good}, dir.path.string()),
                    Catch::Contains("share the file name 'cnn'"));
  ModelRun other = fake_run("CNN!", 0.5, 2, 0.6, 0.5, std::vector<int>(10, 50));
  other.class_names[3] = "kitten";
  CHECK_THROWS_WITH(write_comparison_report({good, other}, dir.path.string()),
                    Catch::Contains("different class names"));
  other = good;
  other.name = "wide";
  other.test.accuracy = 1.5;
  CHECK_THROWS_WITH(write_comparison_report({good, other}, dir.path.string()),
                    Catch::Contains("'wide'") && Catch::Contains("1.5"));
  other.test.accuracy = 0.5;
  other.class_names.pop_back();
  CHECK_THROWS_WITH(write_comparison_report({good, other}, dir.path.string()), Catch::Contains("9 class names"));
  other = good;
  other.name = "bad-mistake";
  other.mistakes[2].predicted_label = 10;
  CHECK_THROWS_WITH(write_comparison_report({good, other}, dir.path.string()), Catch::Contains("sample 299"));
  CHECK(file_stem("ResNet 50/v2") == "resnet_50_v2");
  CHECK_FALSE(fs::exists(dir.path / "report.md"));

  // One run alone is a valid report, with an observation saying so.
  write_comparison_report({good}, dir.path.string());
  CHECK(contains(read_file(dir.path / "report.md"), "Only one model was trained"));
}

TEST_CASE("the mistakes grid takes a few mistakes of every class", "[report]") {
  // A test set stored class by class (3 classes x 6 samples), every prediction wrong but
  // sample 1's: with a limit of 6, two per class, not the first six of class 0.
  std::vector<int> labels, predictions;
  for (int c = 0; c < 3; ++c)
    for (int k = 0; k < 6; ++k) {
      labels.push_back(c);
      predictions.push_back((c + 1) % 3);
    }
  predictions[1] = 0;
  CHECK(mistakes_across_classes(predictions, labels, 3, 6) == std::vector<std::size_t>{0, 2, 6, 7, 12, 13});
  CHECK(mistakes_across_classes(predictions, labels, 3, 2) == std::vector<std::size_t>{0, 6});  // at least one per class
  CHECK(mistakes_across_classes(labels, labels, 3, 6).empty());                                  // nothing wrong
  labels[4] = 3;
  CHECK_THROWS_WITH(mistakes_across_classes(predictions, labels, 3, 40), Catch::Contains("label 3 of sample 4"));
}
