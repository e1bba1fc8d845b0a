// examples/cifar_compare/report/text_format.hpp: how report tables and observations write numbers.
//
// Every function writes "n/a" for a non-finite number, so a missing metric shows as such.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tinynet_examples {

// ensures: v with exactly `decimals` digits after the point, e.g. (0.61234, 4) -> "0.6123".
inline std::string format_fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

// ensures: a fraction as a percentage, e.g. (0.789, 2) -> "78.90%".
inline std::string format_percent(double fraction, int decimals = 2) {
  return std::isfinite(fraction) ? format_fixed(fraction * 100, decimals) + "%" : "n/a";
}

// ensures: an integer with thousands separators, e.g. 23587712 -> "23,587,712".
inline std::string format_thousands(std::int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -(n + 1) + 1ull : static_cast<unsigned long long>(n));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// ensures: a duration a person reads at a glance: "42.5 s", "16 min 05 s", "2 h 03 min".
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "n/a";
  if (seconds < 60) return format_fixed(seconds, 1) + " s";
  const auto whole = static_cast<long long>(std::llround(seconds));
  char text[64];
  if (whole < 3600)
    std::snprintf(text, sizeof text, "%lld min %02lld s", whole / 60, whole % 60);
  else
    std::snprintf(text, sizeof text, "%lld h %02lld min", whole / 3600, whole / 60 % 60);
  return text;
}

}  // namespace tinynet_examples
