#!/usr/bin/env bash
# Smoke test of the Python peers: a --quick run of one case per suite for each peer that can be
# imported (--full: every case of every suite), validating the output protocol (cases.md), plus
# the MISSING path (the interpreter run with -S, i.e. without its site-packages) and PyTorch's
# GPU suite (a run on a GPU, MISSING without one).
# Exit 0: all good; 1: a protocol violation; 77 (skip): neither PyTorch nor TensorFlow importable.
#   benchmarks/peers/check_peers.sh [--full]
# Interpreters: TAPEFLOW_PYTORCH_PYTHON (default /usr/bin/python3),
#               TAPEFLOW_TENSORFLOW_PYTHON (default ${TAPEFLOW_PEERS_DIR:-/opt/tapeflow-peers}/tf/bin/python).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pytorch_python="${TAPEFLOW_PYTORCH_PYTHON:-/usr/bin/python3}"
tensorflow_python="${TAPEFLOW_TENSORFLOW_PYTHON:-${TAPEFLOW_PEERS_DIR:-/opt/tapeflow-peers}/tf/bin/python}"
full=0
[[ "${1:-}" == "--full" ]] && full=1

# One case per suite; the training one also asks for its :graph variant (TF runs it, PyTorch
# answers UNSUPPORTED), the elementwise one is UNSUPPORTED in TF, the others use per-sample contexts.
declare -A smoke=(
  [overhead]="add_1_recorded" [elementwise]="relu_inplace" [matmul]="mm_64"
  [layers]="layer_norm" [training]="mlp_adam_32 mlp_adam_32:graph")
suites=(overhead elementwise matmul layers training)
failures=0
available=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# validate LIBRARY "IDS" OUTPUT: VERSION first, then each id exactly once as RESULT (positive
# number) or UNSUPPORTED (a reason), nothing else.
validate() {
  awk -F'\t' -v lib="$1" -v ids="$2" '
    function bad(msg) { print "  line " NR ": " msg ": " $0; errors++ }
    NR == 1 { if (NF != 3 || $1 != "VERSION" || $2 != lib || $3 == "") bad("expected VERSION\t" lib "\t<version>"); next }
    NF != 3 { bad("expected 3 tab-separated fields"); next }
    $1 == "RESULT" { if (!($3 ~ /^[0-9.eE+-]+$/ && $3 + 0 > 0)) bad("not a positive number of seconds") }
    $1 != "RESULT" && $1 != "UNSUPPORTED" { bad("unknown line type") }
    $1 == "UNSUPPORTED" && $3 == "" { bad("no reason") }
    { seen[$2]++ }
    END {
      if (NR == 0) { print "  no output"; errors++ }
      n = split(ids, want, " ")
      for (i = 1; i <= n; i++) { if (seen[want[i]] != 1) { print "  case " want[i] " seen " seen[want[i]] + 0 " times"; errors++ } ; wanted[want[i]] = 1 }
      for (id in seen) if (!(id in wanted)) { print "  unexpected case " id; errors++ }
      exit errors > 0
    }' <<<"$3"
}

check_peer() {
  local library="$1" python="$2" script="$here/$3"
  if [[ ! -x "$python" ]]; then
    echo "$library: no interpreter $python: skipped"; return
  fi
  # The MISSING path: without site-packages neither numpy nor the library can be imported.
  local out rc=0
  out="$("$python" -S "$script" --suite matmul --threads 1 2>/dev/null)" || rc=$?
  [[ $rc == 0 && "$out" == MISSING$'\t'"$library"$'\t'?* && "$out" != *$'\n'* ]] ||
    fail "$library under '$python -S': want one MISSING line and exit 0, got rc=$rc: $out"

  rc=0
  out="$("$python" "$script" --suite matmul --threads 1 --quick --case mm_64 2>/dev/null)" || rc=$?
  if [[ "$out" == MISSING$'\t'* ]]; then
    [[ $rc == 0 ]] || fail "$library: MISSING with exit $rc"
    echo "$library: not importable with $python (${out#*$'\t'*$'\t'}): skipped"; return
  fi
  available=$((available + 1))
  local suite ids
  for suite in "${suites[@]}"; do
    if [[ $full == 1 ]]; then
      ids="$("$python" "$script" --suite "$suite" --list | tr '\n' ' ')"
      ids="${ids% }"
    else
      ids="${smoke[$suite]}"
    fi
    rc=0
    # shellcheck disable=SC2086  # ids: a space-separated list
    out="$("$python" "$script" --suite "$suite" --threads 1 --quick --case $ids 2>"$tmp/$library-$suite.log")" || rc=$?
    if [[ $rc != 0 ]]; then
      fail "$library --suite $suite exited $rc (stderr: $tmp/$library-$suite.log)"
    elif ! report="$(validate "$library" "$ids" "$out")"; then
      fail "$library --suite $suite broke the protocol:"$'\n'"$report"
    else
      echo "$library $suite: ok ($(grep -c . <<<"$out") lines)"
    fi
  done
  if [[ $library == pytorch ]]; then check_gpu_suite "$python" "$script"; fi
}

# PyTorch's GPU suites (bench_cuda): a valid run where torch sees a GPU, else one MISSING line, exit 0.
check_gpu_suite() {
  local out rc=0 report
  out="$("$1" "$2" --suite cuda_overhead --threads 1 --quick --case add_1 2>"$tmp/pytorch-cuda.log")" || rc=$?
  if [[ $rc == 0 && "$out" == MISSING$'\t'pytorch$'\t'?* && "$out" != *$'\n'* ]]; then
    echo "pytorch cuda_overhead: no GPU: MISSING, as it should be"
  elif [[ $rc != 0 ]]; then
    fail "pytorch --suite cuda_overhead exited $rc (stderr: $tmp/pytorch-cuda.log)"
  elif ! report="$(validate pytorch add_1 "$out")"; then
    fail "pytorch --suite cuda_overhead broke the protocol:"$'\n'"$report"
  else
    echo "pytorch cuda_overhead: ok"
  fi
}

tmp="$(mktemp -d)"
check_peer pytorch "$pytorch_python" pytorch_peer.py
check_peer tensorflow "$tensorflow_python" tensorflow_peer.py
if [[ $failures != 0 ]]; then
  echo "$failures failure(s); logs in $tmp" >&2; exit 1
fi
rm -rf "$tmp"
if [[ $available == 0 ]]; then
  echo "neither PyTorch nor TensorFlow can be imported: skipped"; exit 77
fi
echo "all peer checks passed"
