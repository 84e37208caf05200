"""The label reader: a ladder of decode attempts per parcel that stops at the first validated reference.

Cheapest first: zxing-cpp on the parcel region; then barcodes located by
OpenCV at any angle, cut out upright; then the same on a contrast-stretched
image when the frame is dark; then (off by default) located codes upscaled;
then located codes deconvolved for belt motion blur; then the same for the
next-sharpest frames of the parcel; pyzbar on the located regions last.
No new rung starts once the time budget is spent, and the reading stops as
soon as :func:`edge.identify.best_reference` finds an id that validates, so
a clean label costs one zxing call.  ``counters`` says which rung read how
many parcels, for the status topic and for tuning the ladder.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import cv2
import numpy as np

from edge.decode import enhance, locate
from edge.decode.base import Decoder, RawSymbol
from edge.decode.config import DecodeConfig
from edge.identify import best_reference
from edge.identify.sanitize import sanitize
from edge.records import Box, LabelReading, ParcelCapture, Reference, Symbol
from edge.registry import Registry

log = logging.getLogger(__name__)

Corners = tuple[tuple[int, int], ...]
Mapper = Callable[[Corners], Corners]
Rung = tuple[str, Callable[[], None]]
DECODERS = Registry("decoder", {"zxing": "edge.decode.zxing", "zbar": "edge.decode.zbar"})


@dataclass
class _Attempt:
    """The state of one parcel's reading while the ladder runs."""

    started: float
    budget_s: float
    symbols: list[Symbol] = field(default_factory=list)
    seen: set[tuple[str, str, str, int]] = field(default_factory=set)
    attempts: int = 0
    reference: Reference | None = None
    frame_seq: int = -1
    quads: dict[tuple[int, int, str], list[np.ndarray]] = field(default_factory=dict)

    def out_of_time(self) -> bool:
        return time.perf_counter() - self.started > self.budget_s


@dataclass(frozen=True)
class _View:
    """One frame's gray region of interest and where it sits in the frame."""

    gray: np.ndarray
    dx: int
    dy: int
    seq: int


def check_image(image: object) -> np.ndarray:
    """The array itself if it is an 8-bit gray, BGR or BGRA image; ValueError otherwise."""
    if not isinstance(image, np.ndarray) or image.size == 0 or image.ndim not in (2, 3):
        raise ValueError("not an image array")
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        raise ValueError(f"image must have 1, 3 or 4 channels, got {image.shape[2]}")
    return image


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 grayscale from a BGR, BGRA or gray array; ValueError for anything that is not an image."""
    image = check_image(image)
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


class LabelReader:
    """Reads one parcel's label; build once, call per parcel (not shared between threads)."""

    def __init__(self, cfg: DecodeConfig | None = None) -> None:
        self.cfg = cfg or DecodeConfig()
        self._decoders: dict[str, Decoder] = {n: DECODERS.opener(n)(self.cfg) for n in self.cfg.decoders}
        self._finder = locate.RegionFinder() if self.cfg.locate else None
        self.counters: dict[str, int] = {"parcels": 0, "read": 0, "oversize": 0, "symbols": 0}

    def read(self, capture: ParcelCapture) -> LabelReading:
        """The parcel's symbols and reference from its frames, best first, within the budget.

        A frame that is not an image is skipped and counted, never raised:
        the parcel is still recorded (as a no-read if nothing else reads).
        """
        started = time.perf_counter()
        views = []
        for i, f in enumerate(capture.frames[:self.cfg.max_frames]):
            try:
                views.append(self._view(f.image, f.seq, capture.boxes[i] if i < len(capture.boxes) else None))
            except ValueError as exc:
                self.counters["bad_frames"] = self.counters.get("bad_frames", 0) + 1
                log.warning("frame %s of capture %s skipped: %s", f.seq, capture.capture_id, exc)
        return self._run(views, started)

    def read_image(self, image: np.ndarray, frame_seq: int = -1, box: Box | None = None) -> LabelReading:
        """One image (a manual photo, a file): the same ladder on a single frame."""
        started = time.perf_counter()
        return self._run([self._view(image, frame_seq, box)], started)

    def _view(self, image: np.ndarray, seq: int, box: Box | None) -> _View:
        """The parcel's region (plus a margin) in gray; the whole frame when there is no usable box."""
        check_image(image)
        if box is not None and box.area > 0:
            m = self.cfg.parcel_margin_px
            roi = Box(box.x - m, box.y - m, box.w + 2 * m, box.h + 2 * m).clip(image.shape[1], image.shape[0])
            if roi.area >= 64 * 64:
                return _View(to_gray(image[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w]), roi.x, roi.y, seq)
        return _View(to_gray(image), 0, 0, seq)

    def _run(self, views: list[_View], started: float) -> LabelReading:
        state = _Attempt(started, self.cfg.budget_ms / 1000.0)
        for name, rung in self._ladder(views, state):
            rung()
            if state.reference is not None:
                self.counters[f"read_by_{name}"] = self.counters.get(f"read_by_{name}", 0) + 1
                break
        self.counters["parcels"] += 1
        self.counters["read"] += state.reference is not None
        ms = (time.perf_counter() - state.started) * 1000.0
        frame_seq = state.frame_seq if state.reference is not None else (views[0].seq if views else -1)
        return LabelReading(symbols=tuple(state.symbols), reference=state.reference,
                            attempts=state.attempts, ms=round(ms, 3), frame_seq=frame_seq,
                            label_box=_label_box(state.symbols), module_px=_module_px(state.symbols))

    def _ladder(self, views: list[_View], state: _Attempt) -> Iterator[Rung]:
        """The rungs in order; each is skipped once the budget is spent (the first always runs)."""
        first = True
        for view in views:
            for rung in self._zxing_rungs(view, state):
                if first or not state.out_of_time():
                    first = False
                    yield rung
        if "zbar" in self._decoders and self.cfg.zbar_fallback:
            for view in views:
                if not state.out_of_time():
                    yield "zbar", lambda v=view: self._zbar_regions(v, state)

    def _zxing_rungs(self, view: _View, state: _Attempt) -> Iterator[Rung]:
        if "zxing" not in self._decoders:
            yield "zbar_plain", lambda: self._decode("zbar", view, view.gray, state)
            return
        yield "plain", lambda: self._decode("zxing", view, view.gray, state)
        located = self._finder is not None
        if located:
            yield "located", lambda: self._regions(view, view.gray, "gray", state, 1.0)
        if self.cfg.enhance and enhance.mean_level(view.gray) < self.cfg.dark_level:
            bright = enhance.stretch(view.gray)
            yield "stretched", lambda: self._decode("zxing", view, bright, state)
            if located:
                yield "stretched_located", lambda: self._regions(view, bright, "bright", state, 1.0)
        if self.cfg.upscale and located:
            yield "upscaled", lambda: self._regions(view, view.gray, "gray", state, 2.0)
        if (self.cfg.deblur_px or self.cfg.defocus_px) and located:
            yield "deblurred", lambda: self._deblurred_regions(view, state)

    def _quads(self, view: _View, gray: np.ndarray, variant: str, state: _Attempt) -> list[np.ndarray]:
        """Located regions, found once per frame and image variant however many rungs use them."""
        assert self._finder is not None
        key = (view.seq, id(view), variant)
        if key not in state.quads:
            state.quads[key] = self._finder.find(gray, self.cfg.max_regions)
        return state.quads[key]

    def _decode(self, name: str, view: _View, gray: np.ndarray, state: _Attempt,
                mapper: Mapper | None = None) -> None:
        state.attempts += 1
        try:
            raw = self._decoders[name].decode(gray)
        except Exception as exc:  # a decoder library must never take the unit down
            log.warning("decoder %s failed on frame %s: %s", name, view.seq, exc.__class__.__name__)
            return
        self._keep(raw, name, view, state, mapper)

    def _regions(self, view: _View, gray: np.ndarray, variant: str, state: _Attempt, zoom: float) -> None:
        for quad in self._quads(view, gray, variant, state):
            crop = locate.straighten(gray, quad, self.cfg.region_pad, zoom)
            if crop is None:
                continue
            self._decode("zxing", view, crop, state, _crop_mapper(quad, self.cfg.region_pad, zoom))
            if state.reference is not None or state.out_of_time():
                return

    def _deblurred_regions(self, view: _View, state: _Attempt) -> None:
        """Located regions deconvolved for belt motion, then for defocus, one try per expected blur."""
        kernels = [(enhance.motion_kernel(px), 0.01) for px in self.cfg.deblur_px]
        kernels += [(enhance.disc_kernel(px), 0.002) for px in self.cfg.defocus_px]
        for quad in self._quads(view, view.gray, "gray", state):
            patch, origin = locate.padded_patch(view.gray, quad, self.cfg.region_pad)
            local = quad - origin
            mapper = _crop_mapper(local, self.cfg.region_pad, 1.0)
            for kernel, noise in kernels:
                crop = locate.straighten(enhance.deconvolve(patch, kernel, noise), local, self.cfg.region_pad)
                if crop is None:
                    break
                self._decode("zxing", view, crop, state, lambda c, m=mapper: _shift(m(c), origin))
                if state.reference is not None or state.out_of_time():
                    return

    def _zbar_regions(self, view: _View, state: _Attempt) -> None:
        quads = self._quads(view, view.gray, "gray", state) if self._finder is not None else []
        if not quads:
            self._decode("zbar", view, view.gray, state)
            return
        for quad in quads:
            crop = locate.straighten(view.gray, quad, self.cfg.region_pad)
            if crop is not None:
                self._decode("zbar", view, crop, state, _crop_mapper(quad, self.cfg.region_pad, 1.0))
            if state.reference is not None or state.out_of_time():
                return

    def _keep(self, raw: list[RawSymbol], decoder: str, view: _View, state: _Attempt,
              mapper: Mapper | None) -> None:
        fresh = False
        for r in raw:
            safe = sanitize(r.text, self.cfg.max_text)
            key = (r.format, safe.text, decoder, view.seq)
            if key in state.seen:
                continue
            state.seen.add(key)
            if safe.truncated:
                self.counters["oversize"] += 1
                log.info("oversize barcode text (%s chars) on frame %s, kept truncated", safe.original_len, view.seq)
            corners = mapper(r.corners) if mapper is not None and r.corners else r.corners
            corners = tuple((x + view.dx, y + view.dy) for x, y in corners)
            state.symbols.append(Symbol(r.format, safe.text, decoder, view.seq, corners))
            self.counters["symbols"] += 1
            fresh = True
        if fresh:
            state.reference = best_reference(state.symbols)
            if state.reference is not None and state.frame_seq < 0:
                state.frame_seq = view.seq


def _crop_mapper(quad: np.ndarray, pad: float, zoom: float) -> Mapper:
    return lambda corners: locate.back_to_frame(corners, quad, pad, zoom)


def _shift(corners: Corners, origin: np.ndarray) -> Corners:
    return tuple((int(x + origin[0]), int(y + origin[1])) for x, y in corners)


def _label_box(symbols: list[Symbol]) -> Box | None:
    """The box around every decoded symbol: where the label is, for the quality stage and crops."""
    pts = [p for s in symbols for p in s.corners]
    if not pts:
        return None
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _code128_modules(text: str) -> int:
    """Modules of a Code 128 symbol for ``text``: start, check and stop plus 11 per codeword."""
    digits = sum(c.isdigit() for c in text)
    others = len(text) - digits - text.count("(") - text.count(")")
    codewords = others + (digits + 1) // 2 + text.count("(")
    return 11 * (codewords + 2) + 13


def _module_px(symbols: list[Symbol]) -> float | None:
    """Pixels per module of the first Code 128 symbol: the number the exposure and focus must keep above 2."""
    for s in symbols:
        if s.format == "Code128" and len(s.corners) >= 2:
            (x0, y0), (x1, y1) = s.corners[0], s.corners[1]
            length = float(np.hypot(x1 - x0, y1 - y0))
            if length > 0:
                return round(length / _code128_modules(s.text), 2)
    return None
