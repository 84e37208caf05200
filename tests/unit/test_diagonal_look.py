"""A parcel lying diagonally on the belt is read once more warped upright to its own outline."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
import pytest

from edge.catalogue import load_catalogue
from edge.classify.looks import (DIAGONAL_LEVEL_WITHIN, is_diagonal, moved_lines, parcel_outline,
                                 upright_parcel)
from edge.classify.verify import scan_parcel
from edge.ocr import Quad, TextLine
from edge.records import Box

ROOT = Path(__file__).resolve().parents[2]
BELT, KRAFT, ZENTRO_GREEN = (60, 72, 58), (95, 140, 190), (62, 136, 30)  # BGR
SIZE = (360, 240)  # the parcel, long side first
NAME_ROWS, NAME_COLS = (40, 70), (60, 240)  # ZENTRO's strokes along the long side


def belt_with_parcel(angle: float) -> tuple[np.ndarray, np.ndarray]:
    """A 600 x 560 belt with a kraft parcel turned ``angle`` degrees about the middle, six
    strokes of ZENTRO's green along its long side; and the affine from parcel to belt."""
    parcel = np.full((SIZE[1], SIZE[0], 3), KRAFT, np.uint8)
    for x in range(NAME_COLS[0], NAME_COLS[1], 30):
        parcel[NAME_ROWS[0]:NAME_ROWS[1], x:x + 12] = ZENTRO_GREEN
    turn = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] / 2), angle, 1.0)
    turn[:, 2] += (300 - SIZE[0] / 2, 280 - SIZE[1] / 2)
    belt = np.full((560, 600, 3), BELT, np.uint8)
    cover = cv2.warpAffine(np.ones(parcel.shape[:2], np.uint8), turn, (600, 560)).astype(bool)
    belt[cover] = cv2.warpAffine(parcel, turn, (600, 560))[cover]
    return belt, turn


@pytest.mark.parametrize("angle, diagonal", [(40.0, True), (-50.0, True), (8.0, False),
                                              (80.0, False)])
def test_the_parcels_outline_says_whether_it_lies_diagonally(angle: float, diagonal: bool) -> None:
    outline = parcel_outline(belt_with_parcel(angle)[0])
    assert outline is not None
    (cx, cy), (w, h), _ = outline
    assert abs(cx - 300) < 6 and abs(cy - 280) < 6
    assert sorted((w, h)) == pytest.approx(sorted(SIZE), rel=0.05)
    assert is_diagonal(outline) is diagonal


def test_a_piece_without_belt_has_no_outline() -> None:
    assert parcel_outline(np.full((300, 400, 3), KRAFT, np.uint8)) is None


def test_the_upright_parcel_has_its_long_side_level_unmirrored() -> None:
    belt, _ = belt_with_parcel(40.0)
    outline = parcel_outline(belt)
    assert outline is not None
    upright, onto = upright_parcel(belt, outline)
    h, w = upright.shape[:2]
    assert w > h and (w, h) == pytest.approx(SIZE, rel=0.05)
    assert np.linalg.det(onto[:, :2]) > 0  # not mirrored: letters keep their order
    green = np.all(np.abs(upright.astype(int) - ZENTRO_GREEN) < 30, axis=2)
    rows = np.flatnonzero(green.any(axis=1))
    assert rows.size and rows[-1] - rows[0] <= (NAME_ROWS[1] - NAME_ROWS[0]) + 8  # level


class UprightEngine:
    """Reads ZENTRO over the strokes in the upright parcel (the picture of the parcel's own
    size), nothing in the belt's pictures; keeps each picture's shape and level limit."""

    name = "scripted"

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.levels: list[float] = []

    def read_lines(self, image_bgr: np.ndarray, skip: Sequence[TextLine] = (),
                   respell: tuple[str, str] | None = None, level_within: float = 90.0,
                   found: list[Quad] | None = None,
                   enough: Callable[[TextLine], bool] | None = None) -> tuple[TextLine, ...]:
        self.shapes.append(image_bgr.shape[:2])
        self.levels.append(level_within)
        h, w = image_bgr.shape[:2]
        if abs(w - SIZE[0]) > 20 or abs(h - SIZE[1]) > 20:
            return ()
        # the picture is the stretched one: the strokes are where green far outweighs red
        # (kraft is red over green, the belt near grey)
        pic = image_bgr.astype(int)
        ys, xs = np.nonzero(pic[..., 1] > pic[..., 2] + 60)
        x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
        upside_down = ys.mean() > h / 2  # the parcel may come out half a turn round
        box = ((x1, y1), (x0, y1), (x0, y0), (x1, y0)) if upside_down else \
            ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
        return (TextLine("ZENTRO", 0.97, box),)


def test_a_name_along_a_diagonal_parcel_is_read_upright_and_measured_where_it_lies() -> None:
    belt, turn = belt_with_parcel(40.0)
    engine = UprightEngine()
    reading = scan_parcel(engine, belt, Box(0, 0, 600, 560), load_catalogue(ROOT / "models/catalogue"),
                          "never")
    assert reading.match is not None and reading.match.brand == "ZENTRO"
    assert len(engine.shapes) == 3 and engine.levels[2] == DIAGONAL_LEVEL_WITHIN
    # the line is in the belt picture's pixels, over the strokes
    strokes = cv2.transform(np.float32([[(np.mean(NAME_COLS), np.mean(NAME_ROWS))]]), turn)[0, 0]
    assert reading.line is not None
    assert np.hypot(*(np.float32(reading.line.box).mean(0) - strokes)) < 10
    assert reading.delta_e is not None and reading.delta_e < 5  # measured on the parcel's ink


def test_lines_moved_there_and_back_are_where_they_were() -> None:
    line = TextLine("ZENTRO", 0.9, ((10.0, 20.0), (110.0, 20.0), (110.0, 50.0), (10.0, 50.0)))
    onto = cv2.getRotationMatrix2D((50, 50), 37.0, 1.0)
    back = moved_lines(moved_lines((line,), onto), cv2.invertAffineTransform(onto))[0]
    assert np.allclose(np.float32(back.box), np.float32(line.box), atol=1e-3)
