"""``parcel-edge process IMAGE... --out DIR``: the whole path on photos taken by hand or by
another camera (quality, decode, classify, rules, package), for manual photos and re-processing.

Sequence numbers come from an outbox kept in ``DIR/.outbox``, so a folder
processed in several runs still numbers its packages without gaps or repeats.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--out", type=Path, required=True, help="folder for the packages")
    parser.add_argument("--config", type=Path, help="unit config (default: built-in defaults)")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")


def main(args: argparse.Namespace) -> int:
    from edge.app import FolderSink, build_stages
    from edge.cli.inputs import unit_config
    from edge.outbox import Outbox
    from edge.stats import Stats

    cfg = unit_config(args.config)
    if cfg is None:
        return 2
    outbox = Outbox(cfg.outbox, args.out / ".outbox")
    try:
        stages = build_stages(cfg, outbox.next_seq, (FolderSink(args.out),), Stats())
        failed = sum(_one(path, stages, args) for path in args.images)
    finally:
        outbox.close()
    return 2 if failed else 0


def _one(path: str, stages: Any, args: argparse.Namespace) -> int:
    """Process one file; 1 when it could not be used (reason on stderr), else 0."""
    from edge.imageio import ImageError, load_image
    from edge.process import process_parcel
    from edge.stats import Stats

    try:
        image = load_image(path)
    except ImageError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    package = process_parcel(_capture_of(image), stages, Stats())
    _print(path, package, args.json)
    return 0


def _capture_of(image: Any) -> Any:
    """A photo is one frame; the parcel is what stands out from its border, else all of it."""
    from edge.capture import single_frame
    from edge.records import Frame, utc_now
    from edge.still import locate_parcel

    frame = Frame(0, time.monotonic(), utc_now(), image, source="file")
    return single_frame(frame, "file", locate_parcel(image))


def _print(path: str, package: Any, as_json: bool) -> None:
    from edge.records import to_jsonable

    rec = package.record
    ref = to_jsonable(rec.reference)
    if as_json:
        print(json.dumps({"image": path, "id": rec.id, "seq": rec.seq, "reference": ref,
                          "verdict": to_jsonable(rec.verdict),
                          "files": [img.name for img in rec.images]}))
        return
    label = f"{ref['kind']} {ref['value']}" if ref else "NOREAD"
    print(f"{path}: {label} -> {rec.verdict.outcome} ({len(rec.images)} images)")
    for reason in rec.verdict.reasons:
        print(f"  {reason}")
