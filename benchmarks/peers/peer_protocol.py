"""Command line, case ids and output protocol shared by pytorch_peer.py and tensorflow_peer.py.

stdout carries only protocol lines (tab-separated):
  VERSION\t<library>\t<version>        first line
  RESULT\t<case id>\t<median seconds per call>
  UNSUPPORTED\t<case id>\t<short reason>
  MISSING\t<library>\t<reason>         the only line when the library cannot be imported (exit 0)
Everything else (library logs, tracebacks) goes to stderr.
"""
import argparse
import os
import sys
import traceback

import peer_timing

# Case ids per suite, shared by both peers and by tapeflow's C++ benchmarks (see cases.md).
SUITES = {
    "overhead": ["add_1", "add_64", "add_1_recorded", "add_64_recorded", "tiny_fwd_bwd",
                 "adam_step_100", "sgd_step_100"],
    "elementwise": ["add", "add_inplace", "mul", "mul_inplace", "relu", "relu_inplace",
                    "exp", "exp_out", "sum"],
    "matmul": ["mm_64", "mm_128", "mm_256", "mm_512", "mm_1024", "mm_2048", "mm_1024_bt", "mm_64_out"],
    "layers": ["conv2d", "softmax", "cross_entropy", "cross_entropy_fwd_bwd", "layer_norm"],
    "training": ["mlp_adam_32", "mlp_adam_256", "cnn_sgd_64"],
    # On the GPU (bench_cuda; PyTorch only): elementwise on 64M floats with the copy that is the
    # device's limit, larger matmuls, the same training steps, launch overhead.
    "cuda_elementwise": ["copy", "add", "add_inplace", "mul", "mul_inplace", "relu", "relu_inplace",
                         "exp", "exp_out", "sum"],
    "cuda_matmul": ["mm_256", "mm_512", "mm_1024", "mm_2048", "mm_4096", "mm_8192"],
    "cuda_training": ["mlp_adam_32", "mlp_adam_256", "cnn_sgd_64"],
    "cuda_overhead": ["add_1", "add_1_recorded"],
}
GPU_SUITE_PREFIX = "cuda_"
GRAPH_SUFFIX = ":graph"


class Unsupported(Exception):
    """Raised by a case builder when the library has no such operation."""


def _protocol_stream():
    """A private handle on the real stdout; fd 1 itself is pointed at stderr so that anything a
    library prints (Python or C++) can never corrupt the protocol."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def parse_args(library, extra_ids=None, gpu=False):
    """extra_ids(suite) -> ids this library adds to the suite (TensorFlow's :graph variants).
    gpu: the library runs the cuda_* suites too."""
    parser = argparse.ArgumentParser(description=f"{library} peer benchmarks for tapeflow")
    suites = sorted(s for s in SUITES if gpu or not s.startswith(GPU_SUITE_PREFIX))
    parser.add_argument("--suite", required=True, choices=suites)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="smoke-test timing: 5 samples of >= 2 ms")
    parser.add_argument("--case", nargs="+", action="extend", default=[], metavar="ID",
                        help="run only these case ids (default: the whole suite)")
    parser.add_argument("--list", action="store_true",
                        help="print the suite's case ids, one a line, and exit")
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    known = SUITES[args.suite] + (extra_ids(args.suite) if extra_ids else [])
    if args.list:
        print("\n".join(known))
        sys.exit(0)
    requested = list(dict.fromkeys(args.case)) or known
    # A :graph id of a known case is answered (UNSUPPORTED where the library has no graph mode).
    unknown = [c for c in requested
               if c not in known and c.removesuffix(GRAPH_SUFFIX) not in SUITES[args.suite]]
    if unknown:
        parser.error(f"unknown case id(s) for suite {args.suite}: {' '.join(unknown)}")
    args.case = requested
    return args


class Reporter:
    def __init__(self):
        self.out = _protocol_stream()
        self.failed = False

    def line(self, *fields):
        clean = (str(f).replace("\t", " ").replace("\n", " ") for f in fields)
        self.out.write("\t".join(clean) + "\n")

    def missing(self, library, error):
        self.line("MISSING", library, f"{type(error).__name__}: {error}")

    def run(self, cases, builders, quick, library, before_case=None, clock=None):
        """builders: case id -> zero-argument builder returning fn or (fn, sample_context).
        before_case: called before each builder (the peers reseed their data generator there).
        clock: how a sample is timed (peer_timing.time_case); None: the wall clock."""
        timing = peer_timing.QUICK if quick else peer_timing.FULL
        for case in cases:
            try:
                builder = builders.get(case)
                if builder is None:
                    raise Unsupported(f"no {case} in {library}")
                if before_case:
                    before_case()
                built = builder()
                fn, context = built if isinstance(built, tuple) else (built, None)
                seconds = peer_timing.time_case(fn, sample_context=context, clock=clock, **timing)
                self.line("RESULT", case, f"{seconds:.6e}")
                print(f"[{library}] {case}: {seconds * 1e6:.3f} us", file=sys.stderr)
            except Unsupported as why:
                self.line("UNSUPPORTED", case, str(why))
            except Exception as error:  # report and go on with the other cases
                traceback.print_exc()
                self.failed = True
                self.line("UNSUPPORTED", case, f"error: {type(error).__name__}: {error}"[:200])
        return 1 if self.failed else 0
