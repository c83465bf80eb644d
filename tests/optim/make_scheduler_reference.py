#!/usr/bin/python3
"""Reference learning-rate schedules from PyTorch 1.13 for tests/optim/test_lr_scheduler*.cpp.

Run from the repository root (Debian's python3-torch 1.13):
    /usr/bin/python3 tests/optim/make_scheduler_reference.py

For each configuration below it builds an SGD optimizer with two parameter groups (lr 0.1 and
0.05, momentum 0.9 and 0.8), wraps it in the scheduler(s), and writes
tests/optim/data/<name>.txt: the line "groups 2", then one row per step (row 0 is the state right
after construction, then one row after each of STEPS steps):
    step metric lr_0 lr_1 momentum_0 momentum_1
metric is the value fed to ReduceLROnPlateau.step() for that row ("nan" for other schedulers).
Values are printed with repr() so that they read back bit-exactly. The C++ tests build the same
configurations (keep the two in sync) and compare every value to 1e-12.
"""
import math
import os
import warnings

import torch
from torch.optim import SGD
from torch.optim import lr_scheduler as S

STEPS = 40
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def optimizer():
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return SGD([{"params": [params[0]], "lr": 0.1, "momentum": 0.9},
                {"params": [params[1]], "lr": 0.05, "momentum": 0.8}], lr=0.1)


# Metrics fed to ReduceLROnPlateau: improvements, plateaus, small (sub-threshold) changes, a rise.
PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.9, 0.899, 0.898, 0.85, 0.85, 0.85, 0.85, 0.84, 0.7, 0.71, 0.72,
                   0.73, 0.74, 0.69, 0.689, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.45, 0.45, 0.46, 0.47,
                   0.48, 0.49, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
PLATEAU_METRICS_MAX = [0.1, 0.2, 0.22, 0.26, 0.3, 0.3, 0.34, 0.5, 0.52, 0.53, 0.6, 0.61, 0.62, 0.7,
                       0.7, 0.7, 0.8, 0.81, 0.86, 0.86, 0.87, 0.9, 0.9, 0.9, 0.9, 0.9, 0.96, 0.97,
                       0.98, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99, 0.99]


def configs():
    """name -> function(opt) returning (scheduler, metrics or None)."""
    return {
        "step_lr": lambda o: (S.StepLR(o, step_size=7, gamma=0.5), None),
        "multistep_lr": lambda o: (S.MultiStepLR(o, milestones=[3, 10, 25], gamma=0.3), None),
        "exponential_lr": lambda o: (S.ExponentialLR(o, gamma=0.93), None),
        "constant_lr": lambda o: (S.ConstantLR(o, factor=0.25, total_iters=6), None),
        "linear_lr_warmup": lambda o: (S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=8), None),
        "linear_lr_decay": lambda o: (S.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=30), None),
        "polynomial_lr": lambda o: (S.PolynomialLR(o, total_iters=20, power=2.0), None),
        "cosine_lr": lambda o: (S.CosineAnnealingLR(o, T_max=12, eta_min=0.001), None),
        "cosine_lr_eta0": lambda o: (S.CosineAnnealingLR(o, T_max=40), None),
        "onecycle_cos": lambda o: (S.OneCycleLR(o, max_lr=[0.5, 0.2], total_steps=STEPS), None),
        "onecycle_linear_three_phase": lambda o: (S.OneCycleLR(
            o, max_lr=0.4, epochs=4, steps_per_epoch=10, pct_start=0.25, anneal_strategy="linear",
            base_momentum=[0.8, 0.7], max_momentum=[0.9, 0.95], div_factor=10.0,
            final_div_factor=100.0, three_phase=True), None),
        "onecycle_no_momentum": lambda o: (S.OneCycleLR(
            o, max_lr=0.3, total_steps=STEPS, pct_start=0.4, cycle_momentum=False), None),
        "plateau_min_rel": lambda o: (S.ReduceLROnPlateau(
            o, mode="min", factor=0.5, patience=2, threshold=0.01, threshold_mode="rel",
            cooldown=1, min_lr=[0.01, 0.001]), PLATEAU_METRICS),
        "plateau_max_abs": lambda o: (S.ReduceLROnPlateau(
            o, mode="max", factor=0.3, patience=1, threshold=0.05, threshold_mode="abs",
            cooldown=2, min_lr=0.002, eps=1e-3), PLATEAU_METRICS_MAX),
        "chained_linear_exponential": lambda o: (S.ChainedScheduler([
            S.LinearLR(o, start_factor=0.2, total_iters=5), S.ExponentialLR(o, gamma=0.9)]), None),
        "chained_cosine_step": lambda o: (S.ChainedScheduler([
            S.CosineAnnealingLR(o, T_max=10, eta_min=0.01), S.StepLR(o, step_size=5, gamma=0.5)]), None),
        "sequential_linear_cosine": lambda o: (S.SequentialLR(o, [
            S.LinearLR(o, start_factor=0.1, total_iters=5),
            S.CosineAnnealingLR(o, T_max=30, eta_min=1e-4)], milestones=[5]), None),
        "sequential_three": lambda o: (S.SequentialLR(o, [
            S.ConstantLR(o, factor=0.5, total_iters=4), S.ExponentialLR(o, gamma=0.9),
            S.StepLR(o, step_size=4, gamma=0.5)], milestones=[6, 20]), None),
        "chained_sequential_exponential": lambda o: chained_sequential(o),
    }


def chained_sequential(o):
    warmup = S.LinearLR(o, start_factor=0.25, total_iters=4)
    cosine = S.CosineAnnealingLR(o, T_max=20, eta_min=0.005)
    sequential = S.SequentialLR(o, [warmup, cosine], milestones=[4])
    return S.ChainedScheduler([sequential, S.ExponentialLR(o, gamma=0.97)]), None


def row(step, metric, opt):
    values = [step, metric] + [g["lr"] for g in opt.param_groups] + [g["momentum"] for g in opt.param_groups]
    return " ".join(repr(float(v)) if i > 0 else str(v) for i, v in enumerate(values))


def main():
    warnings.simplefilter("ignore")  # step-order warnings: no optimizer.step() is needed here
    os.makedirs(OUT, exist_ok=True)
    for name, make in configs().items():
        opt = optimizer()
        sched, metrics = make(opt)
        lines = ["groups 2", row(0, math.nan, opt)]
        for step in range(1, STEPS + 1):
            if metrics is None:
                sched.step()
                metric = math.nan
            else:
                metric = metrics[step - 1]
                sched.step(metric)
            lines.append(row(step, metric, opt))
        with open(os.path.join(OUT, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    print("wrote", len(configs()), "files to", OUT)


if __name__ == "__main__":
    main()
