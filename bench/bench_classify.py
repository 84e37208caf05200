"""Benchmark of the shipped classifier on held-out synthetic parcels (not a test).

    .venv/bin/python -m bench.bench_classify [--model-dir models/current] [--count 1000]

Accuracy per class, suspect recall (flag or review), false flags on genuine
and unbranded parcels, calibration error and abstain rate come from the rules
stage's verdicts on a seed the model never saw; timings are the whole classify
stage (crops, pre-processing, both models) and the models alone (the locator and
one batch of as many crops as the manifest has candidates), one thread.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.classify import Classifier, ClassifyConfig, load_classifier
from edge.classify.crops import cut_padded, parcel_region
from edge.classify.preprocess import resize_to
from edge.records import Box
from models import dataset as ds
from models import metrics
from models.train import TEST_SEED


def time_stage(clf: Classifier, count: int) -> dict[str, float]:
    """Median/p95 ms of the whole stage per parcel, and of the two models on ready inputs."""
    assert clf.manifest is not None
    m = clf.manifest
    stage, model = [], []
    for i in range(count):
        p = ds.render(TEST_SEED + 1, i, 0.6)
        box = Box(*p.truth["parcel_box"])
        start = time.perf_counter()
        raw = clf.infer(p.image, box)
        clf.scores_of(raw)
        stage.append((time.perf_counter() - start) * 1000)
        region = parcel_region(p.image, box, m.locator.input.width / m.locator.input.height)
        thumb = resize_to(cut_padded(p.image, region), m.locator.input)
        crop = clf.mark_crop(p.image, raw.guess)
        start = time.perf_counter()
        clf.run_inputs(thumb, [crop] * m.locator_candidates)
        model.append((time.perf_counter() - start) * 1000)
    return {"stage_ms_median": statistics.median(stage),
            "stage_ms_p95": float(np.percentile(stage, 95)),
            "model_ms_median": statistics.median(model),
            "model_ms_p95": float(np.percentile(model, 95))}


def table(summary: dict[str, Any], timing: dict[str, float], size: int) -> str:
    s = summary["summary"]
    rows = [("held-out parcels", summary["n"]), ("unbranded parcels", summary["unbranded"]),
            ("marks cut by the frame edge", summary["marks_cut_by_frame_edge"]),
            ("accuracy (top label)", summary["accuracy"])]
    rows += [(f"accuracy {k}", v) for k, v in summary["accuracy_per_class"].items()]
    rows += [(f"{k} flag / flag-or-review", f"{v['flag']} / {v['flag_or_review']} (n={v['n']})")
             for k, v in summary["per_variant"].items()]
    rows += [(k, v) for k, v in s.items()]
    rows += [(k, round(v, 2)) for k, v in timing.items()]
    rows += [("model files bytes", size)]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=Path("models/current"))
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--timing", type=int, default=150, help="parcels timed on one thread")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core for the whole stage, as on a busy Pi
    clf = load_classifier(ClassifyConfig(model_dir=args.model_dir, threads=1))
    if not clf.available:
        print(f"bench_classify: {clf.error}", file=sys.stderr)
        return 2
    summary = metrics.summarize(metrics.evaluate(args.model_dir, TEST_SEED, args.count, args.workers))
    timing = time_stage(clf, args.timing)
    size = sum(f.stat().st_size for f in args.model_dir.iterdir() if f.is_file())
    if args.json:
        print(json.dumps({**summary, "timing": timing, "model_bytes": size}))
    else:
        print(table(summary, timing, size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
