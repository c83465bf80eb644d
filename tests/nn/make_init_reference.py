#!/usr/bin/python3
"""Reference values for tests/nn/test_init.cpp from PyTorch 1.13's torch.nn.init.

Run from the repository root:
    /usr/bin/python3 tests/nn/make_init_reference.py
Writes tests/nn/data/init_reference.txt, one fact per line:
    gain <nonlinearity> <param or -> <value>        torch.nn.init.calculate_gain
    fan <fan_in> <fan_out> <shape...>                torch.nn.init._calculate_fan_in_and_fan_out
"""
import os

import torch
from torch.nn import init

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "init_reference.txt")

GAINS = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
         ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
         ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 5 ** 0.5), ("selu", None)]
SHAPES = [(3, 4), (7, 5), (16, 3, 5), (32, 8, 3, 3), (6, 2, 1, 4, 5), (1, 1)]


def main():
    with open(OUT, "w") as f:
        for name, param in GAINS:
            f.write(f"gain {name} {'-' if param is None else repr(param)} {init.calculate_gain(name, param)!r}\n")
        for shape in SHAPES:
            fan_in, fan_out = init._calculate_fan_in_and_fan_out(torch.empty(shape))
            f.write(f"fan {fan_in} {fan_out} {' '.join(map(str, shape))}\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
