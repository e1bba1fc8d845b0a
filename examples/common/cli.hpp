// examples/common/cli.hpp: a small command-line parser for the example programs.
//
//   CommandLine cli("cifar_scratch", "Train the notebook CNN on CIFAR-10");
//   cli.option("epochs", "15", "number of epochs");
//   cli.flag("resume", "continue from <out>/checkpoint.tnck");
//   cli.parse(argc, argv);            // --help prints usage and exits 0; errors exit 2
//   int epochs = cli.integer("epochs");
// Accepts --name value and --name=value. Unknown options and malformed numbers are
// errors that name the option.
#pragma once

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tinynet/core/error.hpp"

namespace tinynet_examples {

class CommandLine {
 public:
  CommandLine(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

  void option(const std::string& name, const std::string& default_value, const std::string& help) {
    specs_.push_back({name, default_value, help, false});
    values_[name] = default_value;
  }
  void flag(const std::string& name, const std::string& help) {
    specs_.push_back({name, "", help, true});
    values_[name] = "";
  }

  // ensures: values set from argv; exits 0 after --help, 2 with a message on bad input.
  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        usage(std::cout);
        std::exit(0);
      }
      if (arg.rfind("--", 0) != 0) die("unexpected argument '" + arg + "'");
      arg = arg.substr(2);
      std::string value;
      const auto eq = arg.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) value = arg.substr(eq + 1), arg = arg.substr(0, eq);
      const Spec* spec = find(arg);
      if (!spec) die("unknown option --" + arg);
      if (spec->is_flag) {
        if (inline_value) die("--" + arg + " takes no value");
        values_[arg] = "1";
        passed_.insert(arg);
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= argc) die("--" + arg + " needs a value");
        value = argv[++i];
      }
      values_[arg] = value;
      passed_.insert(arg);
    }
  }

  const std::string& text(const std::string& name) const { return values_.at(name); }
  bool given(const std::string& name) const { return !values_.at(name).empty(); }
  // ensures: whether the command line named the option (its default does not count).
  bool passed(const std::string& name) const { return passed_.count(name) > 0; }
  bool is_set(const std::string& name) const { return values_.at(name) == "1"; }
  long long integer(const std::string& name) const {
    const std::string& v = text(name);
    char* end = nullptr;
    const long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0') die("--" + name + " expects an integer, got '" + v + "'");
    return n;
  }
  double number(const std::string& name) const {
    const std::string& v = text(name);
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') die("--" + name + " expects a number, got '" + v + "'");
    return x;
  }

  void usage(std::ostream& os) const {
    os << "Usage: " << program_ << " [options]\n" << summary_ << "\n\nOptions:\n";
    for (const auto& s : specs_) {
      std::string left = "  --" + s.name + (s.is_flag ? "" : " VALUE");
      left.resize(std::max<std::size_t>(left.size() + 2, 26), ' ');
      os << left << s.help << (s.is_flag || s.default_value.empty() ? "" : " (default: " + s.default_value + ")")
         << "\n";
    }
  }

  [[noreturn]] void die(const std::string& message) const {
    std::cerr << program_ << ": " << message << "\n(run with --help for the options)\n";
    std::exit(2);
  }

 private:
  struct Spec {
    std::string name, default_value, help;
    bool is_flag;
  };
  const Spec* find(const std::string& name) const {
    for (const auto& s : specs_)
      if (s.name == name) return &s;
    return nullptr;
  }

  std::string program_, summary_;
  std::vector<Spec> specs_;
  std::map<std::string, std::string> values_;
  std::set<std::string> passed_;  // options named on the command line
};

}  // namespace tinynet_examples
