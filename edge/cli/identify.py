"""``parcel-edge identify TEXT...``: what kind of reference number each text is and whether it checks.

Exit status 0 when every text is a valid identifier, 1 when some is not
(unknown shape or failed check; said on stderr, the others still print).
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("texts", nargs="+", metavar="TEXT")
    parser.add_argument("--json", action="store_true", help="one JSON object per text")


def main(args: argparse.Namespace) -> int:
    from edge.identify import identify

    status = 0
    for text in args.texts:
        ident = identify(text)
        if args.json:
            print(json.dumps(asdict(ident), ensure_ascii=True), flush=True)
        elif ident.kind:
            print(f"{ident.text}: {ident.kind} {ident.value} {'valid' if ident.valid else 'INVALID'}")
        else:
            print(f"{ident.text}: not a known reference number")
        if not ident.valid:
            reason = "fails its check" if ident.kind else "is not a known reference number"
            print(f"{ident.text}: {reason}", file=sys.stderr)
            status = 1
    return status
