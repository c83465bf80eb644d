#pragma once
// Command-line options for the samples: `--name value` or `--name=value`, `--flag`, `--help`.
// Header-only and sample-local: the samples otherwise use only tapeflow's public headers.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace samples {

class SampleArgs {
 public:
  SampleArgs(std::string program, std::string about) : program_(std::move(program)), about_(std::move(about)) {}

  void add(const std::string& name, std::string* value, const std::string& help) { options_.push_back({name, value, help}); }
  void add(const std::string& name, std::int64_t* value, const std::string& help) { options_.push_back({name, value, help}); }
  void add(const std::string& name, double* value, const std::string& help) { options_.push_back({name, value, help}); }
  void add(const std::string& name, bool* flag, const std::string& help) { options_.push_back({name, flag, help}); }

  // Parses argv. Returns false after printing help (--help); exits with status 2 on bad input.
  bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        print_help();
        return false;
      }
      if (arg.rfind("--", 0) != 0) die("unexpected argument '" + arg + "'");
      std::string name = arg.substr(2), value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
        has_value = true;
      }
      Option* opt = find(name);
      if (!opt) die("unknown option --" + name);
      if (auto* flag = std::get_if<bool*>(&opt->target)) {
        **flag = !has_value || value == "1" || value == "true";
        continue;
      }
      if (!has_value) {
        if (i + 1 >= argc) die("--" + name + " needs a value");
        value = argv[++i];
      }
      set(*opt, value);
    }
    return true;
  }

 private:
  using Target = std::variant<std::string*, std::int64_t*, double*, bool*>;
  struct Option {
    std::string name;
    Target target;
    std::string help;
  };

  Option* find(const std::string& name) {
    for (auto& o : options_)
      if (o.name == name) return &o;
    return nullptr;
  }

  void set(Option& o, const std::string& value) {
    try {
      std::size_t used = 0;
      if (auto* s = std::get_if<std::string*>(&o.target)) {
        **s = value;
        used = value.size();
      } else if (auto* i = std::get_if<std::int64_t*>(&o.target)) {
        **i = std::stoll(value, &used);
      } else if (auto* d = std::get_if<double*>(&o.target)) {
        **d = std::stod(value, &used);
      }
      if (used != value.size()) throw std::invalid_argument(value);
    } catch (const std::exception&) {
      die("bad value '" + value + "' for --" + o.name);
    }
  }

  static std::string current(const Target& t) {
    if (auto* s = std::get_if<std::string*>(&t)) return **s;
    if (auto* i = std::get_if<std::int64_t*>(&t)) return std::to_string(**i);
    if (auto* d = std::get_if<double*>(&t)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", **d);
      return buf;
    }
    return *std::get<bool*>(t) ? "on" : "off";
  }

  void print_help() const {
    std::printf("%s\n\nusage: %s [options]\n\noptions:\n", about_.c_str(), program_.c_str());
    for (const auto& o : options_) {
      const bool flag = std::holds_alternative<bool*>(o.target);
      std::string left = "--" + o.name + (flag ? "" : " VALUE");
      std::printf("  %-24s %s (default: %s)\n", left.c_str(), o.help.c_str(), current(o.target).c_str());
    }
    std::printf("  %-24s %s\n", "--help", "show this help");
  }

  [[noreturn]] void die(const std::string& message) const {
    std::fprintf(stderr, "%s: %s (see --help)\n", program_.c_str(), message.c_str());
    std::exit(2);
  }

  std::string program_, about_;
  std::vector<Option> options_;
};

// Runs a sample's body, turning exceptions (bad data paths, unreadable files) into a message
// and exit status 1 instead of an abort.
template <typename Body>
int run_main(int argc, char** argv, Body body) {
  try {
    return body(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace samples
