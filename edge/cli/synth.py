"""``parcel-edge synth``: write a labelled synthetic dataset (images + JSON truth)."""
from __future__ import annotations

import argparse
import json
import sys

MAX_COUNT = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--count", required=True, type=int, help=f"number of images, 1..{MAX_COUNT}")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same images")
    parser.add_argument("--nuisance", nargs="+", default=[], metavar="NAME",
                        help="nuisances cycled over the images; join with + to combine "
                             "(clean, rotation, perspective, motion_blur, defocus, low_light, gradient, "
                             "glare, jpeg); default: all, one each, balanced")
    parser.add_argument("--mark-prob", type=float, default=0.5, help="share of parcels with a brand mark")
    parser.add_argument("--format", choices=("jpg", "png"), default="jpg", help="image file format")
    parser.add_argument("--json", action="store_true", help="print a JSON summary line")


def _fail(message: str) -> int:
    print(f"parcel-edge synth: {message}", file=sys.stderr)
    return 2


def main(args: argparse.Namespace) -> int:
    from edge.synth.dataset import DatasetOptions, parse_mixes, write_dataset

    if not 1 <= args.count <= MAX_COUNT:
        return _fail(f"--count must be between 1 and {MAX_COUNT}, got {args.count}")
    if not 0.0 <= args.mark_prob <= 1.0:
        return _fail(f"--mark-prob must be between 0 and 1, got {args.mark_prob}")
    try:
        mixes = parse_mixes(args.nuisance)
    except ValueError as exc:
        return _fail(str(exc))
    options = DatasetOptions(mixes=mixes, mark_prob=args.mark_prob, image_format=args.format)
    try:
        paths = write_dataset(args.out, args.count, args.seed, options)
    except OSError as exc:
        return _fail(f"cannot write to {args.out}: {exc.strerror or exc}")
    summary = {"out": str(args.out), "count": len(paths), "seed": args.seed,
               "nuisances": ["+".join(m) for m in mixes]}
    print(json.dumps(summary) if args.json else f"wrote {len(paths)} images with truth to {args.out}")
    return 0
