#pragma once
// One suite = a list of cases (ids shared with benchmarks/peers/cases.md) measured for tapeflow,
// LibTorch in this process and the Python peers in child processes, printed as one table.
#include <cblas.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/python_peers.hpp"
#include "common/report.hpp"
#include "tapeflow/bench.hpp"
#include "tapeflow/parallel.hpp"

#ifdef TAPEFLOW_BENCH_LIBTORCH
#include <torch/torch.h>
#endif

namespace benchmarks {

struct Case {
  std::string id;       // as in benchmarks/peers/cases.md
  std::string label;    // the table's first column
  double amount = 0;    // per call, for rate tables: bytes (GB/s) or flops (GFLOP/s)
};

// Collects one library's medians (seconds per call) by case id.
class Recorder {
 public:
  Recorder(std::string library, const Args& args) : args_(args) { run_.library = std::move(library); }

  template <typename Fn>
  void time(const std::string& id, Fn&& fn) {
    run_.seconds[id] = tapeflow::bench::run(id, std::forward<Fn>(fn), args_.options()).median;
  }
  void unsupported(const std::string& id, std::string why) { run_.unsupported[id] = std::move(why); }
  PeerRun take() { return std::move(run_); }

 private:
  const Args& args_;
  PeerRun run_;
};

// A program's LibTorch measurements exist only in builds with LibTorch: name them with
// LIBTORCH_RUNNER(fn), which is null otherwise.
using Runner = PeerRun (*)(const Args&);
#ifdef TAPEFLOW_BENCH_LIBTORCH
#define LIBTORCH_RUNNER(fn) (fn)
inline PeerRun finish_libtorch(Recorder& r) {
  PeerRun run = r.take();
  run.version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR);
  return run;
}
#else
#define LIBTORCH_RUNNER(fn) nullptr
#endif

// Before each library's measurements: the libraries share this process's OpenBLAS, whose own
// thread count torch::set_num_threads does not set (tapeflow sets it per call).
inline void set_threads(int threads) {
  tapeflow::set_num_threads(threads);
  openblas_set_num_threads(threads);
#ifdef TAPEFLOW_BENCH_LIBTORCH
  torch::set_num_threads(threads);
#endif
}

// The columns of one table at `threads`: tapeflow, any extra in-process column (e.g. OpenBLAS
// called directly), LibTorch (or why it is absent), then the Python peers.
inline std::vector<PeerRun> measure_columns(const Args& args, const std::string& suite, int threads, Runner tapeflow,
                                            Runner libtorch, const std::function<PeerRun()>& extra = nullptr) {
  set_threads(threads);
  std::vector<PeerRun> columns = {tapeflow(args)};
  if (extra) columns.push_back(extra());
  set_threads(threads);  // tapeflow changes OpenBLAS's thread count per call
  if (libtorch != nullptr && args.libtorch) {
    columns.push_back(libtorch(args));
  } else {
    PeerRun absent;
    absent.library = "LibTorch";
    absent.absent = args.libtorch ? "missing" : "not run";
    columns.push_back(absent);
  }
  for (const PythonPeer* peer : {&kPyTorch, &kTensorFlow})
    columns.push_back(run_python_peer(*peer, peer == &kPyTorch ? args.pytorch : args.tensorflow, suite, threads, args.quick));
  return columns;
}

// One line naming what was compared, so a pasted table says what it came from.
inline void print_versions(const std::vector<PeerRun>& columns) {
  std::printf("versions:");
  for (const auto& c : columns) {
    if (c.library == "tapeflow") continue;
    std::printf("  %s %s", c.library.c_str(), !c.absent.empty() ? c.absent.c_str() : c.version.empty() ? "?" : c.version.c_str());
  }
  std::printf("\n");
}

// A note after a row, e.g. "92% of copy"; empty for none.
using RowNote = std::function<std::string(const Case&, const Cell& tapeflow)>;

inline void print_suite(const std::string& title, Measure measure, const std::string& unit,
                        const std::vector<Case>& cases, const std::vector<PeerRun>& columns,
                        const RowNote& note = nullptr) {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.library);
  Table table(title, measure, unit, names);
  for (const auto& c : cases) {
    std::vector<Cell> cells;
    for (const auto& column : columns) cells.push_back(measure == Measure::Rate ? column.rate(c.id, c.amount) : column.cell(c.id));
    table.add(c.label, cells, note ? note(c, cells.front()) : std::string());
  }
  table.print();
  print_versions(columns);
}


}  // namespace benchmarks
