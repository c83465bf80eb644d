#!/usr/bin/env python3
"""Reference values for tests/metrics/test_metrics.cpp, computed with NumPy following the
definitions of sklearn.metrics (sklearn is not installed here): confusion_matrix (rows = true),
precision/recall/f1 with zero_division=0 and macro over labels present in y_true or y_pred,
top-k accuracy, MAE and MSE.

Run from the repository root:  /usr/bin/python3 tests/metrics/make_metrics_reference.py
Writes tests/metrics/data/case_<name>.txt: lines "key count v0 v1 ...".
"""
import os
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def prf(y_true, y_pred, C):
    cm = np.zeros((C, C), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    tp = np.diag(cm).astype(np.float64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp

    def div(a, b):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)

    p, r, f = div(tp, tp + fp), div(tp, tp + fn), div(2 * tp, 2 * tp + fp + fn)
    present = np.union1d(y_true, y_pred)  # sklearn's default `labels`
    TP, FP, FN = tp.sum(), fp.sum(), fn.sum()
    micro = [div(TP, TP + FP), div(TP, TP + FN), div(2 * TP, 2 * TP + FP + FN)]
    macro = [p[present].mean(), r[present].mean(), f[present].mean()]
    return cm, p, r, f, macro, micro


def topk_accuracy(scores, y_true, k):
    # stable descending order: equal scores rank by lower class index (like argmax)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean([y in row for y, row in zip(y_true, order)]))


def write_case(name, rng, N, C, label_classes, noise, dead_class=False):
    y_true = rng.integers(0, label_classes, size=N)
    scores = rng.normal(size=(N, C))
    scores[np.arange(N), y_true] += noise  # make the "model" better than chance
    if dead_class:
        scores[:, C - 1] -= 20.0  # never predicted, never a label: left out of the macro mean
    y_pred = scores.argmax(axis=1)
    cm, p, r, f, macro, micro = prf(y_true, y_pred, C)
    target = rng.normal(size=(N, 3))
    pred = target + rng.normal(scale=0.5, size=(N, 3))
    vals = {
        "N": [N], "C": [C],
        "scores": scores.ravel(), "labels": y_true, "predictions": y_pred,
        "confusion": cm.ravel(),
        "precision": p, "recall": r, "f1": f,
        "macro": macro, "micro": micro,
        "top1": [topk_accuracy(scores, y_true, 1)],
        "top3": [topk_accuracy(scores, y_true, 3)],
        "reg_pred": pred.ravel(), "reg_target": target.ravel(),
        "mae": [np.mean(np.abs(pred - target))], "mse": [np.mean((pred - target) ** 2)],
    }
    with open(os.path.join(OUT, f"case_{name}.txt"), "w") as fh:
        for key, v in vals.items():
            v = np.asarray(v)
            fmt = (lambda x: str(int(x))) if v.dtype.kind in "iu" else (lambda x: repr(float(x)))
            fh.write(key + " " + str(v.size) + " " + " ".join(fmt(x) for x in v.ravel()) + "\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(1234)
    write_case("balanced", rng, N=200, C=7, label_classes=7, noise=1.5)
    # classes 5 and 6 never occur as labels (the weak model still predicts some of them);
    # class 7 occurs nowhere
    write_case("absent_classes", rng, N=60, C=8, label_classes=5, noise=0.8, dead_class=True)
