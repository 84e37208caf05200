"""An emblem read as a letter beside a misspelt name: left out, the name is found, weakly."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import pytest

from edge.catalogue import load_catalogue
from edge.catalogue.names import match_beside_emblem, match_word
from edge.classify.judge import NEAR_CAP, REVIEW, _measure
from edge.classify.verify import scan_parcel
from edge.ocr import Quad, TextLine
from edge.records import Box

ROOT = Path(__file__).resolve().parents[2]
BRANDS = [("ORBIQ", ("ORBIQ",)), ("ZENTRO", ("ZENTRO",))]
ORBIQ_BGR = (0x8C, 0x23, 0x7D)  # the catalogue's #7D238C
LINE_BOX: Quad = ((20.0, 30.0), (300.0, 30.0), (300.0, 100.0), (20.0, 100.0))


class FirstLookEngine:
    """Reads the parcel's first look as ``text`` over LINE_BOX; nothing anywhere else."""

    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text, self.calls = text, 0

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None, level_within: float = 90.0,
                   found: list[Quad] | None = None,
                   enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
        self.calls += 1
        return (TextLine(self.text, 0.95, LINE_BOX),) if self.calls == 1 else ()


def parcel(ring: bool) -> np.ndarray:
    """White board with 'OPBIO' in ORBIQ's purple, 36 px capitals, and where ``ring`` a ring
    half again as tall left of it, as ORBIQ's emblem is drawn."""
    image = np.full((200, 320, 3), 236, np.uint8)
    cv2.putText(image, "OPBIO", (100, 83), cv2.FONT_HERSHEY_SIMPLEX, 1.4, ORBIQ_BGR, 4)
    if ring:
        cv2.circle(image, (60, 65), 28, ORBIQ_BGR, -1)
        cv2.circle(image, (60, 65), 13, (236, 236, 236), -1)
    return image


def test_a_word_is_read_without_the_letter_at_either_end() -> None:
    assert match_word("OOPBIO", BRANDS, near=True) is None  # three edits from ORBIQ
    m = match_beside_emblem("OOPBIO", BRANDS)
    assert m is not None and (m.brand, m.read, m.kind, m.emblem) == ("ORBIQ", "OPBIO", "near", 1)
    end = match_beside_emblem("ZENTROX", BRANDS)
    assert end is not None and (end.read, end.kind) == ("ZENTRO", "exact")
    assert match_beside_emblem("ORBQ", BRANDS) is None  # too short to spare a letter
    # the emblem read as a symbol already: the letter beside it is a letter
    assert match_beside_emblem("★OOPBIO", BRANDS) is None  # 'OOPBI' is three edits away


def test_an_emblem_read_as_a_word_of_its_own_leaves_no_letter_out() -> None:
    reading = scan_parcel(FirstLookEngine("O OPBIO"), parcel(ring=True), Box(0, 0, 320, 200),
                          load_catalogue(ROOT / "models/catalogue"))
    assert reading.match is None or reading.match.emblem == 0


def test_a_misspelt_name_beside_its_emblem_read_as_a_letter_is_reviewed_not_flagged() -> None:
    reading = scan_parcel(FirstLookEngine("OOPBIO"), parcel(ring=True), Box(0, 0, 320, 200),
                          load_catalogue(ROOT / "models/catalogue"))
    assert reading.match is not None and reading.match.brand == "ORBIQ"
    assert reading.match.emblem == 1
    scores, evidence = _measure(reading)
    assert REVIEW["suspect_misspelled"] <= scores["suspect_misspelled"] <= NEAR_CAP
    assert "beside its emblem (read as a letter)" in evidence["suspect_misspelled"]


@pytest.mark.parametrize("read, kind", [("OOPBIO", None), ("OBIQQ", "near")])
def test_without_an_emblem_the_letter_is_a_letter(read: str, kind: str | None) -> None:
    """The word then matches as it reads: 'OOPBIO' not at all, 'OBIQQ' as a near ORBIQ in its
    colour (left out, its first letter would have made 'BIQQ' an edit)."""
    reading = scan_parcel(FirstLookEngine(read), parcel(ring=False), Box(0, 0, 320, 200),
                          load_catalogue(ROOT / "models/catalogue"))
    assert (reading.match.kind if reading.match else None) == kind
    assert reading.match is None or reading.match.emblem == 0
