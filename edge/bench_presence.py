"""Presence and capture cost per frame: the motion trigger and the parcel assembler alone.

The belt scene here is deliberately simple (a textured grey belt, sensor
noise, cardboard rectangles with a barcode-like label moving through) so the
figures measure the trigger, not a renderer.  Tests reuse :func:`belt_frames`
for the same reason.

Run: ``python -m edge.bench_presence [--frames N] [--width W --height H]``.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from edge.records import Box, Frame, utc_now
from edge.stats import summarize

BELT_GREY = 70
CARDBOARD_BGR = (95, 145, 190)


@dataclass(frozen=True)
class BeltScene:
    """A belt ``width`` x ``height`` with parcels of ``parcel`` size moving ``speed_px`` per frame."""

    width: int = 1280
    height: int = 960
    parcel: tuple[int, int] = (420, 300)
    speed_px: int = 40
    gap_frames: int = 12
    noise: float = 3.0
    seed: int = 0


def _belt(scene: BeltScene, rng: np.random.Generator) -> np.ndarray:
    """Rubber belt: a grey with faint stripes along the direction of travel."""
    rows = BELT_GREY + rng.normal(0, 4, size=(scene.height, 1))
    belt = np.repeat(rows, scene.width, axis=1)
    return np.clip(np.repeat(belt[:, :, None], 3, axis=2), 0, 255).astype(np.uint8)


def _parcel(scene: BeltScene) -> np.ndarray:
    """Cardboard with a white label carrying black bars, so sharpness has something to see."""
    w, h = scene.parcel
    tile = np.empty((h, w, 3), np.uint8)
    tile[:] = CARDBOARD_BGR
    lx, ly, lw, lh = w // 4, h // 4, w // 2, h // 2
    tile[ly:ly + lh, lx:lx + lw] = 245
    bars = (np.arange(lw) // 3) % 2 == 0
    tile[ly + lh // 4:ly + 3 * lh // 4, lx:lx + lw][:, bars] = 20
    return tile


def _place(image: np.ndarray, tile: np.ndarray, x: int, y: int) -> Box | None:
    """Paste ``tile`` with its top-left at (x, y), cut to the frame; the visible box."""
    h, w = image.shape[:2]
    box = Box(x, y, tile.shape[1], tile.shape[0]).clip(w, h)
    if box.area == 0:
        return None
    ty, tx = box.y - y, box.x - x
    image[box.y:box.y + box.h, box.x:box.x + box.w] = tile[ty:ty + box.h, tx:tx + box.w]
    return box


def belt_frames(scene: BeltScene, count: int) -> Iterator[Frame]:
    """``count`` frames of parcels crossing left to right; ``truth["parcel_box"]`` is the visible box."""
    rng = np.random.default_rng(scene.seed)
    belt, tile = _belt(scene, rng), _parcel(scene)
    noises = [rng.normal(0, scene.noise, belt.shape).astype(np.int16) for _ in range(4)]
    travel = scene.width + scene.parcel[0]
    cycle = travel // scene.speed_px + 1 + scene.gap_frames
    y = (scene.height - scene.parcel[1]) // 2
    for n in range(count):
        image = np.clip(belt.astype(np.int16) + noises[n % len(noises)], 0, 255).astype(np.uint8)
        step = n % cycle - scene.gap_frames
        box = None
        if 0 <= step < travel // scene.speed_px + 1:
            box = _place(image, tile, step * scene.speed_px - scene.parcel[0], y)
        truth = {"parcel_box": [box.x, box.y, box.w, box.h] if box else None}
        yield Frame(seq=n + 1, t_mono=n / 30.0, t_utc=utc_now(), image=image, source="belt", truth=truth)


def coverage(box: Box, truth: list[int]) -> float:
    """Share of the true parcel box ``[x, y, w, h]`` that ``box`` covers."""
    true = Box(*truth)
    return box.overlap(true) / float(true.area)


def _percentiles(values: list[float]) -> dict[str, float]:
    summary = summarize(values)
    return {"median": round(summary.median_ms, 3), "p95": round(summary.p95_ms, 3)}


def measure(frames: int = 600, width: int = 1280, height: int = 960) -> dict[str, object]:
    """Motion-trigger and assembler ms per frame over a belt run (frames made up front).

    ``motion_ms`` is wall time as the trigger reports it; ``motion_cpu_ms`` is
    this thread's CPU time, which a busy shared machine does not inflate.
    """
    import cv2

    from edge.capture import ParcelAssembler
    from edge.config import CaptureConfig
    from edge.trigger.motion import Config, MotionTrigger

    cv2.setNumThreads(1)
    scene = BeltScene(width=width, height=height, parcel=(width // 3, height // 3))
    made = list(belt_frames(scene, frames))
    trigger, assembler = MotionTrigger(Config()), ParcelAssembler(CaptureConfig(), trigger="motion")
    trigger_ms, trigger_cpu_ms, assemble_ms, covered, captures = [], [], [], [], 0
    for frame in made:
        cpu = time.thread_time()
        presence = trigger.observe(frame)
        trigger_cpu_ms.append((time.thread_time() - cpu) * 1000.0)
        trigger_ms.append(presence.ms)
        started = time.perf_counter()
        captures += assembler.push(frame, presence) is not None
        assemble_ms.append((time.perf_counter() - started) * 1000.0)
        truth = frame.truth["parcel_box"] if frame.truth else None
        if presence.box is not None and truth and truth[2] == scene.parcel[0]:
            covered.append(coverage(presence.box, truth))
    return {"frames": frames, "size": f"{width}x{height}", "captures": captures,
            "motion_ms": _percentiles(trigger_ms), "motion_cpu_ms": _percentiles(trigger_cpu_ms),
            "assembler_ms": _percentiles(assemble_ms),
            "box_coverage_min": round(min(covered, default=0.0), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=960)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.frames, args.width, args.height)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
