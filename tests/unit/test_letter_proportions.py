"""Letter proportions of a read line: the letters' own height, whatever else the line box holds."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge.catalogue import load_catalogue
from edge.catalogue.names import NameMatch
from edge.classify.ink import emblem_beside, emblem_ends, letter_aspect, measure_line
from edge.classify.verify import _emblem_read_as_letters, scan_parcel
from edge.ocr import Quad, TextLine
from edge.records import Box

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
ROOT = Path(__file__).resolve().parents[2]
BOX = ((10.0, 20.0), (470.0, 20.0), (470.0, 100.0), (10.0, 100.0))


def _mark(star: bool, stretch: float = 1.0, ring: bool = False, text: str = "LUMERA",
          triangle: bool = False) -> np.ndarray:
    """LUMERA in red on grey paper; with ``star`` the foot of an emblem printed above it
    reaches into the line's box, as OCR boxes LUMERA's name under its star; with ``ring``
    an emblem half as tall again as the letters stands beside the name, inside the box."""
    word = Image.new("RGB", (300, 70), (225, 225, 220))
    ImageDraw.Draw(word).text((4, 6), text, fill=(200, 35, 45),
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
    if triangle:  # a filled emblem no taller than the letters
        draw.polygon([(79, 44), (98, 80), (60, 80)], fill=(200, 35, 45))
    return np.asarray(sheet)[:, :, ::-1].copy()


def test_an_emblem_reaching_into_the_line_box_does_not_make_the_letters_taller() -> None:
    line = TextLine("LUMERA", 0.99, BOX)
    alone = letter_aspect(measure_line(_mark(star=False), line), "LUMERA")
    under_star = letter_aspect(measure_line(_mark(star=True), line), "LUMERA")
    assert alone is not None and under_star is not None
    # counted by rows of ink, the star's foot made the letters about a third taller
    assert abs(under_star / alone - 1.0) < 0.05


def test_an_emblem_beside_the_name_does_not_make_the_letters_wider() -> None:
    line = TextLine("LUMERA", 0.99, BOX)
    alone = letter_aspect(measure_line(_mark(star=False), line), "LUMERA")
    beside_a_ring = letter_aspect(measure_line(_mark(star=False, ring=True), line), "LUMERA")
    assert alone is not None and beside_a_ring is not None
    # counted by columns of ink, the ring made each letter a fifth wider
    assert abs(beside_a_ring / alone - 1.0) < 0.05


def test_a_stretched_mark_still_measures_as_stretched() -> None:
    line = TextLine("LUMERA", 0.99, BOX)
    plain = letter_aspect(measure_line(_mark(star=True), line), "LUMERA")
    wide = letter_aspect(measure_line(_mark(star=True, stretch=1.2), line), "LUMERA")
    assert plain is not None and wide is not None
    assert 1.12 < wide / plain < 1.28


def test_a_line_printed_across_the_picture_is_measured_along_its_letters() -> None:
    """A mark turned a quarter on the belt: its box's corners run from the picture's top
    left, so the warped line was a tall strip and its letters were measured across."""
    across = np.ascontiguousarray(np.rot90(_mark(star=True)))
    box = ((20.0, 9.0), (100.0, 9.0), (100.0, 469.0), (20.0, 469.0))
    along = letter_aspect(measure_line(_mark(star=True), TextLine("LUMERA", 0.99, BOX)), "LUMERA")
    turned = letter_aspect(measure_line(across, TextLine("LUMERA", 0.99, box)), "LUMERA")
    assert along is not None and turned is not None
    assert abs(turned / along - 1.0) < 0.05


def test_an_emblem_beside_the_name_is_told_from_a_letter() -> None:
    line = TextLine("OLUMERA", 0.99, BOX)
    assert emblem_beside(measure_line(_mark(star=False, ring=True), line))
    assert not emblem_beside(measure_line(_mark(star=False), line))
    # a real letter O before the name is a letter, whatever it reads as
    assert not emblem_beside(measure_line(_mark(star=False, text="OLUMERA"), line))
    # the foot of an emblem above the name is not beside it
    assert not emblem_beside(measure_line(_mark(star=True), line))


def test_a_filled_emblem_as_tall_as_the_letters_is_told_from_a_letter() -> None:
    """A triangle beside the name, drawn no taller than its letters, reads as an A: it is
    an emblem by its fill (a letter A covers about half its outline's area)."""
    line = TextLine("ALUMERA", 0.99, BOX)
    assert emblem_beside(measure_line(_mark(star=False, triangle=True), line))
    assert not emblem_beside(measure_line(_mark(star=False, text="ALUMERA"), line))
    assert not emblem_beside(measure_line(_mark(star=False, text="LUMERAA"), line))


def test_a_letter_more_is_an_emblem_only_at_the_end_where_the_emblem_is() -> None:
    """A ring left of LUMERA read 'OLUMERA' is the name beside its emblem; 'LUMERAA' beside
    the same ring has a letter more at its other end, printed: a misspelling to check."""
    ring = _mark(star=False, ring=True, text="LUMERAA")
    line = TextLine("LUMERAA", 0.99, BOX)
    measured = measure_line(ring, line)
    assert emblem_ends(measured) == (True, False)
    more_after = NameMatch("LUMERA", "LUMERA", "LUMERAA", "partial", 1)
    more_before = NameMatch("LUMERA", "LUMERA", "OLUMERA", "partial", 1)
    assert not _emblem_read_as_letters(more_after, line, measured)
    assert _emblem_read_as_letters(more_before, line, measured)
    # read with the crop turned half a turn, the words start at the warped line's right end
    turned = TextLine("LUMERAA", 0.99, BOX, upside_down=True)
    assert _emblem_read_as_letters(more_after, turned, measured)
    assert not _emblem_read_as_letters(more_before, turned, measured)


class _Reads:
    """An OCR engine that reads every picture as one line, ``text``, over the mark's box."""

    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None, level_within: float = 90.0,
                   found: list[Quad] | None = None,
                   enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
        return (TextLine(self.text, 0.98, BOX),)


def test_a_ring_read_as_a_letter_makes_the_name_itself_a_letter_only_does_not() -> None:
    catalogue = load_catalogue(ROOT / "models/catalogue")
    whole = Box(0, 0, 480, 120)
    ring = scan_parcel(_Reads("OLUMERA"), _mark(star=False, ring=True), whole, catalogue)
    assert ring.match is not None and ring.match.kind == "emblem"
    assert ring.match.read == "LUMERA" and not ring.match.misspelled
    letter = scan_parcel(_Reads("OLUMERA"), _mark(star=False, text="OLUMERA"), whole, catalogue)
    assert letter.match is not None and letter.match.kind == "partial"


def _beside_star(after: bool = False) -> np.ndarray:
    """LUMERA with its star beside it (before the name, or ``after`` it as a line read
    upside down has it), a little taller than the letters and a word space away: by its
    size the star passes for a letter."""
    picture = _mark(star=False)
    cx, cy, outer, inner = (350.0 if after else 72.0), 62.0, 24.0, 10.0
    points = [(cx + (outer if k % 2 == 0 else inner) * np.sin(k * np.pi / 5),
               cy - (outer if k % 2 == 0 else inner) * np.cos(k * np.pi / 5)) for k in range(10)]
    sheet = Image.fromarray(picture[:, :, ::-1].copy())
    ImageDraw.Draw(sheet).polygon(points, fill=(200, 35, 45))
    return np.asarray(sheet)[:, :, ::-1].copy()


def _aspect(picture: np.ndarray, read: str) -> float | None:
    """Letter proportions of a line read as ``read`` in the usual box."""
    return letter_aspect(measure_line(picture, TextLine(read, 0.99, BOX)), read)


def test_an_emblem_read_as_a_symbol_beside_the_name_is_no_letter() -> None:
    """OCR reads LUMERA's star as '★': that piece is left out of the letters' width."""
    alone = _aspect(_mark(star=False), "LUMERA")
    starred = _aspect(_beside_star(), "★LUMERA")
    unread = _aspect(_beside_star(), "LUMERA")
    upside = _aspect(_beside_star(after=True), "★LUMERA")
    assert alone is not None and starred is not None and unread is not None and upside is not None
    assert abs(starred / alone - 1.0) < 0.05
    assert abs(upside / alone - 1.0) < 0.05
    assert unread / alone > 1.15  # read without the symbol, the star counts as letter width


def test_a_symbol_read_next_to_a_letter_drops_no_letter() -> None:
    """A stray quote read at the name's end, no emblem there: every letter still counts."""
    alone = _aspect(_mark(star=False), "LUMERA")
    quoted = _aspect(_mark(star=False), "LUMERA'")
    assert alone is not None and quoted is not None
    assert abs(quoted / alone - 1.0) < 0.02


def _reading(picture: np.ndarray, text: str, kind: str, read: str):
    from edge.catalogue.names import NameMatch
    from edge.classify.crops import MarkGuess
    from edge.classify.verify import Reading

    line = TextLine(text, 0.99, BOX)
    return Reading(MarkGuess(240, 60, 460, 80, 0.0, 1.0), (line,),
                   NameMatch("LUMERA", "LUMERA", read, kind, 0), line,
                   ink=measure_line(picture, line))


def test_proportions_against_the_reference_count_the_names_letters_only() -> None:
    """The star read as '★', the ring read as an O: the genuine letters measure as the
    reference's, not a seventh wider or narrower."""
    from edge.classify.proportions import Reference, with_aspect

    reference = {"LUMERA": Reference(_aspect(_mark(star=False), "LUMERA"))}
    starred = with_aspect(_reading(_beside_star(), "★LUMERA", "exact", "LUMERA"), reference)
    ringed = with_aspect(_reading(_mark(star=False, ring=True), "OLUMERA", "emblem", "OLUMERA"),
                         reference)
    assert starred.aspect_ratio is not None and abs(starred.aspect_ratio - 1.0) < 0.05
    assert ringed.aspect_ratio is not None and abs(ringed.aspect_ratio - 1.0) < 0.05


def test_pieces_of_two_heights_with_none_between_fall_back_to_the_inks_extent() -> None:
    """Two short and two tall pieces put the median height where no piece is: the measure
    falls back to the ink's extent instead of failing the parcel's whole brand check
    (it did: 'zero-size array to reduction operation maximum', held-out split 9191)."""
    picture = np.full((120, 480, 3), 225, np.uint8)
    for x, top in ((60, 60), (120, 60), (200, 20), (260, 20)):
        picture[top:100, x:x + 30] = (45, 35, 200)
    ink = measure_line(picture, TextLine("LUMERA", 0.99, BOX))
    assert ink is not None
    assert letter_aspect(ink, "LUMERA") is not None and letter_aspect(ink, "★LUMERA") is not None
    assert emblem_beside(ink) is False


def test_touching_letters_under_an_emblem_are_measured_on_the_words_own_rows() -> None:
    """Letters that touch are too few pieces to tell from an emblem; the widest band of ink
    rows is the word (KALIMBA under its triangle measured 0.44x before), and a band running
    edge to edge (the parcel's edge taken into the line box) is no print."""
    picture = np.full((120, 480, 3), 225, np.uint8)
    picture[20:24, :] = (40, 40, 40)  # the belt's edge, across the whole box
    triangle = np.array([[240, 32], [222, 58], [258, 58]], np.int32)
    cv2.fillPoly(picture, [triangle], (0, 125, 235))
    picture[66:98, 100:380] = (0, 125, 235)  # seven letters run together: one piece
    ink = measure_line(picture, TextLine("KALIMBA", 0.99, BOX))
    assert ink is not None
    aspect = letter_aspect(ink, "KALIMBA")
    assert aspect is not None and abs(aspect - 280 / 7 / 32) < 0.08, aspect


def test_letters_joined_at_their_serifs_are_measured_as_the_run_they_make() -> None:
    """A bold serif name whose serifs join along the baseline is one piece the letters'
    height beside a few fragments (the tops of letters standing apart): the run counts for
    the letters it holds.  KALIMBA's reference measured 0.60x as wide as it is when the
    fragments' height was taken for the letters'."""
    picture = np.full((120, 480, 3), 225, np.uint8)
    orange = (0, 125, 235)
    picture[92:100, 100:380] = orange  # the baseline serifs, joined
    for x in (100, 180, 260, 368):
        picture[60:100, x:x + 12] = orange  # stems on them: one piece 280 x 40
    for x in (300, 330, 350):
        picture[60:82, x:x + 12] = orange  # letter tops standing apart, 22 tall
    ink = measure_line(picture, TextLine("KALIMBA", 0.99, BOX))
    assert ink is not None
    aspect = letter_aspect(ink, "KALIMBA")
    assert aspect is not None and abs(aspect - 280 / 7 / 40) < 0.05, aspect


def _printed(text: str) -> tuple[np.ndarray, TextLine]:
    """``text`` printed in LUMERA's red on grey paper, and a line box around its first five
    letters only: the detector's box stopping a letter short."""
    font = ImageFont.truetype(FONT, 48)
    sheet = Image.new("RGB", (480, 160), (225, 225, 220))
    ImageDraw.Draw(sheet).text((60, 50), text, fill=(200, 35, 45), font=font)
    x0, y0, x1, y1 = font.getbbox(text[:5])
    box = ((60.0 + x0 - 2, 50.0 + y0 - 4), (60.0 + x1 + 2, 50.0 + y0 - 4),
           (60.0 + x1 + 2, 50.0 + y1 + 4), (60.0 + x0 - 2, 50.0 + y1 + 4))
    return np.asarray(sheet)[:, :, ::-1].copy(), TextLine(text[:5], 0.99, box)


def test_a_name_read_short_is_read_whole_from_around_its_line() -> None:
    from edge.catalogue.names import NameMatch
    from edge.classify.verify import read_whole
    from edge.ocr import open_engine

    engine = open_engine("rapidocr", threads=1)
    short = NameMatch("LUMERA", "LUMERA", "LUMER", "partial", 1)
    picture, line = _printed("LUMERA")
    whole = read_whole(engine, picture, line, short)
    assert whole is not None and whole[0].kind == "exact" and whole[1].text == "LUMERA"
    (left, _), (right, _) = whole[1].box[0], whole[1].box[1]
    assert right - left > 1.1 * (line.box[1][0] - line.box[0][0])  # the whole name's box
    # the letter beyond the box is read as printed: another letter is no reason to clear it
    picture, line = _printed("LUMERO")
    assert read_whole(engine, picture, line, short) is None


def test_the_engine_is_told_the_catalogues_letters_before_its_references_are_read() -> None:
    """A brand named in another script than Latin is read in it; the OCR engine prints no
    letter of a script no catalogue name uses."""
    from types import SimpleNamespace

    from edge.classify import Classifier
    from edge.classify.proportions import Reference

    calls: list[tuple[str, str]] = []

    class Recording:
        name = "recording"

        def allow_letters(self, letters: str) -> None:
            calls.append(("allow", letters))

        def read_lines(self, image_bgr: np.ndarray, *args: object, **kwargs: object) -> tuple:
            calls.append(("read", ""))
            return ()

    paper = np.full((60, 200, 3), 230, np.uint8)
    brand = SimpleNamespace(name="ЛУМЕРА", spellings=("ЛУМЕРА", "LUMERA"), references=(paper,))
    catalogue = SimpleNamespace(sha256="v1", brands=(brand,))
    classifier = Classifier(None, None, None, ocr=Recording())
    assert classifier.references(catalogue) == {"ЛУМЕРА": Reference(None)}
    assert calls[0][0] == "allow" and set("ЛУМЕРА") <= set(calls[0][1]) and calls[1][0] == "read"
    classifier.references(catalogue)  # the same version: nothing read or told again
    assert len(calls) == 2
