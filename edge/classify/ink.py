"""The printed line's ink, measured: its colour, its edges, its letters' size and shape.

A read line's box is cut out along the line and its pixels split into ink
and paper; what an officer is told about a mark (its colour, how blurred its
print is, how wide its letters are for their height) is measured here, on
the ink's letter-sized pieces, so that an emblem printed beside or above the
name, taken into the line's box, is not measured as letters.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.catalogue.names import fold
from edge.ocr import TextLine

# Ink and paper closer than this (Lab distance between the two clusters) are no print.
MIN_CONTRAST = 10
# Ink darker than this in every channel shows no hue to compare (shadow, dim light).
MIN_INK_LEVEL = 60
# A piece of ink covering at least this share of its convex hull, and at least this share as
# wide as tall, is a filled shape, not a letter: the held-out renderer's triangle drawn beside
# KALIMBA as tall as its letters, read as an A, covers 0.94-0.97.  Only where the letters'
# median cover is at most SHARP_FILL (their strokes show; on the held-out marks read 0.52-0.75,
# 0.66 typical): a blurred small letter closes up and covers 0.9 too.
SOLID_FILL = 0.9
SOLID_WIDTH = 0.5
SHARP_FILL = 0.75
# Ink pieces at least this share of the ink's rows tall are letters (or emblem parts), not
# specks, dots or broken strokes; an emblem above or below the name can take more than
# half the rows.
LETTER_PIECE = 0.25
# Pieces within this share of the letters' median height are letters (an emblem beside the
# name is drawn taller, the foot of one above it shorter).
LETTER_BAND = (0.7, 1.3)
# A symbol the OCR read at an end of the name (LUMERA's star as '★') is an emblem when its
# piece stands off the letters by at least this share of their height: about a word space,
# where letters of one word stand a fifth apart or touch.
EMBLEM_GAP = 0.3
# A letter piece whose middle stands this share of the letters' height off the others' is
# off the word's row (an emblem above or below the name, as tall as its letters).
OFF_THE_ROW = 0.25
# A band of ink rows at least this share of the line's cut wide runs edge to edge: no print.
EDGE_TO_EDGE = 0.98
# A line box this many times taller than wide is a line printed across the picture (the
# OCR engine's own rule for turning it).
ACROSS = 1.5
# A stroke pixel printed at under this share of the strongest ink near it is a hole in the
# print; "near" is within this share of the ink's height (a stroke's width or two).
HOLE_LEVEL = 0.6
HOLE_REACH = 1 / 3
# Fewer ink pixels than this are too few to say how evenly they were printed.
MIN_INK_PIXELS = 30
# A row or column of the cut this full of ink is a band (tape, the surface's shaded edge),
# not letters: letters leave gaps between and inside them.
BAND_FILL = 0.9


def line_pixels(crop: np.ndarray, line: TextLine) -> np.ndarray | None:
    """The line's quad warped to a rectangle lying along the line (the letters as OCR saw
    them, perhaps upside down).

    A line's corners run clockwise from the top left of the picture, not of the
    text, so a mark printed across the parcel (turned 60-110 degrees on the belt)
    warps to a tall strip of stacked letters; it is turned a quarter, as the OCR
    engine turns it, or its letters' width was measured across the line.
    """
    pts = np.float32(line.box)
    w = int(round(max(np.hypot(*(pts[1] - pts[0])), np.hypot(*(pts[2] - pts[3])))))
    h = int(round(max(np.hypot(*(pts[3] - pts[0])), np.hypot(*(pts[2] - pts[1])))))
    if w < 4 or h < 4:
        return None
    m = cv2.getPerspectiveTransform(pts, np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    piece = cv2.warpPerspective(crop, m, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(np.rot90(piece)) if h >= ACROSS * w else piece


def ink_mask(piece: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Which pixels of a line are ink: two colour clusters, ink the smaller one (letters cover
    less than half of their own line box).  Returns (mask, distance from the background
    colour, contrast between the clusters)."""
    lab = cv2.cvtColor(piece, cv2.COLOR_BGR2Lab).reshape(-1, 3).astype(np.float32)
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    _, labels, centres = cv2.kmeans(lab, 2, _far_split(lab), crit, 1,
                                    cv2.KMEANS_USE_INITIAL_LABELS)
    labels = labels.reshape(piece.shape[:2])
    bg = int(np.bincount(labels.ravel(), minlength=2).argmax())
    dist = np.linalg.norm(lab.reshape(*piece.shape[:2], 3) - centres[bg], axis=2)
    return labels != bg, dist, float(np.linalg.norm(centres[0] - centres[1]))


def _far_split(lab: np.ndarray) -> np.ndarray:
    """Starting clusters: pixels far (Otsu) from the line's median colour, the paper's, are
    the ink.  Seeded from OpenCV's shared random state the split, and so the ink's colour,
    depended on what had been measured before, in this thread or another."""
    dist = np.linalg.norm(lab - np.median(lab, axis=0), axis=1)
    scaled = cv2.normalize(dist, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    _, far = cv2.threshold(scaled, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    labels = far.reshape(-1, 1).astype(np.int32)
    if labels.min() == labels.max():   # one colour throughout: any split, the same each time
        labels[labels.size // 2:] = 1 - labels[0]
    return labels


@dataclass(frozen=True, eq=False)
class LineInk:
    """A read line split once into ink and paper: every measure of the line reads this, so
    its warp and colour clustering are done once per line, not once per measure."""

    piece: np.ndarray  # the line's pixels, warped along its letters
    mask: np.ndarray  # which of them are ink
    dist: np.ndarray  # each pixel's Lab distance from the paper
    contrast: float  # between the ink and paper clusters


def measure_line(picture: np.ndarray, line: TextLine) -> LineInk | None:
    """The line's ink and paper; None when the line is too small or shows no contrast
    (nothing printed worth measuring)."""
    piece = line_pixels(picture, line)
    if piece is None:
        return None
    mask, dist, contrast = ink_mask(piece)
    return None if contrast < MIN_CONTRAST else LineInk(piece, mask, dist, contrast)


def ink_colour(ink: LineInk | None) -> tuple[int, int, int] | None:
    """The ink's colour (BGR): the median of the strokes' cores, away from blurred edges."""
    if ink is None or ink.mask.sum() < 8:
        return None
    core = ink.dist >= np.percentile(ink.dist[ink.mask], 50)
    b, g, r = np.median(ink.piece[ink.mask & core], axis=0)
    if max(b, g, r) < MIN_INK_LEVEL:  # too dark to tell a hue: the light, not the ink
        return None
    return int(b), int(g), int(r)


def edge_width(ink: LineInk | None) -> float | None:
    """Ink edge width over letter height: about 0.05 for crisp print, 0.1+ for bled ink.

    The height is the ink's rows, emblem parts in the line box included, as when
    the judge's review and flag lines were set; measured on the letters alone
    (as proportions are) it sent three more genuine marks on held-out split
    5151 to review at those lines, so the lines would have to be set again.
    """
    if ink is None:
        return None
    mask, dist = ink.mask, ink.dist
    level = float(np.percentile(dist[mask], 50)) if mask.any() else ink.contrast
    gx = cv2.Sobel(dist, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(dist, cv2.CV_32F, 0, 1, ksize=3) / 8
    grad = float(np.percentile(np.hypot(gx, gy), 98))
    return (level / max(grad, 1e-3)) / max(ink_extent(mask)[1], 1.0)


def patchiness(ink: LineInk | None) -> float | None:
    """Share of the strokes' inner pixels printed at under ``HOLE_LEVEL`` of the strongest
    ink near them: solid print covers its strokes evenly, a cheap press leaves holes.

    Blur alone does not tell a cheap press (the camera blurs too; edge widths of
    genuine and blotchy marks overlap), but holes inside strokes do: on the
    held-out renderer's genuine-print marks the median share was 0 and the
    largest 0.2 (camera noise, a film's sheen: 5 of 709 reached an eighth), on
    its blotchy prints the median was 0.17.  Each pixel is compared with the ink
    around it, not with the line's strongest, or a thin name beside a bold emblem
    would be all holes; rows and columns of the cut nearly full of ink (tape, the
    surface's shaded edge) are no print.
    """
    if ink is None or ink.mask.sum() < MIN_INK_PIXELS:
        return None
    mask = ink.mask.copy()
    mask[mask.mean(axis=1) >= BAND_FILL, :] = False
    mask[:, mask.mean(axis=0) >= BAND_FILL] = False
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if inner.sum() < MIN_INK_PIXELS // 2:  # strokes a pixel or two wide: all of them
        inner = mask
    if not inner.any():
        return None
    strength = cv2.GaussianBlur(ink.dist.astype(np.float32), (0, 0), 0.8)
    reach = max(5, int(round(HOLE_REACH * ink_extent(ink.mask)[1])) | 1)
    near = strongest_near(strength, mask, reach)
    return float(np.mean(strength[inner] < HOLE_LEVEL * near[inner]))


def strongest_near(strength: np.ndarray, inked: np.ndarray, across: int) -> np.ndarray:
    """Each pixel's strongest ``strength`` among the ``inked`` pixels within a disc ``across``
    pixels wide: print is judged against the ink beside it, not the line's strongest (a thin
    name beside a bold emblem)."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (across, across))
    return cv2.dilate(np.where(inked, strength, 0).astype(np.float32), disc)


def ink_extent(mask: np.ndarray) -> tuple[float, float]:
    """Width and height of the ink (rows and columns with a few ink pixels)."""
    cols = np.flatnonzero(mask.sum(0) >= max(1, 0.05 * mask.shape[0]))
    rows = np.flatnonzero(mask.sum(1) >= max(1, 0.02 * mask.shape[1]))
    if cols.size == 0 or rows.size == 0:
        return float(mask.shape[1]), float(mask.shape[0])
    return float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)


def _word_band(mask: np.ndarray) -> tuple[float, float]:
    """Width and height of the widest band of ink rows (bands part where a row holds no ink).

    When letters touch (a bold serif face at a small size) there are too few
    pieces to tell letters from an emblem, and the ink's whole extent stood in:
    with KALIMBA's triangle above the name, letters measured half as wide for
    their height as they are.  An emblem above or below the name is a band of
    its own, narrower than the word, so the widest band is the word; a band
    running edge to edge is the parcel's edge or tape, not print.
    """
    inked = (mask.sum(1) >= max(1, 0.02 * mask.shape[1])).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked, [0]))))
    widths = {(top, bottom): ink_extent(mask[top:bottom])[0]
              for top, bottom in zip(edges[::2], edges[1::2])}
    # A band across the whole cut is the surface's edge or tape that the line box took in.
    printed = {band: w for band, w in widths.items() if w < EDGE_TO_EDGE * mask.shape[1]}
    if len(widths) < 2 or not printed:
        return ink_extent(mask)
    top, bottom = max(printed, key=printed.__getitem__)
    return printed[(top, bottom)], float(bottom - top)


def _letter_pieces(mask: np.ndarray, rows: float) -> tuple[np.ndarray, np.ndarray, float] | None:
    """The ink's pieces (connected components' stats), which of them are letters, and the
    letters' height; None when there are too few pieces to tell.

    A line box often takes in an emblem: the foot of LUMERA's star above the
    name, ORBIQ's ring beside it.  Each letter, or run of touching letters, is
    a piece the letters' height (their median); a piece much shorter or
    taller is no letter, nor is a filled shape at either end (an emblem drawn
    as tall as the name).
    """
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    stats = stats[1:]
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    tall = heights >= LETTER_PIECE * rows
    if tall.sum() < 3:
        return None
    height = _run_median(heights[tall], stats[tall, cv2.CC_STAT_WIDTH])
    letters = (heights >= LETTER_BAND[0] * height) & (heights <= LETTER_BAND[1] * height)
    if letters.sum() > 3:
        letters[_filled_ends(labels, stats, letters)] = False
    # Pieces of two heights (letters and an emblem's parts, half each) put the median
    # between them, where no piece is: no letter height to tell by.
    return (stats, letters, height) if letters.any() else None


def _run_median(heights: np.ndarray, widths: np.ndarray) -> float:
    """The pieces' median height, each piece counted as the letters it could hold (its width
    over its height, at least one): a run of touching letters speaks for its letters.  A
    bold serif name whose serifs join (KALIMBA's reference at 28 px) is one piece the
    letters' height beside a few fragments; a plain median of the pieces took the
    fragments' height (27.5 px for letters 41 tall), left the name out as too tall, and
    measured its letters 0.60x as wide as they are.  Letters standing apart count once
    each, as in a plain median."""
    count = np.maximum(1, np.round(widths / np.maximum(heights, 1))).astype(np.int64)
    return float(np.median(np.repeat(heights, count)))


def _letters(mask: np.ndarray, rows: float, symbols: int = 0) -> tuple[float, float]:
    """The letters' width and height, emblems left out (counted as ink they made genuine
    letters half again as tall, read as squeezed to 0.56x, or a fifth wider);
    with too few pieces, the widest band of ink rows (:func:`_word_band`).
    ``symbols`` is how many ends of the reading hold a symbol that is no letter."""
    spans = _letter_spans(mask, rows, symbols)
    if spans is None:
        return _word_band(mask)
    boxes, height = spans
    return float(boxes[:, 1].max() - boxes[0, 0]), height


def _letter_spans(mask: np.ndarray, rows: float,
                  symbols: int) -> tuple[np.ndarray, float] | None:
    """The letter pieces' (left, right, top, bottom), left to right, emblems left out, and
    the letters' height; None when there are too few pieces to tell."""
    found = _letter_pieces(mask, rows)
    if found is None:
        return None
    stats, letters, height = found
    kept = stats[letters][np.argsort(stats[letters, cv2.CC_STAT_LEFT])]
    x0, y0 = kept[:, cv2.CC_STAT_LEFT], kept[:, cv2.CC_STAT_TOP]
    boxes = np.stack([x0, x0 + kept[:, cv2.CC_STAT_WIDTH], y0, y0 + kept[:, cv2.CC_STAT_HEIGHT]], 1)
    first, last = _without_emblems(boxes[:, 0], boxes[:, 1], height, symbols)
    return boxes[first:last + 1], height


def _without_emblems(x0: np.ndarray, x1: np.ndarray, height: float,
                     symbols: int) -> tuple[int, int]:
    """First and last letter piece once each emblem read as a symbol is dropped.

    An emblem as tall as the letters (LUMERA's star) passes for a letter by its size; the
    reading ('★LUMERA') says a symbol stands at an end, and the gap says which piece it is.
    Either end of the pieces may hold it: a line read upside down is not turned here.
    """
    first, last = 0, len(x0) - 1
    for _ in range(symbols):
        if last - first < 3:
            break
        left = x0[first + 1] - x1[first]
        right = x0[last] - x1[first:last].max()
        if max(left, right) < EMBLEM_GAP * height:
            break
        if left >= right:
            first += 1
        else:
            last -= 1
    return first, last


def emblem_beside(ink: LineInk | None) -> bool:
    """Whether the line holds, beyond either end of its letters, ink that is no letter though
    at least their height: a piece taller than they are, or one of their height filled solid
    (a triangle drawn no taller than the name reads as an A): an emblem beside the name."""
    return any(emblem_ends(ink))


def emblem_ends(ink: LineInk | None) -> tuple[bool, bool]:
    """Whether such an emblem lies before the letters and whether one lies after them, along
    the line's warped pixels (left, right): a letter read more at one end of a name can only
    be an emblem read as a letter at the end where the emblem is."""
    found = None if ink is None else _letter_pieces(ink.mask, ink_extent(ink.mask)[1])
    if found is None:
        return False, False
    stats, letters, height = found
    left = stats[:, cv2.CC_STAT_LEFT]
    right = left + stats[:, cv2.CC_STAT_WIDTH]
    big = ~letters & (stats[:, cv2.CC_STAT_HEIGHT] >= LETTER_BAND[0] * height)
    return (bool(np.any(big & (right <= left[letters].min()))),
            bool(np.any(big & (left >= right[letters].max()))))


def _filled_ends(labels: np.ndarray, stats: np.ndarray, letters: np.ndarray) -> list[int]:
    """The letter-sized pieces at either end that are filled shapes, where the letters
    between them show their strokes (a blurred small letter closes up and fills too)."""
    order = np.flatnonzero(letters)[np.argsort(stats[letters, cv2.CC_STAT_LEFT])]
    fill = [_fill(labels == i + 1, stats[i]) for i in order]
    if float(np.median(fill[1:-1])) > SHARP_FILL:
        return []
    return [int(order[k]) for k in (0, -1) if fill[k] >= SOLID_FILL]


def _fill(piece: np.ndarray, stat: np.ndarray) -> float:
    """How much of its convex hull ``piece`` (one connected component's pixels, ``stat`` its
    stats) covers; 0 for a piece much narrower than tall (an I).  A letter is strokes, with
    counters and gaps between them; an emblem is often a solid polygon."""
    x, y, w, h = (int(v) for v in stat[:4])
    if w < SOLID_WIDTH * h:
        return 0.0
    hull = cv2.convexHull(cv2.findNonZero(piece[y:y + h, x:x + w].astype(np.uint8)))
    # the hull runs through pixel centres: half its outline more is the pixels' own area
    area = cv2.contourArea(hull) + cv2.arcLength(hull, True) / 2 + 1
    return float(stat[cv2.CC_STAT_AREA]) / area


def letter_widths(ink: LineInk | None, text: str) -> tuple[float, ...] | None:
    """Each letter's width over the letters' median, in the order the pieces stand (the
    line's own order, not turned where it was read upside down); None unless the pieces
    are the word's letters one for one (touching or broken letters say nothing)."""
    if ink is None:
        return None
    spans = _letter_spans(ink.mask, ink_extent(ink.mask)[1], _end_symbols(text.strip()))
    if spans is None or len(spans[0]) != len(fold(text)):
        return None
    boxes, height = spans
    middles = (boxes[:, 2] + boxes[:, 3]) / 2
    # a piece off the word's row (an emblem above it, the letters beside it run together)
    # would be taken for one of its letters
    if np.abs(middles - np.median(middles)).max() > OFF_THE_ROW * height:
        return None
    widths = boxes[:, 1] - boxes[:, 0]
    return tuple(float(w) for w in widths / max(float(np.median(widths)), 1.0))


def _end_symbols(word: str) -> int:
    """How many ends of a reading hold a symbol that is no letter ('★LUMERA': one)."""
    return int(not fold(word[:1])) + int(not fold(word[-1:])) if len(word) > 1 else 0


def letter_aspect(ink: LineInk | None, text: str) -> float | None:
    """Width per letter over height of the ink of a read line; ``text`` is the word as read,
    so a symbol read at its ends (an emblem) is not counted as letters."""
    if ink is None:
        return None
    mask = ink.mask
    width, height = _letters(mask, ink_extent(mask)[1], _end_symbols(text.strip()))
    return width / max(1, len(fold(text))) / max(height, 1.0)
