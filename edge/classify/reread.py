"""A line read a second time, from its own upright crop: what a first reading may have missed.

The engine's slips depend on the crop and the scale it reads at (a whole
parcel shrunk to the detector's side); a counterfeiter's spelling does not.
So a misspelling that would flag is read again and disputed where it then
reads as the name, or the recogniser finds the name nearly as likely
(:func:`second_reading`); a name read exactly is read again and doubted where
the recogniser finds a misspelling it would print as the name nearly as likely
(:func:`read_again` with :func:`edge.catalogue.names.hidden_spellings`); a
name read short is read again from the picture around its line
(:func:`read_whole`).
"""
from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from edge.catalogue.names import NameMatch, candidates, fold, match_word
from edge.classify.cover import line_axis
from edge.classify.ink import line_pixels
from edge.ocr import OcrEngine, Respell, TextLine

# The line is read again from its own upright crop with this margin (in line heights).
SECOND_READ_MARGIN = 0.5
# A misspelling is disputed where, read again, the recogniser finds the brand's spelling at
# least 1/20 as likely as the misspelling (ln odds; see edge.ctc for the measured spread:
# printed misspellings -3.6 and below, genuine marks misread -2.4 and -2.7).
DISPUTE_ODDS = math.log(1 / 20)
# A name read exactly is doubted where, read again on its own, the recogniser finds a spelling
# that a counterfeiter prints and it would print as the name (a look-alike letter, a letter
# doubled: names.hidden_spellings) at least 1/20 as likely as the name: the mirror of a
# dispute.  Held-out dev splits 4242 / 4343 / 4444 / 4545: of 139 genuine marks read exactly
# the likeliest such spelling reached 1 in 138 (ln -4.9); of 503 wrongly packed, wrong-colour,
# distorted and low-quality ones (the name's own spelling, other faults) 6 passed the line,
# five of them low-quality prints ('KALLMBA' 1 in 11); a KAL1MBA read as KALIMBA, 1 in 11.
DOUBT_ODDS = math.log(1 / 20)


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
    second, odds = read_again(engine, picture, line, (match.read, (match.spelling,)))
    return second, None if odds is None else odds[1]


def read_again(engine: OcrEngine, picture: np.ndarray, line: TextLine,
               respell: Respell) -> tuple[str, tuple[str, float] | None]:
    """What ``line`` reads from its own upright crop, found and recognised afresh, and the
    likeliest of ``respell``'s spellings in its word's place with its odds (see
    :meth:`edge.ocr.OcrEngine.read_lines`; None where not known)."""
    piece = line_pixels(picture, line)
    if piece is None:
        return "", None
    m = max(4, int(round(SECOND_READ_MARGIN * piece.shape[0])))
    piece = cv2.copyMakeBorder(piece, m, m, m, m, cv2.BORDER_REPLICATE)
    lines = engine.read_lines(piece, respell=respell)
    odds = [(t.respelt_as, t.respelt) for t in lines if t.respelt is not None]
    return " ".join(t.text for t in lines), max(odds, key=lambda o: o[1], default=None)


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
