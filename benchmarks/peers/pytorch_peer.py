#!/usr/bin/env python3
"""PyTorch peer of tapeflow's benchmarks (workloads: cases.md).

Run: /usr/bin/python3 benchmarks/peers/pytorch_peer.py --suite SUITE --threads N [--quick] [--case ID ...]
The cuda_* suites run the same builders on the GPU (cuda:0), timed with CUDA events.
"""
import os
import sys

import peer_protocol
from peer_protocol import GRAPH_SUFFIX, SUITES, Unsupported

LIBRARY = "pytorch"
SEED = 0
ELEMENTWISE_N = 16 * 2**20
CUDA_ELEMENTWISE_N = 64 * 2**20
DEVICE = "cpu"  # "cuda" for the cuda_* suites (main)
# Imported in main(), so that a missing numpy or library yields a MISSING line.
np = None
rng = None  # data generator, reseeded before every case (reseed)
torch = None
device_rng = None  # on a GPU: the generator of large operands, reseeded with rng


def reseed():
    """Each case draws its inputs, in creation order, from default_rng(SEED): the same numbers
    in both peers whatever cases ran before."""
    global rng, device_rng
    rng = np.random.default_rng(SEED)
    if DEVICE != "cpu":
        device_rng = torch.Generator(device=DEVICE)
        device_rng.manual_seed(SEED)


def uniform(*shape):
    """float32 uniform in [-1, 1), the same numbers as in tensorflow_peer.py, on DEVICE."""
    return torch.from_numpy(rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)).to(DEVICE)


def large_uniform(*shape):
    """Operands of the bandwidth and GFLOP/s cases: on a GPU drawn there (NumPy would take
    seconds for 64M numbers); their values do not change those figures."""
    if DEVICE == "cpu":
        return uniform(*shape)
    return torch.rand(*shape, device=DEVICE, generator=device_rng) * 2 - 1


def leaf(*shape):
    return uniform(*shape).requires_grad_(True)


def labels(batch, classes):
    return torch.from_numpy(
        np.random.default_rng(SEED + 1).integers(0, classes, size=batch, dtype=np.int64)).to(DEVICE)


# ---- overhead ---------------------------------------------------------------------------------

def add_case(n, recorded):
    def build():
        a, b = (leaf(n), leaf(n)) if recorded else (uniform(n), uniform(n))
        return lambda: a + b
    return build


def tiny_fwd_bwd():
    a, b = leaf(1), leaf(1)

    def step():
        a.grad = None
        b.grad = None
        (a * b + a).sum().backward()
    return step


def optimizer_step(make_optimizer):
    def build():
        params = [leaf(64) for _ in range(100)]
        for i, p in enumerate(params):
            p.grad = torch.from_numpy(
                np.random.default_rng(SEED + 2 + i).uniform(-1, 1, 64).astype(np.float32)).to(DEVICE)
        opt = make_optimizer(params)
        return opt.step
    return build


# ---- elementwise ------------------------------------------------------------------------------

def elementwise(kind):
    def build():
        n = ELEMENTWISE_N if DEVICE == "cpu" else CUDA_ELEMENTWISE_N
        a, b = large_uniform(n), large_uniform(n)
        if kind == "mul_inplace":
            b = torch.ones(n, device=DEVICE)  # keeps a finite however many calls
        c = torch.empty(n, device=DEVICE)
        return {
            "copy": lambda: c.copy_(a),  # on a GPU: cudaMemcpyAsync, device to device
            "add": lambda: a + b,
            "add_inplace": lambda: a.add_(b),
            "mul": lambda: a * b,
            "mul_inplace": lambda: a.mul_(b),
            "relu": lambda: torch.relu(a),
            "relu_inplace": lambda: a.relu_(),
            "exp": lambda: torch.exp(a),
            "exp_out": lambda: torch.exp(a, out=c),
            "sum": lambda: a.sum(),
        }[kind]
    return build


def matmul(n):
    def build():
        a, b = large_uniform(n, n), large_uniform(n, n)
        return lambda: a @ b
    return build


def matmul_transposed_view(n):
    a, b = large_uniform(n, n), large_uniform(n, n)
    return lambda: a @ b.t()


def matmul_out(n):
    a, b, c = large_uniform(n, n), large_uniform(n, n), large_uniform(n, n)
    return lambda: torch.mm(a, b, out=c)


# ---- layers -----------------------------------------------------------------------------------

def conv2d():
    F = torch.nn.functional
    x, w, bias = uniform(32, 64, 28, 28), uniform(64, 64, 3, 3), uniform(64)
    return lambda: F.conv2d(x, w, bias, stride=1, padding=1)


def softmax():
    x = uniform(256, 1000)
    return lambda: torch.softmax(x, dim=-1)


def cross_entropy():
    logits, target = uniform(256, 1000), labels(256, 1000)
    return lambda: torch.nn.functional.cross_entropy(logits, target)


def cross_entropy_fwd_bwd():
    logits, target = leaf(256, 1000), labels(256, 1000)

    def step():
        logits.grad = None
        torch.nn.functional.cross_entropy(logits, target).backward()
    return step


def layer_norm():
    x = uniform(256, 1024)
    layer = torch.nn.LayerNorm(1024, eps=1e-5)  # affine weight and bias
    # Its parameters require grad: no_grad (once per sample) keeps the forward unrecorded.
    return (lambda: layer(x)), torch.no_grad


# ---- training ---------------------------------------------------------------------------------

def train_step(make_model, input_shape, make_optimizer):
    def build():
        torch.manual_seed(SEED)
        model = make_model().to(DEVICE)
        opt = make_optimizer(model.parameters())
        x, y = uniform(*input_shape), labels(input_shape[0], 10)

        def step():
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        return step
    return build


def mlp():
    nn = torch.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn():
    nn = torch.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(400, 10))


def adam(params):
    return torch.optim.Adam(params, lr=1e-3)


def sgd(params):
    return torch.optim.SGD(params, lr=0.01, momentum=0.9)


def builders():
    table = {
        "add_1": add_case(1, False), "add_64": add_case(64, False),
        "add_1_recorded": add_case(1, True), "add_64_recorded": add_case(64, True),
        "tiny_fwd_bwd": tiny_fwd_bwd,
        "adam_step_100": optimizer_step(adam), "sgd_step_100": optimizer_step(sgd),
        "conv2d": conv2d, "softmax": softmax, "cross_entropy": cross_entropy,
        "cross_entropy_fwd_bwd": cross_entropy_fwd_bwd, "layer_norm": layer_norm,
        "mlp_adam_32": train_step(mlp, (32, 784), adam),
        "mlp_adam_256": train_step(mlp, (256, 784), adam),
        "cnn_sgd_64": train_step(cnn, (64, 1, 28, 28), sgd),
    }
    table.update({kind: elementwise(kind) for kind in SUITES["cuda_elementwise"]})
    table.update({f"mm_{n}": matmul(n) for n in (64, 128, 256, 512, 1024, 2048, 4096, 8192)})
    table["mm_1024_bt"] = lambda: matmul_transposed_view(1024)
    table["mm_64_out"] = lambda: matmul_out(64)
    for case in SUITES["training"]:
        table[case + GRAPH_SUFFIX] = unsupported("graph-mode variants are TensorFlow-only")
    return table


def unsupported(reason):
    def build():
        raise Unsupported(reason)
    return build


class CudaEventClock:
    """Times a sample as tapeflow::bench does on a GPU: synchronise, record a start event on the
    current stream, run the calls, record a stop event and wait for it."""

    def __init__(self):
        self.begin = torch.cuda.Event(enable_timing=True)
        self.end = torch.cuda.Event(enable_timing=True)

    def start(self):
        torch.cuda.synchronize()
        self.begin.record()

    def stop(self):
        self.end.record()
        self.end.synchronize()
        return self.begin.elapsed_time(self.end) / 1e3  # ms -> s


def use_gpu(report):
    """Selects cuda:0 with exact float32 matmuls and convolutions (no TF32, as tapeflow), or
    reports the library MISSING when torch sees no GPU. Returns the version line's text."""
    global DEVICE
    if not torch.cuda.is_available():
        report.line("MISSING", LIBRARY, f"no CUDA device visible to torch {torch.__version__} "
                                        f"(built for CUDA {torch.version.cuda})")
        return None
    DEVICE = "cuda"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return f"{torch.__version__} on {torch.cuda.get_device_name(0)}"


def main():
    global np, torch
    args = peer_protocol.parse_args(LIBRARY, gpu=True)
    report = peer_protocol.Reporter()
    # Debian's torch does its matmuls in OpenBLAS (pthread build), whose own thread pool
    # torch.set_num_threads does not size: bound it too, before the library is loaded.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    try:
        import numpy
        import torch as imported
    except Exception as error:  # ImportError, or a broken install failing while loading
        report.missing(LIBRARY, error)
        return 0
    np, torch = numpy, imported
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(SEED)
    version, clock = torch.__version__, None
    if args.suite.startswith(peer_protocol.GPU_SUITE_PREFIX):
        version = use_gpu(report)
        if version is None:
            return 0
        clock = CudaEventClock()
    report.line("VERSION", LIBRARY, version)
    return report.run(args.case, builders(), args.quick, LIBRARY, reseed, clock)


if __name__ == "__main__":
    sys.exit(main())
