#!/usr/bin/env bash
# The main job: installs what is needed (Debian packages, incl. the Fashion-MNIST data set),
# builds tapeflow, and trains the small CNN on Fashion-MNIST with progress and results.
# Extra arguments go to the sample (see build/samples/fashion_mnist_cnn --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash .ci/deps
BUILD=${TAPEFLOW_BUILD_DIR:-build}
# OpenBLAS 0.3.21 (Debian 12) does not know AMD Zen 4/5 and runs its AVX2 kernels there, at half
# the sgemm speed of its AVX-512 (SkylakeX) kernels, which run correctly on those CPUs.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q AuthenticAMD /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dbuildtype=release >/dev/null
ninja -C "$BUILD" samples/fashion_mnist_cnn
"$BUILD/samples/fashion_mnist_cnn" --data /usr/share/datasets/fashion-mnist "$@"
