"""``parcel-edge decode IMAGE...``: the barcodes on each image and the reference they give.

For checking a label photo by hand or replaying files through the reader.
Exit status 0 when every file could be read as an image (found codes or
not), 2 when some could not (a one-line reason each on stderr; the other
files still run).  Printed text is the sanitized form: a barcode cannot
write control characters to the terminal.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from edge.records import LabelReading


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    parser.add_argument("--config", metavar="FILE", help="take the decode section from this config")


def result_of(path: str, reading: LabelReading) -> dict[str, Any]:
    """The DESIGN.md shape: image, symbols [{format, text}], reference {kind, value, valid} or null."""
    ref = reading.reference
    return {
        "image": path,
        "symbols": [{"format": s.format, "text": s.text} for s in reading.symbols],
        "reference": None if ref is None else {"kind": ref.kind, "value": ref.value, "valid": ref.valid},
    }


def _print_text(result: dict[str, Any]) -> None:
    ref = result["reference"]
    head = f"{ref['kind']} {ref['value']}" if ref else "no reference"
    print(f"{result['image']}: {head}")
    for s in result["symbols"]:
        print(f"  {s['format']:<10} {s['text']}")


def _reader(args: argparse.Namespace) -> Any:
    from edge.decode import DecodeConfig, LabelReader

    if args.config:
        from edge.config import load_config

        return LabelReader(load_config(args.config).decode)
    return LabelReader(DecodeConfig())


def main(args: argparse.Namespace) -> int:
    from edge.imageio import ImageError, load_image

    try:
        reader = _reader(args)
    except ValueError as exc:
        print(f"parcel-edge decode: {exc}", file=sys.stderr)
        return 2
    status = 0
    for path in args.images:
        try:
            reading = reader.read_image(load_image(path))
        except (ImageError, OSError, ValueError) as exc:
            print(f"{path}: cannot decode: {exc}".replace("\n", " "), file=sys.stderr)
            status = 2
            continue
        result = result_of(path, reading)
        if args.json:
            print(json.dumps(result, ensure_ascii=True), flush=True)
        else:
            _print_text(result)
    return status
