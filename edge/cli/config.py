"""``parcel-edge config check FILE``: validate before a unit is restarted on it."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate config files; errors name the key and line")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--json", action="store_true", help="one JSON object per file")
    check.add_argument("--syntax-only", action="store_true",
                       help="validate only; accept empty files, demos and missing files")


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError, load_config
    from edge.deploy import deployment_problems

    failed = 0
    for path in args.files:
        try:
            cfg = load_config(path)
        except ConfigError as exc:
            failed += 1
            _report(args.json, path, exc.lines)
            continue
        problems = [] if args.syntax_only else deployment_problems(
            cfg, _text(path), path)
        failed += bool(problems)
        _report(args.json, path, problems, cfg.unit.id, resolution(cfg))
    return 1 if failed else 0


def resolution(cfg: Any) -> dict[str, Any] | None:
    """Pixels across the narrowest bar, and whether the photographic standard accepts them.

    ``config check`` refuses a set-up no decoder can read; one that reads but
    sits under the standard's legibility minimum is accepted with a warning,
    since every image it takes will be quality-rejected.
    """
    width = getattr(cfg.camera, "width", None)
    if not width:
        return None
    ppm = cfg.conveyor.px_per_module(width)
    minimum = cfg.quality.min_module_px
    return {"px_per_module": round(ppm, 2), "standard_min": minimum,
            "warning": None if ppm >= minimum else (
                f"{ppm:.2f} px per module is under the photographic standard's {minimum:g}: "
                "labels read, but every image is quality-rejected (a wider sensor or a "
                "narrower field of view fixes it)")}


def _text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _report(as_json: bool, path: str, errors: list[str], unit: str | None = None,
            res: dict[str, Any] | None = None) -> None:
    if as_json:
        print(json.dumps({"file": path, "valid": not errors, "unit": unit, "errors": errors,
                          "resolution": res}))
    elif errors:
        for line in errors:
            print(line, file=sys.stderr)
    else:
        ppm = f", {res['px_per_module']:.2f} px per module" if res else ""
        print(f"{path}: ok (unit {unit}{ppm})")
        if res and res["warning"]:
            print(f"{path}: warning: {res['warning']}", file=sys.stderr)
