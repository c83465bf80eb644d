#!/usr/bin/env python3
"""PyTorch peer of tapeflow's benchmarks (workloads: cases.md).

Run: /usr/bin/python3 benchmarks/peers/pytorch_peer.py --suite SUITE --threads N [--quick] [--case ID ...]
"""
import os
import sys

import peer_protocol
from peer_protocol import GRAPH_SUFFIX, SUITES, Unsupported

LIBRARY = "pytorch"
SEED = 0
ELEMENTWISE_N = 16 * 2**20
# Imported in main(), so that a missing numpy or library yields a MISSING line.
np = None
rng = None  # data generator, reseeded before every case (reseed)
torch = None


def reseed():
    """Each case draws its inputs, in creation order, from default_rng(SEED): the same numbers
    in both peers whatever cases ran before."""
    global rng
    rng = np.random.default_rng(SEED)


def uniform(*shape):
    """float32 uniform in [-1, 1), the same numbers as in tensorflow_peer.py."""
    return torch.from_numpy(rng.uniform(-1.0, 1.0, size=shape).astype(np.float32))


def leaf(*shape):
    return uniform(*shape).requires_grad_(True)


def labels(batch, classes):
    return torch.from_numpy(
        np.random.default_rng(SEED + 1).integers(0, classes, size=batch, dtype=np.int64))


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
                np.random.default_rng(SEED + 2 + i).uniform(-1, 1, 64).astype(np.float32))
        opt = make_optimizer(params)
        return opt.step
    return build


# ---- elementwise ------------------------------------------------------------------------------

def elementwise(kind):
    def build():
        n = ELEMENTWISE_N
        a, b = uniform(n), uniform(n)
        if kind == "mul_inplace":
            b = torch.ones(n)  # keeps a finite however many calls
        c = torch.empty(n)
        return {
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
        a, b = uniform(n, n), uniform(n, n)
        return lambda: a @ b
    return build


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
        model = make_model()
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
    table.update({kind: elementwise(kind) for kind in SUITES["elementwise"]})
    table.update({f"mm_{n}": matmul(n) for n in (64, 128, 256, 512, 1024, 2048)})
    for case in SUITES["training"]:
        table[case + GRAPH_SUFFIX] = unsupported("graph-mode variants are TensorFlow-only")
    return table


def unsupported(reason):
    def build():
        raise Unsupported(reason)
    return build


def main():
    global np, torch
    args = peer_protocol.parse_args(LIBRARY)
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
    report.line("VERSION", LIBRARY, torch.__version__)
    return report.run(args.case, builders(), args.quick, LIBRARY, reseed)


if __name__ == "__main__":
    sys.exit(main())
