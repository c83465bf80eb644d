#!/usr/bin/env python3
"""Interop with real clients: NumPy and Python's safetensors (NumPy flavour) read what tapeflow
writes, and tapeflow reads what they write.

  check_interop.py <path to interop_tool>

Runs `interop_tool write DIR`, checks every file with np.load / safetensors.numpy.load_file
(dtypes, shapes, values, metadata, and the module checkpoint's forward pass), then writes files
with np.save / np.savez / np.savez_compressed / safetensors.numpy.save_file into DIR/py and runs
`interop_tool check DIR`. Exits 77 (meson: skipped) when numpy or safetensors is missing.
"""
import math
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from safetensors.numpy import load_file, save_file
    from safetensors import safe_open
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIP: {e} (install python3-numpy and safetensors: see .ci/deps)")
    sys.exit(77)

# (name, numpy dtype, shape, seed, transposed): the same list as interop_tool.cpp's specs().
SPECS = [
    ("f32_2x3", np.float32, (2, 3), 1, False),
    ("f64_2x3x4", np.float64, (2, 3, 4), 2, False),
    ("i32_5", np.int32, (5,), 0, False),
    ("i64_2x2", np.int64, (2, 2), 4, False),
    ("bool_7", np.bool_, (7,), 5, False),
    ("scalar_f64", np.float64, (), 6, False),
    ("empty_f32_0x3", np.float32, (0, 3), 7, False),
    ("transposed_f64_4x3", np.float64, (4, 3), 8, True),
]
METADATA_NOTE = "caf\u00e9 \u2713"
failures = []


def values(dtype, n, k):
    """The formula of interop_tool.cpp's value_at, for flat indices 0..n-1."""
    i = np.arange(n, dtype=np.float64)
    if dtype in (np.float32, np.float64):
        v = (i - 3.0) * 0.25 + k
    elif dtype in (np.int32, np.uint8, np.int8, np.int16, np.uint16):
        v = i * 7.0 - 20.0 + 30.0 * k
    elif dtype == np.int64:
        v = (i - 3.0) * 3000000019.0 + k
    else:
        v = (np.arange(n) + k) % 3 == 0
    return v


def expected(dtype, shape, k, transposed=False):
    if transposed:
        base = values(dtype, math.prod(shape), k).reshape(shape[1], shape[0]).astype(dtype)
        return base.T
    return values(dtype, math.prod(shape), k).reshape(shape).astype(dtype)


def check_array(where, got, dtype, shape, k, transposed):
    want = expected(dtype, shape, k, transposed)
    if got.dtype != np.dtype(dtype):
        failures.append(f"{where}: dtype {got.dtype}, expected {np.dtype(dtype)}")
    elif got.shape != tuple(shape):
        failures.append(f"{where}: shape {got.shape}, expected {shape}")
    elif not np.array_equal(got, want):
        failures.append(f"{where}: values differ\n got {got!r}\nwant {want!r}")


def check_tapeflow_files(d):
    for name, dtype, shape, k, tr in SPECS:
        check_array(f"npy/{name}.npy", np.load(os.path.join(d, "npy", name + ".npy")), dtype, shape, k, tr)
    with np.load(os.path.join(d, "tensors.npz")) as z:
        if sorted(z.files) != sorted(s[0] for s in SPECS):
            failures.append(f"tensors.npz: members {z.files}")
        for name, dtype, shape, k, tr in SPECS:
            check_array(f"tensors.npz:{name}", z[name], dtype, shape, k, tr)
    path = os.path.join(d, "tensors.safetensors")
    st = load_file(path)
    if sorted(st) != sorted(s[0] for s in SPECS):
        failures.append(f"tensors.safetensors: names {list(st)}")
    for name, dtype, shape, k, tr in SPECS:
        check_array(f"tensors.safetensors:{name}", st[name], dtype, shape, k, tr)
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    if meta != {"producer": "tapeflow interop_tool", "note": METADATA_NOTE}:
        failures.append(f"tensors.safetensors: metadata {meta}")

    # The module checkpoint: the forward pass in NumPy must give tapeflow's output.
    w = load_file(os.path.join(d, "mlp.safetensors"))
    with safe_open(os.path.join(d, "mlp.safetensors"), framework="numpy") as f:
        if f.metadata().get("tapeflow.content") != "module":
            failures.append(f"mlp.safetensors: metadata {f.metadata()}")
    if sorted(w) != ["0.bias", "0.weight", "2.bias", "2.weight"]:
        failures.append(f"mlp.safetensors: names {sorted(w)}")
        return
    want = mlp_params()
    for key, value in want.items():
        if w[key].dtype != np.float32 or not np.array_equal(w[key], value):
            failures.append(f"mlp.safetensors:{key}: {w[key]!r}, expected {value!r}")
    with np.load(os.path.join(d, "mlp_io.npz")) as io:
        x, y = io["input"], io["output"]
    h = np.maximum(x.astype(np.float64) @ w["0.weight"].T.astype(np.float64) + w["0.bias"], 0.0)
    ref = h @ w["2.weight"].T.astype(np.float64) + w["2.bias"]
    if y.shape != (5, 2) or not np.allclose(y, ref, rtol=1e-5, atol=1e-6):
        failures.append(f"mlp forward: tapeflow {y!r}, numpy {ref!r}")


def mlp_params():
    """interop_tool.cpp's make_mlp(): parameter k (in order) holds sin(1 + i + 10k) / 2."""
    shapes = [("0.weight", (3, 4)), ("0.bias", (3,)), ("2.weight", (2, 3)), ("2.bias", (2,))]
    return {key: (np.sin(1.0 + np.arange(math.prod(s)) + 10.0 * k) * 0.5).astype(np.float32).reshape(s)
            for k, (key, s) in enumerate(shapes)}


def write_python_files(d):
    py = os.path.join(d, "py")
    os.makedirs(os.path.join(py, "npy"))
    arrays = {name: expected(dtype, shape, k, tr) for name, dtype, shape, k, tr in SPECS}
    for name, a in arrays.items():
        np.save(os.path.join(py, "npy", name + ".npy"), a)
    for dtype, name, k in [(np.uint8, "u1", 1), (np.int8, "i1", 0), (np.int16, "i2", 40), (np.uint16, "u2", 2000)]:
        v = values(np.int32, 6, k)
        assert v.min() >= np.iinfo(dtype).min and v.max() <= np.iinfo(dtype).max, name  # seeds fit the dtype
        np.save(os.path.join(py, "npy", f"{name}_6.npy"), v.astype(dtype))
    np.save(os.path.join(py, "npy", "fortran_f64_3x4.npy"), np.asfortranarray(expected(np.float64, (3, 4), 9)))
    np.savez(os.path.join(py, "savez.npz"), **arrays)
    np.savez_compressed(os.path.join(py, "savez_compressed.npz"), **arrays)
    # safetensors needs C-contiguous arrays (np.ascontiguousarray would turn 0-d into 1-d).
    save_file({n: a.copy(order="C") for n, a in arrays.items()}, os.path.join(py, "tensors.safetensors"),
              metadata={"producer": "safetensors.numpy", "note": METADATA_NOTE})
    save_file(mlp_params(), os.path.join(py, "mlp.safetensors"))


def main():
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="tapeflow_interop_") as d:
        subprocess.run([tool, "write", d], check=True)
        check_tapeflow_files(d)
        write_python_files(d)
        check = subprocess.run([tool, "check", d])
        if check.returncode != 0:
            failures.append(f"interop_tool check exited {check.returncode}")
    for f in failures:
        print("FAIL", f)
    print(f"numpy {np.__version__}: {'FAILED' if failures else 'all interop checks passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
