#pragma once
// Runs a Python peer (benchmarks/peers/<library>_peer.py) on one suite, in the same run as the
// C++ measurements, and reads its tab-separated protocol (see benchmarks/peers/cases.md):
//   VERSION <library> <version> | RESULT <case> <seconds> | UNSUPPORTED <case> <why> | MISSING <library> <why>
// The interpreter comes from $TAPEFLOW_PYTORCH_PYTHON / $TAPEFLOW_TENSORFLOW_PYTHON, defaulting
// to where benchmarks/install_peers.sh puts the libraries (TensorFlow: $TAPEFLOW_PEERS_DIR/tf). Its stderr goes to
// $TMPDIR/tapeflow-peers.log so the tables stay readable.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>

#include "common/report.hpp"

namespace benchmarks {

struct PythonPeer {
  const char* library;         // column name
  const char* script;          // under TAPEFLOW_BENCH_PEERS_DIR
  const char* interpreter_env;
  const char* default_interpreter;
  const char* venv_python;     // under $TAPEFLOW_PEERS_DIR, when that is set; null: not in the venv
};
inline constexpr PythonPeer kPyTorch{"PyTorch", "pytorch_peer.py", "TAPEFLOW_PYTORCH_PYTHON", "/usr/bin/python3", nullptr};
inline constexpr PythonPeer kTensorFlow{"TensorFlow", "tensorflow_peer.py", "TAPEFLOW_TENSORFLOW_PYTHON",
                                        "/opt/tapeflow-peers/tf/bin/python", "tf/bin/python"};

struct PeerRun {
  std::string library{};
  std::string version{};
  std::string absent{};  // non-empty: no figures at all ("missing", "not run")
  std::map<std::string, double> seconds{};
  std::map<std::string, std::string> unsupported{};

  Cell cell(const std::string& id) const {
    if (!absent.empty()) return Cell::none(absent);
    if (auto it = seconds.find(id); it != seconds.end()) return Cell::of(it->second);
    if (unsupported.count(id) != 0) return Cell::none("n/a");
    return Cell::none("error");  // the script ran but did not report this case
  }
  // For Rate tables: value per call -> rate.
  Cell rate(const std::string& id, double amount_per_call) const {
    Cell c = cell(id);
    if (c.has_value()) c.value = amount_per_call / c.value / 1e9;
    return c;
  }
};

inline PeerRun run_python_peer(const PythonPeer& peer, bool wanted, const std::string& suite, int threads, bool quick) {
  PeerRun run;
  run.library = peer.library;
  if (!wanted) {
    run.absent = "not run";
    return run;
  }
  const char* env = std::getenv(peer.interpreter_env);
  std::string python = env != nullptr && *env != '\0' ? env : peer.default_interpreter;
  const char* peers_dir = std::getenv("TAPEFLOW_PEERS_DIR");  // where install_peers.sh put the venv
  if ((env == nullptr || *env == '\0') && peers_dir != nullptr && *peers_dir != '\0' && peer.venv_python != nullptr)
    python = std::string(peers_dir) + "/" + peer.venv_python;
  if (access(python.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "note: %s peer missing: no interpreter %s (set %s or run benchmarks/install_peers.sh)\n",
                 peer.library, python.c_str(), peer.interpreter_env);
    run.absent = "missing";
    return run;
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string log = std::string(tmp != nullptr ? tmp : "/tmp") + "/tapeflow-peers.log";
  std::ostringstream cmd;
  cmd << "OMP_NUM_THREADS=" << threads << " '" << python << "' '" << TAPEFLOW_BENCH_PEERS_DIR << "/" << peer.script
      << "' --suite " << suite << " --threads " << threads << (quick ? " --quick" : "") << " 2>>'" << log << "'";
  std::FILE* out = popen(cmd.str().c_str(), "r");
  if (out == nullptr) {
    run.absent = "error";
    return run;
  }
  char line[512];
  while (std::fgets(line, sizeof line, out) != nullptr) {
    std::istringstream fields(line);
    std::string kind, a, b;
    std::getline(fields, kind, '\t');
    std::getline(fields, a, '\t');
    std::getline(fields, b);
    if (kind == "RESULT") run.seconds[a] = std::atof(b.c_str());
    else if (kind == "UNSUPPORTED") run.unsupported[a] = b;
    else if (kind == "VERSION") run.version = b;
    else if (kind == "MISSING") run.absent = "missing";
  }
  const int status = pclose(out);
  if (status != 0 && run.seconds.empty() && run.absent.empty()) {
    std::fprintf(stderr, "note: %s peer failed (status %d); see %s\n", peer.library, status, log.c_str());
    run.absent = "error";
  }
  return run;
}

}  // namespace benchmarks
