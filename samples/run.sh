#!/usr/bin/env bash
# The main job: installs what is needed (Debian packages, incl. the Fashion-MNIST data set),
# builds tapeflow, and trains the sample on Fashion-MNIST with progress and results.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash .ci/deps
if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi
BUILD=${TAPEFLOW_BUILD_DIR:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" -Dbuildtype=release >/dev/null
ninja -C "$BUILD" samples/fashion_mnist_softmax
"$BUILD/samples/fashion_mnist_softmax" /usr/share/datasets/fashion-mnist "${EPOCHS:-5}"
