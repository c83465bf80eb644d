#!/usr/bin/env bash
# Every benchmark with every peer, 1 and 2 threads: the tables benchmarks/RESULTS.md records.
#   bash benchmarks/run_all.sh [build-dir]        (a release build; peers: benchmarks/install_peers.sh)
# Run it on a quiet machine: the tables are medians, but other processes still skew them.
set -euo pipefail
build="${1:-build}"
# OpenBLAS 0.3.21 (Debian 12) does not know AMD Zen 4/5 and runs its AVX2 kernels there, at half
# the sgemm speed of its AVX-512 (SkylakeX) kernels, which run correctly on those CPUs.
# Every library in the run sees it: LibTorch and PyTorch call the same OpenBLAS.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q AuthenticAMD /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
elif [ -n "${OPENBLAS_CORETYPE:-}" ] && ! [[ "$OPENBLAS_CORETYPE" =~ ^(SkylakeX|Cooperlake|SapphireRapids)$ ]] &&
     grep -qw avx512f /proc/cpuinfo; then
  # Kept as set (some machines set it on purpose), but say so: it decides every BLAS-bound row.
  echo "note: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE is set in the environment on an AVX-512 CPU;" \
       "OpenBLAS runs that core's kernels (unset it, or set SkylakeX, for its AVX-512 ones)"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  tapeflow $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')"
for b in overhead elementwise matmul layers training ops; do
  "$build/benchmarks/bench_$b" --threads 1,2
done
