#!/usr/bin/env bash
# Builds the libFuzzer targets for tapeflow's file parsers and runs each for a while.
#   fuzz/run_fuzz.sh [SECONDS per target, default 60] [TARGET...]   (targets: npy npz safetensors)
# Needs clang++ (libFuzzer ships with it) and a built libtapeflow.so in $BUILD (default build/,
# from `meson setup build && ninja -C build`). The parsers (lib/io/*.cpp) are compiled here with
# -fsanitize=fuzzer,address,undefined and linked into each target, where they take precedence
# over the library's own copies; the rest of tapeflow (tensors, storage) comes from the library.
# Seeds: tests/io/data (good files and the bad-file corpus); new corpus entries go to
# $WORK/corpus_<target> (default fuzz/work, git-ignored), crashes to $WORK/crash-*. Any crash,
# sanitizer report, leak or exception other than tapeflow::Error stops the run with exit != 0:
# add the input to tests/io/data/bad_<format>/ with the test expectation, after fixing the bug.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(npy npz safetensors)
BUILD=$(cd "${BUILD:-$ROOT/build}" && pwd)
WORK=${WORK:-$ROOT/fuzz/work}
CXX=${CXX_FUZZ:-clang++}
mkdir -p "$WORK/obj"
[ -e "$BUILD/libtapeflow.so" ] || { echo "no $BUILD/libtapeflow.so: build tapeflow first" >&2; exit 1; }

FLAGS=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I"$ROOT/include" -I"$ROOT/lib")
objs=()
for src in npy npz safetensors file_util; do
  obj="$WORK/obj/$src.o"
  if [ ! -e "$obj" ] || [ "$ROOT/lib/io/$src.cpp" -nt "$obj" ] || [ "$0" -nt "$obj" ]; then
    "$CXX" "${FLAGS[@]}" -c "$ROOT/lib/io/$src.cpp" -o "$obj"
  fi
  objs+=("$obj")
done

status=0
for t in "${TARGETS[@]}"; do
  exe="$WORK/fuzz_$t"
  "$CXX" "${FLAGS[@]}" "$ROOT/fuzz/fuzz_$t.cpp" "${objs[@]}" -L"$BUILD" -Wl,-rpath,"$BUILD" -ltapeflow -lz -o "$exe"
  corpus="$WORK/corpus_$t"
  mkdir -p "$corpus"
  seeds=("$ROOT/tests/io/data")
  [ -d "$ROOT/tests/io/data/bad_$t" ] && seeds+=("$ROOT/tests/io/data/bad_$t")
  echo "== fuzz_$t: ${SECONDS_PER_TARGET}s, seeds ${seeds[*]}"
  # -rss_limit_mb: a bounded-memory parser must never come near it.
  if ! (cd "$WORK" && UBSAN_OPTIONS=print_stacktrace=1 "$exe" -max_total_time="$SECONDS_PER_TARGET" \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 "$corpus" "${seeds[@]}"); then
    echo "== fuzz_$t FOUND A PROBLEM (see crash-* in $WORK)"
    status=1
  fi
done
exit $status
