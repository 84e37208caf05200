"""The redacted copy for sharing outside customs: label text hidden, codes and packaging kept.

At run time nothing says where the addressee is, so the rule is conservative:
every ink region on the label is hidden except the decoded barcodes and the one
human-readable line next to each (where the reference number is printed).
Outside the label nothing changes, so packaging and brand marks stay visible.
Without a located label no redacted copy is made at all: an unredacted image
must never be the one marked safe to share.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

import cv2
import numpy as np

from edge.records import Box, Symbol

Style = Literal["black", "pixelate"]
_EDGE = np.ones((5, 5), np.uint8)


@dataclass(frozen=True)
class Redaction:
    """Where to hide (``boxes``) and what was deliberately left visible (``kept``), frame coords."""

    label: Box | None
    boxes: tuple[Box, ...]
    kept: tuple[Box, ...]
    codes: int = 0
    hidden_share: float = 0.0

    def describe(self, style: str) -> str:
        """The sentence stored in the record so a reader knows what was hidden and why."""
        if self.label is None:
            return "no redacted copy: no label was located, so none could be made safe to share"
        return (f"{style}: {len(self.boxes)} text regions on the label hidden "
                f"({self.hidden_share:.0%} of the label); {self.codes} barcodes with their quiet "
                f"zones and {len(self.kept) - self.codes} reference lines beside them left "
                "visible; outside the label unchanged")


def symbol_box(symbol: Symbol) -> Box | None:
    if len(symbol.corners) < 2:
        return None
    xs = [int(x) for x, _ in symbol.corners]
    ys = [int(y) for _, y in symbol.corners]
    return Box(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1)


def _paper(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Mask of the label paper (hull of the largest bright region) and the ink threshold.

    A tilted label's box also holds packaging in its corners; that is dark
    against the paper and must not be taken for text.
    """
    thr, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    mask = np.zeros_like(gray)
    if n < 2:
        return mask, thr
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    contours, _ = cv2.findContours((labels == biggest).astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.vstack(contours)), 255)
    return cv2.erode(mask, _EDGE), thr


def _ink_lines(gray: np.ndarray) -> list[Box]:
    """Dark ink on the paper merged into text lines: characters join sideways, lines stay apart."""
    h, w = gray.shape
    paper, thr = _paper(gray)
    ink = cv2.bitwise_and(cv2.inRange(gray, 0, max(0, int(thr) - 1)), paper)
    kw = max(3, w // 25)
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (kw, 1)))
    ink = cv2.dilate(ink, _EDGE[:3, :3])
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    min_px = max(4, (h * w) // 20000)
    return [Box(*map(int, stats[i, :4])) for i in range(1, n) if stats[i, 4] >= min_px]


def _overlaps(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def _grow(code: Box, lines: list[Box]) -> Box:
    """The code box widened to the ink blocks it lies in: a decoder may report a thin strip."""
    pad = 0.1 * code.w
    parts = [code] + [ln for ln in lines if _overlaps(ln, code)
                      and ln.x >= code.x - pad and ln.x + ln.w <= code.x + code.w + pad]
    x0, y0 = min(b.x for b in parts), min(b.y for b in parts)
    x1, y1 = max(b.x + b.w for b in parts), max(b.y + b.h for b in parts)
    return Box(x0, y0, x1 - x0, y1 - y0)


def _reference_line(code: Box, lines: list[Box]) -> Box | None:
    """The nearest line just below (or else above) a barcode, spanning it: its printed text."""
    def gap(line: Box) -> float:
        below = line.y - (code.y + code.h)
        above = code.y - (line.y + line.h)
        return below if below >= -2 else (above + 0.5 if above >= -2 else float("inf"))
    near = [ln for ln in lines if ln.x < code.x + code.w and code.x < ln.x + ln.w
            and not _overlaps(ln, code) and ln.h <= max(8, code.h)]
    near = [ln for ln in near if gap(ln) <= max(6, 0.5 * code.h)]
    return min(near, key=gap) if near else None


def _quiet_zone(code: Box) -> Box:
    """A code box with room for its quiet zone: a decoder needs the blank margin too."""
    pad = max(8, code.w // 12)
    return Box(code.x - pad, code.y - 4, code.w + 2 * pad, code.h + 8)


def plan(image: np.ndarray, label_box: Box | None, symbols: Iterable[Symbol]) -> Redaction:
    """Find the label's text lines and decide which to hide; boxes in frame coordinates."""
    height, width = image.shape[:2]
    label = label_box.clip(width, height) if label_box is not None else None
    if label is None or label.w < 4 or label.h < 4:
        return Redaction(None, (), ())
    crop = image[label.y:label.y + label.h, label.x:label.x + label.w]
    gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    lines = _ink_lines(gray)
    codes = [Box(b.x - label.x - 2, b.y - label.y - 2, b.w + 4, b.h + 4)
             for b in filter(None, map(symbol_box, symbols))]
    codes = [_quiet_zone(_grow(c, lines)) for c in codes
             if _overlaps(c, Box(0, 0, label.w, label.h))]
    refs = [_reference_line(c, [ln for ln in lines if not _overlaps(ln, c)]) for c in codes]
    kept = codes + [r for r in refs if r is not None]
    hide = [ln for ln in lines if not any(_contains(k, ln) for k in kept)]
    share = cv2.countNonZero(mask_of(gray.shape, hide, kept)) / max(1, label.area)
    shift = lambda b: Box(b.x + label.x, b.y + label.y, b.w, b.h)  # noqa: E731
    return Redaction(label, tuple(map(shift, hide)), tuple(map(shift, kept)), len(codes), share)


def _contains(outer: Box, inner: Box) -> bool:
    return (outer.x <= inner.x and outer.y <= inner.y and inner.x + inner.w <= outer.x + outer.w
            and inner.y + inner.h <= outer.y + outer.h)


def mask_of(shape: tuple[int, ...], hidden: Iterable[Box], kept: Iterable[Box]) -> np.ndarray:
    """255 where pixels are hidden: every hidden box, minus every kept box."""
    mask = np.zeros(shape[:2], np.uint8)
    for b in hidden:
        mask[max(0, b.y):max(0, b.y + b.h), max(0, b.x):max(0, b.x + b.w)] = 255
    for b in kept:
        mask[max(0, b.y):max(0, b.y + b.h), max(0, b.x):max(0, b.x + b.w)] = 0
    return mask


def apply(image: np.ndarray, redaction: Redaction, style: Style = "black") -> np.ndarray:
    """A redacted copy: hidden boxes filled, kept boxes restored even where they overlap."""
    out = image.copy()
    if not redaction.boxes:
        return out
    hide = mask_of(image.shape, redaction.boxes, redaction.kept) > 0
    if style == "black":
        out[hide] = 0
        return out
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // 16), max(1, h // 16)), interpolation=cv2.INTER_AREA)
    out[hide] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)[hide]
    return out
