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
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="config file (default: config/demo.yaml)")
    parser.add_argument("--parcels", type=int, default=200, help="parcels to run (1-100000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--capacity", type=int, default=40,
                        help="captures for the path-only figure (0 skips it)")
    parser.add_argument("--json", action="store_true")


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError
    from edge.demo import demo_config, run_synthetic, with_run_overrides

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
        capacity = _capacity(cfg, args.capacity, Path(tmp))
    (_print_json if args.json else _print_text)(result, capacity)
    return result.exit_code


def _print_json(result: Any, capacity: Any) -> None:
    snap = result.stats.snapshot()
    print(json.dumps({**snap, "wall_s": result.wall_s, "peak_rss_mb": result.peak_rss_mb,
                      "parcels_per_s": snap["parcels"] / result.wall_s,
                      "path_only": capacity and {
                          "parcels": capacity.parcels,
                          "parcels_per_s": capacity.parcels_per_s,
                          "timings_ms": capacity.stats.snapshot()["timings_ms"]}}))


def _print_text(result: Any, capacity: Any) -> None:
    from edge.demo import print_table, summary_rows

    print("\nparcel-edge bench: whole path on the synthetic conveyor (peak RSS is this phase's)")
    print_table(summary_rows(result))
    if capacity:
        print(f"\npath only, one thread, {capacity.parcels} captures gathered beforehand: "
              f"{capacity.parcels_per_s:.1f} parcels/s")
        print_table([(f"{k} ms (median / p95)", f"{t['median']:.2f} / {t['p95']:.2f}")
                     for k, t in capacity.stats.snapshot()["timings_ms"].items()])


def _capacity(cfg: Any, count: int, tmp: Path) -> Any:
    from edge.bench import collect_captures, path_capacity

    if count <= 0:
        return None
    return path_capacity(cfg, collect_captures(cfg, count), tmp)
