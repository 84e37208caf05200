"""A brand's name with letters hidden under tape or a sticker: read from what shows.

Parcels are taped, and tape crosses marks.  Where it is opaque (printed
tape, a sticker, a label) the letters under it are gone, and the text
detector finds the name as pieces on one line, or finds one piece only:
a single letter beyond the tape is too small and too square to be taken
for a line of print.  So a name counts as covered in two ways:

* :func:`covered_match`: two pieces on one line with a gap between them
  about as wide as the letters missing (``edge.catalogue.names.match_pieces``);
* :func:`cut_match`: one piece that starts or ends a catalogue name, running
  into a band at one end that covers the line's whole height and more (tape
  runs across a parcel; a letter's gap does not), as wide as the hidden
  letters, with the surface showing again beyond it
  (:func:`edge.catalogue.names.match_cut`).

Either is the brand named with what is hidden said, never a misspelling:
nobody can tell what the tape hides.
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from edge.catalogue import Catalogue
from edge.catalogue.names import NameMatch, cut_names, fold, match_cut, match_pieces
from edge.classify.ink import measure_line
from edge.ocr import TextLine

# Two pieces of one covered name: alike in height and slant, on one line, with a gap of
# at most PIECE_GAP letter heights between them (a strip of tape is about one to three).
# The detector boxes a piece beside tape by its own letters' ink, so heights differ more
# than letters do (a two-letter piece boxed at 0.64 of its three-letter twin's height).
PIECE_HEIGHT = (0.6, 1.65)
PIECE_SLANT_DEG = 12.0
PIECE_GAP = 4.0
# A band beside a single piece: it starts within BAND_START letters of the piece's end, is
# uniform across BAND_TALL line heights (a letter's gap is not: the line's own letters or
# the surface show above and below), differs from the surface by BAND_DELTA (Lab), and the
# surface shows again within PIECE_GAP line heights.
BAND_START = 0.6
BAND_TALL = 2.0
BAND_DELTA = 12.0
BAND_FLAT = 10.0
BAND_BACK = 0.25


def covered_match(lines: Sequence[TextLine], catalogue: Catalogue,
                  picture: np.ndarray | None = None) -> tuple[NameMatch, TextLine] | None:
    """A name read in two pieces on one line, or, given the ``picture`` the lines were read
    from, in one piece cut off by a band; the longer piece is the line measured for colour,
    proportions and print."""
    pairs = catalogue.spellings
    for a in lines:
        for b in lines:
            hidden = None if a is b else hidden_letters(a, b)
            m = None if hidden is None else match_pieces(a.text, hidden, b.text, pairs)
            if m is not None:
                return m, max((a, b), key=lambda line: len(fold(line.text)))
    return None if picture is None else cut_match(lines, catalogue, picture)


def cut_match(lines: Sequence[TextLine], catalogue: Catalogue,
              picture: np.ndarray) -> tuple[NameMatch, TextLine] | None:
    """A line that starts or ends a catalogue name and runs into a band hiding the rest."""
    pairs = catalogue.spellings
    for line in sorted(lines, key=lambda t: -len(fold(t.text))):
        if not cut_names(line.text, pairs):
            continue
        hidden = band_beside(picture, line)
        m = None if hidden is None else match_cut(line.text, hidden, pairs)
        if m is not None:
            return m, line
    return None


def hidden_letters(a: TextLine, b: TextLine) -> int | None:
    """How many of ``a``'s letters would fill the gap between ``a`` and ``b`` when the two
    lie on one line of print (either order along it); None when they do not."""
    pa, pb = np.float32(a.box), np.float32(b.box)
    ua, ub = pa[1] - pa[0], pb[1] - pb[0]
    wa, wb = float(np.hypot(*ua)), float(np.hypot(*ub))
    ha, hb = a.height, b.height
    letters = len(fold(a.text))
    if min(wa, wb, ha, hb) < 1 or letters == 0 or \
            not PIECE_HEIGHT[0] <= hb / ha <= PIECE_HEIGHT[1]:
        return None
    slant = abs(np.degrees(np.arctan2(ua[1], ua[0]) - np.arctan2(ub[1], ub[0]))) % 180
    if min(slant, 180 - slant) > PIECE_SLANT_DEG:
        return None
    # The line runs along the longer piece: a box of two letters is slanted by a few pixels'
    # error (a 'KA' boxed 8 degrees off its 'MBA'), which across the gap puts the pieces
    # apart by more than half a letter.  Either order now takes the same direction.
    u = ua / wa if wa >= wb else ub / wb
    d = pb.mean(0) - pa.mean(0)
    gap = abs(float(d @ u)) - (wa + wb) / 2
    if abs(float(d[0] * u[1] - d[1] * u[0])) > 0.5 * max(ha, hb) or \
            not 0.2 * ha < gap < PIECE_GAP * ha:
        return None
    return int(round(gap / (wa / letters)))


def line_axis(line: TextLine) -> tuple[np.ndarray, float, float]:
    """The line's direction (a unit vector along its letters), its length and its height.
    A line's corners run clockwise from the picture's top left, not the text's: a mark
    printed across the parcel has a box taller than wide, its letters stacked down it."""
    pts = np.float32(line.box)
    across, along = pts[3] - pts[0], pts[1] - pts[0]
    if np.hypot(*across) > np.hypot(*along):
        across, along = along, across
    length, height = float(np.hypot(*along)), float(np.hypot(*across))
    return along / max(length, 1e-6), length, height


def band_beside(picture: np.ndarray, line: TextLine) -> int | None:
    """Letters' width of a band of one colour laid across the line at either end of it,
    or None where neither end runs into one."""
    u, length, height = line_axis(line)
    letters = len(fold(line.text))
    if height < 6 or letters == 0:
        return None
    pitch, centre = length / letters, np.float32(line.box).mean(0)
    surface = _surface(picture, line, centre, u, length, height)
    for sign in (1.0, -1.0):
        end = centre + sign * u * length / 2
        width = _band_width(picture, end, sign * u, height, pitch, surface)
        if width is not None:
            return max(1, int(round(width / pitch)))
    return None


def _strip(picture: np.ndarray, start: np.ndarray, u: np.ndarray, length: float,
           tall: float) -> np.ndarray:
    """Lab pixels of the rectangle from ``start`` along ``u`` (columns), ``tall`` high."""
    w, h = max(2, int(round(length))), max(2, int(round(tall)))
    n = np.float32([-u[1], u[0]])
    src = np.float32([start - n * tall / 2, start + u * w - n * tall / 2, start + n * tall / 2])
    m = cv2.getAffineTransform(src, np.float32([[0, 0], [w, 0], [0, h]]))
    rect = cv2.warpAffine(picture, m, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return cv2.cvtColor(rect.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)


def _surface(picture: np.ndarray, line: TextLine, centre: np.ndarray, u: np.ndarray,
             length: float, height: float) -> np.ndarray:
    """The surface's Lab colour: what lies between the line's own letters (its paper), or,
    where the line's ink cannot be told from it, the median of the rows just above and below.

    The rows beside a name printed near the parcel's edge are half belt, and their median
    is neither belt nor surface (a red tape beside 'LUME' on purple film was then as far
    from the "surface" as the purple beyond it, and no band was found).
    """
    ink = measure_line(picture, line)
    if ink is not None and (~ink.mask).sum() >= 8:
        paper = ink.piece[~ink.mask].reshape(1, -1, 3)
        lab = cv2.cvtColor(paper.astype(np.float32) / 255.0, cv2.COLOR_BGR2Lab)
        return np.median(lab.reshape(-1, 3), axis=0)
    n = np.float32([-u[1], u[0]])
    rows = [_strip(picture, centre + side * n * 1.0 * height - u * length / 2, u, length,
                   0.5 * height) for side in (-1.0, 1.0)]
    return np.median(np.concatenate([r.reshape(-1, 3) for r in rows]), axis=0)


def _band_width(picture: np.ndarray, end: np.ndarray, u: np.ndarray, height: float,
                pitch: float, surface: np.ndarray) -> float | None:
    """Width of a uniform band, unlike the surface, starting at the line's ``end``.

    The band's colour is read at the line's own height; it must be uniform over that
    height and half a line height beyond it on at least one side (tape across a name
    printed by the parcel's edge runs off the parcel on the other).  The band is the
    first run of such columns at least BAND_START letters wide that starts within
    BAND_START letters of the end: a letter's blurred last column may look like one
    on its own.
    """
    reach = PIECE_GAP * height
    lab = _strip(picture, end, u, reach, BAND_TALL * height)
    rows = lab.shape[0]
    lo, hi = int(round(rows / 4)), int(round(3 * rows / 4))
    med = np.median(lab[lo:hi], axis=0)
    beyond = [_alike(lab[:hi], lab[:lo], med), _alike(lab[lo:], lab[hi:], med)]
    banded = (np.linalg.norm(med - surface, axis=1) >= BAND_DELTA) & (beyond[0] | beyond[1])
    run = _first_run(banded, BAND_START * pitch)
    if run is None:
        return None
    start, stop = run
    # The surface shows again: nearer its colour than BAND_DELTA / 2, or, beyond a band far
    # from it, than BAND_BACK of the band's own difference (film's shading drifts by 10).
    apart = float(np.median(np.linalg.norm(med[start:stop] - surface, axis=1)))
    back = np.linalg.norm(med[stop:] - surface, axis=1) < max(BAND_DELTA / 2, BAND_BACK * apart)
    if stop >= len(banded) or not back.any():
        return None
    return float(stop - start)


def _alike(rows: np.ndarray, side: np.ndarray, med: np.ndarray) -> np.ndarray:
    """Per column, whether ``rows`` (the line's height and one side) are uniform in lightness
    (10th to 90th percentile within BAND_FLAT) and the side's colour is the line's ``med``."""
    spread = np.percentile(rows[..., 0], 90, axis=0) - np.percentile(rows[..., 0], 10, axis=0)
    near = np.linalg.norm(np.median(side, axis=0) - med, axis=1) < BAND_DELTA / 2
    return (spread <= BAND_FLAT) & near


def _first_run(flags: np.ndarray, least: float) -> tuple[int, int] | None:
    """(start, stop) of the first run of True at least ``least`` long that starts within
    ``least`` of index 0."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if start > least:
            return None
        if stop - start >= least:
            return int(start), int(stop)
    return None
