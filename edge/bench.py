"""Path capacity: how many parcels per second the stages after capture sustain.

The whole-path figure of ``parcel-edge bench`` includes drawing the synthetic
conveyor, which a real camera does for free; this second figure feeds
captures gathered beforehand through the per-parcel path alone, so it is what
the unit can do once frames exist: one at a time (one core), and on two path
workers as ``pipeline.workers`` runs them (what a second core adds, where
anything the workers share, a lock or a turn, would hold one back).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from edge.app import build_capture, build_stages
from edge.camera import EndOfStream
from edge.capture import with_lores
from edge.config import EdgeConfig
from edge.process import process_parcel
from edge.records import ParcelCapture
from edge.stats import Stats


@dataclass(frozen=True)
class Capacity:
    parcels: int
    wall_s: float
    stats: Stats
    workers: int = 1

    @property
    def parcels_per_s(self) -> float:
        return self.parcels / self.wall_s if self.wall_s else 0.0


def collect_captures(cfg: EdgeConfig, count: int) -> list[ParcelCapture]:
    """Run only the capture side until ``count`` parcels were captured (or the belt ran out)."""
    camera, trigger, assembler = build_capture(cfg)
    captures: list[ParcelCapture] = []
    camera.start()
    try:
        while len(captures) < count:
            frame = camera.read(1.0)
            if frame is None:
                continue
            frame = with_lores(frame)
            capture = assembler.push(frame, trigger.observe(frame))
            if capture is not None:
                captures.append(capture)
    except EndOfStream:
        pass
    finally:
        camera.stop()
        trigger.close()
    return captures


def path_capacity(cfg: EdgeConfig, captures: list[ParcelCapture], data_dir: Path,
                  workers: int = 1) -> Capacity:
    """The per-parcel path on ``workers`` threads, each taking the next capture with its
    ticket in capture order (as the pipeline's workers do), into a real outbox."""
    from edge.outbox import Outbox

    stats = Stats()
    outbox = Outbox(cfg.outbox, data_dir / f"capacity-outbox-{workers}")
    try:
        stages = build_stages(cfg, outbox.next_seq, (outbox,), stats)
        waiting, take = iter(captures), threading.Lock()

        def work() -> None:
            while True:
                with take:
                    capture = next(waiting, None)
                    if capture is None:
                        return
                    ticket = stages.turns.ticket()
                process_parcel(capture, stages, stats, ticket)

        threads = [threading.Thread(target=work, name=f"capacity-{i}") for i in range(workers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        outbox.close()
    return Capacity(len(captures), wall, stats, workers)
