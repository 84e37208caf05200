"""Camera source `synthetic`: a seeded conveyor with parcels crossing the view.

Each parcel is drawn once as a sprite (image + mask, with its nuisances and
the motion blur of the exposure already applied); a frame is then only the
scrolled belt plus each visible sprite copied in at its offset, which keeps a
1280x960 frame at a few milliseconds so the demo and bench measure the unit,
not the generator.
"""
from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from edge.camera.frames import wait_until
from edge.configbase import Section

SPRITE_NUISANCES = ("rotation", "perspective", "defocus", "glare", "gradient", "low_light")
RAIL_MARGIN = 0.04


class Config(Section):
    type: Literal["synthetic"] = "synthetic"
    width: int = Field(1280, ge=160, le=4096)
    height: int = Field(960, ge=120, le=3072)
    fps: float = Field(30.0, gt=0, le=240)
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="default: the unit's seed")
    parcels: int = Field(0, ge=0, le=10_000_000, description="stop after this many; 0 = endless")
    gap_m: float = Field(0.8, ge=0.0, le=10.0,
                         description="belt between parcels; above the field of view the view empties between them")
    gap_jitter: float = Field(0.2, ge=0.0, le=1.0, description="gap varies by this share either way")
    lead_m: float = Field(0.4, ge=0.0, le=10.0, description="empty belt before the first parcel")
    realtime: bool = Field(True, description="pace frames at fps; false: as fast as possible")
    exposure_us: int = Field(0, ge=0, le=100_000, description="0: the conveyor's longest usable exposure")
    mark_prob: float = Field(0.5, ge=0.0, le=1.0)
    second_code_prob: float = Field(0.3, ge=0.0, le=1.0)
    nuisance_prob: float = Field(0.0, ge=0.0, le=1.0, description="per parcel, per listed nuisance")
    nuisances: tuple[str, ...] = ("rotation", "defocus", "glare")

    @field_validator("nuisances")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name not in SPRITE_NUISANCES:
                raise ValueError(f"unknown nuisance {name!r} (known: {', '.join(SPRITE_NUISANCES)})")
        return value


@dataclass(frozen=True, eq=False)
class _Parcel:
    """A parcel on the belt: its sprite and where its left edge is in belt pixels."""

    index: int
    spec: Any
    image: np.ndarray
    mask: np.ndarray
    quads: dict[str, Any]
    offset: float
    y: int
    params: dict[str, Any]


class SyntheticCamera:
    """A conveyor seen from above; the belt moves along +x at the conveyor's speed."""

    name = "synthetic"

    def __init__(self, cfg: Config, conveyor: Any, seed: int) -> None:
        from edge.synth import scene

        self.cfg = cfg
        self.rng = np.random.default_rng([seed, 0x5EED])
        self.mm_per_px = conveyor.field_of_view_mm / cfg.width
        self.px_per_frame = conveyor.belt_speed_m_s * 1000.0 / cfg.fps / self.mm_per_px
        exposure = cfg.exposure_us or conveyor.max_exposure_us()
        self.exposure_us = min(exposure, int(1e6 / cfg.fps))
        self.blur_px = conveyor.belt_speed_m_s * self.exposure_us * 1e-3 / self.mm_per_px
        # labels are drawn at the px per module this sensor and field of view give, not a flattering 2-3
        self.px_per_module = cfg.width * conveyor.min_module_mm / conveyor.field_of_view_mm
        self.period = cfg.width
        tile = scene.belt(self.rng, self.period, cfg.height)
        self.belt = _blur(np.hstack([tile, tile]), self.blur_px)
        self.parcels: list[_Parcel] = []
        self.made = self.sampled = 0
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future | None = None
        self.seq = 0
        self.t0_mono = self.t0_wall = 0.0
        self.next_offset = cfg.lead_m * 1000.0 / self.mm_per_px
        self.started = False

    def start(self) -> None:
        self.t0_mono, self.t0_wall = time.monotonic(), time.time()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthetic-parcels")
        self.started = True

    def stop(self) -> None:
        self.started = False
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool, self.pending = None, None

    def read(self, timeout: float) -> Any:
        from edge.camera import CameraError

        if not self.started:
            raise CameraError("synthetic camera read before start()")
        if self.cfg.realtime and not wait_until(self.t0_mono + self.seq / self.cfg.fps, timeout):
            return None
        return self._frame()

    def _frame(self) -> Any:
        from edge.camera import EndOfStream
        from edge.records import Frame, utc_text

        belt_px = self.seq * self.px_per_frame
        self._refill(belt_px)
        if self.cfg.parcels and self.made >= self.cfg.parcels and not self.parcels:
            raise EndOfStream(f"synthetic conveyor: all {self.cfg.parcels} parcels have passed")
        start = int(round(belt_px)) % self.period
        image = self.belt[:, self.period - start:2 * self.period - start].copy()
        truths = [self._paste(image, p, belt_px) for p in self.parcels]
        truths = [t for t in truths if t is not None]
        t = self.seq / self.cfg.fps
        self.seq += 1
        utc = datetime.fromtimestamp(self.t0_wall, timezone.utc) + timedelta(seconds=t)
        biggest = max(truths, key=lambda p: p["parcel_box"][2] * p["parcel_box"][3], default=None)
        truth = {"parcels": truths, "parcel_box": biggest["parcel_box"] if biggest else None,
                 "belt_px": round(belt_px, 2), "px_per_frame": round(self.px_per_frame, 3)}
        return Frame(seq=self.seq, t_mono=self.t0_mono + t,
                     t_utc=utc_text(utc),
                     image=image, source=self.name, truth=truth)

    def _refill(self, belt_px: float) -> None:
        """Drop parcels that have left; queue the next one before it reaches the view."""
        self.parcels = [p for p in self.parcels if belt_px - p.offset < self.cfg.width]
        while (not self.cfg.parcels or self.made < self.cfg.parcels) and (
                not self.parcels or belt_px - self.parcels[-1].offset > -self.cfg.width):
            self.parcels.append(self._new_parcel())

    def _submit(self) -> Future | None:
        """Sample the next parcel here (seeded order) and draw it on the worker thread.

        Drawing takes tens of ms; done ahead in the background, a paced
        stream never stalls when a parcel comes into view.
        """
        from edge.synth.scene import sample_parcel

        if self.cfg.parcels and self.sampled >= self.cfg.parcels:
            return None
        spec = sample_parcel(self.rng, self.cfg.mark_prob, self.cfg.second_code_prob)
        self.sampled += 1
        assert self.pool is not None
        return self.pool.submit(_draw, spec, self.cfg, self.px_per_module, self.blur_px)

    def _new_parcel(self) -> _Parcel:
        future = self.pending or self._submit()
        self.pending = self._submit()
        assert future is not None
        spec, image, mask, quads, params = future.result()
        offset = self.next_offset + image.shape[1]
        gap = self.cfg.gap_m * 1000.0 / self.mm_per_px
        gap *= 1 + self.cfg.gap_jitter * float(self.rng.uniform(-1, 1))
        self.next_offset = offset + gap
        y = _vertical_place(self.rng, image.shape[0], quads["label"], self.cfg.height)
        self.made += 1
        return _Parcel(self.made - 1, spec, image, mask, quads, offset, y, params)

    def _paste(self, frame: np.ndarray, p: _Parcel, belt_px: float) -> dict[str, Any] | None:
        """Copy the visible part of the sprite into the frame; returns its truth or None."""
        import cv2

        from edge.synth.scene import transform_quads, truth_of

        x = int(round(belt_px - p.offset))
        h, w = p.image.shape[:2]
        fx0, fy0 = max(0, x), max(0, p.y)
        fx1, fy1 = min(self.cfg.width, x + w), min(self.cfg.height, p.y + h)
        if fx1 <= fx0 or fy1 <= fy0:
            return None
        sx0, sy0 = fx0 - x, fy0 - p.y
        src = (slice(sy0, sy0 + fy1 - fy0), slice(sx0, sx0 + fx1 - fx0))
        cv2.copyTo(p.image[src], p.mask[src], frame[fy0:fy1, fx0:fx1])
        shift = np.float64([[1, 0, x], [0, 1, p.y], [0, 0, 1]])
        truth = truth_of(p.spec, transform_quads(p.quads, shift), self.cfg.width, self.cfg.height)
        truth.update(parcel_id=p.index, complete=x >= 0 and x + w <= self.cfg.width,
                     nuisances=list(p.params), nuisance_params=p.params)
        return truth


def _vertical_place(rng: np.random.Generator, height: int, label: np.ndarray, view: int) -> int:
    """Top of a sprite on the belt; a parcel taller than the view still shows its whole label.

    The camera is mounted so the belt's guide rails sit inside the view, so a
    parcel that fits keeps a margin from the top and bottom edges.
    """
    room = view - height
    if room >= 0:
        margin = min(room / 2.0, RAIL_MARGIN * view)
        return int(rng.uniform(margin, room - margin))
    lo, hi = max(room, int(np.ceil(4 - label[:, 1].min()))), min(0, int(view - 4 - label[:, 1].max()))
    return int(rng.uniform(lo, hi)) if lo <= hi else room // 2


def _blur(image: np.ndarray, length: float) -> np.ndarray:
    import cv2

    from edge.synth.nuisance import motion_kernel

    return cv2.filter2D(image, -1, motion_kernel(length)) if length > 1 else image


def _warp(image: np.ndarray, mask: np.ndarray, quads: dict[str, Any], h: np.ndarray) -> tuple:
    """Warp a sprite by homography ``h`` into a canvas just big enough to hold it."""
    import cv2

    from edge.synth.scene import move, transform_quads

    corners = move(quads["parcel"], h)
    lo = np.floor(corners.min(0))
    size = tuple(int(v) + 1 for v in np.ceil(corners.max(0) - lo))
    h = np.float64([[1, 0, -lo[0]], [0, 1, -lo[1]], [0, 0, 1]]) @ h
    out = cv2.warpPerspective(image, h, size, flags=cv2.INTER_LINEAR)
    cover = cv2.warpPerspective(mask, h, size, flags=cv2.INTER_NEAREST)
    return out, cover, transform_quads(quads, h)


def _geometry(name: str, image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    import cv2

    height, width = image.shape[:2]
    if name == "rotation":
        angle = float(rng.uniform(0, 360))
        return np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0), [0, 0, 1]]), {
            "angle": round(angle, 2)}
    src = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    jitter = rng.uniform(-0.08, 0.08, (4, 2)) * (width, height)
    h = cv2.getPerspectiveTransform(src, (src + jitter).astype(np.float32)).astype(np.float64)
    return h, {"corner_shift_px": np.round(jitter, 1).tolist()}


def _draw(spec: Any, cfg: Config, px_per_module: float, blur_px: float) -> tuple:
    """The parcel's finished sprite at the camera's scale; nuisances drawn from its own seed, so threads keep order.

    The sprite's label is printed at ``spec.label.module_px`` pixels per
    module; it is resampled so that the module is ``px_per_module`` camera
    pixels, what the sensor width, field of view and narrowest bar give.
    """
    from edge.synth.scene import render_parcel

    scale = px_per_module / spec.label.module_px
    rng = np.random.default_rng([spec.seed, 0xB1])
    chosen = tuple(n for n in cfg.nuisances if rng.random() < cfg.nuisance_prob)
    return (spec, *_prepare(render_parcel(spec), chosen, rng, scale, blur_px))


def _prepare(sprite: Any, chosen: tuple[str, ...], rng: np.random.Generator, scale: float,
             blur_px: float) -> tuple[np.ndarray, np.ndarray, dict[str, Any], dict[str, Any]]:
    """Apply the parcel's nuisances, the frame scale and the exposure blur to its sprite, once."""
    from edge.synth import nuisance as nz
    from edge.synth.scene import BELT_BGR

    image, mask, quads = sprite.image, sprite.mask, sprite.quads
    params: dict[str, Any] = {}
    for name in (n for n in chosen if n in ("rotation", "perspective")):
        h, params[name] = _geometry(name, image, rng)
        image, mask, quads = _warp(image, mask, quads, h)
    if scale != 1.0:
        image, mask, quads = _warp(image, mask, quads, np.diag([scale, scale, 1.0]))
    for name in (n for n in chosen if n not in ("rotation", "perspective")):
        image, _, params[name] = nz.NUISANCES[name](image, rng, quads["label"])
    if blur_px > 1:
        image = image.copy()
        image[mask == 0] = BELT_BGR
        image = _blur(image, blur_px)
        mask = _blur(mask, blur_px)
        params["motion_blur"] = {"blur_px": round(blur_px, 2)}
    return image, mask, quads, params


def open(cfg: Config, ctx: Any) -> SyntheticCamera:  # noqa: A001 - registry entry point
    seed = cfg.seed if cfg.seed is not None else int(getattr(ctx, "seed", 0))
    return SyntheticCamera(cfg, ctx.conveyor, seed)
