"""Writes the safetensors and .npz fixtures of tests/io/test_safetensors.cpp and test_npz.cpp.

Run from the repository root (needs NumPy and the `safetensors` package, e.g. in a venv:
`python3 -m venv --system-site-packages /tmp/st && /tmp/st/bin/pip install safetensors`):
    /tmp/st/bin/python tests/io/make_safetensors_fixtures.py

Good files are written by the real safetensors.numpy.save_file; the test recomputes the same
formulas. Bad files (tests/io/data/bad_safetensors/) are built byte by byte from a valid file.
"""
import json
import os
import struct

import numpy as np
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
BAD = os.path.join(DATA, "bad_safetensors")


def all_dtypes():
    # Keep in sync with expected values in test_safetensors.cpp.
    return {
        "f32": (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1.25).astype(np.float32),
        "f64": np.array([np.pi, -np.e, 1e-300, 1e300], dtype=np.float64),
        "i32": np.array([[-2147483648, -1], [0, 2147483647]], dtype=np.int32),
        "i64": np.array([-(2**63), -1, 0, 2**63 - 1], dtype=np.int64),
        "bool": np.array([True, False, False, True, True], dtype=np.bool_),
        "scalar": np.array(2.5, dtype=np.float64),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "layer.0.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8,
    }


def header_and_buffer(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def pack(header, buffer, pad=True):
    text = json.dumps(header, separators=(",", ":")).encode() if isinstance(header, dict) else header
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + buffer


def write_bad(name, content):
    with open(os.path.join(BAD, name + ".safetensors"), "wb") as f:
        f.write(content)


def main():
    os.makedirs(BAD, exist_ok=True)
    good = os.path.join(DATA, "all_dtypes.safetensors")
    save_file(all_dtypes(), good, metadata={"format": "np", "note": 'h\u00e9llo "quoted"\n\ttab \u2603'})
    # One metadata key: Rust's header is then deterministic, and tapeflow must match it byte for byte.
    save_file({"a": np.arange(3, dtype=np.int64), "b": np.ones((2, 2), dtype=np.float32)},
              os.path.join(DATA, "small.safetensors"), metadata={"k": "v"})
    save_file({}, os.path.join(DATA, "no_tensors.safetensors"))
    back = load_file(good)
    assert all(np.array_equal(back[k], v) for k, v in all_dtypes().items())

    raw = open(good, "rb").read()
    header, buffer = header_and_buffer(good)
    (n,) = struct.unpack("<Q", raw[:8])
    first = next(k for k in header if k != "__metadata__")

    def edit(key, field, value):
        h = json.loads(json.dumps(header))
        h[key][field] = value
        return pack(h, buffer)

    write_bad("empty_file", b"")
    write_bad("short_size", raw[:5])
    write_bad("truncated_header", raw[: 8 + n // 2])
    write_bad("truncated_data", raw[:-3])
    write_bad("trailing_bytes", raw + b"\0\0\0\0")
    write_bad("header_size_huge", struct.pack("<Q", 2**63 + 5) + raw[8:])
    write_bad("header_size_over_limit", struct.pack("<Q", 100_000_001) + raw[8:])
    write_bad("header_size_past_file", struct.pack("<Q", len(raw)) + raw[8:])
    write_bad("not_json_start", pack(b"[1, 2]", b""))
    write_bad("invalid_json", pack(b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]', b"\0" * 4))
    write_bad("trailing_comma", pack(b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},}', b"\0" * 4))
    write_bad("text_after_json", pack(b'{} {}', b""))
    write_bad("bad_escape", pack(b'{"__metadata__": {"k": "\\q"}}', b""))
    write_bad("invalid_utf8", pack(b'{"__metadata__": {"k": "\xff"}}', b""))
    write_bad("metadata_not_string", pack(b'{"__metadata__": {"k": 1}}', b""))
    write_bad("duplicate_key", pack(b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},'
                                    b' "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', b"\0" * 4))
    write_bad("missing_field", pack(b'{"a": {"dtype": "F32", "shape": [1]}}', b"\0" * 4))
    write_bad("unknown_dtype", edit(first, "dtype", "F33"))
    write_bad("unsupported_dtype_f16", edit("f32", "dtype", "F16"))
    write_bad("negative_shape", pack(json.dumps(header).replace('"shape": [2, 3]', '"shape": [-2, 3]', 1).encode(), buffer))
    write_bad("fractional_shape", pack(json.dumps(header).replace('"shape": [2, 3]', '"shape": [2.0, 3]', 1).encode(), buffer))
    write_bad("shape_overflow", edit("f32", "shape", [2**31, 2**31, 2**31]))
    write_bad("integer_too_large", pack(json.dumps(header).replace('"shape": [2, 3]', '"shape": [99999999999999999999, 3]', 1).encode(), buffer))
    write_bad("absurd_rank", edit("f32", "shape", [1] * 100))
    write_bad("shape_size_mismatch", edit("f32", "shape", [3, 3]))
    b, e = header["f32"]["data_offsets"]
    write_bad("offsets_out_of_range", edit("f32", "data_offsets", [b + len(buffer), e + len(buffer)]))
    write_bad("offsets_reversed", edit("f32", "data_offsets", [e, b]))
    write_bad("offsets_wrong_count", edit("f32", "data_offsets", [b]))
    # Two 8-byte F32 tensors sharing bytes [4, 8).
    write_bad("overlapping", pack({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                   "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12))
    write_bad("gap", pack({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                           "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}, b"\0" * 12))
    # A hostile size: claims 2^40 float64 elements but the file holds 8 bytes.
    write_bad("hostile_size", pack({"a": {"dtype": "F64", "shape": [2**40], "data_offsets": [0, 2**43]}}, b"\0" * 8))

    write_npz()


def write_npz():
    arrays = all_dtypes()
    np.savez(os.path.join(DATA, "all_dtypes.npz"), **arrays)
    np.savez_compressed(os.path.join(DATA, "all_dtypes_compressed.npz"), **arrays)
    bad = os.path.join(DATA, "bad_npz")
    os.makedirs(bad, exist_ok=True)
    raw = open(os.path.join(DATA, "all_dtypes.npz"), "rb").read()
    packed = open(os.path.join(DATA, "all_dtypes_compressed.npz"), "rb").read()

    def put(name, content):
        with open(os.path.join(bad, name + ".npz"), "wb") as f:
            f.write(content)

    put("not_zip", b"this is not a zip archive at all, just some text")
    put("truncated", raw[: len(raw) // 2])
    # Flip one byte of the first member's data (after its .npy header): the CRC must catch it.
    at = raw.index(b"\x93NUMPY") + 128 + 4
    put("bad_crc", raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :])
    # The compressed archive's first member claims a huge uncompressed size (a zip bomb).
    cd = packed.rindex(b"PK\x01\x02", 0, packed.rindex(b"PK\x05\x06"))
    first_cd = packed.index(b"PK\x01\x02")
    put("bomb", packed[: first_cd + 24] + struct.pack("<I", 0x7FFFFFFF) + packed[first_cd + 28 :])
    del cd


if __name__ == "__main__":
    main()
