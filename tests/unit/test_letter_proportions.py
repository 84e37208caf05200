"""Letter proportions of a read line: the letters' own height, whatever else the line box holds."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge.classify.verify import letter_aspect
from edge.ocr import TextLine

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOX = ((10.0, 20.0), (470.0, 20.0), (470.0, 100.0), (10.0, 100.0))


def _mark(star: bool, stretch: float = 1.0, ring: bool = False) -> np.ndarray:
    """LUMERA in red on grey paper; with ``star`` the foot of an emblem printed above it
    reaches into the line's box, as OCR boxes LUMERA's name under its star; with ``ring``
    an emblem half as tall again as the letters stands beside the name, inside the box."""
    word = Image.new("RGB", (300, 70), (225, 225, 220))
    ImageDraw.Draw(word).text((4, 6), "LUMERA", fill=(200, 35, 45),
                              font=ImageFont.truetype(FONT, 48))
    if stretch != 1.0:
        word = word.resize((int(300 * stretch), 70), Image.BICUBIC)
    sheet = Image.new("RGB", (480, 120), (225, 225, 220))
    sheet.paste(word, (110, 35))
    draw = ImageDraw.Draw(sheet)
    if star:
        draw.polygon([(240, 0), (280, 0), (265, 33), (255, 33)], fill=(200, 35, 45))
    if ring:
        draw.ellipse((30, 36, 90, 96), outline=(200, 35, 45), width=10)
    return np.asarray(sheet)[:, :, ::-1].copy()


def test_an_emblem_reaching_into_the_line_box_does_not_make_the_letters_taller() -> None:
    line = TextLine("LUMERA", 0.99, BOX)
    alone = letter_aspect(_mark(star=False), line, "LUMERA")
    under_star = letter_aspect(_mark(star=True), line, "LUMERA")
    assert alone is not None and under_star is not None
    # counted by rows of ink, the star's foot made the letters about a third taller
    assert abs(under_star / alone - 1.0) < 0.05


def test_an_emblem_beside_the_name_does_not_make_the_letters_wider() -> None:
    line = TextLine("LUMERA", 0.99, BOX)
    alone = letter_aspect(_mark(star=False), line, "LUMERA")
    beside_a_ring = letter_aspect(_mark(star=False, ring=True), line, "LUMERA")
    assert alone is not None and beside_a_ring is not None
    # counted by columns of ink, the ring made each letter a fifth wider
    assert abs(beside_a_ring / alone - 1.0) < 0.05


def test_a_stretched_mark_still_measures_as_stretched() -> None:
    line = TextLine("LUMERA", 0.99, BOX)
    plain = letter_aspect(_mark(star=True), line, "LUMERA")
    wide = letter_aspect(_mark(star=True, stretch=1.2), line, "LUMERA")
    assert plain is not None and wide is not None
    assert 1.12 < wide / plain < 1.28
