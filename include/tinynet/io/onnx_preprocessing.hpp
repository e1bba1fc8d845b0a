// tinynet/io/onnx_preprocessing.hpp: tinynet's input preprocessing (data/normalize.hpp) as the
// constants of ONNX nodes, and as the text of the ONNX metadata key "tinynet.preprocessing".
//
// In the graph, out[c] = in[channel_order[c]] * scale[c] + shift[c] on 0..255 pixel values
// (Gather, Mul, Add; each only when needed):
//   unit_range:   scale 1/255;
//   standardize:  scale 1/(255 stddev[c]), shift -mean[c]/stddev[c];
//   caffe:        channel_order 2,1,0 (RGB -> BGR), shift -[103.939, 116.779, 123.68].
// The metadata text: "unit_range", "caffe", or "standardize mean=m0,m1,.. stddev=s0,s1,..".
#pragma once

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"
#include "tinynet/data/normalize.hpp"

namespace tinynet {

constexpr const char* onnx_preprocessing_key = "tinynet.preprocessing";

struct OnnxPreprocessingConstants {
  std::vector<std::int64_t> channel_order;  // empty: channels kept in order
  std::vector<double> scale, shift;         // per channel; empty: none
};

// requires: p applicable to `channels` channels (checked as preprocess_into does).
// ensures: the constants of the header comment.
inline OnnxPreprocessingConstants onnx_preprocessing_constants(const Preprocessing& p, std::int64_t channels) {
  detail::preprocessing_tables<double>(p, channels);  // the same checks as the data pipeline
  OnnxPreprocessingConstants k;
  const auto n = static_cast<std::size_t>(channels);
  if (p.kind == Preprocessing::Kind::unit_range) k.scale.assign(n, 1 / 255.0);
  if (p.kind == Preprocessing::Kind::standardize)
    for (std::size_t c = 0; c < n; ++c) {
      k.scale.push_back(1 / (255.0 * p.stats.stddev[c]));
      k.shift.push_back(-p.stats.mean[c] / p.stats.stddev[c]);
    }
  if (p.kind == Preprocessing::Kind::caffe) {
    k.channel_order = {2, 1, 0};
    k.shift = {-103.939, -116.779, -123.68};
  }
  return k;
}

// ensures: the metadata text of p (17 significant digits: doubles read back exactly).
inline std::string format_onnx_preprocessing(const Preprocessing& p) {
  if (p.kind == Preprocessing::Kind::unit_range) return "unit_range";
  if (p.kind == Preprocessing::Kind::caffe) return "caffe";
  std::ostringstream out;
  out.precision(17);
  auto list = [&](const char* name, const std::vector<double>& values) {
    out << name;
    for (std::size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  };
  list("standardize mean=", p.stats.mean);
  list(" stddev=", p.stats.stddev);
  return out.str();
}

// ensures: the Preprocessing of a metadata text; an Error naming `where` and the text when
// it is none of the three forms.
inline Preprocessing parse_onnx_preprocessing(const std::string& text, const std::string& where) {
  if (text == "unit_range") return Preprocessing::unit_range();
  if (text == "caffe") return Preprocessing::caffe();
  const std::string mean_tag = "standardize mean=", stddev_tag = " stddev=";
  const std::size_t split = text.find(stddev_tag);
  check(text.compare(0, mean_tag.size(), mean_tag) == 0 && split != std::string::npos, where, ": metadata ",
        onnx_preprocessing_key, " = '", text, "' is not unit_range, caffe or 'standardize mean=.. stddev=..'");
  auto numbers = [&](const std::string& list) {
    std::vector<double> values;
    std::stringstream in(list);
    for (std::string item; std::getline(in, item, ',');) {
      char* end = nullptr;
      values.push_back(std::strtod(item.c_str(), &end));
      check(!item.empty() && *end == '\0', where, ": metadata ", onnx_preprocessing_key, ": '", item,
            "' is not a number");
    }
    return values;
  };
  ChannelStats stats;
  stats.mean = numbers(text.substr(mean_tag.size(), split - mean_tag.size()));
  stats.stddev = numbers(text.substr(split + stddev_tag.size()));
  check(!stats.mean.empty() && stats.mean.size() == stats.stddev.size(), where, ": metadata ", onnx_preprocessing_key,
        " has ", stats.mean.size(), " means and ", stats.stddev.size(), " deviations");
  return Preprocessing::standardize(stats);
}

}  // namespace tinynet
