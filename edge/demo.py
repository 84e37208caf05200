"""The embedded default: the whole unit on a synthetic conveyor, no camera, no broker.

Shared by ``parcel-edge demo`` (a person watching) and ``parcel-edge bench``
(figures for the notes): both run the real path, only the reporting differs.
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from edge.app import FolderSink, build_unit
from edge.config import EdgeConfig, load_config
from edge.memory import peak_rss_mb
from edge.stats import Stats

REPO_DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"


@dataclass(frozen=True)
class RunResult:
    stats: Stats
    wall_s: float
    exit_code: int
    out_dir: Path
    peak_rss_mb: float


def demo_config(path: Path | None) -> EdgeConfig:
    """The given file, else the repository's config/demo.yaml, else built-in defaults."""
    if path is not None:
        return load_config(path)
    if REPO_DEMO_CONFIG.is_file():
        return load_config(REPO_DEMO_CONFIG)
    return EdgeConfig()


def with_run_overrides(cfg: EdgeConfig, out_dir: Path, parcels: int, seed: int | None) -> EdgeConfig:
    """Point the unit's data at ``out_dir`` and make the synthetic run finite and fast."""
    camera_update: dict[str, Any] = {"parcels": parcels, "realtime": False}
    if seed is not None:
        camera_update["seed"] = seed
    if cfg.camera.type != "synthetic":
        raise ValueError("the demo and bench need camera.type: synthetic")
    return cfg.model_copy(update={
        "unit": cfg.unit.model_copy(update={"data_dir": out_dir}),
        "camera": cfg.camera.model_copy(update=camera_update),
    })


def default_out_dir(kind: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path("out") / f"{kind}-{stamp}"


def run_synthetic(cfg: EdgeConfig, out_dir: Path, *, write_packages: bool,
                  progress: TextIO | None, total: int) -> RunResult:
    """Run the unit until the synthetic conveyor has delivered its parcels."""
    sinks = (FolderSink(out_dir / "packages"),) if write_packages else ()
    unit = build_unit(cfg, extra_sinks=sinks, backpressure=True, with_publisher=False)
    stop = threading.Event()
    ticker = _Progress(unit.stats, total, progress) if progress else None
    started = time.perf_counter()
    if ticker:
        ticker.start()
    try:
        code = unit.run(stop)
    finally:
        if ticker:
            ticker.finish()
    wall = time.perf_counter() - started
    return RunResult(unit.stats, wall, code, out_dir, peak_rss_mb())


class _Progress(threading.Thread):
    """One line, rewritten in place on a terminal (a line per update into a log), while the
    conveyor runs."""

    def __init__(self, stats: Stats, total: int, stream: TextIO) -> None:
        super().__init__(name="progress", daemon=True)
        self.stats, self.total, self.stream = stats, total, stream
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.5):
            self._print()

    def finish(self) -> None:
        self._done.set()
        self.join(timeout=1.0)
        self._print()
        if self.stream.isatty():
            self.stream.write("\n")

    def _print(self) -> None:
        s = self.stats
        start, end = ("\r", "") if self.stream.isatty() else ("", "\n")
        line = (f"{start}parcels {s.count('parcels')}/{self.total}  read {s.count('read')}  "
                f"flagged {s.count('flagged')}  frames {s.count('frames')}  "
                f"{s.count('parcels') / max(s.uptime_s(), 1e-9):.1f} parcels/s{end}")
        self.stream.write(line)
        self.stream.flush()


def summary_rows(result: RunResult) -> list[tuple[str, str]]:
    """The demo's closing table as (label, value) rows."""
    snap = result.stats.snapshot()
    counters = snap["counters"]
    parcels = snap["parcels"]
    rows = [("parcels seen", str(parcels)),
            ("read (valid reference)", f"{snap['read']} ({_pct(snap['read'], parcels)})"),
            ("flagged", str(snap["flagged"]))]
    for outcome in ("clear", "flag", "review", "no_read", "quality_reject"):
        rows.append((f"verdict {outcome}", str(counters.get(f"verdict.{outcome}", 0))))
    rows += [("frames", str(counters.get("frames", 0))),
             ("dropped", str(sum(v for k, v in counters.items() if k.startswith("dropped")))),
             ("errors", ", ".join(f"{k}={v}" for k, v in snap["errors"].items()) or "none"),
             ("wall time", f"{result.wall_s:.1f} s"),
             ("throughput", f"{parcels / result.wall_s:.1f} parcels/s" if result.wall_s else "-"),
             ("peak RSS", f"{result.peak_rss_mb:.0f} MB")]
    for stage, t in snap["timings_ms"].items():
        rows.append((f"{stage} ms (median / p95)", f"{t['median']:.2f} / {t['p95']:.2f}"))
    return rows


def _pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:.1f}%" if d else "-"


def print_table(rows: list[tuple[str, str]], stream: TextIO = sys.stdout) -> None:
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        stream.write(f"  {label.ljust(width)}  {value}\n")
