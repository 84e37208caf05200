"""``parcel-edge decode IMAGE...``: the barcodes on each image and the reference they give.

For checking a label photo by hand or replaying files through the reader.
Exit status 0 when every file could be read as an image (found codes or
not), 2 when some could not (a one-line reason each on stderr; the other
files still run).  ``--json`` prints each text exactly as decoded (JSON's
escaping is its safe form); the terminal lines print the sanitised form, so
a barcode cannot write control characters to the terminal.
"""
from __future__ import annotations

import argparse
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


def _print_text(result: dict[str, Any], limit: int) -> None:
    from edge.identify.sanitize import safe_text

    ref = result["reference"]
    head = f"{ref['kind']} {ref['value']}" if ref else "no reference"
    print(f"{safe_text(result['image'], 4096)}: {head}")
    for s in result["symbols"]:
        print(f"  {s['format']:<10} {safe_text(s['text'], limit)}")


def main(args: argparse.Namespace) -> int:
    from edge.cli.inputs import each_image, unit_config
    from edge.decode import LabelReader
    from edge.imageio import load_image

    cfg = unit_config(args.config)
    if cfg is None:
        return 2
    reader = LabelReader(cfg.decode)
    return each_image(args.images, "decode",
                      lambda path: result_of(path, reader.read_image(load_image(path))),
                      args.json, lambda result: _print_text(result, cfg.decode.max_text))
