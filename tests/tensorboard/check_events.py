"""Proof that tapeflow::SummaryWriter writes event files TensorBoard reads: runs
tests/tensorboard/write_events.cpp into a fresh logdir, then reads it back with TensorBoard's
own reader (EventFileLoader, which checks every TFRecord CRC, and EventAccumulator) and checks
every tag, step, value, histogram, text and image against the formulas write_events.cpp uses
(repeated here with numpy) and, where PyTorch is installed, against PyTorch's own summaries.
Usage: check_events.py <write_events program> <logdir>. Exits 77 (skipped) without tensorboard."""
import glob
import os
import re
import shutil
import socket
import subprocess
import sys

try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader, RawEventFileLoader
    from tensorboard.compat.proto import event_pb2
except ImportError as e:
    print(f"SKIP: the tensorboard Python package is missing ({e}); .ci/deps installs it")
    sys.exit(77)
import numpy as np

try:
    from torch.utils.tensorboard import summary as torch_summary
except Exception:  # PyTorch is an extra reference only
    torch_summary = None

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what)


def event_files(path):
    return sorted(glob.glob(os.path.join(path, "events.out.tfevents.*")))


def decode_png(data):
    """Pixels (H, W, C) uint8 of a PNG: with PIL when installed, else with zlib (filter 0 only)."""
    try:
        from PIL import Image
        import io
        img = Image.open(io.BytesIO(data))
        img.load()
        return np.asarray(img)
    except ImportError:
        import struct
        import zlib
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        pos, idat = 8, b""
        while pos < len(data):
            (length,) = struct.unpack(">I", data[pos:pos + 4])
            kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
            if kind == b"IHDR":
                w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            elif kind == b"IDAT":
                idat += body
            pos += 12 + length
        c = {0: 1, 4: 2, 2: 3, 6: 4}[ctype]
        raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
        assert (raw[:, 0] == 0).all(), "only filter type 0 is decoded here"
        return raw[:, 1:].reshape(h, w, c)


def main():
    program, logdir = sys.argv[1], sys.argv[2]
    shutil.rmtree(logdir, ignore_errors=True)
    subprocess.run([program, logdir], check=True)

    # ---- the files: names, the file_version record first, all CRCs valid ----
    name_re = re.compile(r"events\.out\.tfevents\.\d{10}\.%s\.\d+\.\d+$" % re.escape(socket.gethostname()))
    for d in [logdir, os.path.join(logdir, "run_group_a"), os.path.join(logdir, "run_group_b")]:
        files = event_files(d)
        check(len(files) == 1, f"{d}: one event file, got {files}")
        check(bool(name_re.search(os.path.basename(files[0]))), f"file name pattern: {files[0]}")
        events = list(EventFileLoader(files[0]).Load())  # raises DataLossError on a bad CRC
        check(events[0].file_version == "brain.Event:2", f"{d}: first event file_version {events[0]}")
    entries = sorted(os.listdir(logdir))
    check(len(entries) == 3 and entries[1:] == ["run_group_a", "run_group_b"], f"logdir entries {entries}")

    acc = EventAccumulator(logdir, size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    check(sorted(tags["scalars"]) == ["acc/train", "loss"], f"scalar tags {tags['scalars']}")
    check(sorted(tags["histograms"]) == ["uniform", "weights"], f"histogram tags {tags['histograms']}")
    check(sorted(tags["images"]) == ["img_chw", "img_gray", "img_gray01", "img_hw", "img_hwc_int"], f"image tags {tags['images']}")
    check(tags["tensors"] == ["notes/text_summary"], f"tensor tags {tags['tensors']}")

    # ---- scalars (simple_value is float32) ----
    loss = acc.Scalars("loss")
    check([e.step for e in loss] == [0, 1, 2, 3, 4], f"loss steps {[e.step for e in loss]}")
    check([e.value for e in loss] == [float(np.float32(1.0 / (s + 1))) for s in range(5)],
          f"loss values {[e.value for e in loss]}")
    check(loss[4].wall_time == 1234567890.5, f"explicit walltime {loss[4].wall_time}")
    check(all(abs(e.wall_time - loss[0].wall_time) < 600 and e.wall_time > 1.6e9 for e in loss[:4]),
          f"wall times near now {[e.wall_time for e in loss]}")
    acc_train = acc.Scalars("acc/train")
    check([(e.step, e.value) for e in acc_train] == [(10, 0.75)], f"acc/train {acc_train}")

    # ---- add_scalars: one run per name, all under the main tag ----
    for name, formula in [("a", lambda s: 0.5 * s), ("b", lambda s: -1.25 * s + 3)]:
        sub = EventAccumulator(os.path.join(logdir, "run_group_" + name), size_guidance={"scalars": 0})
        sub.Reload()
        check(sub.Tags()["scalars"] == ["run/group"], f"run_group_{name} tags {sub.Tags()['scalars']}")
        got = [(e.step, e.value) for e in sub.Scalars("run/group")]
        check(got == [(s, float(np.float32(formula(s)))) for s in range(3)], f"run_group_{name}: {got}")

    # ---- histograms: PyTorch's make_histogram, repeated with numpy ----
    values = np.array([((i * 7) % 23 - 11) * 0.25 for i in range(100)] + [1e-3, 12345.0], np.float32).astype(float)
    positive, v = [], 1e-12
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    tf_bins = [-x for x in reversed(positive)] + [0] + positive
    for tag, step, bins in [("weights", 3, tf_bins), ("uniform", 4, 5)]:
        counts, limits = np.histogram(values, bins=bins)
        nonzero = np.nonzero(counts)[0]
        start, end = nonzero[0], nonzero[-1] + 1
        exp_counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
        exp_limits = limits[start:end + 1]
        events = acc.Histograms(tag)
        check([e.step for e in events] == [step], f"{tag} steps")
        h = events[0].histogram_value
        check((h.min, h.max, h.num) == (values.min(), values.max(), len(values)), f"{tag} min/max/num {h}")
        check(np.isclose(h.sum, values.sum(), rtol=1e-12) and np.isclose(h.sum_squares, values.dot(values), rtol=1e-12),
              f"{tag} sum {h.sum} vs {values.sum()}, sum_squares {h.sum_squares} vs {values.dot(values)}")
        check(list(h.bucket_limit) == list(exp_limits), f"{tag} bucket_limit {list(h.bucket_limit)} vs {list(exp_limits)}")
        check(list(h.bucket) == list(exp_counts), f"{tag} bucket {list(h.bucket)} vs {list(exp_counts)}")
        ref = None
        if torch_summary is not None:  # PyTorch's own HistogramProto for the same values
            try:
                ref = torch_summary.histogram(tag, values, bins).value[0].histo
            except TypeError as e:  # Debian's torch 1.13 calls np.greater(dtype=int32), which numpy 1.24 rejects
                print(f"note: PyTorch's histogram is unusable here ({e}); checked against numpy only")
        if ref is not None:
            check(list(ref.bucket_limit) == list(h.bucket_limit) and list(ref.bucket) == list(h.bucket)
                  and (ref.min, ref.max, ref.num) == (h.min, h.max, h.num), f"{tag}: PyTorch's histogram differs")

    # ---- text ----
    text_events = acc.Tensors("notes/text_summary")
    check([e.step for e in text_events] == [7], "text step")
    proto = text_events[0].tensor_proto
    check(list(proto.string_val) == ["hello **world** \u00fcnicode".encode()], f"text {proto.string_val}")
    check(proto.dtype == 7 and [d.size for d in proto.tensor_shape.dim] == [1], f"text tensor {proto}")
    check(acc.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text", "text plugin name")
    if torch_summary is not None:
        ref = torch_summary.text("notes", "hello **world** \u00fcnicode").value[0]
        check(ref.tensor == proto and ref.metadata == acc.SummaryMetadata("notes/text_summary"),
              "text: PyTorch's summary differs")

    # ---- images: PyTorch's scaling (float32 * 255, clip, truncate), gray as RGB ----
    def scaled(x):
        return np.clip(np.asarray(x, np.float32) * np.float32(255), 0, 255).astype(np.uint8)

    chw = np.array([[[((c * 31 + y * 17 + x * 5) % 256) for x in range(5)] for y in range(4)] for c in range(3)],
                   np.float32) / np.float32(255)
    gray = np.array([[(y * 2 + x) * 0.3 - 0.2 for x in range(2)] for y in range(3)])
    hwc_int = np.array([[[(y * 40 + x * 70 + c * 9) % 300 for c in range(4)] for x in range(3)] for y in range(2)])
    in_range = np.array([[(y * 2 + x) / 7.0 for x in range(2)] for y in range(3)])
    expected_images = {
        "img_chw": (1, scaled(chw.transpose(1, 2, 0)), (chw, "CHW")),
        # gray holds values outside [0, 1]: clipped as PyTorch >= 2.0 does (1.13 wraps around).
        "img_gray": (2, np.repeat(scaled(gray)[:, :, None], 3, axis=2), None),
        "img_hw": (3, np.repeat(scaled(gray)[:, :, None], 3, axis=2), None),
        "img_gray01": (5, np.repeat(scaled(in_range)[:, :, None], 3, axis=2), (in_range[None], "CHW")),
        "img_hwc_int": (4, np.clip(hwc_int, 0, 255).astype(np.uint8), None),
    }
    for tag, (step, pixels, torch_input) in expected_images.items():
        events = acc.Images(tag)
        check([e.step for e in events] == [step], f"{tag} steps")
        e = events[0]
        check((e.height, e.width) == pixels.shape[:2], f"{tag} size {(e.height, e.width)} vs {pixels.shape}")
        decoded = decode_png(e.encoded_image_string)
        check(decoded.shape == pixels.shape and (decoded == pixels).all(),
              f"{tag} pixels\n{decoded}\nexpected\n{pixels}")
        if torch_summary is not None and torch_input is not None:
            ref = torch_summary.image(tag, torch_input[0], dataformats=torch_input[1]).value[0].image
            check((ref.height, ref.width, ref.colorspace) == (e.height, e.width, pixels.shape[2])
                  and (decode_png(ref.encoded_image_string) == decoded).all(), f"{tag}: PyTorch's image differs")
    colorspaces = {}
    # EventFileLoader turns images into tensors (data_compat); the raw records keep Summary.Image.
    for record in RawEventFileLoader(event_files(logdir)[0]).Load():
        event = event_pb2.Event.FromString(record)
        for value in event.summary.value:
            if value.HasField("image"):
                colorspaces[value.tag] = value.image.colorspace
    check(colorspaces == {"img_chw": 3, "img_gray": 3, "img_gray01": 3, "img_hw": 3, "img_hwc_int": 4}, f"colorspaces {colorspaces}")

    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all TensorBoard event checks passed (PyTorch comparison: %s)" % ("on" if torch_summary else "off"))


main()
