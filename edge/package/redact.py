"""The redacted copy for sharing outside customs: label text hidden, codes and packaging kept.

At run time nothing says where the addressee is, so the rule is conservative:
every ink region on the label is hidden except the decoded barcodes (with
their quiet zones, or they would stop decoding) and the one printed line next
to each, where the reference number is written.  Outside the label nothing
changes, so packaging and brand marks stay visible.  Without a located label
no redacted copy is made at all: an unredacted image must never be the one
marked safe to share.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

import cv2
import numpy as np

from edge.records import Box, Symbol

Style = Literal["black", "pixelate"]
_EDGE = np.ones((5, 5), np.uint8)
_BAR_INK = 0.35
_CHUNK = 16
_PLAN_PX = 640
_LINEAR = 1.5
_PAPER_SPAN = 0.15
_LOCATE = 4
_MARK_ON_LABEL = 0.1
_LOCAL_BLOCK = 31
_LOCAL_C = 18


@dataclass(frozen=True, eq=False)
class Redaction:
    """What to hide: ``mask`` (255 = hide) over the ``label`` box of the frame."""

    label: Box | None
    mask: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.uint8))
    regions: int = 0
    codes: int = 0
    lines_kept: int = 0

    @property
    def hidden_share(self) -> float:
        return cv2.countNonZero(self.mask) / max(1, self.mask.size) if self.mask.size else 0.0

    def describe(self, style: str) -> str:
        """The sentence stored in the record so a reader knows what was hidden and why."""
        if self.label is None:
            return "no redacted copy: no label was located, so none could be made safe to share"
        return (f"{style}: {self.regions} text regions on the label hidden "
                f"({self.hidden_share:.0%} of the label); {self.codes} barcodes with their quiet "
                f"zones and {self.lines_kept} reference lines beside them left visible; "
                "outside the label unchanged")


def _ring(labels: np.ndarray, box: Box, inset: int) -> np.ndarray:
    """Component labels along the outline of ``box`` moved inward by ``inset`` px."""
    h, w = labels.shape
    x0, y0 = min(w - 1, max(0, box.x + inset)), min(h - 1, max(0, box.y + inset))
    x1 = min(w - 1, max(0, box.x + box.w - 1 - inset))
    y1 = min(h - 1, max(0, box.y + box.h - 1 - inset))
    return np.concatenate([labels[y0, x0:x1 + 1], labels[y1, x0:x1 + 1],
                           labels[y0:y1 + 1, x0], labels[y0:y1 + 1, x1]])


def _paper_level(image: np.ndarray, seed: Box) -> int:
    """Luma that counts as label paper: close to the brightest of the seed (its spaces)."""
    patch = image[seed.y:seed.y + seed.h, seed.x:seed.x + seed.w]
    patch = patch if patch.ndim == 2 else cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
    ink, paper = np.percentile(patch, (5, 95))
    return int(paper - _PAPER_SPAN * (paper - ink))


def locate_label(image: np.ndarray, seed: Box, quarter: np.ndarray | None = None) -> Box:
    """The label paper around ``seed`` (the decoded symbols or a rough label box).

    The decode stage knows where the codes are, not where the paper ends, and
    the addressee is printed beyond the codes; so the paper that touches the
    seed (nearly as bright as the spaces between its bars) is followed on a
    quarter-size copy of the frame, with printed rules and text closed over
    so they do not cut the paper in parts.  ``quarter`` is that copy in grey
    when the caller has it already (the parcel's pyramid, level 2).
    """
    height, width = image.shape[:2]
    seed = seed.clip(width, height)
    if seed.w < 1 or seed.h < 1 or width < 8 or height < 8:
        return seed
    gray = quarter if quarter is not None else _quarter_gray(image)
    bright = cv2.inRange(gray, _paper_level(image, seed), 255)
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, _EDGE[:3, :3])
    _, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    local = Box(seed.x // _LOCATE, seed.y // _LOCATE, max(1, seed.w // _LOCATE),
                max(1, seed.h // _LOCATE))
    ids = np.concatenate([_ring(labels, local, d) for d in (-2, 0, 2)])
    ids = ids[ids > 0]
    if ids.size == 0:
        return seed
    x, y, w, h = (int(v) * _LOCATE for v in stats[int(np.bincount(ids).argmax()), :4])
    x0, y0 = min(seed.x, x - _LOCATE), min(seed.y, y - _LOCATE)
    x1, y1 = max(seed.x + seed.w, x + w + _LOCATE), max(seed.y + seed.h, y + h + _LOCATE)
    return Box(x0, y0, x1 - x0, y1 - y0).clip(width, height)


def _quarter_gray(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // _LOCATE, height // _LOCATE), interpolation=cv2.INTER_AREA)
    return small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)


def _paper(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Mask of the label paper (hull of the largest bright region) and the ink threshold.

    A tilted label's box also holds packaging in its corners; that is dark
    against the paper and must not be taken for text.
    """
    thr, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    mask = np.zeros_like(gray)
    if not contours:
        return mask, thr
    cv2.fillConvexPoly(mask, cv2.convexHull(max(contours, key=cv2.contourArea)), 255)
    return cv2.erode(mask, _EDGE), thr


def _ink_blocks(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ink on the paper joined into lines (labels image, stats); printed rules are dropped
    first so they do not chain every line of the label into one block."""
    h, w = gray.shape
    paper, thr = _paper(gray)
    # Light-grey and thin print falls above Otsu's level once the label is shrunk; a local
    # threshold catches it, so no address line is left half visible.
    faint = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                  _LOCAL_BLOCK, _LOCAL_C)
    dark = cv2.inRange(gray, 0, max(0, int(thr) - 1))
    ink = cv2.bitwise_and(cv2.bitwise_or(dark, faint), paper)
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, max(3, w // 3)), np.uint8))
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((max(3, h // 3), 1), np.uint8))
    raw = ink
    ink = cv2.subtract(ink, cv2.dilate(rules, _EDGE[:3, :3]))
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, max(3, w // 25)), np.uint8))
    ink = cv2.dilate(ink, _EDGE[:3, :3])
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    stats[stats[:, cv2.CC_STAT_AREA] < max(4, (h * w) // 20000), cv2.CC_STAT_AREA] = 0
    stats[0, cv2.CC_STAT_AREA] = 0
    return raw, labels, stats


def _extend(ink: np.ndarray, p: np.ndarray, q: np.ndarray, step: np.ndarray, limit: int) -> int:
    """How many ``step``s the edge p-q can move while each copy of it still crosses bars."""
    n = max(2, int(np.hypot(*(q - p))) // 2)
    along = p + np.linspace(0.0, 1.0, n)[:, None] * (q - p)
    h, w = ink.shape
    for first in range(1, limit + 1, _CHUNK):
        ks = np.arange(first, min(limit, first + _CHUNK - 1) + 1)
        pts = np.rint(along[None, :, :] + ks[:, None, None] * step).astype(int)
        x = np.clip(pts[..., 0], 0, w - 1)
        y = np.clip(pts[..., 1], 0, h - 1)
        inside = (x == pts[..., 0]) & (y == pts[..., 1])
        stops = np.flatnonzero(((ink[y, x] > 0) & inside).mean(axis=1) < _BAR_INK)
        if stops.size:
            return int(ks[stops[0]] - 1)
    return limit


def _code_polygon(ink: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """A decoded symbol's quad grown along its bars to their ends, plus its quiet zone.

    A decoder reports a linear code as the band of rows it read, which may be
    a thin strip; the bars themselves run on until the ink stops.
    """
    tl, tr, br, bl = corners.astype(np.float64)
    up = (tl - bl) + (tr - br)
    up /= max(1e-6, float(np.hypot(*up)))
    side = (tr - tl) + (br - bl)
    width = float(np.hypot(*side)) / 2
    side /= max(1e-6, 2 * width)
    limit = int(0.6 * width) + 1
    top, bottom = _extend(ink, tl, tr, up, limit), _extend(ink, bl, br, -up, limit)
    grow_up, grow_side = up * (top + 4), side * max(8.0, width / 12)
    grow_down = -up * (bottom + 4)
    quad = [tl + grow_up - grow_side, tr + grow_up + grow_side,
            br + grow_down + grow_side, bl + grow_down - grow_side]
    return np.rint(np.array(quad)).astype(np.int32)


def _code_mask(ink: np.ndarray, symbols: Iterable[Symbol], offset: Box, f: float
               ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray | None]]]:
    """Mask of every decoded symbol's grown polygon, and per polygon the direction of the
    symbol's bottom for linear codes (perpendicular to the reading direction)."""
    mask = np.zeros(ink.shape, np.uint8)
    polygons = []
    for s in symbols:
        if len(s.corners) != 4:
            continue
        pts = np.array([((x - offset.x) * f, (y - offset.y) * f) for x, y in s.corners])
        polygon = cv2.convexHull(_code_polygon(ink, pts))
        cv2.fillConvexPoly(mask, polygon, 255)
        reading = pts[1] - pts[0]
        linear = np.hypot(*reading) > _LINEAR * np.hypot(*(pts[3] - pts[0]))
        polygons.append((polygon, np.array([-reading[1], reading[0]]) if linear else None))
    return mask, polygons


def _box(stats: np.ndarray, i: int) -> Box:
    return Box(*(int(v) for v in stats[i, :4]))


def _reference_line(code: Box, stats: np.ndarray, skip: set[int], below: bool) -> int | None:
    """The nearest line under a linear barcode (``below`` in the frame unless the label is
    upside down), overlapping it sideways: where carriers print the code's number.
    Never the line on the other side, which is often the address."""
    best, best_gap = None, max(6.0, 0.5 * code.h)
    for i in np.flatnonzero(stats[:, cv2.CC_STAT_AREA]):
        line = _box(stats, int(i))
        if int(i) in skip or line.h > max(8, code.h) or not (
                line.x < code.x + code.w and code.x < line.x + line.w):
            continue
        gap = line.y - (code.y + code.h) if below else code.y - (line.y + line.h)
        if -6 <= gap <= best_gap:
            best, best_gap = int(i), gap
    return best


def _kept(labels: np.ndarray, stats: np.ndarray, codes: np.ndarray,
          polygons: list[tuple[np.ndarray, np.ndarray | None]]) -> tuple[np.ndarray, int]:
    """The barcodes' polygons, plus the printed line under each linear one (its number)."""
    kept = codes.copy()
    touching = {int(i) for i in np.unique(labels[codes > 0]) if i}
    skip = touching - _partly_outside(labels, codes, touching)
    lines = 0
    for polygon, down in polygons:
        if down is None or abs(down[1]) < abs(down[0]):
            continue
        ref = _reference_line(Box(*cv2.boundingRect(polygon)), stats, skip, bool(down[1] > 0))
        if ref is not None:
            lines += 1
            kept[labels == ref] = 255
    return kept, lines


def _partly_outside(labels: np.ndarray, codes: np.ndarray, ids: set[int]) -> set[int]:
    """Ink blocks touching a code that also reach beyond it: text merged with bars."""
    return {i for i in ids if np.any((labels == i) & (codes == 0))}


def plan(image: np.ndarray, label_box: Box | None, symbols: Iterable[Symbol],
         keep: Iterable[Box] = ()) -> Redaction:
    """Decide which label pixels to hide; symbol corners and ``keep`` boxes (a brand mark
    the classifier located) are in frame coordinates and stay visible.

    The work is done on a copy at most ``_PLAN_PX`` on its longer side: text
    lines survive halving, and the mask is scaled back up to the label.
    """
    height, width = image.shape[:2]
    label = label_box.clip(width, height) if label_box is not None else None
    if label is None or label.w < 4 or label.h < 4:
        return Redaction(None)
    gray, f = _label_gray(image, label)
    ink, labels, stats = _ink_blocks(gray)
    codes, polygons = _code_mask(ink, symbols, label, f)
    kept, lines = _kept(labels, stats, codes, polygons)
    for b in _off_label(keep, label):
        cv2.rectangle(kept, (int((b.x - label.x) * f), int((b.y - label.y) * f)),
                      (int((b.x - label.x + b.w) * f) + 1, int((b.y - label.y + b.h) * f) + 1),
                      255, -1)
    hide, regions = _hide(labels, stats, kept)
    if f < 1.0:
        hide = cv2.resize(hide, (label.w, label.h), interpolation=cv2.INTER_NEAREST)
    return Redaction(label, hide, regions, len(polygons), lines)


def _off_label(keep: Iterable[Box], label: Box) -> list[Box]:
    """Keep boxes that do not lie on the label: brand marks are not printed on shipping
    labels, so a "mark" found there is print mistaken for one, and privacy wins."""
    out = []
    for b in keep:
        if b.overlap(label) <= _MARK_ON_LABEL * max(1, b.area):
            out.append(b)
    return out


def _label_gray(image: np.ndarray, label: Box) -> tuple[np.ndarray, float]:
    """Grey label crop, at most ``_PLAN_PX`` on its longer side, and the scale applied."""
    crop = image[label.y:label.y + label.h, label.x:label.x + label.w]
    gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    f = min(1.0, _PLAN_PX / max(label.w, label.h))
    if f < 1.0:
        size = (max(4, round(label.w * f)), max(4, round(label.h * f)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return gray, f


def _hide(labels: np.ndarray, stats: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, int]:
    """Every ink block with a pixel outside what is kept, as its whole box, minus what is kept."""
    hide = np.zeros(labels.shape, np.uint8)
    outside = np.unique(labels[(kept == 0) & (labels > 0)])
    regions = [int(i) for i in outside if stats[i, cv2.CC_STAT_AREA]]
    for i in regions:
        b = _box(stats, i)
        hide[b.y:b.y + b.h, b.x:b.x + b.w] = 255
    hide[kept > 0] = 0
    return hide, len(regions)


def apply(image: np.ndarray, redaction: Redaction, style: Style = "black") -> np.ndarray:
    """A redacted copy of the whole frame: the label's hidden pixels filled, the rest untouched."""
    height, width = image.shape[:2]
    return redacted_crop(image, Box(0, 0, width, height), redaction, style)


def redacted_crop(image: np.ndarray, box: Box, redaction: Redaction,
                  style: Style = "black") -> np.ndarray:
    """``apply(image, ...)`` cut to ``box``, byte for byte, at the cost of the crop.

    Only the crop is copied and only where it meets the label is anything
    filled, through the mask by OpenCV (no boolean index copies of the frame).
    """
    out = np.array(image[box.y:box.y + box.h, box.x:box.x + box.w])
    label = redaction.label
    if label is None or not redaction.mask.size:
        return out
    x0, y0 = max(label.x, box.x), max(label.y, box.y)
    x1, y1 = min(label.x + label.w, box.x + box.w), min(label.y + label.h, box.y + box.h)
    if x1 <= x0 or y1 <= y0:
        return out
    fill = _fill(image, label, style)
    lx, ly = x0 - label.x, y0 - label.y
    cv2.copyTo(fill[ly:ly + y1 - y0, lx:lx + x1 - x0],
               redaction.mask[ly:ly + y1 - y0, lx:lx + x1 - x0],
               out[y0 - box.y:y1 - box.y, x0 - box.x:x1 - box.x])
    return out


def _fill(image: np.ndarray, label: Box, style: Style) -> np.ndarray:
    """What hidden label pixels become: black, or the label's own 12x coarser blocks."""
    view = image[label.y:label.y + label.h, label.x:label.x + label.w]
    if style == "black":
        return np.zeros_like(view)
    h, w = view.shape[:2]
    small = cv2.resize(view, (max(1, w // 12), max(1, h // 12)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
