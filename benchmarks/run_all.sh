#!/usr/bin/env bash
# Every benchmark with every peer, 1 and 2 threads: the tables benchmarks/RESULTS.md records.
#   bash benchmarks/run_all.sh [build-dir]        (a release build; peers: benchmarks/install_peers.sh)
# Run it on a quiet machine: the tables are medians, but other processes still skew them.
set -euo pipefail
build="${1:-build}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  tapeflow $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')"
for b in overhead elementwise matmul layers training; do
  "$build/benchmarks/bench_$b" --threads 1,2
done
