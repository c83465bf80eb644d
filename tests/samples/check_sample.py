"""Runs a sample briefly and checks that it learns: the loss after training is well below the
loss before it, two runs with the same seed print identical results, and (Fashion-MNIST
samples) a run stopped after one epoch and resumed from its checkpoint ends with the same
model, optimizer and scheduler state, byte for byte, as an uninterrupted run.

    python3 check_sample.py <sample executable> [fashion data dir]

Exit status 77 (Meson's "skipped") when the Fashion-MNIST files are not installed."""
import os
import re
import subprocess
import sys

exe = sys.argv[1]
data = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
name = os.path.basename(exe)


def run(args):
    out = subprocess.run([exe] + args, check=True, capture_output=True, text=True, timeout=600).stdout
    sys.stdout.write(out)
    # Timings (and where the TensorBoard logs go) differ between runs; everything else must not.
    stable = re.sub(r"\([0-9.]+ s[^)]*\)", "(time)", out)
    return out, re.sub(r"(?m)^TensorBoard logs: .*\n", "", stable)


def number(pattern, text, index=0):
    found = re.findall(pattern, text)
    if not found:
        sys.exit(f"FAIL: {name}: no line matching {pattern!r}")
    return float(found[index])


if name == "linear_regression":
    args = ["--epochs", "60", "--points", "100", "--seed", "4"]
    out, stable = run(args)
    before = number(r"before training: loss ([0-9.]+)", out)
    after = number(r"epoch +\d+: loss ([0-9.]+)", out, -1)
    fit = re.search(r"fit: +y = (-?[0-9.]+) x \+ (-?[0-9.]+)", out)
    exact = re.search(r"least squares: +y = (-?[0-9.]+) x \+ (-?[0-9.]+)", out)
    if not (fit and exact):
        sys.exit("FAIL: no fit lines")
    if abs(float(fit[1]) - float(exact[1])) > 0.02 or abs(float(fit[2]) - float(exact[2])) > 0.02:
        sys.exit(f"FAIL: SGD fit {fit[0]} is far from the least-squares line {exact[0]}")
    # --data: points from a CSV file (y = -1.5 x + 0.25 exactly, so both fits recover it).
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("x,y\n" + "".join(f"{x / 10},{-1.5 * x / 10 + 0.25}\n" for x in range(-20, 21)))
    csv_out, _ = run(["--data", f.name, "--epochs", "300"])
    os.unlink(f.name)
    fit_csv = re.search(r"fit: +y = (-?[0-9.]+) x \+ (-?[0-9.]+)", csv_out)
    if not fit_csv or abs(float(fit_csv[1]) + 1.5) > 1e-3 or abs(float(fit_csv[2]) - 0.25) > 1e-3:
        sys.exit(f"FAIL: fit of the CSV points: {fit_csv[0] if fit_csv else csv_out}")
    bad = subprocess.run([exe, "--data", "/nonexistent.csv"], capture_output=True, text=True)
    if bad.returncode != 1 or "cannot open" not in bad.stderr:
        sys.exit(f"FAIL: a missing data file should give a clear error, got {bad.returncode}: {bad.stderr}")
else:
    if not os.path.exists(os.path.join(data, "train-images-idx3-ubyte.gz")):
        print(f"SKIP: Fashion-MNIST not found in {data} (Debian package dataset-fashion-mnist)")
        sys.exit(77)
    args = ["--data", data, "--epochs", "1", "--train-limit", "3000", "--test-limit", "1000", "--threads", "1",
            "--seed", "3", "--logdir", ""]
    import glob
    import tempfile
    with tempfile.TemporaryDirectory() as logdir:
        out, stable = run(args[:-1] + [logdir])
        events = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
        if len(events) != 1:
            sys.exit(f"FAIL: {name}: expected one TensorBoard event file in --logdir, found {events}")
        try:  # read it back with TensorBoard when it is installed (tests/tensorboard checks the format)
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            acc = EventAccumulator(logdir)
            acc.Reload()
            logged = acc.Scalars("test/accuracy")[-1].value
            printed = number(r"final test accuracy: ([0-9.]+)", out)
            if abs(logged - printed) > 1e-4 or not {"train/loss", "lr"} <= set(acc.Tags()["scalars"]):
                sys.exit(f"FAIL: {name}: TensorBoard log disagrees: {acc.Tags()['scalars']}, {logged} vs {printed}")
        except ImportError:
            pass
    before = number(r"before training: test loss ([0-9.]+)", out)
    after = number(r"epoch 1/1: .*test loss ([0-9.]+)", out)
    acc_before = number(r"before training: .*test acc ([0-9.]+)", out)
    acc_after = number(r"final test accuracy: ([0-9.]+)", out)
    if acc_after < acc_before + 0.3:
        sys.exit(f"FAIL: test accuracy went from {acc_before} to only {acc_after}")

if not after < 0.6 * before:
    sys.exit(f"FAIL: {name}: loss went from {before} to {after}; expected it to fall by 40% or more")
if name != "linear_regression":
    # Resume: 2 epochs straight, and 1 epoch + --resume, must save identical state.
    import filecmp
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        straight, split = os.path.join(tmp, "straight"), os.path.join(tmp, "split")
        two = [a if a != "1" or args[i - 1] != "--epochs" else "2" for i, a in enumerate(args)]
        run(two + ["--checkpoint", straight])
        run(two + ["--checkpoint", split, "--stop-after", "1"])
        resumed, _ = run(two + ["--checkpoint", split, "--resume"])
        if "resumed from" not in resumed:
            sys.exit("FAIL: --resume did not resume")
        for f in ("model.safetensors", "optimizer.safetensors", "trainer.safetensors"):
            if not filecmp.cmp(os.path.join(straight, f), os.path.join(split, f), shallow=False):
                sys.exit(f"FAIL: {name}: {f} after a resumed run differs from an uninterrupted run")
_, again = run(args)
if again != stable:
    sys.exit(f"FAIL: {name}: two runs with the same seed printed different results")
print(f"OK: {name}: loss {before:.4f} -> {after:.4f}; identical reruns")
