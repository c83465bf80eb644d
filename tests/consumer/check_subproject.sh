#!/usr/bin/env bash
# Builds a consumer project that pulls tapeflow in as a Meson subproject (a [provide] wrap).
set -euo pipefail
source_root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$source_root/tests/consumer/subproject_consumer" "$tmp/app"
cp "$source_root/tests/consumer/main.cpp" "$tmp/app/"
mkdir -p "$tmp/app/subprojects"
# A copy of our tree without build directories or git metadata.
(cd "$source_root" && tar --exclude='./build*' --exclude='./.git' -cf - .) | (mkdir -p "$tmp/app/subprojects/tapeflow" && cd "$tmp/app/subprojects/tapeflow" && tar -xf -)
meson setup "$tmp/app/build" "$tmp/app" -Dtapeflow:tests=false -Dtapeflow:benchmarks=false \
  -Dtapeflow:samples=false -Dtapeflow:cuda=disabled >/dev/null
ninja -C "$tmp/app/build" >/dev/null
"$tmp/app/build/consumer"
