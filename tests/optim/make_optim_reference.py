"""PyTorch reference trajectories for tests/optim/test_optim_reference.cpp (and clip_grad values).

Run with Debian's interpreter (python3-torch 1.13, python3-numpy):
    /usr/bin/python3 tests/optim/make_optim_reference.py

The problem: a 2-layer tanh net with a scalar output gain, on fixed data,
    out  = s * (tanh(x @ W1.T + b1) @ W2.T + b2)
    loss = mean((out - y)^2)
with parameters W1 (4,3), b1 (4), W2 (2,4), b2 (2), s () -- the C++ test builds the same loss.
Writes to data/:
    problem_<name>.npy        x, y and the initial parameters (float64)
    optimizer_configs.txt               one optimizer configuration per line (see CONFIGS below)
    traj_<config>_<dtype>.npy (STEPS, 27): the 5 parameters, flattened and concatenated in the
                              order above, after each step; dtype float64 and float32
    clip_grad_cases.txt, clip_<case>.npy: clip_grad_norm_/clip_grad_value_ on the initial gradients:
                              [total_norm (NaN for value clipping), clipped gradients flattened]
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
STEPS = 20
PARAM_NAMES = ["W1", "b1", "W2", "b2", "s"]

# name, optimizer, options of all groups, options of group 1 (None: one group). With two
# groups, group 0 is [W1, b1] with the defaults and group 1 is [W2, b2, s] with the defaults
# overridden by its own options. Option names are the C++ fields() names (beta1/beta2).
CONFIGS = [
    ("sgd", "SGD", {"lr": 0.1}, None),
    ("sgd_momentum", "SGD", {"lr": 0.1, "momentum": 0.9}, None),
    ("sgd_dampening", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}, None),
    ("sgd_nesterov", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": 1}, None),
    ("sgd_weight_decay", "SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.1}, None),
    ("sgd_maximize", "SGD", {"lr": 0.01, "momentum": 0.5, "maximize": 1}, None),
    ("sgd_groups", "SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.01, "nesterov": 1}),
    ("adam", "Adam", {"lr": 0.01}, None),
    ("adam_betas", "Adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6}, None),
    ("adam_amsgrad", "Adam", {"lr": 0.01, "beta2": 0.9, "amsgrad": 1}, None),
    ("adam_weight_decay", "Adam", {"lr": 0.01, "weight_decay": 0.1}, None),
    ("adam_maximize", "Adam", {"lr": 0.01, "maximize": 1}, None),
    ("adam_groups", "Adam", {"lr": 0.01}, {"lr": 0.002, "beta2": 0.9, "amsgrad": 1}),
    ("adamw", "AdamW", {"lr": 0.01}, None),
    ("adamw_weight_decay_amsgrad", "AdamW", {"lr": 0.01, "weight_decay": 0.5, "beta2": 0.9, "amsgrad": 1}, None),
    ("adamw_maximize", "AdamW", {"lr": 0.01, "maximize": 1}, None),
    ("adamw_groups", "AdamW", {"lr": 0.01}, {"lr": 0.05, "weight_decay": 0.0}),
    ("rmsprop", "RMSprop", {"lr": 0.01}, None),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": 1}, None),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}, None),
    ("rmsprop_centered_momentum", "RMSprop",
     {"lr": 0.01, "alpha": 0.9, "centered": 1, "momentum": 0.9, "weight_decay": 0.1}, None),
    ("rmsprop_maximize", "RMSprop", {"lr": 0.01, "maximize": 1, "eps": 1e-4}, None),
    ("rmsprop_groups", "RMSprop", {"lr": 0.01}, {"lr": 0.001, "centered": 1, "momentum": 0.5}),
    ("adagrad", "Adagrad", {"lr": 0.1}, None),
    ("adagrad_lr_decay", "Adagrad", {"lr": 0.1, "lr_decay": 0.05}, None),
    ("adagrad_weight_decay", "Adagrad",
     {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}, None),
    ("adagrad_maximize", "Adagrad", {"lr": 0.1, "maximize": 1}, None),
    ("adagrad_groups", "Adagrad", {"lr": 0.1}, {"lr": 0.01, "lr_decay": 0.1}),
]

# name, kind, max_norm (or clip_value), norm_type
CLIP_CASES = [
    ("norm2", "norm", 0.5, 2.0),
    ("norm2_no_clip", "norm", 100.0, 2.0),
    ("norm_inf", "norm", 0.1, float("inf")),
    ("norm1_5", "norm", 0.2, 1.5),
    ("norm1", "norm", 0.3, 1.0),
    ("value", "value", 0.05, 0.0),
]


def problem():
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(8, 3, generator=g, dtype=torch.float64)
    y = torch.randn(8, 2, generator=g, dtype=torch.float64)
    params = [torch.randn(4, 3, generator=g, dtype=torch.float64) * 0.8,
              torch.randn(4, generator=g, dtype=torch.float64) * 0.3,
              torch.randn(2, 4, generator=g, dtype=torch.float64) * 0.8,
              torch.randn(2, generator=g, dtype=torch.float64) * 0.3,
              torch.tensor(1.2, dtype=torch.float64)]
    return x, y, params


def loss_fn(x, y, W1, b1, W2, b2, s):
    out = s * (torch.tanh(x @ W1.T + b1) @ W2.T + b2)
    return ((out - y) ** 2).mean()


def torch_options(opts):
    o = {k: v for k, v in opts.items() if k not in ("beta1", "beta2")}
    for k in ("nesterov", "maximize", "amsgrad", "centered"):
        if k in o:
            o[k] = bool(o[k])
    if "beta1" in opts or "beta2" in opts:
        o["betas"] = (opts.get("beta1", 0.9), opts.get("beta2", 0.999))
    return o


def run(config, dtype):
    _, optimizer, defaults, group1 = config
    x, y, init = problem()
    x, y = x.to(dtype), y.to(dtype)
    params = [p.clone().to(dtype).requires_grad_(True) for p in init]
    if group1 is None:
        groups = [{"params": params}]
    else:
        groups = [{"params": params[:2]}, dict(params=params[2:], **torch_options({**defaults, **group1}))]
    opt = getattr(torch.optim, optimizer)(groups, foreach=False, **torch_options(defaults))
    rows = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss_fn(x, y, *params).backward()
        opt.step()
        rows.append(torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy())
    return np.stack(rows)


def option_text(opts):
    return " ".join(f"{k}={v!r}" for k, v in opts.items())


def main():
    os.makedirs(OUT, exist_ok=True)
    x, y, init = problem()
    np.save(os.path.join(OUT, "problem_x.npy"), x.numpy())
    np.save(os.path.join(OUT, "problem_y.npy"), y.numpy())
    for name, p in zip(PARAM_NAMES, init):
        np.save(os.path.join(OUT, f"problem_{name}.npy"), p.numpy())

    with open(os.path.join(OUT, "optimizer_configs.txt"), "w") as f:
        f.write("# name optimizer options... [| group-1 options...]  (written by make_optim_reference.py)\n")
        for config in CONFIGS:
            name, optimizer, defaults, group1 = config
            line = f"{name} {optimizer} {option_text(defaults)}"
            if group1 is not None:
                line += f" | {option_text(group1)}"
            f.write(line + "\n")
            for dtype, tag in ((torch.float64, "float64"), (torch.float32, "float32")):
                np.save(os.path.join(OUT, f"traj_{name}_{tag}.npy"), run(config, dtype))

    with open(os.path.join(OUT, "clip_grad_cases.txt"), "w") as f:
        f.write("# name kind max_norm_or_clip_value norm_type  (written by make_optim_reference.py)\n")
        for name, kind, limit, norm_type in CLIP_CASES:
            f.write(f"{name} {kind} {limit!r} {norm_type!r}\n")
            params = [p.clone().requires_grad_(True) for p in init]
            loss_fn(x, y, *params).backward()
            if kind == "norm":
                total = float(torch.nn.utils.clip_grad_norm_(params, limit, norm_type))
            else:
                torch.nn.utils.clip_grad_value_(params, limit)
                total = float("nan")
            grads = torch.cat([p.grad.reshape(-1) for p in params]).numpy()
            np.save(os.path.join(OUT, f"clip_{name}.npy"), np.concatenate([[total], grads]))


if __name__ == "__main__":
    main()
