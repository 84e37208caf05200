"""Checking the parcel's print against the brand catalogue: read it, then measure it.

The network trained on the project's generator found marks only where they
looked like its training marks, and named brands by colour.  Here the
parcel's tallest lines of print are read (:mod:`edge.ocr`); only a word that
is a catalogue brand's name, or a near miss of one
(:mod:`edge.catalogue.names`), makes a brand mark; anything else (handling
print, a shop's own mark, label text) is "no mark".  This is the open set:
unknown text is never the nearest brand.

Once a brand is named by its words, the printed line is compared with what
the catalogue records, each in units an officer can check:

* colour: CIEDE2000 between the ink and the nearest recorded colour;
* proportions: the name's width per letter against the reference picture's,
  as a ratio (a stretched or squeezed copy, :mod:`edge.classify.proportions`);
* print quality: the width of the ink's edges against the letter height
  (blurred, bled ink), a classical measure, the share of the strokes
  printed as holes (blotchy ink), and a second impression beside them
  (plates out of register, :mod:`edge.classify.register`).

Reference pictures are compared classically (letter proportions read from
them), not through a learned embedding.  The measurements on the line's ink
are :mod:`edge.classify.ink`'s.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np

from edge.catalogue import Brand, Catalogue
from edge.catalogue.colour import colour_difference
from edge.catalogue.names import (RANK, NameMatch, candidates, fold, match_beside_emblem,
                                  match_word)
from edge.classify.cover import covered_match, cut_match, line_axis
from edge.classify.crops import MarkGuess, cut_padded
from edge.classify.digits import DigitInPlace
from edge.classify.ink import (LineInk, edge_width, emblem_beside, emblem_ends, ink_colour,
                              line_pixels, measure_line, patchiness)
from edge.classify.looks import (TURNED_LEVEL_WITHIN, could_hide_a_mark, is_diagonal,
                                 local_contrast, parcel_outline, read_upright, runs_steeply,
                                 stretch_contrast, turned_lines)
from edge.classify.register import Doubling, doubled_print
from edge.ocr import OcrEngine, Quad, TextLine
from edge.records import Box

# A "near" name (one edit beyond the allowance) counts in the brand's own colour (short of
# the judge's flag line for colour: not plainly another), or where read again it names the
# brand (see _named_again).  At 15, worn and misspelt marks measured ΔE 19-24 off were lost.
NEAR_MAX_DELTA_E = 25.0
# A line read at least this surely in one look is not read again in the next.
SURE_READ = 0.9
# Name matches that flag on their own; their line is read a second time (second_reading).
FLAGGING = ("edit", "lookalike")
# The line is read again from its own upright crop with this margin (in line heights).
SECOND_READ_MARGIN = 0.5
# A misspelling is disputed where, read again, the recogniser finds the brand's spelling at
# least 1/20 as likely as the misspelling (ln odds; see edge.ctc for the measured spread:
# printed misspellings -3.6 and below, genuine marks misread -2.4 and -2.7).
DISPUTE_ODDS = math.log(1 / 20)


@dataclass(frozen=True, eq=False)
class Reading:
    """One candidate read: the matched line (if any) and measurements on it."""

    guess: MarkGuess
    lines: tuple[TextLine, ...]
    match: NameMatch | None = None
    line: TextLine | None = None
    delta_e: float | None = None
    ink_bgr: tuple[int, int, int] | None = None
    aspect_ratio: float | None = None
    # A name read letter for letter that prints a digit for one of them (edge.classify.digits).
    digit: DigitInPlace | None = None
    edge_rel: float | None = None
    # Share of the strokes printed as holes (:func:`edge.classify.ink.patchiness`).
    holes: float | None = None
    # A faint second impression beside the strokes (:func:`edge.classify.register.doubled_print`).
    doubling: Doubling | None = None
    scale: float = 1.0
    # The matched line's ink and paper, measured once (see :class:`edge.classify.ink.LineInk`).
    ink: LineInk | None = None
    # A misspelling's line read a second time on its own (see :func:`second_reading`), and there
    # ln P(the brand's spelling) - ln P(the misspelling) under the recogniser (:mod:`edge.ctc`).
    second: str | None = None
    respelt: float | None = None

    @property
    def read_right_again(self) -> bool:
        """A misspelling whose line, read again on its own, spells the brand's name exactly."""
        if self.match is None or not self.second:
            return False
        return any(fold(w) == fold(self.match.spelling) for w in candidates(self.second))

    @property
    def disputed(self) -> bool:
        """Read right again, or read again the recogniser finds the brand's spelling nearly
        as likely as the misspelling."""
        return self.read_right_again or (self.respelt is not None and self.respelt >= DISPUTE_ODDS)


def scan_parcel(engine: OcrEngine, image: np.ndarray, region: Box,
                catalogue: Catalogue, second_look: str = "never",
                turned_look: str = "unnamed") -> Reading:
    """Read the tallest lines of print anywhere on the parcel and match them with the catalogue.

    A trained locator only finds marks drawn the way it was trained on; words
    are words in any typeface, so the parcel itself is read (the engine keeps
    only its tallest lines: marks and handling print, not address text).
    Where no catalogue name was read (with ``turned_look`` "steep": and the detector found a
    piece of steep print, :func:`edge.classify.looks.runs_steeply`), the parcel is read again
    turned a quarter (a name turned 60-90 degrees on the belt is not seen upright); where
    still none was and the parcel lies diagonally on the belt, the parcel warped upright to
    its own outline is read (:func:`edge.classify.looks.upright_parcel`).  With
    ``second_look`` ("always", or "hidden": where :func:`could_hide_a_mark`) a parcel on
    which no catalogue name was read is read again with its local contrast raised
    (:func:`edge.classify.looks.local_contrast`).
    """
    piece = cut_padded(image, region.clip(image.shape[1], image.shape[0]))
    best, lines = _looks(engine, piece, catalogue, second_look, turned_look)
    origin = region.clip(image.shape[1], image.shape[0])
    reading = None if best is None else _measured(engine, piece, origin, lines, best, catalogue)
    if reading is None and best is not None and best[0].kind == "near":
        # Near the name but not in its colour: the name's own letters cut by tape may be why.
        covered = covered_match(lines, catalogue, piece)
        reading = None if covered is None else \
            _measured(engine, piece, origin, lines, covered, catalogue)
    return reading or Reading(_guess_of(None, region), lines)


def _looks(engine: OcrEngine, piece: np.ndarray, catalogue: Catalogue, second_look: str,
           turned_look: str) -> tuple[tuple[NameMatch, TextLine] | None, tuple[TextLine, ...]]:
    """The parcel's looks (:mod:`edge.classify.looks`), each taken only where those before
    named no brand (a name only near a brand's counts as none yet), the best match of all
    and every line they read.  A line read surely in the first is not read again in a later
    look; a later look's own reads are not skipped (it is another picture)."""
    seen = stretch_contrast(piece)
    found: list[Quad] = []   # what the detector saw, read or not: only "steep" asks
    named = names_surely(catalogue)  # a look reads no line after one of these (no better is)
    lines = engine.read_lines(seen, found=found if turned_look == "steep" else None,
                              enough=named)
    best = _match(lines, catalogue, piece)
    sure = tuple(t for t in lines if t.confidence >= SURE_READ)
    if _unnamed(best) and (turned_look == "unnamed" or runs_steeply(found)):
        turned = engine.read_lines(cv2.rotate(seen, cv2.ROTATE_90_CLOCKWISE),
                                   skip=turned_lines(sure, piece.shape[0], back=False),
                                   level_within=TURNED_LEVEL_WITHIN, enough=named)
        more = turned_lines(turned, piece.shape[0])
        best, lines = _better_of(best, _match(more, catalogue, piece)), lines + more
    outline = parcel_outline(piece) if _unnamed(best) else None
    if outline is not None and is_diagonal(outline):
        more = read_upright(engine, seen, outline, sure, named)
        best, lines = _better_of(best, _match(more, catalogue, piece)), lines + more
    if _unnamed(best) and (second_look == "always" or second_look == "hidden"
                           and could_hide_a_mark(piece, catalogue)):
        more = engine.read_lines(local_contrast(piece), skip=sure, enough=named)
        best, lines = _better_of(best, _match(more, catalogue, piece)), lines + more
    return best, lines


def names_surely(catalogue: Catalogue) -> Callable[[TextLine], bool]:
    """Whether a line reads a catalogue name letter for letter, surely: no match ranks above
    that one and no later look is taken, so a look recognises no line after it.  The lines
    are recognised tallest first (marks are a parcel's tallest print): a genuine parcel of
    held-out split 4242 then cost 2.25 recognitions rather than 3.35, its verdict the same."""
    pairs = catalogue.spellings

    def named(line: TextLine) -> bool:
        if line.confidence < SURE_READ:
            return False
        matches = (match_word(word, pairs) for word in candidates(line.text))
        return any(m is not None and m.kind == "exact" for m in matches)
    return named


def _unnamed(best: tuple[NameMatch, TextLine] | None) -> bool:
    """No name read yet, or one that may not stand (a near one, or one found with a letter
    left out for an emblem that the ink may not show): the next look is taken."""
    return best is None or best[0].kind == "near" or best[0].emblem > 0


def _better_of(a: tuple[NameMatch, TextLine] | None, b: tuple[NameMatch, TextLine] | None
               ) -> tuple[NameMatch, TextLine] | None:
    """The match of the better kind, one read with no letter left out for an emblem before one
    read with it; the earlier look's on a tie."""
    return min((m for m in (a, b) if m is not None), key=lambda m: (RANK[m[0].kind], m[0].emblem),
               default=None)


def _measured(engine: OcrEngine, piece: np.ndarray, origin: Box, lines: tuple[TextLine, ...],
              best: tuple[NameMatch, TextLine], catalogue: Catalogue) -> Reading | None:
    """The matched line measured against its brand's record; None for a near name not
    printed in the brand's colour (too weak to name the brand) unless, read again on its
    own, it reads as the brand's name or the recogniser finds that spelling nearly as
    likely (a worn or wrongly coloured mark misread, not another word)."""
    match, line = best
    if _read_short(match):
        match, line = read_whole(engine, piece, line, match) or best
    measured = measure_line(piece, line)
    if match.emblem and not emblem_beside(measured):
        # no emblem beside the letters: the word is as it reads, and matches as it is or not
        plain = _best_match((line,), catalogue, beside_emblem=False)
        if plain is None:
            return None
        match = plain[0]
    if _emblem_read_as_letters(match, line, measured):
        match = dataclasses.replace(match, kind="emblem", read=match.spelling)
    brand = catalogue.get(match.brand)
    assert brand is not None
    ink = ink_colour(measured)
    de = None if ink is None else min(colour_difference(ink, ref) for ref in brand.colours)
    second, respelt = None, None
    if match.kind in FLAGGING or match.kind == "near" and (de is None or de > NEAR_MAX_DELTA_E):
        second, respelt = second_reading(engine, piece, line, match)
        if match.kind == "near" and not _named_again(second, respelt, brand):
            return None
    return Reading(_guess_of(line, origin), lines, match, line, delta_e=de, ink_bgr=ink,
                   edge_rel=edge_width(measured), holes=patchiness(measured),
                   doubling=doubled_print(measured), ink=measured,
                   second=second, respelt=respelt)


def _named_again(second: str, respelt: float | None, brand: Brand) -> bool:
    """A second reading that names ``brand`` within its allowance, or odds at least
    DISPUTE_ODDS for the brand's spelling against what was read."""
    pair = [(brand.name, brand.spellings)]
    named = any(match_word(w, pair) is not None for w in candidates(second))
    return named or (respelt is not None and respelt >= DISPUTE_ODDS)


def second_reading(engine: OcrEngine, picture: np.ndarray, line: TextLine,
                   match: NameMatch) -> tuple[str, float | None]:
    """The line read again from its own upright crop, found and recognised afresh, and the
    odds there of the brand's spelling against the misspelling (None where not known).

    A flag costs an officer an exam, and one misread letter (a worn B read
    as E) makes a genuine name a one-letter misspelling.  The engine's slips
    depend on the crop and the scale it reads at; a counterfeiter's spelling
    does not.  So a misspelling is read twice, and one that reads as the
    brand's own name the second time, or that the recogniser finds nearly as
    likely spelt as the name (:mod:`edge.ctc`), is disputed: sent to review.
    """
    piece = line_pixels(picture, line)
    if piece is None:
        return "", None
    m = max(4, int(round(SECOND_READ_MARGIN * piece.shape[0])))
    piece = cv2.copyMakeBorder(piece, m, m, m, m, cv2.BORDER_REPLICATE)
    lines = engine.read_lines(piece, respell=(match.read, match.spelling))
    odds = [t.respelt for t in lines if t.respelt is not None]
    return " ".join(t.text for t in lines), (max(odds) if odds else None)


def read_whole(engine: OcrEngine, picture: np.ndarray, line: TextLine,
               match: NameMatch) -> tuple[NameMatch, TextLine] | None:
    """A name read short ('LUMER') read again from the picture around its line, widened
    along it at both ends by the missing letters and half a letter: the name read exactly
    there, on a line of ``picture``, or None.

    The detector's box often stops a letter short of a word's end (a wide R, a
    light stroke); a genuine name read short would be a review for an officer.
    Only the exact name counts: a name that reads another way there stays as first read.
    """
    u, length, height = line_axis(line)
    shown = len(fold(match.read))
    if length < 1 or shown == 0:
        return None
    reach = (len(fold(match.spelling)) - shown + 0.5) * length / shown
    pts = np.float32(line.box)
    ends = np.vstack([pts - u * reach, pts + u * reach])
    m = SECOND_READ_MARGIN * height
    x0, y0 = np.maximum(0, np.floor(ends.min(0) - m)).astype(int)
    x1, y1 = np.ceil(ends.max(0) + m).astype(int)
    around = np.ascontiguousarray(picture[y0:y1, x0:x1])
    if min(around.shape[:2]) < 2:
        return None
    for found in engine.read_lines(around):
        for word in candidates(found.text):
            whole = match_word(word, [(match.brand, (match.spelling,))])
            if whole is not None and whole.kind == "exact":
                box = tuple((x + float(x0), y + float(y0)) for x, y in found.box)
                return whole, dataclasses.replace(found, box=box)  # type: ignore[arg-type]
    return None


def _emblem_read_as_letters(match: NameMatch, line: TextLine, measured: LineInk | None) -> bool:
    """The name read whole with a letter or two more at the end where the ink shows an
    emblem beside the letters: OCR reads a ring as O.  More letters at the other end are
    printed ones ('LUMERAA' beside a star on its left is a misspelling)."""
    read, name = fold(match.read), fold(match.spelling)
    if match.kind != "partial" or len(read) <= len(name):
        return False
    before, after = emblem_ends(measured)
    if line.upside_down:  # the words run from the warped line's right end to its left
        before, after = after, before
    return read.endswith(name) and before or read.startswith(name) and after


def _match(lines: Sequence[TextLine], catalogue: Catalogue,
           picture: np.ndarray) -> tuple[NameMatch, TextLine] | None:
    """The best name read; a name read short ("NORVE") whose missing letters lie under a band
    of tape at its short end is the brand's name cut (:func:`cut_match`), not a misspelling:
    the line stops where the tape starts, and nobody can tell what the tape hides."""
    best = _best_match(lines, catalogue)
    if best is not None and _read_short(best[0]):
        cut = cut_match((best[1],), catalogue, picture)
        if cut is not None and cut[0].brand == best[0].brand:
            return cut
    return best or covered_match(lines, catalogue, picture)


def _read_short(match: NameMatch) -> bool:
    """Read as the start or end of the name, letters missing at the other end."""
    read, name = fold(match.read), fold(match.spelling)
    return match.kind == "partial" and len(read) < len(name)


def _best_match(lines: Sequence[TextLine], catalogue: Catalogue,
                beside_emblem: bool = True) -> tuple[NameMatch, TextLine] | None:
    pairs = catalogue.spellings
    best: tuple[NameMatch, TextLine] | None = None
    for line in lines:
        # An emblem read apart ('O ZENSAON') is a word of its own: no letter is left out.
        alone = beside_emblem and len(line.text.split()) == 1
        for word in candidates(line.text):
            m = _word_match(word, pairs) if alone else match_word(word, pairs, near=True)
            if m is not None and (best is None or _better(m, line, best)):
                best = (m, line)
    return best


def _word_match(word: str, pairs: Sequence[tuple[str, tuple[str, ...]]]) -> NameMatch | None:
    """The word's match, or, where it makes none or only a near one, its match with an emblem
    read as a letter at one end left out (kept only where the ink shows an emblem beside the
    letters, see :func:`_measured`)."""
    m = match_word(word, pairs, near=True)
    if m is not None and m.kind != "near":
        return m
    beside = match_beside_emblem(word, pairs)
    # A partial match is a name with letters more at an end: an emblem read as letters is
    # already weighed there (_emblem_read_as_letters), and is not left out twice.
    if beside is None or beside.kind == "partial" or (m is not None and
                                                       RANK[beside.kind] >= RANK[m.kind]):
        return m
    return beside


def _guess_of(line: TextLine | None, origin: Box) -> MarkGuess:
    """The read line as a mark guess in frame pixels (centre, own size, angle)."""
    if line is None:
        return MarkGuess(origin.x + origin.w / 2, origin.y + origin.h / 2, origin.w, origin.h,
                         0.0, 0.0)
    pts = np.float32(line.box)
    cx, cy = pts.mean(0)
    top = pts[1] - pts[0]
    return MarkGuess(float(cx) + origin.x, float(cy) + origin.y, float(np.hypot(*top)),
                     float(np.hypot(*(pts[3] - pts[0]))),
                     float(np.degrees(np.arctan2(top[1], top[0]))), line.confidence)


def _better(m: NameMatch, line: TextLine, best: tuple[NameMatch, TextLine]) -> bool:
    return (RANK[m.kind], -line.confidence) < (RANK[best[0].kind], -best[1].confidence)
