#!/usr/bin/env bash
# Installs tapeflow into a temporary prefix, then compiles and runs a tiny consumer with
#   g++ main.cpp $(pkg-config --cflags --libs tapeflow)
# The third argument is the build's b_sanitize ("none", "address,undefined", ...): a sanitized
# library's consumer is compiled with the same -fsanitize flags.
set -euo pipefail
build_root=$1
source_root=$2
sanitize=${3:-none}
san_flags=()
[ "$sanitize" = none ] || san_flags=("-fsanitize=$sanitize")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build_root" --destdir "$tmp/dest" --no-rebuild --quiet >/dev/null
pcfile=$(find "$tmp/dest" -name tapeflow.pc | head -n 1)
[ -n "$pcfile" ] || { echo "tapeflow.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pcfile")
prefix=$(sed -n 's/^prefix=//p' "$pcfile")
pc() { pkg-config --define-variable=prefix="$tmp/dest$prefix" "$@" tapeflow; }
flags=$(pc --cflags --libs)
echo "pkg-config flags: $flags"
g++ -std=c++20 "${san_flags[@]}" "$source_root/tests/consumer/main.cpp" $flags -o "$tmp/consumer"
libdir=$(pc --variable=libdir)
LD_LIBRARY_PATH="$libdir" "$tmp/consumer"
