"""The pictures a parcel is read from: which are taken, in what order, and when to stop."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from edge.catalogue import Catalogue, load_catalogue
from edge.classify.looks import local_contrast, stretch_contrast
from edge.classify.verify import scan_parcel
from edge.ocr import TextLine
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

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None) -> tuple[TextLine, ...]:
        self.pictures.append(image_bgr)
        return (LINE,) if len(self.pictures) == self.found_at else ()


def test_a_name_the_first_look_misses_is_read_from_the_local_contrast_picture() -> None:
    piece, engine = _piece(GREEN_BOX), Engine(found_at=2)
    reading = scan_parcel(engine, piece, REGION, _catalogue(), "hidden")
    assert reading.match is not None and reading.match.brand == "ZENTRO"
    assert len(engine.pictures) == 2
    assert np.array_equal(engine.pictures[0], stretch_contrast(piece))
    assert np.array_equal(engine.pictures[1], local_contrast(piece))
    # the ink is measured on the parcel's own colours, not on the picture it was found in
    assert reading.delta_e is not None and reading.delta_e < 3


def test_a_name_the_first_look_reads_is_not_looked_for_again() -> None:
    engine = Engine(found_at=1)
    assert scan_parcel(engine, _piece(GREEN_BOX), REGION, _catalogue(), "always").match
    assert len(engine.pictures) == 1


def test_never_takes_one_look_and_always_takes_both() -> None:
    engine = Engine(found_at=2)
    assert scan_parcel(engine, _piece(GREEN_BOX), REGION, _catalogue(), "never").match is None
    assert len(engine.pictures) == 1
    engine = Engine(found_at=2)   # white board could hide no brand colour: hidden stops there
    assert scan_parcel(engine, _piece(WHITE_BOX), REGION, _catalogue(), "hidden").match is None
    assert len(engine.pictures) == 1
    engine = Engine(found_at=2)
    assert scan_parcel(engine, _piece(WHITE_BOX), REGION, _catalogue(), "always").match
    assert len(engine.pictures) == 2
