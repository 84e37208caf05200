"""The label reader: a ladder of decode attempts per parcel that stops at the first validated reference.

At sensor widths (1280x960) the codes OpenCV's detector and the bar finder
see on a half-size copy are cut out and decoded first, then the upright 2D
codes (QR, DataMatrix, Aztec, PDF417) the 1D finders cannot see: that reads
most parcels in a third of the time plain zxing-cpp takes on the whole frame.
Then zxing-cpp exactly as a user calls it (``read_barcodes(image)``, every
default, never skipped by the budget), so the reader never reads less than
the plain library; a frame too large for that (12 MP) has its label found
and straightened at low resolution first, and is read at low resolution
with its codes decoded as full-resolution crops.  Then 1D codes located at
any angle (by OpenCV's detector and by gradient coherence), cut out
upright; the label's quadrilateral straightened (perspective); a dark frame
stretched and denoised; located codes blind-deblurred
(:mod:`edge.decode.deblur`); the next-sharpest frames; pyzbar last.  When
the exposure smears bars over ``SMEARED_MODULES`` or more (the installation
says so: belt speed, exposure, field of view), deblurring comes straight
after the first looks, since the plain rungs before it would read little.  The
budget is work, not time: decoder calls and megapixels per parcel, so a
busy unit reads exactly what an idle one does.  Reading stops early only
when :func:`edge.identify.best_reference` finds an id that validates.
``counters`` says which rung read how many parcels, for the status topic
and for tuning the ladder.

Decoded text is kept exactly as decoded: JSON escapes it where it is
printed; names, topics and terminal lines take the sanitised form.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from edge.decode import bullseye, deblur, enhance, frames, locate, rectify
from edge.decode.base import Decoder, RawSymbol
from edge.decode.config import DecodeConfig
from edge.decode.view import Attempt, View, check_image
from edge.identify import best_reference
from edge.records import Box, LabelReading, ParcelCapture, Symbol
from edge.registry import Registry

log = logging.getLogger(__name__)

Corners = tuple[tuple[int, int], ...]
Mapper = Callable[[Corners], Corners]
Rung = tuple[str, Callable[[], None]]
DECODERS = Registry("decoder", {"zxing": "edge.decode.zxing", "zbar": "edge.decode.zbar"})
SMEARED_MODULES = 1.5
"""Smear, in narrowest-bar widths, past which the exposure is taken to blur most labels beyond
plain decoding: bars then merge (one module of smear fills a space; at two, plain decoders lose
codes, as ``conveyor.max_blur_modules`` says), and on the 12 MP bench belt, exposed for two, the
plain and located rungs read none of the 14 parcels the first look missed while deblurring read
all 14."""


class LabelReader:
    """Reads one parcel's label; build once, call per parcel (not shared between threads).

    ``blur_prior_px`` is the belt's smear across the frame's x axis that the
    exposure implies (belt speed x exposure / mm per pixel); the deblurring
    tries it beside its own estimate.  ``module_px`` is the narrowest bar in
    camera pixels the installation implies: with both known and the smear at
    least ``SMEARED_MODULES`` bars wide (and at least ``deblur.MIN_SMEAR_PX``:
    a shorter smear is never undone, so there is no smear rung to put first),
    the deblurring rungs come straight after the first looks (see :meth:`_zxing_rungs`).
    """

    def __init__(self, cfg: DecodeConfig | None = None, blur_prior_px: float | None = None,
                 module_px: float | None = None) -> None:
        self.cfg = cfg or DecodeConfig()
        self.blur_prior_px = blur_prior_px
        self.smeared = bool(blur_prior_px and module_px and blur_prior_px >= max(
            SMEARED_MODULES * module_px, deblur.MIN_SMEAR_PX))
        self._decoders: dict[str, Decoder] = {n: DECODERS.opener(n)(self.cfg) for n in self.cfg.decoders}
        self._finder = locate.RegionFinder() if self.cfg.locate else None
        self._ocr: Any = None
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

    def _view(self, image: np.ndarray, seq: int, box: Box | None) -> View:
        """The parcel's region (plus a margin); the whole frame when there is no usable box."""
        check_image(image)
        dx = dy = 0
        frame_width = image.shape[1]
        if box is not None and box.area > 0:
            m = self.cfg.parcel_margin_px
            roi = Box(box.x - m, box.y - m, box.w + 2 * m, box.h + 2 * m).clip(image.shape[1], image.shape[0])
            if roi.area >= 64 * 64:
                image, dx, dy = image[roi.y:roi.y + roi.h, roi.x:roi.x + roi.w], roi.x, roi.y
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        return View(image, dx, dy, seq, self.cfg.finder_width, frame_width)

    def _run(self, views: list[View], started: float) -> LabelReading:
        state = Attempt(self.cfg.budget_attempts, self.cfg.budget_mpx * 1e6)
        first = True
        for name, rung in self._ladder(views, state):
            # plain zxing-cpp always runs: the reader never reads less than the library alone
            if not first and name != "plain" and state.spent():
                self.counters["budget_spent"] = self.counters.get("budget_spent", 0) + 1
                break
            first = False
            rung()
            if state.reference is not None:
                self.counters[f"read_by_{name}"] = self.counters.get(f"read_by_{name}", 0) + 1
                break
        self.counters["parcels"] += 1
        self.counters["read"] += state.reference is not None
        ms = (time.perf_counter() - started) * 1000.0
        frame_seq = state.frame_seq if state.reference is not None else (views[0].seq if views else -1)
        return LabelReading(symbols=tuple(state.symbols), reference=state.reference,
                            attempts=state.attempts, ms=round(ms, 3), frame_seq=frame_seq,
                            label_box=frames.label_box(state.symbols), module_px=frames.module_px(state.symbols))

    def _ladder(self, views: list[View], state: Attempt) -> Iterator[Rung]:
        """The rungs in order, frame by frame; pyzbar on every frame's regions last."""
        for i, view in enumerate(views):
            yield from self._zxing_rungs(view, state, quick=i == 0)
        if "zbar" in self._decoders and self.cfg.zbar_fallback:
            for view in views:
                yield "zbar", lambda v=view: self._zbar_regions(v, state)
        if self.cfg.ocr and views:
            yield "ocr", lambda: self._printed(views[0], state)

    def _zxing_rungs(self, view: View, state: Attempt, quick: bool = True) -> Iterator[Rung]:
        """``quick``: the cheap first looks too, on the sharpest frame of a sensor-width camera
        (on the other frames the codes are the hard ones those looks missed; a 12 MP crop's
        codes are too fine for a half-size finder)."""
        if "zxing" not in self._decoders:
            yield "zbar_plain", lambda: self._decode("zbar", view, view.gray, state)
            return
        rectified: list[Rung] = [("rectified", lambda: self._rectified(view, state))] if self.cfg.rectify else []
        looks_first = quick and bool(view.sensor_width) and view.scale >= 1.0
        if view.scale < 1.0:  # a large frame: the label found at low resolution, decoded at full first
            yield from rectified
        elif looks_first:  # clean codes found cheaply first (a third of plain's time)
            yield from self._first_looks(view, state)
        if self.smeared:
            yield from self._deblur_rungs(view, state, prior_tried=looks_first)
        yield "plain", lambda: self._whole(view, state)
        yield "maxicode", lambda: self._maxicodes(view, state)
        if self._finder is not None:
            yield "located", lambda: self._regions(view, view.gray, "gray", state)
        if view.scale == 1.0:
            yield from rectified
        if self.cfg.enhance and enhance.mean_level(view.small) < self.cfg.dark_level:
            bright = enhance.denoise(enhance.stretch(view.gray))
            yield "stretched", lambda: self._decode("zxing", view, frames.small(bright, view.scale), state,
                                                    frames.scaled(view.scale))
            if self._finder is not None:
                yield "stretched_located", lambda: self._regions(view, bright, "bright", state)
        if self.cfg.upscale and self._finder is not None:
            yield "upscaled", lambda: self._regions(view, view.gray, "gray", state, 2.0)
        if not self.smeared:
            yield from self._deblur_rungs(view, state)

    def _first_looks(self, view: View, state: Attempt) -> Iterator[Rung]:
        """Located regions at half size and the upright 2D look; on a smeared belt the 2D look
        first, then the label with the installation's smear undone, then the regions.

        On the 12 MP bench belt (seeds 7, 11, 13; 30 parcels each) the smear
        undone read 53 of 90 parcels, the half-size regions 9 when they came
        first: put first, the smear saves the regions' 9 ms on most parcels,
        and the label's further restorations (estimates, defocus) wait until
        the regions have had their look, so a clean code pays for no failed
        estimates.  With :meth:`ZxingDecoder.read_rows` on the restorations,
        decode median 25 / 18 / 18 -> 15 / 11 / 9 ms, mean 56 / 39 / 22 ->
        39 / 28 / 13 ms, the same 88 parcels read (and 11 / 8 / 7.5 ms median
        once the deconvolution kept its spectra packed).
        """
        matrix: Rung = ("matrix", lambda: self._decode("zxing", view, view.gray, state, call="read_matrix"))
        located: list[Rung] = [("located_fast", lambda: self._located_fast(view, state))] \
            if self._finder is not None else []
        if not (self.smeared and self.cfg.deblur and self.cfg.rectify):
            yield from (*located, matrix)
            return
        yield matrix
        yield "smear_label", lambda: self._deblurred_labels(view, state, prior_only=True)
        yield from located

    def _deblur_rungs(self, view: View, state: Attempt, prior_tried: bool = False) -> Iterator[Rung]:
        if self.cfg.deblur:
            if self.cfg.rectify:
                yield "deblurred_label", lambda: self._deblurred_labels(view, state, prior_tried=prior_tried)
            yield "deblurred", lambda: self._deblurred(view, state)

    def _whole(self, view: View, state: Attempt) -> None:
        """zxing-cpp with its defaults on the frame as given; on a reduced copy when the frame is large."""
        if view.image.shape[0] * view.image.shape[1] <= self.cfg.whole_frame_mpx * 1e6:
            self._decode("zxing", view, view.image, state, call="read_whole")
        else:
            self._decode("zxing", view, view.small, state, frames.scaled(view.scale), call="read_whole")

    def _maxicodes(self, view: View, state: Attempt) -> None:
        """Each MaxiCode bullseye's symbol cut out alone (zxing-cpp reads MaxiCode only that way)."""
        if any(s.format == "MaxiCode" for s in state.symbols):
            return
        for x, y, r in bullseye.bullseyes(view.small):
            eye = (x / view.scale, y / view.scale, r / view.scale)
            for crop, (ox, oy) in bullseye.cutouts(view.gray, eye):
                self._decode("zxing", view, crop, state, lambda c, o=(ox, oy): frames.shift(c, np.float32(o)))
                if state.done() or any(s.format == "MaxiCode" for s in state.symbols):
                    return

    def _label_quads(self, view: View, state: Attempt) -> list[np.ndarray]:
        """The labels' quadrilaterals on the reduced copy, found once per frame for every rung
        that wants them (rectified, deblurred labels, printed ids)."""
        key = (id(view), "labels")
        if key not in state.quads:
            state.quads[key] = rectify.label_quads(view.small)
        return state.quads[key]

    def _quads(self, view: View, gray: np.ndarray, variant: str, state: Attempt) -> list[np.ndarray]:
        """1D code regions in ``gray``'s pixels, found once per frame and variant on the reduced copy.

        OpenCV's detector first (clean regions), then gradient-coherence
        regions it missed (blurred or split codes).
        """
        key = (id(view), variant)
        if key not in state.quads:
            small = view.small if gray is view.gray else frames.small(gray, view.scale)
            state.quads[key] = [q / view.scale for q in self._find_regions(small)]
        return state.quads[key]

    def _find_regions(self, small: np.ndarray) -> list[np.ndarray]:
        """OpenCV's detector first (clean regions), then the bar finder's regions it missed."""
        found = self._finder.find(small, self.cfg.max_regions) if self._finder is not None else []
        for q in locate.find_bars(small, self.cfg.max_regions):
            if not any(frames.overlap(q, f) > 0.6 for f in found):
                found.append(q)
        return found[:2 * self.cfg.max_regions]

    def _decode(self, name: str, view: View, gray: np.ndarray, state: Attempt,
                mapper: Mapper | None = None, call: str = "decode") -> None:
        state.attempts += 1
        state.pixels += int(gray.shape[0] * gray.shape[1])
        decoder = self._decoders[name]
        try:
            raw = getattr(decoder, call)(gray)  # zxing's read_whole and read_matrix too
        except Exception as exc:  # a decoder library must never take the unit down
            log.warning("decoder %s failed on frame %s: %s", name, view.seq, exc.__class__.__name__)
            return
        self._keep(raw, name, view, state, mapper)

    def _regions(self, view: View, gray: np.ndarray, variant: str, state: Attempt, zoom: float = 1.0) -> None:
        self._decode_quads(view, gray, self._quads(view, gray, variant, state), state, zoom)

    def _located_fast(self, view: View, state: Attempt) -> None:
        """Both finders on a half-size copy (about 7 ms at 1280x960, against 20 ms at full size),
        their regions cut out at full resolution: most parcels' codes are clean, and this reads
        them in a third of plain zxing-cpp's time on the whole frame.  The upright 2D look,
        plain zxing-cpp and the rest of the ladder follow when it does not."""
        half = cv2.resize(view.small, (view.small.shape[1] // 2, view.small.shape[0] // 2),
                          interpolation=cv2.INTER_AREA)
        quads = [q * 2.0 / view.scale for q in self._find_regions(half)]
        self._decode_quads(view, view.gray, quads, state)

    def _decode_quads(self, view: View, gray: np.ndarray, quads: list[np.ndarray], state: Attempt,
                      zoom: float = 1.0) -> None:
        for quad in quads:
            crop = locate.straighten(gray, quad, self.cfg.region_pad, zoom)
            if crop is not None:
                self._decode("zxing", view, crop, state, frames.crop_mapper(quad, self.cfg.region_pad, zoom))
            if state.done():
                return

    def _rectified(self, view: View, state: Attempt) -> None:
        """The label's quadrilateral found on the reduced copy, warped upright at full resolution."""
        for quad in self._label_quads(view, state):
            full = quad / view.scale
            h, w = view.image.shape[:2]
            x0, y0 = (max(0, int(v) - 4) for v in full.min(axis=0))
            x1, y1 = min(w, int(full[:, 0].max()) + 5), min(h, int(full[:, 1].max()) + 5)
            label, inverse = rectify.straighten_label(view.gray_part(x0, y0, x1, y1), full - np.float32([x0, y0]))
            self._decode("zxing", view, label, state,
                         lambda c, inv=inverse, o=np.float32([x0, y0]): frames.shift(rectify.map_back(c, inv), o))
            if state.done():
                return

    def _deblurred(self, view: View, state: Attempt) -> None:
        """Each located region averaged along its bars and deconvolved across them (blind estimates)."""
        for quad in self._quads(view, view.gray, "gray", state):
            crop = locate.straighten(view.gray, quad, self.cfg.region_pad)
            if crop is None:
                continue
            mapper = frames.crop_mapper(quad, self.cfg.region_pad, 1.0)
            for _, symbol in deblur.restorations(crop, self.cfg.max_blur_px, self.blur_prior_px):
                self._decode("zxing", view, symbol, state, lambda c, sh=crop.shape, m=mapper: m(frames.rows_to_crop(c, sh)))
                if state.done():
                    return

    def _deblurred_labels(self, view: View, state: Attempt, prior_only: bool = False,
                          prior_tried: bool = False) -> None:
        """Each label's upright bounding rectangle deconvolved whole (2D codes, codes no region was found for).

        ``prior_only``: just the installation's smear undone (a first look);
        ``prior_tried``: that was done already, the other restorations now.
        """
        for x0, y0, patch in self._label_patches(view, state):
            if prior_only:
                prior = self.blur_prior_px or 0.0
                tries = [deblur.smear_restoration(patch, prior)] if prior >= deblur.MIN_SMEAR_PX else []
            else:
                tries = deblur.patch_restorations(patch, self.cfg.max_blur_px, self.blur_prior_px, prior_tried)
            for what, restored in tries:
                call = "read_rows" if what.startswith(deblur.MOTION) else "decode"
                self._decode("zxing", view, restored, state, lambda c, o=np.float32([x0, y0]): frames.shift(c, o),
                             call)
                if state.done():
                    return

    def _label_patches(self, view: View, state: Attempt) -> Iterator[tuple[int, int, np.ndarray]]:
        """Each label's upright bounding rectangle (plus a margin) in full-resolution grey."""
        h, w = view.image.shape[:2]
        for quad in self._label_quads(view, state):
            full = quad / view.scale
            x0, y0 = (max(0, int(v) - 8) for v in full.min(axis=0))
            x1, y1 = min(w, int(full[:, 0].max()) + 9), min(h, int(full[:, 1].max()) + 9)
            if (x1 - x0) * (y1 - y0) <= 4_000_000:
                yield x0, y0, view.gray_part(x0, y0, x1, y1)

    def _printed(self, view: View, state: Attempt) -> None:
        """OCR of each straightened label; a printed id that validates becomes a symbol read by ``ocr``."""
        from edge.decode import printed

        if self._ocr is None:
            from edge.ocr import OcrError, open_engine

            try:
                self._ocr = open_engine(self.cfg.ocr_engine)
            except OcrError as exc:
                self._ocr = False
                log.warning("printed-line OCR unavailable: %s", exc)
        if self._ocr is False:
            self.counters["ocr_unavailable"] = self.counters.get("ocr_unavailable", 0) + 1
            return
        quads = self._label_quads(view, state) or [frames.whole_quad(view.small)]
        for quad in quads:
            label, inverse = rectify.straighten_label(view.gray, quad / view.scale)
            state.attempts += 1
            state.pixels += label.size
            for line in self._ocr.read_lines(label):
                corners = rectify.map_back(tuple((int(x), int(y)) for x, y in line.box), inverse)
                found = [RawSymbol(printed.PRINTED_FORMAT, text, corners) for text in printed.candidates(line.text)]
                self._keep(found, "ocr", view, state, None)
            if state.reference is not None:
                return

    def _zbar_regions(self, view: View, state: Attempt) -> None:
        quads = self._quads(view, view.gray, "gray", state) if self._finder is not None else []
        if not quads:
            self._decode("zbar", view, view.small, state, frames.scaled(view.scale))
            return
        for quad in quads:
            crop = locate.straighten(view.gray, quad, self.cfg.region_pad)
            if crop is not None:
                self._decode("zbar", view, crop, state, frames.crop_mapper(quad, self.cfg.region_pad, 1.0))
            if state.done():
                return

    def _keep(self, raw: list[RawSymbol], decoder: str, view: View, state: Attempt,
              mapper: Mapper | None) -> None:
        """Record new symbols with their exact text; re-vote the reference when any is new."""
        fresh = False
        for r in raw:
            key = (r.format, r.text, decoder, view.seq)
            if key in state.seen:
                continue
            state.seen.add(key)
            if len(r.text) > self.cfg.max_text:
                self.counters["oversize"] += 1
                log.info("long barcode text (%s chars) on frame %s", len(r.text), view.seq)
            corners = mapper(r.corners) if mapper is not None and r.corners else r.corners
            corners = tuple((int(x) + view.dx, int(y) + view.dy) for x, y in corners)
            state.symbols.append(Symbol(r.format, r.text, decoder, view.seq, corners))
            self.counters["symbols"] += 1
            fresh = True
        if fresh:
            state.reference = best_reference(state.symbols)
            if state.reference is not None and state.frame_seq < 0:
                state.frame_seq = view.seq
