"""``parcel-edge bench``: parcels/s through the whole path, per-stage timings, peak RSS.

A benchmark, not a test: it reports medians and p95s for the closing notes
and never fails on a number.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="config file (default: config/demo.yaml)")
    parser.add_argument("--parcels", type=int, default=200, help="parcels to run (1-100000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError
    from edge.demo import demo_config, print_table, run_synthetic, summary_rows, with_run_overrides

    if not 1 <= args.parcels <= 100000:
        print("bench: --parcels must be between 1 and 100000", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="parcel-edge-bench-") as tmp:
        try:
            cfg = with_run_overrides(demo_config(args.config), Path(tmp), args.parcels, args.seed)
        except (ConfigError, ValueError) as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        result = run_synthetic(cfg, Path(tmp), write_packages=False, total=args.parcels,
                               progress=None if args.json else sys.stderr)
    snap = result.stats.snapshot()
    if args.json:
        print(json.dumps({**snap, "wall_s": result.wall_s, "peak_rss_mb": result.peak_rss_mb,
                          "parcels_per_s": snap["parcels"] / result.wall_s}))
    else:
        print("\nparcel-edge bench: whole path on the synthetic conveyor")
        print_table(summary_rows(result))
    return result.exit_code
