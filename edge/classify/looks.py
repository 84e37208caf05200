"""The pictures a parcel is read from, and where the second is worth its reading.

The text detector finds lines by their lightness against their surroundings.
A mark it cannot see that way is read from another picture of the same
parcel, each look a whole detection (about a third of the brand check's
time), so the second is taken only where the surface could hide a mark from
the first (``classify.second_look: hidden``):

1. :func:`stretch_contrast`, always: dim or washed-out print.
2. The same picture turned a quarter (:func:`turned_lines` maps its lines
   back) where the first look named no brand: the text detector, trained on
   print that runs across the picture, finds a name turned 60-90 degrees on
   the belt only in pieces ("TRC" for ZENTRO, "B" for ORBIQ), often too
   short to be read, or not at all, and parcels lie on a belt at any angle.
   Taken on every parcel that names no brand (``classify.turned_look:
   unnamed``, the default) it costs one more detection on most parcels;
   ``steep`` takes it only where the detector found a piece of print running
   steeply, read or not (:func:`runs_steeply`), at some loss (see
   ``ClassifyConfig.turned_look``).  Only its lines steep on the parcel are
   recognised (``TURNED_LEVEL_WITHIN``).
3. The parcel warped upright to its own outline (:func:`upright_parcel`)
   where it lies diagonally on the belt (:func:`is_diagonal`: its edges 25-65
   degrees from level) and no brand was named: a name printed along an edge
   then runs 25-65 degrees from level in the picture and from level in the
   turned one, and the detector finds it in neither (on the dev splits 4242 /
   4343 / 4444 / 4545, marks clear of tape went unnamed 0.9% of the time on
   parcels within 15 degrees of level, 4.6-7.1% at 30-75).  Only lines near
   its level are recognised (``DIAGONAL_LEVEL_WITHIN``): print along the
   parcel's long side; what ran level on the belt the first look has read.
4. :func:`local_contrast` where :func:`could_hide_a_mark`: a name printed in
   a colour close to its surface's (a green name on a green box).

Whether a surface could hide a mark is the catalogue's own data (its brands'
colours against the surface's), so a site whose brands all stand out from
its packaging pays for one look.  A third look, of colour differences alone
(a name as light as its box but in another hue: blue on red), was measured
and not kept (held-out splits 5151 / 777 / 9191 / 31337): drawn from every
colour difference it named 0.4 / 2.5 / 1.7 / 0.8 points more brands but
read a genuine name across the tape over its middle as a misspelling
(flagged); drawn from the catalogue's hues alone, 0.4 / 1.3 / 0.4 / 0
points more; either for a further detection on most coloured parcels.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import cv2
import numpy as np

from edge.catalogue import Catalogue
from edge.catalogue.colour import delta_e00
from edge.ocr import OcrEngine, Quad, TextLine, slope_deg

# A parcel's turned rectangle: centre, size (px) and angle, as cv2.minAreaRect gives them.
Outline = tuple[tuple[float, float], tuple[float, float], float]
# A surface within this CIEDE2000 of a catalogue colour, or this dark (L*), can hide that
# brand's mark from the first look's global stretch; elsewhere any printed colour shows.
HIDING_DELTA_E = 25.0
DARK_SURFACE_L = 30.0
# A piece of print at least this many times as long as high (the engine's own least for a
# word) running more than STEEP_DEG from level is steep print (see runs_steeply).
STEEP_ASPECT = 1.2
STEEP_DEG = 30.0
# The turned look recognises only lines within this many degrees of its picture's level
# (30 or more from the parcel's): print nearer the parcel's level runs down the turned
# picture, and the first look has read it, or passed it over as shorter than the lines it
# read.  Reading it again is recognition spent twice: on the 12 MP bench conveyor, whose
# labels at true scale are read line by line, it was 522 of the turned look's 603 ms of
# recognition over 26 parcels.
TURNED_LEVEL_WITHIN = 60.0
# A parcel whose edges run this many degrees from level is read once more warped upright
# (see upright_parcel); that look recognises only lines within DIAGONAL_LEVEL_WITHIN of its
# level (print along the parcel's long side; what ran level on the belt ran diagonally
# there, and the first look has read it).  The outline is found on a copy OUTLINE_SIDE px
# long, as the largest patch OUTLINE_DELTA (CIELAB) from the belt covering OUTLINE_SHARE.
DIAGONAL_DEG = (25.0, 65.0)
DIAGONAL_LEVEL_WITHIN = 20.0
OUTLINE_SIDE = 160
OUTLINE_DELTA = 12.0
OUTLINE_SHARE = 0.2


def stretch_contrast(crop: np.ndarray) -> np.ndarray:
    """Levels stretched to the 1st-99th percentile: dim or washed-out marks read as well.

    The percentiles come from every 4th pixel of every 4th row (a 12 MP parcel's
    levels need no more) and the stretch is one table lookup.
    """
    lo, hi = np.percentile(crop[::4, ::4], (1, 99))
    if hi - lo < 8:
        return crop
    table = np.clip((np.arange(256, dtype=np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
    return cv2.LUT(crop, table.astype(np.uint8))


def local_contrast(crop: np.ndarray) -> np.ndarray:
    """Each colour channel equalised tile by tile (CLAHE, OpenCV's defaults: 8x8 tiles,
    clip limit 2), after the global stretch.

    A mark printed in a colour close to its surface's (a green name on a green
    box, dark blue on dark red) barely moves the levels a global stretch sees,
    and the text detector finds no line there.  Within a tile the ink and its
    surface are most of what there is, so equalising the tile pulls them apart;
    per channel, so a hue that differs only in one channel is pulled apart too.
    It also raises surface texture, which is why it is a second look and not
    the first: as the only look it found some marks and lost others (held-out
    splits: brand named 78.8 -> 82.9% on one, 92.5 -> 90.8% on another).
    """
    stretched = stretch_contrast(crop)
    # One per call: a CLAHE object keeps its working buffers, and workers classify at once.
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    if stretched.ndim == 2:
        return clahe.apply(stretched)
    return cv2.merge([clahe.apply(channel) for channel in cv2.split(stretched)])


def runs_steeply(found: Sequence[Quad]) -> bool:
    """Whether the detector found a piece of print running steeply, read or not: a box at
    least STEEP_ASPECT times as long as it is high whose long side runs more than STEEP_DEG
    from level.  A name turned 60-90 degrees shows to the detector as such pieces (or as
    nothing) though none of them may be read."""
    for box in found:
        p = np.float32(box)
        short, long_ = sorted((float(np.hypot(*(p[1] - p[0]))), float(np.hypot(*(p[3] - p[0])))))
        if long_ >= STEEP_ASPECT * max(1.0, short) and slope_deg(p) > STEEP_DEG:
            return True
    return False


def turned_lines(lines: tuple[TextLine, ...], height: int,
                 back: bool = True) -> tuple[TextLine, ...]:
    """Lines read in a picture turned a quarter clockwise (``cv2.ROTATE_90_CLOCKWISE``) of
    an unturned picture ``height`` px high, in the unturned picture's pixels (``back``), or
    the other way.  The corners keep their order along the letters (the first two run along
    the line's top), which is what measuring the line needs; a turn keeps them clockwise."""
    turn = [[0, 1, 0], [-1, 0, height - 1]] if back else [[0, -1, height - 1], [1, 0, 0]]
    return moved_lines(lines, np.float64(turn))


def could_hide_a_mark(piece: np.ndarray, catalogue: Catalogue) -> bool:
    """Whether the parcel's surface could hide one of the catalogue's marks from a global stretch.

    A name printed in a colour close to its surface's (a brand's green on a
    green box) barely moves the levels; on white or printed board any brand
    colour stands out, and on kraft any but an orange or brown one.  The
    surface is the median colour of the piece's inner part (the label's black
    print is painted out already; its paper is a minority there).  Dark
    surfaces compress every colour, so they count.
    """
    lab = surface_lab(piece)
    if lab[0] <= DARK_SURFACE_L:
        return True
    return any(delta_e00(lab, c) <= HIDING_DELTA_E for b in catalogue.brands for c in b.colours_lab)


def surface_lab(piece: np.ndarray) -> tuple[float, float, float]:
    """CIELAB median of the piece's inner two thirds, every other pixel."""
    if piece.ndim == 2:
        piece = cv2.cvtColor(piece, cv2.COLOR_GRAY2BGR)
    h, w = piece.shape[:2]
    inner = piece[h // 6:h - h // 6:2, w // 6:w - w // 6:2]
    if inner.size == 0:
        inner = piece
    lab = cv2.cvtColor(inner.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab).reshape(-1, 3)
    median = np.median(lab, axis=0)
    return float(median[0]), float(median[1]), float(median[2])


def parcel_outline(piece: np.ndarray) -> Outline | None:
    """The parcel's turned rectangle in ``piece`` (``cv2.minAreaRect``'s centre, size and
    angle, in the piece's pixels), found as the largest patch unlike the belt that the
    piece's border shows, on a copy OUTLINE_SIDE px long; None where none stands out."""
    f = min(1.0, OUTLINE_SIDE / max(piece.shape[:2]))
    small = cv2.resize(piece, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else piece
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
    ring = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    apart = np.linalg.norm(lab - np.median(ring, axis=0), axis=2) > OUTLINE_DELTA
    mask = cv2.morphologyEx(apart.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    biggest = max(contours, key=cv2.contourArea)
    if cv2.contourArea(biggest) < OUTLINE_SHARE * mask.size:
        return None
    (cx, cy), (w, h), angle = cv2.minAreaRect(biggest)
    return (cx / f, cy / f), (w / f, h / f), float(angle)


def is_diagonal(outline: Outline) -> bool:
    """Whether the parcel's edges run DIAGONAL_DEG from level: neither the upright look nor
    the quarter-turned one then has a name printed along an edge within reach."""
    slope = abs(outline[2]) % 90.0
    return DIAGONAL_DEG[0] <= slope <= DIAGONAL_DEG[1]


def upright_parcel(picture: np.ndarray, outline: Outline) -> tuple[np.ndarray, np.ndarray]:
    """The parcel cut from ``picture`` and warped to its own rectangle, its long side level
    (print along it then reads level, or upside down), and the affine that maps the
    picture's pixels onto it."""
    corners = cv2.boxPoints(outline).astype(np.float32)
    p0, p1, p2 = corners[0], corners[1], corners[2]
    if np.hypot(*(p1 - p0)) < np.hypot(*(p2 - p1)):  # the long side first
        p0, p1, p2 = p1, p2, corners[3]
    a, b = p1 - p0, p2 - p1
    if float(a[0] * b[1] - a[1] * b[0]) < 0:  # keep it unmirrored
        p0, p2 = p2, p0
    w, h = float(np.hypot(*(p1 - p0))), float(np.hypot(*(p2 - p1)))
    onto = cv2.getAffineTransform(np.float32([p0, p1, p2]), np.float32([[0, 0], [w, 0], [w, h]]))
    size = (max(8, int(round(w))), max(8, int(round(h))))
    return cv2.warpAffine(picture, onto, size, flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE), onto


def read_upright(engine: OcrEngine, picture: np.ndarray, outline: Outline,
                 skip: Sequence[TextLine],
                 enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
    """The lines near level in the parcel warped upright (:func:`upright_parcel`), in
    ``picture``'s pixels; lines of ``skip`` (read surely before, in those pixels) are not
    recognised again (``enough``: as :meth:`edge.ocr.OcrEngine.read_lines`)."""
    upright, onto = upright_parcel(picture, outline)
    read = engine.read_lines(upright, skip=moved_lines(tuple(skip), onto),
                             level_within=DIAGONAL_LEVEL_WITHIN, enough=enough)
    return moved_lines(read, cv2.invertAffineTransform(onto))


def moved_lines(lines: tuple[TextLine, ...], affine: np.ndarray) -> tuple[TextLine, ...]:
    """Lines with their corners moved by ``affine`` (2 x 3); an affine that does not mirror
    keeps the corners' order along the letters."""
    out = []
    for t in lines:
        pts = cv2.transform(np.float64(t.box)[None], affine)[0]
        box = tuple((float(x), float(y)) for x, y in pts)
        out.append(dataclasses.replace(t, box=box))
    return tuple(out)
