// tinynet/training/progress.hpp: the per-epoch progress display of fit().
//
// On a terminal: a live bar with step count, ETA, running loss/accuracy and images/s,
// redrawn at most 5 times a second. Otherwise (a log file, CI) nothing per step, so
// logs stay one plain line per epoch (written by the trainer).
#pragma once

#include <chrono>
#include <cstdio>
#include <ostream>
#include <string>

#include <unistd.h>

namespace tinynet {

// ensures: true when `stream` (stdout or stderr) is a terminal.
inline bool is_terminal(std::FILE* stream) { return ::isatty(::fileno(stream)) == 1; }

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool live) : out_(out), live_(live) {}

  void start(int epoch, int epochs, std::int64_t steps) {
    epoch_ = epoch;
    epochs_ = epochs;
    steps_ = steps;
    start_ = last_ = std::chrono::steady_clock::now();
  }

  // ensures: redraws the bar (terminal only, throttled; always on the last step).
  void update(std::int64_t step, double loss, double accuracy, std::int64_t images) {
    if (!live_) return;
    const auto now = std::chrono::steady_clock::now();
    if (step < steps_ && std::chrono::duration<double>(now - last_).count() < 0.2) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double eta = step > 0 ? elapsed * (steps_ - step) / step : 0;
    const int width = 24, filled = steps_ > 0 ? static_cast<int>(width * step / steps_) : width;
    char line[256];
    std::snprintf(line, sizeof line, "\rEpoch %d/%d [%s%s] %lld/%lld ETA %s loss %.4f acc %.4f %.0f img/s ",
                  epoch_ + 1, epochs_, std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                  static_cast<long long>(step), static_cast<long long>(steps_), format_seconds(eta).c_str(), loss,
                  accuracy, elapsed > 0 ? images / elapsed : 0.0);
    out_ << line << std::flush;
  }

  // ensures: the bar line is cleared so the epoch summary line replaces it.
  void finish() {
    if (live_) out_ << '\r' << std::string(110, ' ') << '\r' << std::flush;
  }

  static std::string format_seconds(double s) {
    const long t = static_cast<long>(s + 0.5);
    char buf[32];
    if (t >= 3600)
      std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
      std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
  }

 private:
  std::ostream& out_;
  bool live_;
  int epoch_ = 0, epochs_ = 0;
  std::int64_t steps_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace tinynet
