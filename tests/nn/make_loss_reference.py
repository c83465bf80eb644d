"""Reference values and gradients of every loss, from PyTorch 1.13 in float64, for
tests/nn/test_loss_reference.cpp.

Run with Debian's interpreter (python3-torch 1.13, python3-numpy):
    /usr/bin/python3 tests/nn/make_loss_reference.py
Writes tests/nn/data/loss_reference.txt, one case per block:

    case <name> <loss> [key=value ...]      options: reduction, ignore_index, label_smoothing,
                                            beta, delta, log_target, f32 (0: skip the float32 check)
    <array> <f8|i8> <ndim> <dims...> <values...>
    end

Arrays: input, target, optional weight / pos_weight, grad_output (the seed of backward: random
for reduction none, a scalar otherwise), loss (the result), grad_input, and grad_target where
the target is differentiable (floating targets, except where PyTorch's gradient is infinite or NaN).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

assert torch.__version__.startswith("1.13"), torch.__version__
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "loss_reference.txt")
torch.manual_seed(20240531)
D = torch.float64

LOSSES = {
    "mse_loss": lambda x, t, o: F.mse_loss(x, t, reduction=o["reduction"]),
    "l1_loss": lambda x, t, o: F.l1_loss(x, t, reduction=o["reduction"]),
    "smooth_l1_loss": lambda x, t, o: F.smooth_l1_loss(x, t, reduction=o["reduction"], beta=o.get("beta", 1.0)),
    "huber_loss": lambda x, t, o: F.huber_loss(x, t, reduction=o["reduction"], delta=o.get("delta", 1.0)),
    "cross_entropy": lambda x, t, o: F.cross_entropy(
        x, t, weight=o.get("weight"), ignore_index=o.get("ignore_index", -100), reduction=o["reduction"],
        label_smoothing=o.get("label_smoothing", 0.0)),
    "nll_loss": lambda x, t, o: F.nll_loss(
        x, t, weight=o.get("weight"), ignore_index=o.get("ignore_index", -100), reduction=o["reduction"]),
    "binary_cross_entropy": lambda x, t, o: F.binary_cross_entropy(
        x, t, weight=o.get("weight"), reduction=o["reduction"]),
    "binary_cross_entropy_with_logits": lambda x, t, o: F.binary_cross_entropy_with_logits(
        x, t, weight=o.get("weight"), reduction=o["reduction"], pos_weight=o.get("pos_weight")),
    "kl_div": lambda x, t, o: F.kl_div(x, t, reduction=o["reduction"], log_target=bool(o.get("log_target", 0))),
}
TENSOR_OPTIONS = ("weight", "pos_weight")
blocks = []
names = set()


def array_line(name, t):
    t = t.detach()
    kind = "f8" if t.is_floating_point() else "i8"
    values = t.reshape(-1).tolist()
    text = " ".join(repr(float(v)) if kind == "f8" else str(int(v)) for v in values)
    return f"{name} {kind} {t.dim()} {' '.join(str(s) for s in t.shape)} {text}".replace("  ", " ").rstrip()


def case(name, loss, x, t, grad_target=True, f32=True, **opts):
    """Evaluates `loss` on (x, t) with opts and records value and gradients."""
    assert name not in names, name
    names.add(name)
    x = x.detach().clone().requires_grad_(True)
    t = t.detach().clone()
    diff = [x]
    if grad_target and t.is_floating_point():
        t.requires_grad_(True)
        diff.append(t)
    out = LOSSES[loss](x, t, opts)
    g = torch.randn(out.shape, dtype=D) if out.dim() > 0 else torch.tensor(1.25, dtype=D)
    grads = torch.autograd.grad(out, diff, g)
    keys = " ".join(f"{k}={v}" for k, v in opts.items() if k not in TENSOR_OPTIONS)
    lines = [f"case {name} {loss} {keys}" + ("" if f32 else " f32=0"), array_line("input", x), array_line("target", t)]
    for k in TENSOR_OPTIONS:
        if opts.get(k) is not None:
            lines.append(array_line(k, opts[k]))
    lines += [array_line("grad_output", g), array_line("loss", out), array_line("grad_input", grads[0])]
    if len(grads) > 1:
        lines.append(array_line("grad_target", grads[1]))
    blocks.append("\n".join(lines) + "\nend\n")


def r(*shape, scale=1.0):
    return torch.randn(shape, dtype=D) * scale


def labels(shape, classes):
    return torch.randint(0, classes, shape)


REDUCTIONS = ("none", "mean", "sum")

# ---- regression losses ----
x, t = r(4, 5), r(4, 5)
t[0, :2] = x[0, :2]  # zero differences: the gradient of |d| is 0 there
for red in REDUCTIONS:
    case(f"mse_{red}", "mse_loss", x, t, reduction=red)
    case(f"l1_{red}", "l1_loss", x, t, reduction=red)
    case(f"smooth_l1_{red}", "smooth_l1_loss", x, t, reduction=red)
    case(f"huber_{red}", "huber_loss", x, t, reduction=red)
case("mse_0d", "mse_loss", r(), r(), reduction="mean")
# differences exactly at the quadratic/linear boundary and on both sides of it
xb = torch.tensor([[0.5, -0.5, 0.25, 2.0, -3.0], [1.0, 0.0, -0.75, 0.5, 0.1]], dtype=D)
tb = torch.zeros(2, 5, dtype=D)
case("smooth_l1_beta_0.5_boundary", "smooth_l1_loss", xb, tb, reduction="sum", beta=0.5)
case("smooth_l1_beta_2", "smooth_l1_loss", r(3, 4, 2, scale=2), r(3, 4, 2), reduction="none", beta=2.0)
# beta = 0 at zero differences: PyTorch's kernel takes -1 as the derivative for the input AND
# for the target (it swaps them); tapeflow matches the input's, its target's is +1
case("smooth_l1_beta_0", "smooth_l1_loss", x, t, reduction="mean", beta=0.0, grad_target=False)
case("huber_delta_0.5_boundary", "huber_loss", xb, tb, reduction="sum", delta=0.5)
case("huber_delta_0.3", "huber_loss", x, t, reduction="mean", delta=0.3)
case("huber_delta_2.5", "huber_loss", r(3, 4, 2, scale=2), r(3, 4, 2), reduction="none", delta=2.5)

# ---- cross_entropy with class indices ----
N, C = 6, 5
logits = r(N, C, scale=2)
y = labels((N,), C)
w = torch.rand(C, dtype=D) + 0.25
y_ign = y.clone()
y_ign[[1, 4]] = -100
y_ign2 = y.clone()
y_ign2[[0, 3]] = 2
for red in REDUCTIONS:
    case(f"ce_{red}", "cross_entropy", logits, y, reduction=red)
    case(f"ce_weight_{red}", "cross_entropy", logits, y, reduction=red, weight=w)
    case(f"ce_ignore_{red}", "cross_entropy", logits, y_ign, reduction=red)
    case(f"ce_weight_ignore_{red}", "cross_entropy", logits, y_ign, reduction=red, weight=w)
    case(f"ce_smoothing_{red}", "cross_entropy", logits, y, reduction=red, label_smoothing=0.1)
    case(f"ce_smoothing_weight_ignore_{red}", "cross_entropy", logits, y_ign, reduction=red, weight=w,
         label_smoothing=0.25)
    case(f"ce_smoothing_ignore_{red}", "cross_entropy", logits, y_ign, reduction=red, label_smoothing=0.3)
case("ce_ignore_index_2_weight", "cross_entropy", logits, y_ign2, reduction="mean", weight=w, ignore_index=2)
case("ce_ignore_index_2_smoothing", "cross_entropy", logits, y_ign2, reduction="mean", ignore_index=2,
     label_smoothing=0.2)
case("ce_smoothing_1", "cross_entropy", logits, y, reduction="mean", label_smoothing=1.0)
case("ce_all_ignored_sum", "cross_entropy", logits, torch.full((N,), -100), reduction="sum")
# K-dimensional: (N, C, d1, d2)
xk = r(3, C, 4, 2, scale=2)
yk = labels((3, 4, 2), C)
yk[0, 1, 0] = -100
yk[2, 3, 1] = -100
for red in REDUCTIONS:
    case(f"ce_kdim_{red}", "cross_entropy", xk, yk, reduction=red)
    case(f"ce_kdim_weight_smoothing_{red}", "cross_entropy", xk, yk, reduction=red, weight=w, label_smoothing=0.15)
case("ce_3d_weight", "cross_entropy", r(2, C, 7), labels((2, 7), C), reduction="mean", weight=w)
# unbatched: input (C), target ()
x1 = r(C, scale=2)
y1 = torch.tensor(3)
for red in REDUCTIONS:
    case(f"ce_1d_{red}", "cross_entropy", x1, y1, reduction=red)
case("ce_1d_weight_smoothing", "cross_entropy", x1, y1, reduction="mean", weight=w, label_smoothing=0.2)
# the MLP training shape, and rows longer than any SIMD width (vector body + scalar tail)
case("ce_mlp_32x10", "cross_entropy", r(32, 10, scale=3), labels((32,), 10), reduction="mean")
case("ce_wide_37", "cross_entropy", r(4, 37, scale=3), labels((4,), 37), reduction="sum",
     weight=torch.rand(37, dtype=D) + 0.5, label_smoothing=0.05)
# extreme logits: stable log-softmax (no overflow, no log(0))
xe = torch.tensor([[1000.0, -1000.0, 0.0, 500.0, 999.0],
                   [-800.0, -790.0, -805.0, -1000.0, -1e4],
                   [3e4, -3e4, 0.0, 1.0, 2.0],
                   [0.0, 0.0, 0.0, 0.0, 0.0]], dtype=D)
ye = torch.tensor([1, 1, 0, 4])
case("ce_extreme_none", "cross_entropy", xe, ye, reduction="none")
case("ce_extreme_smoothing_mean", "cross_entropy", xe, ye, reduction="mean", label_smoothing=0.1, weight=w)

# ---- cross_entropy with class probabilities ----
probs = torch.softmax(r(N, C, scale=2), 1)
for red in REDUCTIONS:
    case(f"ce_probs_{red}", "cross_entropy", logits, probs, reduction=red)
    case(f"ce_probs_weight_smoothing_{red}", "cross_entropy", logits, probs, reduction=red, weight=w,
         label_smoothing=0.2)
case("ce_probs_weight_mean", "cross_entropy", logits, probs, reduction="mean", weight=w)
case("ce_probs_kdim_weight_none", "cross_entropy", xk, torch.softmax(r(3, C, 4, 2), 1), reduction="none", weight=w)
case("ce_probs_kdim_mean", "cross_entropy", xk, torch.softmax(r(3, C, 4, 2), 1), reduction="mean",
     label_smoothing=0.1)
case("ce_probs_1d_sum", "cross_entropy", x1, torch.softmax(r(C), 0), reduction="sum")
case("ce_probs_unnormalised_mean", "cross_entropy", logits, torch.rand(N, C, dtype=D), reduction="mean")

# ---- nll_loss (input: log-probabilities, but any values are valid) ----
lp = torch.log_softmax(r(N, C, scale=2), 1)
for red in REDUCTIONS:
    case(f"nll_{red}", "nll_loss", lp, y, reduction=red)
    case(f"nll_weight_ignore_{red}", "nll_loss", lp, y_ign, reduction=red, weight=w)
case("nll_ignore_mean", "nll_loss", lp, y_ign, reduction="mean")
case("nll_ignore_index_2_weight", "nll_loss", lp, y_ign2, reduction="mean", weight=w, ignore_index=2)
case("nll_kdim_weight_mean", "nll_loss", torch.log_softmax(xk, 1), yk, reduction="mean", weight=w)
case("nll_kdim_none", "nll_loss", torch.log_softmax(xk, 1), yk, reduction="none")
case("nll_1d_weight_mean", "nll_loss", torch.log_softmax(x1, 0), y1, reduction="mean", weight=w)
case("nll_raw_values_sum", "nll_loss", r(N, C), y, reduction="sum")

# ---- binary_cross_entropy ----
p = torch.sigmoid(r(4, 5, scale=2))
tb_soft = torch.rand(4, 5, dtype=D)
tb_hard = torch.randint(0, 2, (4, 5)).to(D)
wb = torch.rand(5, dtype=D) + 0.5
for red in REDUCTIONS:
    case(f"bce_{red}", "binary_cross_entropy", p, tb_soft, reduction=red)
    case(f"bce_weight_{red}", "binary_cross_entropy", p, tb_hard, reduction=red, weight=wb)
case("bce_full_weight_sum", "binary_cross_entropy", p, tb_soft, reduction="sum", weight=torch.rand(4, 5, dtype=D))
case("bce_kdim_none", "binary_cross_entropy", torch.sigmoid(r(2, 3, 4)), torch.rand(2, 3, 4, dtype=D),
     reduction="none")
# inputs at and near 0 and 1: each log clamped at -100, gradient floor 1e-12 (no target gradient:
# PyTorch's -logit(x) is infinite there)
pe = torch.tensor([[0.0, 1.0, 0.0, 1.0, 1e-13], [1 - 1e-13, 0.5, 1e-300, 1e-50, 0.999999]], dtype=D)
te = torch.tensor([[0.0, 1.0, 1.0, 0.0, 1.0], [0.0, 0.3, 0.7, 1.0, 0.2]], dtype=D)
case("bce_edges_none", "binary_cross_entropy", pe, te, reduction="none", grad_target=False, f32=False)
case("bce_edges_mean", "binary_cross_entropy", pe, te, reduction="mean", grad_target=False, f32=False)

# ---- binary_cross_entropy_with_logits ----
z = r(4, 5, scale=3)
pw = torch.rand(5, dtype=D) * 3 + 0.2
for red in REDUCTIONS:
    case(f"bcel_{red}", "binary_cross_entropy_with_logits", z, tb_soft, reduction=red)
    case(f"bcel_pos_weight_{red}", "binary_cross_entropy_with_logits", z, tb_soft, reduction=red, pos_weight=pw)
    case(f"bcel_weight_pos_weight_{red}", "binary_cross_entropy_with_logits", z, tb_hard, reduction=red,
         weight=wb, pos_weight=pw)
case("bcel_weight_mean", "binary_cross_entropy_with_logits", z, tb_soft, reduction="mean", weight=wb)
case("bcel_kdim_pos_weight_none", "binary_cross_entropy_with_logits", r(2, 3, 4, scale=3),
     torch.rand(2, 3, 4, dtype=D), reduction="none", pos_weight=torch.rand(4, dtype=D) + 0.5)
# extreme logits: no overflow in exp, no cancellation in the gradient
ze = torch.tensor([[1000.0, -1000.0, 50.0, -50.0, 0.0], [30.0, -30.0, 745.0, -745.0, 1e-8]], dtype=D)
case("bcel_extreme_none", "binary_cross_entropy_with_logits", ze, te, reduction="none")
case("bcel_extreme_pos_weight_sum", "binary_cross_entropy_with_logits", ze, te, reduction="sum", pos_weight=pw)

# ---- kl_div ----
lq = torch.log_softmax(r(4, 5), 1)
tp = torch.softmax(r(4, 5), 1)
tp_zeros = tp.clone()
tp_zeros[0, 1] = 0.0
tp_zeros[2, 3] = 0.0
lt = torch.log_softmax(r(4, 5), 1)
for red in REDUCTIONS + ("batchmean",):
    case(f"kl_{red}", "kl_div", lq, tp, reduction=red)
    case(f"kl_log_target_{red}", "kl_div", lq, lt, reduction=red, log_target=1)
    # the target's gradient is NaN at zeros in PyTorch: input gradient only
    case(f"kl_zeros_{red}", "kl_div", lq, tp_zeros, reduction=red, grad_target=False)
case("kl_0d_batchmean", "kl_div", torch.tensor(-0.7, dtype=D), torch.tensor(0.3, dtype=D), reduction="batchmean")
case("kl_kdim_batchmean", "kl_div", torch.log_softmax(r(3, 4, 2), 1), torch.softmax(r(3, 4, 2), 1),
     reduction="batchmean")

with open(OUT, "w") as f:
    f.write("# Generated by tests/nn/make_loss_reference.py (PyTorch %s); do not edit.\n" % torch.__version__)
    f.write("".join(blocks))
print(f"wrote {len(blocks)} cases to {OUT}")
