"""A misspelling that flags is read twice: one the engine reads as the name itself is a review."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pytest

from edge.catalogue import Catalogue, load_catalogue
from edge.classify.crops import MarkGuess
from edge.classify.judge import FLAG, REVIEW, _measure
from edge.classify.verify import NEAR_MAX_DELTA_E, Reading, scan_parcel
from edge.catalogue.names import match_word
from edge.ocr import Quad, TextLine
from edge.records import Box

ROOT = Path(__file__).resolve().parents[2]
LINE = TextLine("KALIMEA", 0.97, ((40.0, 30.0), (240.0, 30.0), (240.0, 80.0), (40.0, 80.0)))
BRANDS = [("KALIMBA", ("KALIMBA",))]
TURNED = (300, 200)  # the 200 x 300 parcel turned a quarter: its second look


class ScriptedEngine:
    """Reads the parcel as ``first``, nothing on it turned a quarter, then any other picture
    after it (the line's crop) as ``then``."""

    name = "scripted"

    def __init__(self, first: str, then: str, odds: float | None = None) -> None:
        self.first, self.then, self.odds, self.pictures = first, then, odds, []
        self.asked: list[tuple[str, str] | None] = []

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None, level_within: float = 90.0,
                   found: list[Quad] | None = None,
                   enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
        self.pictures.append(image_bgr.shape)
        self.asked.append(respell)
        if len(self.pictures) == 1:
            return (TextLine(self.first, 0.97, LINE.box),)
        if image_bgr.shape[:2] == TURNED:
            return ()
        box = ((5.0, 5.0), (60.0, 5.0), (60.0, 20.0), (5.0, 20.0))
        return (TextLine(self.then, 0.99, box, self.odds if respell else None),)


def _catalogue() -> Catalogue:
    return load_catalogue(ROOT / "models/catalogue")


def _parcel() -> np.ndarray:
    image = np.full((200, 300, 3), 230, np.uint8)
    image[40:70, 50:230] = (0, 125, 235)  # the line's ink, KALIMBA's orange
    return image


def test_a_misspelling_read_as_the_name_the_second_time_is_reviewed_not_flagged() -> None:
    engine = ScriptedEngine("KALIMEA", "KALIMBA")
    reading = scan_parcel(engine, _parcel(), Box(0, 0, 300, 200), _catalogue())
    assert reading.match is not None and reading.match.kind == "edit"
    # the second picture is the line alone, upright, with half a line height around it
    assert len(engine.pictures) == 2 and engine.pictures[1][:2] == (100, 250)
    assert reading.second == "KALIMBA" and reading.disputed
    scores, evidence = _measure(reading)
    assert REVIEW["suspect_misspelled"] <= scores["suspect_misspelled"] < FLAG["suspect_misspelled"]
    assert "read again on its own it reads 'KALIMBA'" in evidence["suspect_misspelled"]


def test_a_misspelling_read_the_same_or_otherwise_misspelt_again_still_flags() -> None:
    for then in ("KALIMEA", "KALlMEA", ""):
        reading = scan_parcel(ScriptedEngine("KALIMEA", then), _parcel(), Box(0, 0, 300, 200),
                              _catalogue())
        assert not reading.disputed
        assert _measure(reading)[0]["suspect_misspelled"] >= FLAG["suspect_misspelled"]


def test_an_exact_name_is_never_read_twice() -> None:
    engine = ScriptedEngine("KALIMBA", "KALIMEA")
    reading = scan_parcel(engine, _parcel(), Box(0, 0, 300, 200), _catalogue())
    assert reading.match is not None and reading.match.kind == "exact"
    assert len(engine.pictures) == 1 and reading.second is None


def test_only_the_spelling_matched_disputes_a_reading() -> None:
    line = TextLine("KALIMEA", 0.97, LINE.box)
    match = match_word("KALIMEA", BRANDS)
    guess = MarkGuess(0, 0, 1, 1, 0, 1)
    assert Reading(guess, (line,), match, line, second="THE KALIMBA SHOP").disputed
    assert not Reading(guess, (line,), match, line, second="KALIMBAS").disputed


@pytest.mark.parametrize("odds,disputed", [(-2.4, True), (-3.6, False), (None, False)])
def test_a_misspelling_the_recogniser_finds_nearly_as_likely_spelt_right_is_reviewed(
        odds: float | None, disputed: bool) -> None:
    """Read the same again, but the brand's spelling nearly as likely in the recogniser's columns."""
    engine = ScriptedEngine("KALIMEA", "KALIMEA", odds)
    reading = scan_parcel(engine, _parcel(), Box(0, 0, 300, 200), _catalogue())
    assert engine.asked == [None, ("KALIMEA", "KALIMBA")]  # asked only of the second reading
    assert reading.respelt == odds and reading.disputed is disputed
    scores, evidence = _measure(reading)
    if disputed:
        assert REVIEW["suspect_misspelled"] <= scores["suspect_misspelled"] < FLAG["suspect_misspelled"]
        assert "finds the brand's own spelling KALIMBA 1 in 11 as likely" in evidence["suspect_misspelled"]
    else:
        assert scores["suspect_misspelled"] >= FLAG["suspect_misspelled"]
        assert "as likely" not in evidence["suspect_misspelled"]


def _blue_parcel() -> np.ndarray:
    image = _parcel()
    image[40:70, 50:230] = (200, 60, 30)  # the line's ink, blue: not KALIMBA's orange
    return image


@pytest.mark.parametrize("then, odds, named", [
    ("KALIMBA", None, True),     # read again, the name itself: a misread mark in another colour
    ("KAXIMEO", -1.0, True),     # the recogniser finds the name nearly as likely
    ("KAXIMEO", -30.0, False),   # it rules the name out: another word (a shop's mark)
    ("", None, False),
])
def test_a_near_name_in_another_colour_names_the_brand_only_if_read_again_as_it(
        then: str, odds: float | None, named: bool) -> None:
    engine = ScriptedEngine("KAXIMEO", then, odds)
    reading = scan_parcel(engine, _blue_parcel(), Box(0, 0, 300, 200), _catalogue())
    # a near name names no brand yet: the parcel is read turned, then the line read again
    assert engine.pictures[1][:2] == TURNED and engine.asked[2] == ("KAXIMEO", "KALIMBA")
    assert (reading.match is not None) == named
    if named:
        assert reading.match.kind == "near" and reading.delta_e > NEAR_MAX_DELTA_E
        scores, _ = _measure(reading)
        assert all(scores[k] <= REVIEW[k] for k in REVIEW)  # weak: never a flag alone


@pytest.mark.parametrize("ink, named", [
    ((0, 180, 235), True),    # a yellower orange, ΔE 20: worn or cheap ink, not another colour
    ((0, 200, 235), False),   # ΔE 27: plainly another colour, and not read as the name again
])
def test_a_near_name_short_of_plainly_another_colour_names_the_brand(
        ink: tuple[int, int, int], named: bool) -> None:
    image = np.full((200, 300, 3), 230, np.uint8)
    for x in range(52, 228, 16):  # letters' stems: the line's paper shows between them
        image[42:68, x:x + 6] = ink
    reading = scan_parcel(ScriptedEngine("KAXIMEO", ""), image, Box(0, 0, 300, 200), _catalogue())
    assert (reading.match is not None) == named
    if named:
        assert reading.match.kind == "near" and 15 < reading.delta_e < NEAR_MAX_DELTA_E
        scores, _ = _measure(reading)
        assert all(scores[k] <= REVIEW[k] for k in REVIEW)  # weak: never a flag alone
