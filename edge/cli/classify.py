"""``parcel-edge classify IMAGE...``: the brand check's verdict, reasons and scores per photo.

For checking a model and catalogue by hand and for maintainers after an
update.  Prints the model's and catalogue's name and version, the verdict the
rules give on the marks and packaging alone (the unit's verdict adds the label
read, the photo standard and the declaration), its reasons, what the mark's
words read, the score per label and the brand and packaging seen.  Exit
status: 0 when every image was classified, 2 when some could not be read, 3
when no model is available.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from edge.records import Classification, Verdict


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    parser.add_argument("--model-dir", type=Path, help="model directory (default: the config's)")
    parser.add_argument("--catalogue-dir", type=Path,
                        help="brand catalogue folder (default: the config's)")
    parser.add_argument("--config", metavar="FILE",
                        help="take the classify section from this config")
    parser.add_argument("--px-per-mm", type=float, metavar="PX",
                        help="the photo's resolution on the parcel (a unit's own view: its frame "
                        "width over conveyor.field_of_view_mm); the photo is then classified as "
                        "the unit classifies a frame, packaging patches at the model's scale")


def result_of(path: str, c: Classification, verdict: Verdict | None = None) -> dict[str, Any]:
    flagged = sorted(k for k, t in c.flag_thresholds.items() if c.scores.get(k, 0.0) >= t)
    box = c.mark_box
    cat = c.catalogue
    return {
        "image": path,
        "model": None if c.model is None else {"name": c.model.name, "version": c.model.version,
                                               "sha256": c.model.sha256},
        "catalogue": None if cat is None else {"name": cat.name, "version": cat.version,
                                               "sha256": cat.sha256},
        "verdict": None if verdict is None else verdict.outcome,
        "reasons": [] if verdict is None else list(verdict.reasons),
        "mark_text": c.mark_text, "name_match": c.name_match, "evidence": dict(c.evidence),
        "scores": dict(c.scores), "top": c.top, "flagged": flagged,
        "brand": c.brand or None, "brand_score": c.brand_score,
        "packaging": c.packaging, "packaging_score": c.packaging_score,
        "packaging_scores": dict(c.packaging_scores),
        "mark_box": None if box is None else [box.x, box.y, box.w, box.h],
        "ms": round(c.ms, 2),
    }


def _print_text(r: dict[str, Any]) -> None:
    scores = " ".join(f"{k}={v:.2f}" for k, v in sorted(r["scores"].items(), key=lambda kv: -kv[1]))
    brand = f" brand={r['brand']}({r['brand_score']:.2f})" if r["brand"] else ""
    flagged = ",".join(r["flagged"]) or "-"
    print(f"{r['image']}: {r['verdict']} {r['top']}{brand} "
          f"packaging={r['packaging']}({r['packaging_score']:.2f}) flagged={flagged}")
    for reason in r["reasons"]:
        print(f"  - {reason}")
    print(f"  {scores}  [{r['ms']:.1f} ms]")


def _classified(classifier: Any, image: Any, px_per_mm: float | None) -> Classification:
    """The whole photo as the parcel; with its scale, through the unit's own reduction."""
    if px_per_mm is None:
        return classifier.classify(image)
    from edge.process import classify_reduced
    from edge.pyramid import Pyramid
    from edge.records import Box

    whole = Box(0, 0, image.shape[1], image.shape[0])
    return classify_reduced(classifier.classify, Pyramid(image), whole, None, px_per_mm)


def _config(args: argparse.Namespace) -> Any:
    from edge.cli.inputs import unit_config

    unit = unit_config(args.config)
    if unit is None:
        return None
    update = {k: v for k, v in (("model_dir", args.model_dir),
                                ("catalogue_dir", args.catalogue_dir)) if v is not None}
    return unit.classify.model_copy(update=update), unit.rules


def main(args: argparse.Namespace) -> int:
    from edge.classify import load_classifier
    from edge.classify.manifest import PX_PER_MM, bounded_float
    from edge.cli.inputs import each_image
    from edge.imageio import load_image
    from edge.rules import judge_marks, load_rules

    both = _config(args)
    if both is None:
        return 2
    if args.px_per_mm is not None:
        try:
            bounded_float(args.px_per_mm, "a camera's resolution on a parcel", *PX_PER_MM)
        except ValueError as exc:
            print(f"parcel-edge classify: --px-per-mm {args.px_per_mm:g}: {exc}", file=sys.stderr)
            return 2
    cfg, rules_cfg = both
    rules = load_rules(rules_cfg.model_copy(update={"aed": rules_cfg.aed.model_copy(
        update={"path": None})}))
    classifier = load_classifier(cfg)
    if not classifier.available:
        print(f"parcel-edge classify: no model: {classifier.error}", file=sys.stderr)
        return 3
    if classifier.info is not None and not args.json:
        print(f"model {classifier.info.name} {classifier.info.version}")

    def one(path: str) -> dict[str, Any]:
        c = _classified(classifier, load_image(path), args.px_per_mm)
        return result_of(path, c, judge_marks(c, rules))
    return each_image(args.images, "classify", one, args.json, _print_text)
