"""``parcel-edge inspect IMAGE...``: the photographic standard's report for each image.

Meant for officers and installers checking photos taken by hand or by another
camera.  Exit status: 0 every image meets the standard, 1 some image fails it,
2 some file could not be read at all (named on stderr; the others still run).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from edge.records import LabelReading, QualityReport, to_jsonable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    parser.add_argument("--config", metavar="FILE", help="take the profile from this config")
    parser.add_argument("--decode", action="store_true",
                        help="read the label first, adding the glare and legibility checks")


def _reader(args: argparse.Namespace, cfg: Any) -> Any:
    if not args.decode:
        return None
    from edge.decode import LabelReader

    return LabelReader(cfg.decode)


def _inspect(path: str, cfg: Any, reader: Any) -> dict[str, Any]:
    from edge.imageio import load_image_info
    from edge.package.jpeg import read_xmp
    from edge.quality import assess, checks

    image, info = load_image_info(path)
    reading: LabelReading | None = reader.read_image(image) if reader is not None else None
    report = assess(image, cfg.quality, reading=reading)
    report = QualityReport(report.profile, report.view, report.checks + tuple(
        checks.file_checks(info.format, info.channels, info.bit_depth, cfg.quality)))
    out = {"image": path, "profile": report.profile, "passed": report.passed,
           "failed": list(report.failed), "checks": to_jsonable(report.checks),
           "source": {"format": info.format, "width": info.width, "height": info.height,
                      "channels": info.channels, "bit_depth": info.bit_depth}}
    if info.format == "jpeg":
        with open(path, "rb") as fh:
            out["metadata"] = read_xmp(fh.read(1 << 20))
    return out


def _print_text(result: dict[str, Any]) -> None:
    verdict = "meets the standard" if result["passed"] else "FAILS: " + ", ".join(result["failed"])
    print(f"{result['image']}: {verdict} (profile {result['profile']})")
    for c in result["checks"]:
        mark = "ok  " if c["passed"] else "FAIL"
        print(f"  {mark} {c['name']:<11} {c['value']:>12g}   limit {c['limit']}")


def main(args: argparse.Namespace) -> int:
    from edge.cli.inputs import unit_config
    from edge.imageio import ImageError

    cfg = unit_config(args.config)
    if cfg is None:
        return 2
    reader, unreadable, failed = _reader(args, cfg), 0, 0
    for path in args.images:
        try:
            result = _inspect(path, cfg, reader)
        except ImageError as exc:
            unreadable += 1
            print(f"{path}: {exc}", file=sys.stderr)
            continue
        failed += not result["passed"]
        if args.json:
            print(json.dumps(result, sort_keys=True))
        else:
            _print_text(result)
    return 2 if unreadable else (1 if failed else 0)
