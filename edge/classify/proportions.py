"""A read name's letter proportions against its brand's reference picture: a stretched or
squeezed copy of the mark, and a digit printed for a look-alike letter
(:mod:`edge.classify.digits`).  :mod:`edge.classify.verify` reads and measures the name; the
letters' own width per height is :func:`edge.classify.ink.letter_aspect`'s, each letter's
width :func:`edge.classify.ink.letter_widths`'."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import cv2

from edge.catalogue import Brand
from edge.catalogue.names import candidates, fold
from edge.classify.digits import digit_in_place
from edge.classify.ink import letter_aspect, letter_widths, measure_line
from edge.classify.verify import Reading
from edge.ocr import OcrEngine, TextLine

# Reference pictures are read at no more than this long side.
READ_SIDE = 320
# Letter proportions outside this ratio of the reference are a failed measurement
# (a word split or an emblem taken for letters), not a mark: they are not reported.
ASPECT_SANE = (0.3, 3.0)


@dataclass(frozen=True)
class Reference:
    """What a brand's reference picture says of its name's print."""

    aspect: float | None  # the letters' width per letter over their height
    # each letter's width over the letters' median, in reading order (see letter_widths)
    widths: tuple[float, ...] | None = None


def read_reference(engine: OcrEngine, brand: Brand) -> Reference:
    """The genuine name as the first reference picture that shows it prints it."""
    for ref in brand.references:
        image = ref
        if max(image.shape[:2]) > READ_SIDE:
            f = READ_SIDE / max(image.shape[:2])
            image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        pad = cv2.copyMakeBorder(image, 20, 20, 20, 20, cv2.BORDER_REPLICATE)
        for line in engine.read_lines(pad):
            for word in candidates(line.text):
                if fold(word) in {fold(s) for s in brand.spellings}:
                    ink = measure_line(pad, line)
                    return Reference(letter_aspect(ink, word),
                                     in_reading_order(letter_widths(ink, word), line))
    return Reference(None)


def in_reading_order(widths: tuple[float, ...] | None,
                     line: TextLine) -> tuple[float, ...] | None:
    """Letter widths as the line is read: its pieces stand the other way round where it was
    read from its crop turned half a turn."""
    return widths[::-1] if widths is not None and line.upside_down else widths


def _word_read(reading: Reading) -> str:
    """The matched word as the line reads it, symbols included ('★LUMERA'): its ends say
    whether an emblem was read beside the letters.  An emblem read as a letter ('OORBIQ')
    is no letter, so the name's own letters are counted."""
    assert reading.match is not None and reading.line is not None
    if reading.match.kind == "emblem":
        return reading.match.spelling
    if reading.match.kind == "cut":
        # 'NORVE…': the ellipsis stands at the tape, so a sliver of the letter under the
        # tape's edge, standing apart, is not counted as a letter (letter_aspect)
        return reading.match.read
    return next((w for w in candidates(reading.line.text) if fold(w) == reading.match.read),
                reading.match.read)


def with_aspect(reading: Reading, references: Mapping[str, Reference]) -> Reading:
    """``reading`` with the ratio of its letters' aspect to the brand reference's."""
    if reading.match is None or reading.line is None or reading.ink is None or \
            reading.match.kind == "covered":  # two pieces' letters are not the name's
        return reading
    found = references.get(reading.match.brand)
    ref = found.aspect if found else None
    own = letter_aspect(reading.ink, _word_read(reading))
    if not ref or own is None or not ASPECT_SANE[0] <= own / ref <= ASPECT_SANE[1]:
        return reading
    return dataclasses.replace(reading, aspect_ratio=own / ref)


def with_digit(reading: Reading, references: Mapping[str, Reference]) -> Reading:
    """``reading`` with the digit a name read letter for letter prints in place of one of its
    letters, where the letters' widths say so (:mod:`edge.classify.digits`)."""
    if reading.match is None or reading.line is None or reading.match.kind != "exact":
        return reading
    ref = references.get(reading.match.brand)
    widths = in_reading_order(letter_widths(reading.ink, _word_read(reading)), reading.line)
    digit = digit_in_place(widths, ref.widths if ref else None, fold(reading.match.spelling))
    return reading if digit is None else dataclasses.replace(reading, digit=digit)
