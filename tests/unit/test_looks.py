"""The pictures a parcel is read from: which are taken, in what order, and when to stop."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import pytest

from edge.catalogue import Catalogue, load_catalogue
from edge.classify.looks import (TURNED_LEVEL_WITHIN, local_contrast, runs_steeply,
                                 stretch_contrast, turned_lines)
from edge.classify.verify import scan_parcel
from edge.ocr import Quad, TextLine
from edge.records import Box

ROOT = Path(__file__).resolve().parents[2]
GREEN_BOX, WHITE_BOX, ZENTRO_GREEN = (60, 120, 40), (240, 238, 235), (62, 136, 30)  # BGR
LINE = TextLine("ZENTRO", 0.97, ((100.0, 130.0), (300.0, 130.0), (300.0, 170.0), (100.0, 170.0)))
REGION = Box(0, 0, 400, 300)


def _catalogue() -> Catalogue:
    return load_catalogue(ROOT / "models/catalogue")


def _piece(surface: tuple[int, int, int]) -> np.ndarray:
    """A parcel's piece with six strokes of ZENTRO's green where its name would be printed."""
    piece = np.full((300, 400, 3), surface, np.uint8)
    for x in range(110, 290, 30):
        piece[135:165, x:x + 12] = ZENTRO_GREEN
    return piece


class Engine:
    """Reads ``LINE`` from the ``found_at``-th picture it is given (1-based) and nothing from
    the others; keeps every picture."""

    name = "scripted"

    def __init__(self, found_at: int) -> None:
        self.found_at, self.pictures = found_at, []
        self.enough: list[Callable[[TextLine], bool] | None] = []

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None, level_within: float = 90.0,
                   found: list[Quad] | None = None,
                   enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
        self.pictures.append(image_bgr)
        self.enough.append(enough)
        return (LINE,) if len(self.pictures) == self.found_at else ()


def test_a_look_stops_reading_at_a_name_read_surely_letter_for_letter() -> None:
    """Nothing ranks above an exact, sure reading and no later look follows one; a
    misspelling, a name read unsurely or read with more letters is weighed against every
    line.  Each look stops so (a later look's name outranks what the earlier ones read)."""
    engine = Engine(found_at=3)
    scan_parcel(engine, _piece(GREEN_BOX), REGION, _catalogue(), "hidden")
    first, *later = engine.enough
    assert first is not None and len(later) == 2 and all(e is first for e in later)
    assert first(LINE) and first(TextLine("zentro shop", 0.95, LINE.box))
    for line in (TextLine("ZENTRO", 0.6, LINE.box), TextLine("ZENTR0", 0.99, LINE.box),
                 TextLine("ZENTOR", 0.99, LINE.box), TextLine("OZENTRO", 0.99, LINE.box)):
        assert not first(line), line.text


def test_a_name_the_first_look_misses_is_read_from_the_local_contrast_picture() -> None:
    """Upright, then turned a quarter, then with its local contrast raised."""
    piece, engine = _piece(GREEN_BOX), Engine(found_at=3)
    reading = scan_parcel(engine, piece, REGION, _catalogue(), "hidden")
    assert reading.match is not None and reading.match.brand == "ZENTRO"
    assert len(engine.pictures) == 3
    assert np.array_equal(engine.pictures[0], stretch_contrast(piece))
    assert np.array_equal(engine.pictures[1], cv2.rotate(stretch_contrast(piece),
                                                         cv2.ROTATE_90_CLOCKWISE))
    assert np.array_equal(engine.pictures[2], local_contrast(piece))
    # the ink is measured on the parcel's own colours, not on the picture it was found in
    assert reading.delta_e is not None and reading.delta_e < 3


def test_a_name_the_first_look_reads_is_not_looked_for_again() -> None:
    engine = Engine(found_at=1)
    assert scan_parcel(engine, _piece(GREEN_BOX), REGION, _catalogue(), "always").match
    assert len(engine.pictures) == 1


def test_never_takes_no_local_contrast_look_and_always_takes_it() -> None:
    engine = Engine(found_at=3)
    assert scan_parcel(engine, _piece(GREEN_BOX), REGION, _catalogue(), "never").match is None
    assert len(engine.pictures) == 2   # upright and turned
    engine = Engine(found_at=3)   # white board could hide no brand colour: hidden stops there
    assert scan_parcel(engine, _piece(WHITE_BOX), REGION, _catalogue(), "hidden").match is None
    assert len(engine.pictures) == 2
    engine = Engine(found_at=3)
    assert scan_parcel(engine, _piece(WHITE_BOX), REGION, _catalogue(), "always").match
    assert len(engine.pictures) == 3


def _upright_piece() -> np.ndarray:
    """ZENTRO's strokes stacked down the piece (the name turned a quarter on the belt)."""
    piece = np.full((400, 300, 3), WHITE_BOX, np.uint8)
    for y in range(110, 290, 30):
        piece[y:y + 12, 135:165] = ZENTRO_GREEN
    return piece


class TurnedEngine:
    """Reads a steep fragment ``first`` in the picture as given (and finds the print of
    ``unread`` there, reading none of it) and ZENTRO, running level across it, in the picture
    turned a quarter clockwise (where the strokes lie level)."""

    name = "scripted"

    def __init__(self, first: TextLine | None, unread: tuple[Quad, ...] = ()) -> None:
        self.first, self.unread = first, unread
        self.pictures, self.skips, self.levels = [], [], []

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None, level_within: float = 90.0,
                   found: list[Quad] | None = None,
                   enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
        self.pictures.append(image_bgr)
        self.skips.append(tuple(skip))
        self.levels.append(level_within)
        if image_bgr.shape[:2] == (400, 300):
            read = () if self.first is None else (self.first,)
            if found is not None:
                found.extend((*self.unread, *(t.box for t in read)))
            return read
        # turned clockwise, the piece's rows 110-290 at columns 135-165 lie at x = 399 - y
        return (TextLine("ZENTRO", 0.97, ((100.0, 130.0), (300.0, 130.0), (300.0, 170.0),
                                          (100.0, 170.0))),)


STEEP_PIECE = TextLine("TRC", 0.95, ((135.0, 200.0), (165.0, 200.0), (165.0, 260.0),
                                     (135.0, 260.0)))


def test_a_steep_piece_of_print_makes_the_parcel_read_turned_a_quarter() -> None:
    piece, engine = _upright_piece(), TurnedEngine(STEEP_PIECE)
    reading = scan_parcel(engine, piece, Box(0, 0, 300, 400), _catalogue(), "never")
    assert reading.match is not None and reading.match.kind == "exact"
    assert np.array_equal(engine.pictures[1], cv2.rotate(stretch_contrast(piece),
                                                         cv2.ROTATE_90_CLOCKWISE))
    # the name is found where it lies on the unturned parcel, and measured there
    assert reading.guess.angle == pytest.approx(-90.0)
    assert 140 <= reading.guess.cx <= 160 and 190 <= reading.guess.cy <= 210
    assert reading.delta_e is not None and reading.delta_e < 3
    # the sure first read is not read again: skipped where it lies in the turned picture
    (skipped,) = engine.skips[1]
    assert skipped.box[0] == pytest.approx((399 - 200.0, 135.0))
    # nor is print level on the parcel, which runs down the turned picture
    assert engine.levels == [90.0, TURNED_LEVEL_WITHIN] and TURNED_LEVEL_WITHIN < 90.0


@pytest.mark.parametrize("first", [
    None,                                                    # the detector saw nothing
    TextLine("HANDLE WITH CARE", 0.95, ((135.0, 20.0), (165.0, 20.0), (165.0, 380.0),
                                        (135.0, 380.0))),   # other print, read whole
])
def test_a_turned_name_is_read_where_the_first_look_saw_none_of_it(
        first: TextLine | None) -> None:
    """The detector often misses a name turned 60-90 degrees altogether, not only in pieces:
    a parcel whose first look names no brand is read turned a quarter."""
    engine = TurnedEngine(first)
    reading = scan_parcel(engine, _upright_piece(), Box(0, 0, 300, 400), _catalogue(), "never")
    assert reading.match is not None and reading.match.brand == "ZENTRO"
    assert len(engine.pictures) == 2


LEVEL_WORD = TextLine("TRC", 0.95, ((100.0, 130.0), (160.0, 130.0), (160.0, 160.0),
                                    (100.0, 160.0)))
# Found by the detector down the piece where ZENTRO's strokes are, too short to be read.
UNREAD_STEEP: Quad = ((135.0, 110.0), (165.0, 110.0), (165.0, 200.0), (135.0, 200.0))


@pytest.mark.parametrize("first, unread", [
    (None, ()),                                              # the detector saw nothing
    (LEVEL_WORD, ()),                                        # a short word lying level
    (None, (((100.0, 300.0), (200.0, 300.0), (200.0, 330.0), (100.0, 330.0)),)),  # level
    (None, (((140.0, 140.0), (160.0, 140.0), (160.0, 160.0), (140.0, 160.0)),)),  # a dot
])
def test_steep_saves_the_turned_look_where_no_print_runs_steeply(
        first: TextLine | None, unread: tuple[Quad, ...]) -> None:
    """``turned_look: steep`` saves the detection where the detector found no steep print."""
    engine = TurnedEngine(first, unread)
    assert scan_parcel(engine, _upright_piece(), Box(0, 0, 300, 400), _catalogue(), "never",
                       "steep").match is None
    assert len(engine.pictures) == 1


@pytest.mark.parametrize("first, unread", [
    (STEEP_PIECE, ()),                                       # a steep piece read
    (None, (UNREAD_STEEP,)),                                 # found, not read
    (LEVEL_WORD, (UNREAD_STEEP,)),
])
def test_steep_turns_where_the_detector_found_steep_print(
        first: TextLine | None, unread: tuple[Quad, ...]) -> None:
    engine = TurnedEngine(first, unread)
    reading = scan_parcel(engine, _upright_piece(), Box(0, 0, 300, 400), _catalogue(), "never",
                          "steep")
    assert reading.match is not None and reading.match.brand == "ZENTRO"
    assert len(engine.pictures) == 2


def test_lines_turned_a_quarter_map_back_onto_the_same_pixels() -> None:
    picture = np.zeros((50, 80), np.uint8)
    picture[12, 30] = 255
    turned = cv2.rotate(picture, cv2.ROTATE_90_CLOCKWISE)
    y, x = np.argwhere(turned == 255)[0]
    dot = TextLine("X", 1.0, ((float(x), float(y)),) * 4)
    assert turned_lines((dot,), 50)[0].box[0] == (30.0, 12.0)
    assert turned_lines(turned_lines((dot,), 50), 50, back=False)[0].box[0] == (x, y)
    assert runs_steeply((STEEP_PIECE.box,)) and not runs_steeply(())
