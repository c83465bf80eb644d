#!/usr/bin/python3
"""Reference values for the nn layer tests (tests/nn/test_layers_reference.cpp), from PyTorch.

Run from the repository root with Debian's PyTorch 1.13:
    /usr/bin/python3 tests/nn/make_layer_reference.py

For every case it builds the torch.nn layer in float64, gives every floating-point parameter
seeded random values, and runs a list of steps (train or eval mode). Each step feeds fixed
inputs, takes the loss sum(output * out_weight) for a fixed random out_weight, and runs
backward. Everything is written as .npy under tests/nn/data/layers/<case>/:
    meta.txt                 line 1: "steps" + the mode of each step (train/eval)
                             line 2: "keys" + the state_dict keys in torch's order
    state.<key>.npy          the state dict before the first step (loaded into the C++ layer)
    step<s>.in<i>.npy        inputs of step s
    step<s>.out.npy          the output
    step<s>.out_weight.npy   the weights of the loss
    step<s>.grad.in<i>.npy   d loss / d input i (floating inputs only)
    step<s>.grad.<key>.npy   d loss / d parameter (gradients are zeroed before each step)
    final.<key>.npy          the state dict after the last step (BatchNorm's running stats)
"""
import os
import shutil

import numpy as np
import torch
from torch import nn

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "layers")


def randn(gen, *shape):
    return torch.randn(*shape, generator=gen)


def idx(values, shape):
    return torch.tensor(values, dtype=torch.int64).reshape(shape)


def cases():
    """(name, module factory, [(mode, input factory), ...]); input factories take a generator."""
    one = lambda mode, *shapes: [(mode, lambda g: [randn(g, *s) for s in shapes])]
    C = [
        ("linear", lambda: nn.Linear(5, 3), one("train", (4, 5))),
        ("linear_nobias_3d", lambda: nn.Linear(4, 6, bias=False), one("train", (2, 3, 4))),
        ("bilinear", lambda: nn.Bilinear(3, 4, 5), one("train", (6, 3), (6, 4))),
        ("bilinear_nobias_batched", lambda: nn.Bilinear(2, 3, 2, bias=False), one("train", (2, 3, 2), (2, 3, 3))),
        ("conv1d", lambda: nn.Conv1d(3, 4, 3), one("train", (2, 3, 10))),
        ("conv1d_stride_pad_dil_groups", lambda: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
         one("train", (2, 4, 11))),
        ("conv1d_unbatched_nobias", lambda: nn.Conv1d(2, 3, 2, bias=False), one("train", (2, 7))),
        ("conv2d", lambda: nn.Conv2d(3, 4, 3), one("train", (2, 3, 7, 6))),
        ("conv2d_stride_pad_rect", lambda: nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 2)),
         one("train", (2, 2, 8, 7))),
        ("conv2d_groups_dilation_nobias", lambda: nn.Conv2d(4, 6, 3, padding=1, dilation=2, groups=2, bias=False),
         one("train", (1, 4, 9, 9))),
        ("conv2d_unbatched", lambda: nn.Conv2d(2, 3, 3), one("train", (2, 5, 5))),
        ("maxpool2d", lambda: nn.MaxPool2d(2), one("train", (2, 3, 6, 6))),
        ("maxpool2d_stride_pad_ceil", lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
         one("train", (2, 2, 7, 8))),
        ("maxpool2d_dilation", lambda: nn.MaxPool2d(2, stride=1, dilation=2), one("train", (1, 2, 6, 5))),
        ("avgpool2d", lambda: nn.AvgPool2d(2), one("train", (2, 3, 6, 6))),
        ("avgpool2d_pad_exclude_ceil",
         lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
         one("train", (1, 2, 7, 6))),
        ("adaptive_avgpool2d", lambda: nn.AdaptiveAvgPool2d((3, 2)), one("train", (2, 3, 7, 5))),
        ("adaptive_avgpool2d_global_unbatched", lambda: nn.AdaptiveAvgPool2d(1), one("train", (3, 5, 4))),
        ("batchnorm1d_2d", lambda: nn.BatchNorm1d(4),
         one("train", (8, 4)) * 3 + one("eval", (5, 4))),
        ("batchnorm1d_3d_cumulative", lambda: nn.BatchNorm1d(3, momentum=None),
         one("train", (4, 3, 5)) * 3 + one("eval", (2, 3, 5))),
        ("batchnorm2d", lambda: nn.BatchNorm2d(3, eps=1e-3, momentum=0.2),
         one("train", (4, 3, 5, 5)) * 2 + one("eval", (2, 3, 5, 5))),
        ("batchnorm2d_no_affine_no_tracking", lambda: nn.BatchNorm2d(3, affine=False, track_running_stats=False),
         one("train", (4, 3, 3, 3)) + one("eval", (4, 3, 3, 3))),
        ("layernorm", lambda: nn.LayerNorm(5), one("train", (3, 4, 5))),
        ("layernorm_2d_no_affine", lambda: nn.LayerNorm([4, 5], eps=1e-3, elementwise_affine=False),
         one("train", (2, 4, 5))),
        ("dropout_eval", lambda: nn.Dropout(0.3), one("eval", (3, 4))),
        ("dropout_p0_train", lambda: nn.Dropout(0.0), one("train", (3, 4))),
        ("embedding", lambda: nn.Embedding(10, 4),
         [("train", lambda g: [idx([1, 3, 3, 0, 9, 7, 1, 1, 2, 5, 6, 4, 8, 3, 0], (3, 5))])]),
        ("embedding_padding_idx", lambda: nn.Embedding(8, 3, padding_idx=2),
         [("train", lambda g: [idx([2, 0, 2, 5, 7, 2, 1, 3, 2, 6, 4, 0], (2, 6))])]),
        ("embedding_padding_idx_negative", lambda: nn.Embedding(6, 2, padding_idx=-1),
         [("train", lambda g: [idx([5, 0, 1, 5, 4, 2, 5], (7,))])]),
        ("flatten", lambda: nn.Flatten(), one("train", (2, 3, 4, 5))),
        ("flatten_0_2", lambda: nn.Flatten(0, 2), one("train", (2, 3, 4, 5))),
        ("identity", lambda: nn.Identity(), one("train", (3, 4))),
        ("relu", lambda: nn.ReLU(), one("train", (3, 4, 5))),
        ("gelu", lambda: nn.GELU(), one("train", (3, 4, 5))),
        ("gelu_tanh", lambda: nn.GELU(approximate="tanh"), one("train", (3, 4, 5))),
        ("tanh", lambda: nn.Tanh(), one("train", (3, 4, 5))),
        ("sigmoid", lambda: nn.Sigmoid(), one("train", (3, 4, 5))),
        ("silu", lambda: nn.SiLU(), one("train", (3, 4, 5))),
        ("leaky_relu", lambda: nn.LeakyReLU(0.2), one("train", (3, 4, 5))),
        ("softmax", lambda: nn.Softmax(dim=1), one("train", (3, 4, 5))),
        ("log_softmax", lambda: nn.LogSoftmax(dim=-1), one("train", (3, 4, 5))),
    ]
    return C


def randomise_parameters(module, gen):
    """Seeded values for every parameter; norm weights stay positive, as trained ones usually are."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            values = torch.rand(p.shape, generator=gen)
            is_norm_weight = isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm)) and name == "weight"
            p.copy_(0.5 + values if is_norm_weight else 2 * values - 1)


def save(directory, name, t):
    np.save(os.path.join(directory, name + ".npy"), t.detach().numpy())


def run_case(number, name, factory, steps):
    directory = os.path.join(OUT, name)
    os.makedirs(directory)
    torch.manual_seed(1000 + number)
    gen = torch.Generator().manual_seed(2000 + number)
    module = factory()
    randomise_parameters(module, gen)
    state = module.state_dict()
    for key, t in state.items():
        save(directory, "state." + key, t)
    for s, (mode, make_inputs) in enumerate(steps):
        module.train(mode == "train")
        module.zero_grad(set_to_none=True)
        inputs = make_inputs(gen)
        for i, x in enumerate(inputs):
            save(directory, f"step{s}.in{i}", x)
            if x.is_floating_point():
                x.requires_grad_(True)
        out = module(*inputs)
        out_weight = torch.randn(out.shape, generator=gen)
        (out * out_weight).sum().backward()
        save(directory, f"step{s}.out", out)
        save(directory, f"step{s}.out_weight", out_weight)
        for i, x in enumerate(inputs):
            if x.is_floating_point():
                save(directory, f"step{s}.grad.in{i}", x.grad)
        for key, p in module.named_parameters():
            if p.grad is not None:
                save(directory, f"step{s}.grad.{key}", p.grad)
    for key, t in module.state_dict().items():
        save(directory, "final." + key, t)
    with open(os.path.join(directory, "meta.txt"), "w") as f:
        f.write(" ".join(["steps"] + [mode for mode, _ in steps]) + "\n")
        f.write(" ".join(["keys"] + list(state.keys())) + "\n")


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for number, (name, factory, steps) in enumerate(cases()):
        run_case(number, name, factory, steps)
    print(f"wrote {len(cases())} cases under {OUT}")


if __name__ == "__main__":
    main()
