#!/usr/bin/env python3
"""Writes the small .npy fixtures that tests/io/test_npy.cpp loads (run from anywhere).

Every array is a deterministic formula that the C++ test recomputes independently; keep the
files tiny and rerun this script only when adding a fixture.
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def save(name, arr, version=None):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)


def main():
    os.makedirs(OUT, exist_ok=True)
    save("f4_c.npy", np.arange(12, dtype="<f4").reshape(3, 4) * np.float32(0.5))
    save("f8_3d.npy", np.arange(24, dtype="<f8").reshape(2, 3, 4) * 0.25 - 1.0)
    save("f8_fortran_3d.npy", np.asfortranarray(np.arange(24, dtype="<f8").reshape(2, 3, 4) * 0.25 - 1.0))
    save("i4.npy", (np.arange(-3, 3, dtype="<i4") * 7).reshape(2, 3))
    save("i8.npy", np.array([-(2**40), 0, 2**40 + 5, -1], dtype="<i8"))
    save("b1.npy", np.array([[True, False, True], [False, False, True]]))
    save("u1.npy", np.arange(250, 256, dtype="u1"))
    save("i1.npy", np.array([-128, -1, 0, 127], dtype="i1"))
    save("i2.npy", np.array([-32768, -1, 0, 32767], dtype="<i2").reshape(2, 2))
    save("u2.npy", np.array([0, 1, 65535], dtype="<u2"))
    save("scalar_f8.npy", np.array(3.5, dtype="<f8"))
    save("empty_f4.npy", np.zeros((0, 3), dtype="<f4"))
    # Version 2.0 (uint32 header length), Fortran order, 2-D.
    save("i4_fortran_v2.npy", np.asfortranarray((np.arange(6, dtype="<i4") - 2).reshape(2, 3)), version=(2, 0))
    # Version 3.0 (utf-8 header).
    save("i8_v3.npy", np.arange(5, dtype="<i8") * 3, version=(3, 0))


if __name__ == "__main__":
    main()
