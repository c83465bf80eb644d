#pragma once
// Command line shared by the benchmark programs:
//   --threads 1,2     thread counts to run (tapeflow and every peer use the same count)
//   --quick           5 short samples instead of 15 (a smoke run, not for quoting)
//   --peers LIST      comma-separated subset of libtorch,pytorch,tensorflow, or none
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "tapeflow/bench.hpp"

namespace benchmarks {

struct Args {
  std::vector<int> threads{1, 2};
  bool quick = false;
  bool libtorch = true;
  bool pytorch = true;
  bool tensorflow = true;
  tapeflow::Device device = tapeflow::Device::cpu();  // where tapeflow's measured work runs (bench_cuda: cuda:0)

  // The timing options every measurement of a run uses (Python peers use the same numbers).
  tapeflow::bench::Options options(double bytes = 0, double flops = 0) const {
    tapeflow::bench::Options o;
    o.repeats = quick ? 5 : 15;
    o.min_sample_seconds = quick ? 0.002 : 0.01;
    o.bytes = bytes;
    o.flops = flops;
    o.device = device;  // a CUDA device is timed with events, synchronised per sample
    return o;
  }
};

inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) parts.push_back(item);
  return parts;
}

[[noreturn]] inline void usage(const char* program, const char* what, int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "%s: %s\nusage: %s [--threads 1,2] [--quick] [--peers libtorch,pytorch,tensorflow|none]\n",
               program, what, program);
  std::exit(code);
}

inline Args parse_args(int argc, char** argv, const char* what) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") usage(argv[0], what, 0);
    if (arg == "--quick") {
      a.quick = true;
    } else if (arg == "--threads" && has_value) {
      a.threads.clear();
      for (const auto& t : split_commas(argv[++i])) {
        const int n = std::atoi(t.c_str());
        if (n < 1) usage(argv[0], ("bad thread count '" + t + "'").c_str(), 2);
        a.threads.push_back(n);
      }
    } else if (arg == "--peers" && has_value) {
      a.libtorch = a.pytorch = a.tensorflow = false;
      for (const auto& p : split_commas(argv[++i])) {
        if (p == "libtorch") a.libtorch = true;
        else if (p == "pytorch") a.pytorch = true;
        else if (p == "tensorflow") a.tensorflow = true;
        else if (p != "none") usage(argv[0], ("unknown peer '" + p + "'").c_str(), 2);
      }
    } else {
      usage(argv[0], ("unknown or incomplete argument '" + arg + "'").c_str(), 2);
    }
  }
  return a;
}

}  // namespace benchmarks
