#!/usr/bin/env bash
# The main job: installs what is needed (Debian packages, incl. the Fashion-MNIST data set),
# builds tapeflow, and trains the small CNN on Fashion-MNIST with progress and results.
# Extra arguments go to the sample (see build/samples/fashion_mnist_cnn --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash .ci/deps
BUILD=${TAPEFLOW_BUILD_DIR:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dbuildtype=release >/dev/null
ninja -C "$BUILD" samples/fashion_mnist_cnn
"$BUILD/samples/fashion_mnist_cnn" --data /usr/share/datasets/fashion-mnist "$@"
