// tinynet/training/lr_schedule.hpp: learning-rate schedules.
//
// A schedule maps training progress to a learning rate. rate(epoch, fraction) is
// queried before every step (fraction in [0,1) through the epoch, epochs from 0), so
// per-step schedules (one-cycle, cosine) and per-epoch ones share one interface.
// end_epoch(val_loss) lets reactive schedules (reduce-on-plateau) adapt; their state is
// saved with state()/restore() so a resumed run continues exactly.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>

#include "tinynet/core/error.hpp"

namespace tinynet {

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual double rate(int epoch, double fraction) const = 0;
  virtual void end_epoch(double /*val_loss*/) {}
  virtual std::string state() const { return ""; }
  virtual void restore(const std::string& /*state*/) {}
  virtual std::string describe() const = 0;
};

class ConstantLr : public LrSchedule {
 public:
  explicit ConstantLr(double lr) : lr_(lr) { check(lr > 0, "ConstantLr: learning rate must be > 0, got ", lr); }
  double rate(int, double) const override { return lr_; }
  std::string describe() const override { return "constant " + std::to_string(lr_); }

 private:
  double lr_;
};

// lr * factor^(floor(epoch / every)).
class StepLr : public LrSchedule {
 public:
  StepLr(double lr, double factor, int every) : lr_(lr), factor_(factor), every_(every) {
    check(lr > 0 && factor > 0 && every >= 1, "StepLr: needs lr > 0, factor > 0, every >= 1");
  }
  double rate(int epoch, double) const override { return lr_ * std::pow(factor_, epoch / every_); }
  std::string describe() const override {
    return "step " + std::to_string(lr_) + " x" + std::to_string(factor_) + " every " + std::to_string(every_);
  }

 private:
  double lr_, factor_;
  int every_;
};

// Linear warm-up over `warmup` epochs, then cosine decay from lr to min_lr at `epochs`.
class CosineLr : public LrSchedule {
 public:
  CosineLr(double lr, int epochs, double min_lr = 0, double warmup = 0)
      : lr_(lr), min_lr_(min_lr), epochs_(epochs), warmup_(warmup) {
    check(lr > 0 && epochs >= 1 && warmup >= 0 && warmup < epochs, "CosineLr: needs lr > 0, epochs >= 1, 0 <= warmup < epochs");
  }
  double rate(int epoch, double fraction) const override {
    const double t = epoch + fraction;
    if (t < warmup_) return lr_ * (t + 1e-3) / warmup_;
    const double p = std::min(1.0, (t - warmup_) / (epochs_ - warmup_));
    return min_lr_ + 0.5 * (lr_ - min_lr_) * (1 + std::cos(M_PI * p));
  }
  std::string describe() const override { return "cosine " + std::to_string(lr_) + " over " + std::to_string(epochs_); }

 private:
  double lr_, min_lr_;
  int epochs_;
  double warmup_;
};

// One-cycle (Smith; PyTorch OneCycleLR): from max_lr/div up to max_lr over the first
// `pct_start` of training, then down to max_lr/(div*final_div); each phase a half cosine
// (PyTorch's default) or a straight line (PyTorch's anneal_strategy='linear'; airbench's triangle).
enum class AnnealShape { cosine, linear };

class OneCycleLr : public LrSchedule {
 public:
  OneCycleLr(double max_lr, int epochs, double pct_start = 0.25, double div = 25, double final_div = 1e4,
             AnnealShape shape = AnnealShape::cosine)
      : max_lr_(max_lr), epochs_(epochs), pct_(pct_start), div_(div), final_div_(final_div), shape_(shape) {
    check(max_lr > 0 && epochs >= 1 && pct_start > 0 && pct_start < 1, "OneCycleLr: needs max_lr > 0, epochs >= 1, 0 < pct_start < 1");
  }
  double rate(int epoch, double fraction) const override {
    const double p = std::min(1.0, (epoch + fraction) / epochs_);
    const double start = max_lr_ / div_, end = start / final_div_;
    const bool linear = shape_ == AnnealShape::linear;
    auto anneal = [linear](double a, double b, double t) {
      return linear ? a + (b - a) * t : b + (a - b) * 0.5 * (1 + std::cos(M_PI * t));
    };
    return p < pct_ ? anneal(start, max_lr_, p / pct_) : anneal(max_lr_, end, (p - pct_) / (1 - pct_));
  }
  std::string describe() const override {
    return std::string(shape_ == AnnealShape::linear ? "linear " : "") + "one-cycle max " + std::to_string(max_lr_) +
           " over " + std::to_string(epochs_);
  }

 private:
  double max_lr_;
  int epochs_;
  double pct_, div_, final_div_;
  AnnealShape shape_;
};

// Keras ReduceLROnPlateau on the validation loss: after `patience` epochs without an
// improvement of at least min_delta, multiply the rate by `factor` (not below min_lr).
class ReduceOnPlateauLr : public LrSchedule {
 public:
  ReduceOnPlateauLr(double lr, double factor = 0.1, int patience = 10, double min_lr = 0, double min_delta = 1e-4)
      : lr_(lr), factor_(factor), min_lr_(min_lr), min_delta_(min_delta), patience_(patience) {
    check(lr > 0 && factor > 0 && factor < 1 && patience >= 0, "ReduceOnPlateauLr: needs lr > 0, 0 < factor < 1, patience >= 0");
  }
  double rate(int, double) const override { return lr_; }
  void end_epoch(double val_loss) override {
    if (val_loss < best_ - min_delta_) {
      best_ = val_loss;
      wait_ = 0;
    } else if (++wait_ > patience_) {
      lr_ = std::max(min_lr_, lr_ * factor_);
      wait_ = 0;
    }
  }
  std::string state() const override {
    std::ostringstream os;
    os.precision(17);
    os << lr_ << ' ' << best_ << ' ' << wait_;
    return os.str();
  }
  void restore(const std::string& s) override {
    std::istringstream is(s);
    is >> lr_ >> best_ >> wait_;
    check(!is.fail(), "ReduceOnPlateauLr: corrupt state '", s, "'");
  }
  std::string describe() const override { return "reduce-on-plateau from " + std::to_string(lr_); }

 private:
  double lr_, factor_, min_lr_, min_delta_;
  int patience_;
  double best_ = 1e300;
  int wait_ = 0;
};

}  // namespace tinynet
