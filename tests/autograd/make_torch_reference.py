"""Generates reference inputs and gradients with PyTorch for tests/autograd/test_torch_reference.cpp.

Run with Debian's interpreter (python3-torch, python3-numpy):
    /usr/bin/python3 tests/autograd/make_torch_reference.py
Writes data/<case>_in<i>.npy (float64 inputs) and data/<case>_grad<i>.npy (d loss / d input i).
Each case's loss is written identically in the C++ test; keep the two in step.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
torch.manual_seed(0)


def save(name, inputs, loss_fn):
    leaves = [t.clone().double().requires_grad_(True) for t in inputs]
    loss = loss_fn(*leaves)
    grads = torch.autograd.grad(loss, leaves)
    for i, (x, g) in enumerate(zip(leaves, grads)):
        np.save(os.path.join(OUT, f"{name}_in{i}.npy"), x.detach().numpy())
        np.save(os.path.join(OUT, f"{name}_grad{i}.npy"), g.numpy())
    np.save(os.path.join(OUT, f"{name}_loss.npy"), loss.detach().numpy())


def r(*shape):
    return torch.randn(*shape, dtype=torch.float64)


# A two-layer MLP with a softmax cross-entropy written from primitives.
def mlp(x, w1, b1, w2, b2):
    h = torch.relu(x @ w1 + b1)
    logits = h @ w2 + b2
    target = torch.tensor([0, 2, 1, 2, 0, 1])
    return -(F.log_softmax(logits, 1) * F.one_hot(target, 3)).sum() / 6


save("mlp", [r(6, 5), r(5, 7), r(7), r(7, 3), r(3)], mlp)


# Elementwise functions with broadcasting.
def elementwise(a, b):
    pos = b.abs() + 0.5
    y = torch.sigmoid(a) * torch.tanh(b) + torch.exp(-a.square()) / pos
    y = y + torch.log(pos) * torch.sqrt(pos) - torch.pow(pos, 1.5) + F.softplus(a) - F.silu(b) + F.gelu(a)
    y = torch.where(a > 0, y, y * 0.5) + torch.clamp(a, -0.5, 0.5) + torch.maximum(a, b) + F.elu(b)
    return y.sum()


save("elementwise", [r(4, 1), r(1, 5)], elementwise)


# Reductions.
def reductions(x):
    return (x.var(1).sum() + x.std(0, correction=0).sum() + torch.logsumexp(x, 1).sum() + x.norm()
            + x.amax(1).sum() + x.mean() + torch.cumsum(x, 1).sum() * 0.1 + (x.prod(1) * 0.01).sum())


save("reductions", [r(4, 5)], reductions)


# Shapes and indexing.
def shapes(x, y):
    t = x.t().reshape(2, 10)[:, 1:9:2]
    g = torch.gather(y, 1, torch.tensor([[0, 2], [1, 1], [3, 0]]))
    s = torch.index_select(x, 0, torch.tensor([2, 0, 2]))
    c = torch.cat([t.flatten(), g.flatten(), s.flatten()])
    m = torch.masked_select(y, y > 0)
    return (c * torch.arange(c.numel(), dtype=torch.float64)).sum() + m.square().sum() + torch.stack([x[0], x[1]]).sum()


save("shapes", [r(4, 5), r(3, 4)], shapes)


# Convolutional block: conv2d (stride, padding, groups), pools, batch_norm, layer_norm.
def conv_block(x, w, b, gamma, beta):
    y = F.conv2d(x, w, b, stride=1, padding=1, groups=2)
    y = F.batch_norm(y, None, None, gamma, beta, training=True)
    y = F.max_pool2d(torch.relu(y), 2) + F.avg_pool2d(y, 2)
    y = F.layer_norm(y, y.shape[1:])
    y = F.adaptive_avg_pool2d(y, (1, 1)).flatten(1)
    return (y * torch.arange(y.numel(), dtype=torch.float64).reshape(y.shape)).sum()


save("conv_block", [r(2, 4, 6, 6), r(6, 2, 3, 3), r(6), r(6), r(6)], conv_block)


# Embedding and softmax.
def embedding(w):
    idx = torch.tensor([[1, 3, 3], [0, 2, 4]])
    e = F.embedding(idx, w)
    return (F.softmax(e, -1) * torch.arange(e.shape[-1], dtype=torch.float64)).sum()


save("embedding", [r(5, 4)], embedding)
print("wrote", len(os.listdir(OUT)), "files to", OUT)
