#!/usr/bin/env python3
"""Loads a tapeflow module checkpoint into the equivalent torch.nn model and checks that PyTorch
computes what tapeflow computed. Run by hand with any PyTorch (not part of CI):

  build/tests/interop_tool write /tmp/tf_interop          # tapeflow writes mlp.safetensors and
                                                          # mlp_io.npz (a fixed input, its output)
  python3 samples/load_in_pytorch.py /tmp/tf_interop/mlp.safetensors /tmp/tf_interop/mlp_io.npz

The checkpoint is the state dict of nn::Sequential(nn::Linear(4, 3), nn::ReLU(),
nn::Linear(3, 2)): tapeflow names parameters as PyTorch does ("0.weight", "2.bias"), so
load_state_dict(strict=True) takes it unchanged. The file is read with safetensors.torch when
that package is installed, else by this script's own reader of the format (NumPy only).
"""
import json
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "BOOL": np.bool_}


def read_safetensors(path):
    """The format without the package: u64 header size, JSON header, then the data buffer."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out


def load_checkpoint(path):
    try:
        from safetensors.torch import load_file
    except ImportError:
        return read_safetensors(path), "this script's safetensors reader"
    return load_file(path), "safetensors.torch.load_file"


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    checkpoint, io_path = sys.argv[1], sys.argv[2]
    state, reader = load_checkpoint(checkpoint)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    model.load_state_dict(state, strict=True)
    model.eval()
    with np.load(io_path) as io:
        x = torch.from_numpy(io["input"])
        tapeflow_out = torch.from_numpy(io["output"])
    with torch.no_grad():
        torch_out = model(x)
    diff = (torch_out - tapeflow_out).abs().max().item()
    ok = torch.allclose(torch_out, tapeflow_out, rtol=1e-5, atol=1e-6)
    print(f"torch {torch.__version__}, checkpoint read by {reader}: {len(state)} tensors, "
          f"load_state_dict(strict=True) ok")
    print(f"forward on {tuple(x.shape)} input: max |torch - tapeflow| = {diff:.3g} -> {'MATCH' if ok else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
