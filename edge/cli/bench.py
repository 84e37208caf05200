"""``parcel-edge bench``: parcels/s through the whole path, per-stage timings, peak RSS.

A benchmark, not a test: it reports medians and p95s for the closing notes
and never fails on a number.  Then, at each of ``--sizes`` (1280x960 and the
12 MP 4056x3040 by default), the path's CPU per parcel beside the floors of
its parts and a plain zxing-cpp loop on the same parcels
(:mod:`edge.bench_scale`), and the peak RSS of the whole unit run at that size
in a process of its own.
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
    parser.add_argument("--sizes", default="1280x960,4056x3040",
                        help="frame sizes for the path-versus-parts figures ('' skips them)")
    parser.add_argument("--true-scale", action="store_true",
                        help="widen the field of view with each size, so a bar keeps the "
                             "config's pixels (the belt a 12 MP sensor is for)")
    parser.add_argument("--size-parcels", type=int, default=12,
                        help="parcels per size for those figures (1-1000)")
    parser.add_argument("--rss-parcels", type=int, default=6,
                        help="parcels of the whole unit per size for peak RSS (0 skips it)")
    parser.add_argument("--rss-only", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")


def main(args: argparse.Namespace) -> int:
    from edge.config import ConfigError
    from edge.demo import demo_config, run_synthetic, with_run_overrides

    if not 1 <= args.parcels <= 100000:
        print("bench: --parcels must be between 1 and 100000", file=sys.stderr)
        return 2
    if args.rss_only:
        return _rss_only(args, Path(args.rss_only))
    try:
        sizes = _sizes(args.sizes)
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
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
        scale = [_at_size(args, cfg, size, Path(tmp)) for size in sizes]
    (_print_json if args.json else _print_text)(result, capacity, scale)
    return result.exit_code


def _sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        w, sep, h = part.partition("x")
        if not sep or not w.isdigit() or not h.isdigit() or not (
                160 <= int(w) <= 4096 and 120 <= int(h) <= 3072):
            raise ValueError(f"--sizes: {part!r} is not WIDTHxHEIGHT within 160x120-4096x3072")
        out.append((int(w), int(h)))
    return out


def _at_size(args: argparse.Namespace, cfg: Any, size: tuple[int, int], tmp: Path) -> dict:
    from edge.bench_scale import measure, sized

    at = sized(cfg, *size, args.true_scale)
    result = measure(at, max(1, min(1000, args.size_parcels)), tmp).summary()
    result["field_of_view_mm"] = round(at.conveyor.field_of_view_mm, 1)
    result["px_per_module"] = round(at.conveyor.px_per_module(size[0]), 2)
    result["peak_rss_mb"] = (_rss_of_run(args, cfg, size, tmp) if args.rss_parcels > 0
                             else None)
    return result


def _rss_of_run(args: argparse.Namespace, cfg: Any, size: tuple[int, int],
                tmp: Path) -> float | None:
    """Peak RSS of the whole unit at ``size``, replaying the belt's frames in a process of its own."""
    import subprocess

    from edge.bench_scale import record_frames, sized

    folder = tmp / f"frames-{size[0]}x{size[1]}"
    record_frames(sized(cfg, *size, args.true_scale), args.rss_parcels, folder)
    cmd = [sys.executable, "-m", "edge", "bench", "--rss-only", str(folder),
           "--parcels", str(args.rss_parcels), "--seed", str(args.seed)]
    if args.config:
        cmd += ["--config", str(args.config)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        print(f"bench: RSS run at {size[0]}x{size[1]} failed: {done.stderr.strip()[-300:]}",
              file=sys.stderr)
        return None
    return float(json.loads(done.stdout)["peak_rss_mb"])


def _rss_only(args: argparse.Namespace, folder: Path) -> int:
    from edge.bench_scale import replaying
    from edge.demo import demo_config, run_synthetic, with_run_overrides

    with tempfile.TemporaryDirectory(prefix="parcel-edge-bench-") as tmp:
        cfg = with_run_overrides(demo_config(args.config), Path(tmp), args.parcels, args.seed)
        result = run_synthetic(replaying(cfg, folder), Path(tmp), write_packages=False,
                               total=args.parcels, progress=None)
    print(json.dumps({"peak_rss_mb": result.peak_rss_mb, "parcels": result.stats.count("parcels")}))
    return result.exit_code


def _print_json(result: Any, capacity: list[Any], scale: list[dict]) -> None:
    snap = result.stats.snapshot()
    one = capacity[0] if capacity else None
    print(json.dumps({**snap, "wall_s": result.wall_s, "peak_rss_mb": result.peak_rss_mb,
                      "sizes": scale,
                      "parcels_per_s": snap["parcels"] / result.wall_s,
                      "path_only": one and {
                          "parcels": one.parcels,
                          "parcels_per_s": one.parcels_per_s,
                          "timings_ms": one.stats.snapshot()["timings_ms"]},
                      "path_only_by_workers": {str(c.workers): c.parcels_per_s for c in capacity},
                      "second_worker_gain": _gain(capacity)}))


def _gain(capacity: list[Any]) -> float | None:
    """Parcels per second on two path workers over one (None without both figures)."""
    if len(capacity) < 2 or not capacity[0].parcels_per_s:
        return None
    return round(capacity[1].parcels_per_s / capacity[0].parcels_per_s, 3)


def _print_text(result: Any, capacity: list[Any], scale: list[dict]) -> None:
    from edge.demo import print_table, summary_rows

    print("\nparcel-edge bench: whole path on the synthetic conveyor (peak RSS is this phase's)")
    print_table(summary_rows(result))
    if capacity:
        one = capacity[0]
        print(f"\npath only, one thread, {one.parcels} captures gathered beforehand: "
              f"{one.parcels_per_s:.1f} parcels/s")
        print_table([(f"{k} ms (median / p95)", f"{t['median']:.2f} / {t['p95']:.2f}")
                     for k, t in one.stats.snapshot()["timings_ms"].items()])
    if len(capacity) > 1:
        print(f"path only, two workers: {capacity[1].parcels_per_s:.1f} parcels/s "
              f"({_gain(capacity):.2f}x one thread)")
    for size in scale:
        _print_size(size)


def _print_size(s: dict) -> None:
    from edge.demo import print_table

    print(f"\nat {s['size']} ({s['field_of_view_mm']:g} mm field, {s['px_per_module']:.1f} px "
          f"per bar), {s['parcels']} parcels, one thread, CPU ms per parcel (median; "
          "commit and fsync wall):")
    med = s["median_ms"]
    print_table([
        ("capture side per camera frame (lores, presence, scoring)", f"{s['frame_cpu_ms']:.2f}"),
        ("path: decode + quality + classify + rules + package",
         " + ".join(f"{med[k]:.1f}" for k in ("decode", "quality", "classify", "rules",
                                               "package")) + f" = {s['path_cpu_ms']:.1f}"),
        ("path incl. durable commit", f"{s['path_ms']:.1f} ms ({med['commit']:.1f} commit)"),
        ("floors: zxing + onnx + ocr models + imencode + fsync",
         " + ".join(f"{med[k]:.1f}" for k in ("zxing", "onnx", "ocr", "imencode", "fsync"))
         + f" = {s['floors_ms']:.1f}"),
        ("path / floors", f"{s['path_over_floors']:.2f}x ({s['path_over_floors_without_ocr']:.2f}x "
         "with the OCR models not counted as a floor)"),
        ("parcels per CPU-second (path)", f"{s['parcels_per_cpu_s']:.1f}"),
        ("parcels per CPU-second at the floors (the parts alone)", f"{s['floors_per_cpu_s']:.1f}"),
        ("zxing-cpp loop (decode, JPEG, publish)", f"{s['loop_ms']:.1f} ms, "
         f"{s['loop_parcels_per_cpu_s']:.1f} parcels per CPU-second"),
        ("path / loop, parcels per CPU-second", f"{s['path_over_loop_per_cpu_s']:.2f}x"),
        ("read (path / loop)", f"{s['read']} / {s['loop_read']} of {s['parcels']}"),
        ("parcels read per CPU-second (path / loop)",
         f"{s['read_per_cpu_s']:.1f} / {s['loop_read_per_cpu_s']:.1f}"),
        ("peak RSS of the whole unit", "-" if s["peak_rss_mb"] is None
         else f"{s['peak_rss_mb']:.0f} MB"),
    ])


def _capacity(cfg: Any, count: int, tmp: Path) -> list[Any]:
    """The path alone on captures gathered beforehand: one thread, then two workers."""
    from edge.bench import collect_captures, path_capacity

    if count <= 0:
        return []
    captures = collect_captures(cfg, count)
    if not captures:  # the belt's parcels (--parcels) ran out before one was captured
        return []
    return [path_capacity(cfg, captures, tmp, workers) for workers in (1, 2)]
