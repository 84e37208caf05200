"""Print out of register: a faint second impression beside the strokes told from the blur
every camera adds, and what the judge makes of it."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from edge.catalogue.names import match_word
from edge.classify.crops import MarkGuess
from edge.classify.ink import measure_line
from edge.classify.judge import FLAG, REVIEW, _measure
from edge.classify.register import Doubling, doubled_print
from edge.classify.verify import Reading
from edge.ocr import TextLine
from imaging_helpers import photographed

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
PAPER, BLUE = (230, 228, 220), (30, 60, 160)
BOX = ((10.0, 10.0), (470.0, 10.0), (470.0, 100.0), (10.0, 100.0))
LINE = TextLine("NORVEX", 0.99, BOX)


def _line(step: tuple[int, int] = (0, 0), ghost: float = 0.6, lens: float = 1.0,
          band: bool = False) -> np.ndarray:
    """NORVEX in blue on paper (letters 33 px tall), with a second impression ``ghost`` as
    strong ``step`` (dx, dy) px off the print; ``lens`` is the camera's blur (px); with
    ``band`` a strip of pale tape across the whole cut along the letters' tops."""
    layer = Image.new("L", (480, 110), 0)
    ImageDraw.Draw(layer).text((110, 30), "NORVEX", fill=255,
                               font=ImageFont.truetype(FONT, 46))
    alpha = np.asarray(layer).astype(np.float32) / 255
    if step != (0, 0):
        alpha = np.maximum(alpha, ghost * np.roll(alpha, step[::-1], (0, 1)))
    return photographed(alpha, PAPER, BLUE, lens, band)


def _doubling(image: np.ndarray) -> Doubling:
    found = doubled_print(measure_line(image, LINE))
    assert found is not None
    return found


@pytest.mark.parametrize("step, least", [((4, 4), 0.25), ((-5, 3), 0.25), ((6, 0), 0.25),
                                         ((0, -4), 0.15)])
def test_a_second_impression_is_found_whichever_way_the_plates_drifted(
        step: tuple[int, int], least: float) -> None:
    """A drift straight up or down shows only on the letters' tops, feet and bars, so less of
    it is seen than of a sideways one."""
    found = _doubling(_line(step))
    assert found.share >= least, found
    # the step is measured in letter heights (33 px letters)
    assert found.step == pytest.approx(float(np.hypot(*step)) / 33, abs=0.04)


def test_blur_widens_both_edges_alike_and_is_no_second_impression() -> None:
    """A soft lens spreads partial ink around every stroke; counted on one side only it
    would read as a second impression as strong as a real one."""
    for lens in (0.8, 1.6, 2.4):
        assert _doubling(_line(lens=lens)).share < 0.1, lens
    assert _doubling(_line((4, 4), lens=1.6)).share >= 0.2


def test_a_lens_colour_fringe_is_no_second_impression() -> None:
    """Lateral chromatic aberration shifts one colour channel a pixel or few to one side of
    every edge, as a second impression would, but in one channel only."""
    for shift in (1, 3):
        for channel in (0, 2):
            image = _line()
            image[..., channel] = np.roll(image[..., channel], (shift, shift), (0, 1))
            assert _doubling(image).share < 0.1, (shift, channel)


def test_tape_along_the_letters_is_no_second_impression() -> None:
    assert _doubling(_line(band=True)).share < 0.1
    assert _doubling(_line((4, 4), band=True)).share >= 0.2


def test_too_little_print_to_tell_says_nothing() -> None:
    blank = np.full((110, 480, 3), 225, np.uint8)
    cv2.putText(blank, ".", (200, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.4, BLUE[::-1], 1)
    assert doubled_print(measure_line(blank, LINE)) is None
    assert doubled_print(None) is None


def _judged(share: float, edge: float = 0.05, holes: float = 0.0) -> tuple[float, str]:
    match = match_word("NORVEX", [("NORVEX", ("NORVEX",))])
    assert match is not None
    reading = Reading(MarkGuess(240.0, 55.0, 460.0, 90.0, 0.0, 0.99), (LINE,), match, LINE,
                      edge_rel=edge, holes=holes, doubling=Doubling(share, 0.15))
    scores, evidence = _measure(reading)
    return scores["suspect_quality"], evidence.get("suspect_quality", "")


def test_a_second_impression_reviews_from_0_15_of_the_print_and_never_flags_alone() -> None:
    review, flag = REVIEW["suspect_quality"], FLAG["suspect_quality"]
    assert _judged(0.05)[0] < review and _judged(0.14)[0] < review
    assert review <= _judged(0.151)[0] < _judged(0.25)[0] <= _judged(0.9)[0] < flag
    assert "second print" not in _judged(0.07)[1]
    assert _judged(0.3)[1] == (
        "ink edges are blurred over 5% of the letter height; 0% of the strokes print at under "
        "60% of the ink around them; a faint second print lies 15% of the letter height to "
        "one side of the strokes (30% as much as the print: plates out of register)")


def test_print_faults_each_short_of_its_line_review_together_and_never_flag() -> None:
    # a cheap press's blur (10% of the letter height), holes (7%) and second print (10%),
    # each under its own review line (14%, 10%, 15%): two faults' worth together
    review, flag = REVIEW["suspect_quality"], FLAG["suspect_quality"]
    score, said = _judged(0.10, edge=0.10, holes=0.07)
    assert review <= score < flag
    assert "together weigh 2.1 times one fault at its review line" in said
    # two of the three at the same levels, or all three lower, are what genuine print shows
    assert _judged(0.0, edge=0.10, holes=0.07)[0] < review
    assert _judged(0.08, edge=0.09, holes=0.05)[0] < review
    assert "together" not in _judged(0.08, edge=0.09, holes=0.05)[1]
    # one fault past its line speaks for itself: the sum adds no second sentence
    assert "together" not in _judged(0.30)[1]
    assert _judged(0.29, edge=0.13, holes=0.09)[0] < flag
