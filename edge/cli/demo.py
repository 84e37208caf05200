"""``parcel-edge demo``: a synthetic conveyor through the whole unit, then a summary."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="config file (default: config/demo.yaml)")
    parser.add_argument("--parcels", type=int, default=30, help="parcels on the belt (1-10000)")
    parser.add_argument("--seed", type=int, help="seed of the synthetic conveyor")
    parser.add_argument("--out", type=Path, help="output folder (default: out/demo-<utc time>)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--hub", action="store_true",
                        help="also start a local broker and the officers' hub; print its address")
    parser.add_argument("--serve-s", type=float, default=None,
                        help="with --hub: stop serving after this many seconds (default: Ctrl-C)")


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError
    from edge.demo import (default_out_dir, demo_config, print_table, run_synthetic,
                           summary_rows, with_run_overrides)

    if not 1 <= args.parcels <= 10000:
        print("demo: --parcels must be between 1 and 10000", file=sys.stderr)
        return 2
    out = args.out or default_out_dir("demo")
    try:
        cfg = with_run_overrides(demo_config(args.config), out, args.parcels, args.seed)
    except (ConfigError, ValueError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    if args.hub:
        from edge.hub.demo import run as run_hub_demo
        try:
            return run_hub_demo(cfg, out, serve_s=args.serve_s, stream=sys.stdout)
        except (RuntimeError, ImportError) as exc:
            print(f"demo: {exc}", file=sys.stderr)
            return 1
    print(f"demo: {args.parcels} synthetic parcels; packages go to {out / 'packages'}",
          file=sys.stderr)
    result = run_synthetic(cfg, out, write_packages=True, total=args.parcels,
                           progress=None if args.json else sys.stderr)
    if args.json:
        print(json.dumps({"out": str(out), **result.stats.snapshot(), "wall_s": result.wall_s}))
    else:
        print(f"\nparcel-edge demo: summary (packages in {out / 'packages'})")
        print_table(summary_rows(result))
    return result.exit_code
