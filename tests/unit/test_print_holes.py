"""Holes in the print: blotchy ink told from solid ink, whatever else the line's box holds,
and what the judge makes of them."""
from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge.catalogue.names import match_word
from edge.classify.crops import MarkGuess
from edge.classify.ink import measure_line, patchiness
from edge.classify.judge import FLAG, REVIEW, _measure
from edge.classify.verify import Reading
from edge.ocr import TextLine
from imaging_helpers import blotched, photographed

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
PAPER, RED = (225, 225, 220), (200, 35, 45)
BOX = ((10.0, 10.0), (470.0, 10.0), (470.0, 100.0), (10.0, 100.0))
LINE = TextLine("LUMERA", 0.99, BOX)


def _line(blotchy: bool = False, emblem: bool = False, band: bool = False,
          thin: bool = False, seed: int = 3, lens: float = 0.9) -> np.ndarray:
    """LUMERA in red on paper (its letters' tops at y = 39), solid or blotchy; with ``emblem``
    a solid disc a word space before it; with ``band`` a strip of pale tape across the whole
    cut along the letters' tops, fainter than the ink; with ``thin`` the name in a regular
    face; ``lens`` is the camera's blur (px)."""
    font = ImageFont.truetype(FONT.replace("-Bold", "") if thin else FONT, 46)
    layer = Image.new("L", (480, 110), 0)
    draw = ImageDraw.Draw(layer)
    draw.text((110, 30), "LUMERA", fill=255, font=font)
    alpha = np.asarray(layer).astype(np.float32) / 255
    if blotchy:
        alpha = blotched(alpha, seed)
    if emblem:
        cv2.circle(alpha, (60, 62), 28, 1.0, -1, cv2.LINE_AA)
    return photographed(alpha, PAPER, RED, lens, band)


def _holes(image: np.ndarray) -> float:
    share = patchiness(measure_line(image, LINE))
    assert share is not None
    return share


def test_solid_print_has_no_holes_and_a_cheap_press_does() -> None:
    """The judge reviews from a tenth of the strokes printed as holes."""
    for seed in (3, 4, 5):
        solid, blotchy = _holes(_line(seed=seed)), _holes(_line(blotchy=True, seed=seed))
        assert solid < 1 / 20 and blotchy >= 1 / 8, (seed, solid, blotchy)


def test_a_thin_name_beside_a_bold_emblem_is_not_holes() -> None:
    """Under a soft lens a regular face's strokes never reach the strength of a solid emblem:
    measured against the line's strongest ink, a fifth of them were holes."""
    assert _holes(_line(emblem=True, thin=True, lens=2.5)) < 1 / 20


def test_a_band_of_tape_across_the_cut_is_no_print() -> None:
    """Taken for ink, the tape's rows touching the letters counted as a ninth of holes."""
    assert _holes(_line(band=True)) < 1 / 20
    assert _holes(_line(band=True, blotchy=True)) >= 1 / 8


def test_too_little_ink_to_tell_says_nothing() -> None:
    blank = np.full((110, 480, 3), 225, np.uint8)
    cv2.putText(blank, ".", (200, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.4, RED[::-1], 1)
    assert patchiness(measure_line(blank, LINE)) is None
    assert patchiness(None) is None


def _judged(holes: float | None, edge_rel: float | None = 0.05) -> tuple[float, str]:
    line = TextLine("LUMERA", 0.99, BOX)
    match = match_word("LUMERA", [("LUMERA", ("LUMERA",))])
    assert match is not None
    reading = Reading(MarkGuess(240.0, 55.0, 460.0, 90.0, 0.0, 0.99), (line,), match, line,
                      edge_rel=edge_rel, holes=holes)
    scores, evidence = _measure(reading)
    return scores["suspect_quality"], evidence.get("suspect_quality", "")


def test_holes_review_from_a_tenth_of_the_strokes_and_flag_from_a_quarter() -> None:
    review, flag = REVIEW["suspect_quality"], FLAG["suspect_quality"]
    assert _judged(0.0)[0] < review and _judged(0.08)[0] < review
    # scores are kept to four places, so a share exactly on a line can round to just under it
    assert _judged(0.098)[0] < review <= _judged(0.101)[0] < flag <= _judged(0.251)[0]
    assert _judged(0.24)[0] < flag
    score, said = _judged(0.3)
    assert score >= flag
    assert said == ("ink edges are blurred over 5% of the letter height; 30% of the strokes "
                    "print at under 60% of the ink around them")


def test_blurred_edges_still_speak_when_the_print_has_no_holes_but_never_flag_alone() -> None:
    review, flag = REVIEW["suspect_quality"], FLAG["suspect_quality"]
    # under the camera a genuine print's edges blur over up to 13% of its letters' height
    assert _judged(0.0, edge_rel=0.13)[0] < review <= _judged(0.0, edge_rel=0.141)[0]
    assert review < _judged(0.0, edge_rel=0.2)[0] <= _judged(0.0, edge_rel=0.4)[0] < flag
    assert _judged(0.3, edge_rel=0.4)[0] >= flag  # holes still flag, whatever the blur
    assert _judged(None, edge_rel=None) == (0.0, "")
