"""A read name's letter proportions against its brand's reference picture: a stretched or
squeezed copy of the mark (:mod:`edge.classify.verify` reads and measures the name; the
letters' own width per height is :func:`edge.classify.ink.letter_aspect`'s)."""
from __future__ import annotations

import dataclasses

import cv2

from edge.catalogue import Brand
from edge.catalogue.names import candidates, fold
from edge.classify.ink import letter_aspect, measure_line
from edge.classify.verify import Reading
from edge.ocr import OcrEngine

# Reference pictures are read at no more than this long side.
READ_SIDE = 320
# Letter proportions outside this ratio of the reference are a failed measurement
# (a word split or an emblem taken for letters), not a mark: they are not reported.
ASPECT_SANE = (0.3, 3.0)


def reference_aspect(engine: OcrEngine, brand: Brand) -> float | None:
    """The genuine name's width per letter over height, read from the first reference picture."""
    for ref in brand.references:
        image = ref
        if max(image.shape[:2]) > READ_SIDE:
            f = READ_SIDE / max(image.shape[:2])
            image = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        pad = cv2.copyMakeBorder(image, 20, 20, 20, 20, cv2.BORDER_REPLICATE)
        for line in engine.read_lines(pad):
            for word in candidates(line.text):
                if fold(word) in {fold(s) for s in brand.spellings}:
                    return letter_aspect(measure_line(pad, line), word)
    return None


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


def with_aspect(reading: Reading, references: dict[str, float | None]) -> Reading:
    """``reading`` with the ratio of its letters' aspect to the brand reference's."""
    if reading.match is None or reading.line is None or reading.ink is None or \
            reading.match.kind == "covered":  # two pieces' letters are not the name's
        return reading
    ref = references.get(reading.match.brand)
    own = letter_aspect(reading.ink, _word_read(reading))
    if not ref or own is None or not ASPECT_SANE[0] <= own / ref <= ASPECT_SANE[1]:
        return reading
    return dataclasses.replace(reading, aspect_ratio=own / ref)
