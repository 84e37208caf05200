"""``parcel-edge classify IMAGE...``: the mark classifier's calibrated scores for each photo.

For checking a model by hand and for maintainers after an update.  Prints the
model's name and version, the score per label, the brand and packaging seen,
and the labels that reach the model's flag threshold (the rules stage, not
this command, turns these into a verdict).  Exit status: 0 when every image
was classified, 2 when some could not be read, 3 when no model is available.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from edge.records import Classification


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    parser.add_argument("--model-dir", type=Path, help="model directory (default: the config's)")
    parser.add_argument("--config", metavar="FILE",
                        help="take the classify section from this config")


def result_of(path: str, c: Classification) -> dict[str, Any]:
    flagged = sorted(k for k, t in c.flag_thresholds.items() if c.scores.get(k, 0.0) >= t)
    box = c.mark_box
    return {
        "image": path,
        "model": None if c.model is None else {"name": c.model.name, "version": c.model.version,
                                               "sha256": c.model.sha256},
        "scores": dict(c.scores), "top": c.top, "flagged": flagged,
        "brand": c.brand or None, "brand_score": c.brand_score,
        "packaging": c.packaging, "packaging_score": c.packaging_score,
        "mark_box": None if box is None else [box.x, box.y, box.w, box.h],
        "ms": round(c.ms, 2),
    }


def _print_text(r: dict[str, Any]) -> None:
    scores = " ".join(f"{k}={v:.2f}" for k, v in sorted(r["scores"].items(), key=lambda kv: -kv[1]))
    brand = f" brand={r['brand']}({r['brand_score']:.2f})" if r["brand"] else ""
    flagged = ",".join(r["flagged"]) or "-"
    print(f"{r['image']}: {r['top']}{brand} packaging={r['packaging']}({r['packaging_score']:.2f}) "
          f"flagged={flagged}")
    print(f"  {scores}  [{r['ms']:.1f} ms]")


def _config(args: argparse.Namespace) -> Any:
    from edge.cli.inputs import unit_config

    unit = unit_config(args.config)
    if unit is None:
        return None
    if args.model_dir is None:
        return unit.classify
    return unit.classify.model_copy(update={"model_dir": args.model_dir})


def main(args: argparse.Namespace) -> int:
    from edge.classify import load_classifier
    from edge.cli.inputs import each_image
    from edge.imageio import load_image

    cfg = _config(args)
    if cfg is None:
        return 2
    classifier = load_classifier(cfg)
    if not classifier.available:
        print(f"parcel-edge classify: no model: {classifier.error}", file=sys.stderr)
        return 3
    if classifier.info is not None and not args.json:
        print(f"model {classifier.info.name} {classifier.info.version}")
    return each_image(args.images, "classify",
                      lambda path: result_of(path, classifier.classify(load_image(path))),
                      args.json, _print_text)
