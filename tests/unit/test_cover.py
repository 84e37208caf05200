"""A line running into tape: the band beside it is measured in the line's letters."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.classify.cover import band_beside, hidden_letters
from edge.ocr import TextLine

KRAFT, TAPE, LABEL = (95, 140, 190), (170, 175, 180), (246, 248, 250)
# "ZEN" in 40 px capitals from x = 100 to 220 on row 200 (three letters of 40 px pitch).
LINE = ((100.0, 180.0), (220.0, 180.0), (220.0, 220.0), (100.0, 220.0))


def picture(band: tuple[int, int] | None = None, colour: tuple[int, int, int] = TAPE,
            tall: tuple[int, int] = (0, 400), angle: float = 0.0) -> np.ndarray:
    """Kraft board with ZEN printed and, where given, a band from x = band[0] to band[1]
    (rows ``tall``), the whole turned ``angle`` degrees about the line's centre."""
    img = np.full((400, 600, 3), KRAFT, np.uint8)
    cv2.putText(img, "ZEN", (102, 218), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (40, 120, 20), 4)
    if band is not None:
        cv2.rectangle(img, (band[0], tall[0]), (band[1], tall[1]), colour, -1)
    if angle:
        m = cv2.getRotationMatrix2D((160, 200), angle, 1.0)
        img = cv2.warpAffine(img, m, (600, 400), borderMode=cv2.BORDER_REPLICATE)
    return img


def line(angle: float = 0.0, text: str = "ZEN") -> TextLine:
    pts = np.float32(LINE)
    if angle:
        m = cv2.getRotationMatrix2D((160, 200), angle, 1.0)
        pts = cv2.transform(pts[None], m)[0]
    corners = tuple((float(x), float(y)) for x, y in pts)
    return TextLine(text, 0.95, corners)  # type: ignore[arg-type]


@pytest.mark.parametrize("angle", [0.0, 35.0, 180.0, 90.0])
def test_tape_beside_the_line_is_measured_in_letters_at_any_turn(angle: float) -> None:
    """Tape two letters wide (80 px at 40 px a letter) from the line's end."""
    assert band_beside(picture((224, 304), angle=angle), line(angle)) == 2


def test_tape_before_the_line_counts_as_well() -> None:
    assert band_beside(picture((0, 96)), line()) is None  # runs to the picture's edge
    assert band_beside(picture((16, 96)), line()) == 2


def test_tape_before_a_surface_whose_shading_drifts_counts() -> None:
    """Film's shading drifts across a parcel: beyond dark tape the surface shows again 15%
    darker than beside the line (about 9 in Lab), still far nearer it than the tape is."""
    img = picture((224, 304), colour=(60, 60, 60))
    img[:, 304:] = (img[:, 304:].astype(np.float32) * 0.85).astype(np.uint8)
    assert band_beside(img, line()) == 2


@pytest.mark.parametrize("what, band, tall, colour", [
    ("no band", None, (0, 400), TAPE),
    ("a band far from the line", (330, 400), (0, 400), TAPE),
    ("a patch as tall as the letters only (another word's ink)", (224, 304), (182, 218), TAPE),
    ("a label wider than the line's reach: the surface does not come back", (224, 600),
     (0, 400), LABEL),
    ("a band in the surface's own colour", (224, 304), (0, 400), KRAFT),
])
def test_what_is_not_tape_beside_the_line(what: str, band: tuple[int, int] | None,
                                          tall: tuple[int, int],
                                          colour: tuple[int, int, int]) -> None:
    assert band_beside(picture(band, colour, tall), line()) is None, what


def test_two_pieces_on_one_line_have_the_gap_counted_in_letters() -> None:
    first = line()
    second = TextLine("O", 0.9, ((300.0, 180.0), (340.0, 180.0), (340.0, 218.0), (300.0, 218.0)))
    assert hidden_letters(first, second) == 2
    lower = TextLine("O", 0.9, ((300.0, 260.0), (340.0, 260.0), (340.0, 298.0), (300.0, 298.0)))
    assert hidden_letters(first, lower) is None  # another line of print


def test_tape_beyond_a_letters_blurred_last_column_counts() -> None:
    """A thin dark column at the line's end (a blurred last stroke standing apart) is no band
    of its own; the tape a few pixels beyond it is still found."""
    img = picture((228, 308))
    img[:, 221:223] = (40, 60, 30)
    assert band_beside(img, line()) == 2


def test_tape_across_a_name_printed_by_the_parcels_edge_counts() -> None:
    """The parcel ends just under the line: the rows below it are belt, and the tape runs
    off the parcel there.  The surface is read between the letters, the band above."""
    img = picture((224, 304), tall=(0, 226))
    img[226:] = (55, 70, 60)
    assert band_beside(img, line()) == 2


def test_a_short_piece_boxed_aslant_is_still_on_the_longer_pieces_line() -> None:
    """'KA' boxed 10 degrees off its line (two letters give the detector little to go by)
    and 'MBA' level, two letters' gap between: KALIMBA with 'LI' under tape."""
    m = cv2.getRotationMatrix2D((180, 200), 10.0, 1.0)
    short = cv2.transform(np.float32([[(140, 180), (220, 180), (220, 220), (140, 220)]]), m)[0]
    ka = TextLine("KA", 0.99, tuple((float(x), float(y)) for x, y in short))  # type: ignore[arg-type]
    mba = TextLine("MBA", 0.97, ((300.0, 180.0), (420.0, 180.0), (420.0, 220.0), (300.0, 220.0)))
    assert hidden_letters(ka, mba) == 2
    assert hidden_letters(mba, ka) == 2
