"""A digit printed for a look-alike letter of a name read letter for letter ('0RBIQ' read
as ORBIQ), told by its width against the reference's, whatever the two typefaces."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge.catalogue.names import match_word
from edge.classify.crops import MarkGuess
from edge.classify.digits import DigitInPlace, digit_in_place
from edge.classify.ink import letter_widths, measure_line
from edge.classify.judge import FLAG, REVIEW, _measure
from edge.classify.proportions import Reference, in_reading_order, with_digit
from edge.classify.verify import Reading
from edge.ocr import TextLine
from imaging_helpers import photographed

URW = "/usr/share/fonts/opentype/urw-base35/"
DEJAVU = "/usr/share/fonts/truetype/dejavu/"
BOX = ((10.0, 20.0), (470.0, 20.0), (470.0, 100.0), (10.0, 100.0))


def _printed(text: str, face: str, upside_down: bool = False) -> np.ndarray:
    """``text`` 40 px tall in purple on kraft, photographed through a lens of about a pixel."""
    sheet = Image.new("L", (480, 120), 0)
    ImageDraw.Draw(sheet).text((40, 30), text, fill=255, font=ImageFont.truetype(face, 44))
    if upside_down:
        sheet = sheet.rotate(180)
    alpha = np.asarray(sheet, np.float32) / 255.0
    return photographed(alpha, (200, 170, 130), (125, 35, 140), lens=1.0)


def _widths(text: str, face: str) -> tuple[float, ...] | None:
    return letter_widths(measure_line(_printed(text, face), TextLine(text, 0.99, BOX)), text)


def test_a_zero_for_the_o_and_a_one_for_the_i_are_told_in_the_references_face() -> None:
    """The reference is the rights holder's artwork, set in the print's face."""
    for face in ("P052-Bold.otf", "NimbusSans-Bold.otf", "NimbusSans-Regular.otf"):
        reference = _widths("ORBIQ", URW + face)
        assert reference is not None
        assert digit_in_place(_widths("ORBIQ", URW + face), reference, "ORBIQ") is None, face
        zero = digit_in_place(_widths("0RBIQ", URW + face), reference, "ORBIQ")
        assert zero is not None and (zero.letter, zero.digit, zero.place) == ("O", "0", 0), face
    # a sans face's one is as wide as its other figures, half again its I or more
    for face in ("NimbusSans-Bold.otf", "NimbusSans-Regular.otf"):
        one = digit_in_place(_widths("ORB1Q", URW + face), _widths("ORBIQ", URW + face), "ORBIQ")
        assert one is not None and (one.letter, one.digit, one.place) == ("I", "1", 3), face


def test_a_genuine_o_set_in_another_proportional_face_is_no_zero() -> None:
    """A print set in a face other than the reference's, as the demo catalogue's references
    are: an O is a round capital, about as wide as the word's widest, in every such face."""
    reference = _widths("ORBIQ", DEJAVU + "DejaVuSans-Bold.ttf")
    for face in ("P052-Bold.otf", "NimbusSans-Regular.otf", "URWGothic-Demi.otf"):
        found = digit_in_place(_widths("ORBIQ", URW + face), reference, "ORBIQ")
        assert found is None or found.letter != "O", face
    zero = digit_in_place(_widths("0RBIQ", URW + "NimbusSans-Bold.otf"), reference, "ORBIQ")
    assert zero is not None and zero.place == 0


def test_letters_that_touch_or_break_say_nothing() -> None:
    # at this size and weight LUMERA's pieces are its letters; KALIMBA's serifs join
    assert _widths("KALIMBA", URW + "URWBookman-Demi.otf") is None
    assert digit_in_place(None, (1.0,) * 5, "ORBIQ") is None
    assert digit_in_place((1.0,) * 4, (1.0,) * 5, "ORBIQ") is None
    # an O measured a third as wide as the reference's is a piece of it (split by tape or
    # faint ink), not a zero, which prints at least about half as wide as its face's O
    assert digit_in_place((0.34, 1.1, 1.0, 0.5, 1.0), (1.0, 1.14, 1.08, 0.53, 1.0), "ORBIQ") is None


def _reading(picture: np.ndarray, upside_down: bool = False) -> Reading:
    line = TextLine("ORBIQ", 0.99, BOX, upside_down=upside_down)
    match = match_word("ORBIQ", [("ORBIQ", ("ORBIQ",))])
    assert match is not None and match.kind == "exact"
    return Reading(MarkGuess(240.0, 60.0, 460.0, 80.0, 0.0, 0.99), (line,), match, line,
                   ink=measure_line(picture, line))


def test_a_line_read_upside_down_has_its_letters_the_other_way_round() -> None:
    face = URW + "P052-Bold.otf"
    reference = {"ORBIQ": Reference(1.0, _widths("ORBIQ", face))}
    turned = with_digit(_reading(_printed("0RBIQ", face, upside_down=True), True), reference)
    assert turned.digit is not None and turned.digit.place == 0
    upright = with_digit(_reading(_printed("0RBIQ", face)), reference)
    assert upright.digit is not None and upright.digit.place == 0
    assert with_digit(_reading(_printed("ORBIQ", face, upside_down=True), True), reference).digit \
        is None
    assert in_reading_order((1.0, 2.0), TextLine("x", 1.0, BOX, upside_down=True)) == (2.0, 1.0)


def test_a_digit_in_place_is_reviewed_never_flagged_with_what_was_measured() -> None:
    line = TextLine("ORBIQ", 0.99, BOX)
    match = match_word("ORBIQ", [("ORBIQ", ("ORBIQ",))])
    assert match is not None
    reading = Reading(MarkGuess(240.0, 60.0, 460.0, 80.0, 0.0, 0.99), (line,), match, line,
                      digit=DigitInPlace("O", "0", 0, 0.71))
    scores, evidence = _measure(reading)
    assert REVIEW["suspect_misspelled"] <= scores["suspect_misspelled"] < FLAG["suspect_misspelled"]
    assert evidence["suspect_misspelled"] == (
        "letter 1 (O) prints 0.71x as wide for its word as on ORBIQ's reference, as a 0 would: "
        "the digit 0 printed for the letter O reads as the name")
    assert _measure(Reading(reading.guess, (line,), match, line))[0]["suspect_misspelled"] == 0.0


def test_an_emblem_above_the_name_is_not_taken_for_one_of_its_letters() -> None:
    """A diamond as tall as the letters above the name, and two letters run together at
    their feet: as many pieces as letters, but one of them off the word's row."""
    face = ImageFont.truetype(URW + "NimbusSans-Bold.otf", 44)
    sheet = Image.new("L", (480, 160), 0)
    draw = ImageDraw.Draw(sheet)
    draw.text((40, 70), "ORBIQ", fill=255, font=face)
    left, top, right, bottom = draw.textbbox((40, 70), "ORBIQ", font=face)
    draw.rectangle((left + 40, bottom - 4, left + 80, bottom), fill=255)  # R and B joined
    mid, size = (left + right) // 2, bottom - top
    draw.polygon([(mid, top - size - 6), (mid + size // 2, top - size // 2 - 6), (mid, top - 6),
                  (mid - size // 2, top - size // 2 - 6)], fill=255)
    picture = photographed(np.asarray(sheet, np.float32) / 255.0, (200, 170, 130),
                           (125, 35, 140), lens=1.0)
    line = TextLine("ORBIQ", 0.99, ((10.0, 10.0), (470.0, 10.0), (470.0, 150.0), (10.0, 150.0)))
    ink = measure_line(picture, line)
    assert ink is not None
    assert letter_widths(ink, "ORBIQ") is None
