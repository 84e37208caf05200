"""Packaging from broad shading: film drapes, board is flat; the fusion with the network."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.classify import ClassifyConfig, load_classifier, shading
from edge.classify.shading import FLOOR, ShadingFusion, broad_shading, fuse
from edge.pyramid import Pyramid
from edge.records import Box
from models import shading_fit

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "current"
BOX = Box(320, 240, 640, 480)
LABEL = Box(420, 300, 220, 160)


def _parcel(draped: bool, seed: int = 3) -> np.ndarray:
    """A 1280x960 frame: belt, a parcel lit with a tilt across the belt, a label, a strip of
    brown tape and a black mark; ``draped`` adds broad swells to its surface (film)."""
    rng = np.random.default_rng(seed)
    frame = np.full((960, 1280, 3), 60.0, np.float32)
    surface = np.full((BOX.h, BOX.w, 3), (200.0, 190.0, 175.0), np.float32)
    if draped:
        yy, xx = np.mgrid[0:BOX.h, 0:BOX.w].astype(np.float32)
        for cx, cy, amp in ((150, 120, 40.0), (470, 330, -35.0), (420, 80, 30.0)):
            surface += (amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 150.0 ** 2)))[
                ..., None]
    surface[:, 560:610] = (60, 120, 170)  # brown tape: another material's chroma
    surface[380:420, 100:220] = 25  # a black mark
    frame[BOX.y:BOX.y + BOX.h, BOX.x:BOX.x + BOX.w] = surface
    frame[LABEL.y:LABEL.y + LABEL.h, LABEL.x:LABEL.x + LABEL.w] = 250
    frame *= np.linspace(0.85, 1.1, 1280, dtype=np.float32)[None, :, None]  # the light's tilt
    frame += rng.normal(0, 3, frame.shape).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8)


def test_film_drapes_where_board_is_flat_despite_tilted_light_tape_and_print() -> None:
    board = broad_shading(Pyramid(_parcel(False)), BOX, LABEL)
    film = broad_shading(Pyramid(_parcel(True)), BOX, LABEL)
    assert board is not None and film is not None
    assert board < 0.001 and film > shading.FLAT  # gentle swells: 0.7 %, less one level


def test_a_dim_board_is_flat_for_its_8_bit_levels_are_no_shading(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a failing lamp (brightness about 30) one level is 3 %: the allowance keeps the
    board flat (0 %), where counting the levels measured it 1 %, twice what flat allows."""
    def dim() -> np.ndarray:
        frame = _parcel(False).astype(np.float32) * 0.16
        frame += np.random.default_rng(8).normal(0, 4, frame.shape).astype(np.float32)
        return np.clip(frame, 0, 255).astype(np.uint8)
    board = broad_shading(Pyramid(dim()), BOX, LABEL)
    assert board is not None and board < shading.FLAT
    monkeypatch.setattr(shading, "QUANTUM", 0.0)
    counted = broad_shading(Pyramid(dim()), BOX, LABEL)
    assert counted is not None and counted > shading.FLAT  # the levels taken for swells


def test_shading_is_measured_alike_at_three_times_the_resolution() -> None:
    for draped in (False, True):
        small = _parcel(draped)
        big = cv2.resize(small, (3840, 2880), interpolation=cv2.INTER_CUBIC)
        b3 = Box(BOX.x * 3, BOX.y * 3, BOX.w * 3, BOX.h * 3)
        l3 = Box(LABEL.x * 3, LABEL.y * 3, LABEL.w * 3, LABEL.h * 3)
        one = broad_shading(Pyramid(small), BOX, LABEL)
        three = broad_shading(Pyramid(big), b3, l3)
        assert one is not None and three is not None
        assert abs(math.log(one + FLOOR) - math.log(three + FLOOR)) < 0.35


def test_a_parcel_that_is_all_label_has_no_shading_to_measure() -> None:
    assert broad_shading(Pyramid(_parcel(True)), BOX, BOX) is None


def test_without_the_parcels_outline_the_belt_is_not_taken_for_its_surface() -> None:
    """A photograph classified from a file has no outline: its box is the whole picture."""
    assert broad_shading(Pyramid(_parcel(False)), Box(0, 0, 1280, 960), LABEL) is None
    assert broad_shading(Pyramid(_parcel(False)), Box(0, 0, 1280, 960 - 1), LABEL) is not None


def test_glossy_white_film_at_the_sensors_top_is_unmeasured_not_flat(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """White film's swells clip at 255: what is left of them is a plane at the top, which
    read as flat board (under 0.1 %) before clipped cells were left out."""
    yy, xx = np.mgrid[0:BOX.h, 0:BOX.w].astype(np.float32)
    swells = sum(amp * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 150.0 ** 2))
                 for cx, cy, amp in ((150, 120, 40.0), (470, 330, 35.0), (420, 80, 30.0)))
    frame = np.full((960, 1280, 3), 60.0, np.float32)
    frame[BOX.y:BOX.y + BOX.h, BOX.x:BOX.x + BOX.w] = (244 + swells)[..., None]
    frame[LABEL.y:LABEL.y + LABEL.h, LABEL.x:LABEL.x + LABEL.w] = 250
    frame += np.random.default_rng(4).normal(0, 2, frame.shape).astype(np.float32)
    image = np.clip(frame, 0, 255).astype(np.uint8)
    assert broad_shading(Pyramid(image), BOX, LABEL) is None
    monkeypatch.setattr(shading, "CLIPPED", 256.0)
    counted = broad_shading(Pyramid(image), BOX, LABEL)
    assert counted is not None and counted <= shading.FLAT


def test_a_fusion_weighs_the_shadings_states_by_name() -> None:
    """Flat, draped and unmeasured each carry their own weight (here: to the box, the
    mailer and the envelope); the log, where named, its slope."""
    states = ShadingFusion(weights=((1, 0, 0, 5, 0, 0), (0, 1, 0, 0, 5, 0),
                                    (0, 0, 1, 0, 0, 5)),
                           bias=(0.0, 0.0, 0.0), neutral=-4.0,
                           features=("flat", "draped", "unmeasured"))
    tie = np.log(np.float32([0.34, 0.33, 0.33]))
    said = [int(np.argmax(fuse(tie, s, states))) for s in (0.001, 0.05, None, 0.01)]
    assert said == [0, 1, 2, 0]  # 1 %: neither flat nor draped, the network's own tie
    fitted = shading_fit.fit(np.tile(tie, (4, 1)), [0.001, 0.05, None, 0.01],
                             np.int64([0, 1, 2, 0]))
    assert fitted.features == shading_fit.FEATURES
    assert len(fitted.weights[0]) == 3 + len(shading_fit.FEATURES)


def _mailer_when_draped() -> ShadingFusion:
    """Passes the network through and adds 3 per unit of ln(shading) to the mailer."""
    return ShadingFusion(weights=((1, 0, 0, 0), (0, 1, 0, 3), (0, 0, 1, 0)),
                         bias=(0.0, 3 * 4.0, 0.0), neutral=-4.0)


def test_fusion_weighs_shading_beside_the_network_and_falls_back_to_neutral() -> None:
    tie = np.log(np.float32([0.45, 0.35, 0.2]))
    fusion = _mailer_when_draped()
    assert int(np.argmax(fuse(tie, 0.08, fusion))) == 1  # ln 0.083 = -2.5: +4.5 for mailer
    assert int(np.argmax(fuse(tie, 0.002, fusion))) == 0
    assert np.allclose(fuse(tie, None, fusion), fuse(tie, math.exp(-4.0) - FLOOR, fusion))
    assert math.isclose(float(np.exp(fuse(tie, 0.08, fusion)).sum()), 1.0, rel_tol=1e-5)


def test_the_fit_learns_what_shading_says_when_the_network_cannot_tell() -> None:
    rng = np.random.default_rng(5)
    packs = rng.integers(0, 2, 400)
    shading = [float(np.exp(rng.normal(-2.5 if k else -5.0, 0.4))) for k in packs]
    logp = np.log(np.full((400, 3), 1 / 3)) + rng.normal(0, 0.05, (400, 3))
    fusion = shading_fit.fit(logp, shading + [], packs)
    said = [int(np.argmax(fuse(lp, s, fusion))) for lp, s in zip(logp, shading)]
    assert np.mean(np.int64(said) == packs) > 0.95
    assert shading_fit.as_manifest(fusion)["neutral"] == fusion.neutral


def test_the_classifier_fuses_the_parcels_shading_with_its_network(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(SHIPPED, model)
    manifest = json.loads((model / "manifest.json").read_text())
    # Mailer from ln(shading + FLOOR) = -5.2 (0.25 % shading), between this flat board (0 %) and
    # its gentle swells (0.7 %), so that the fusion, not the network's own lean, decides.
    strong = _mailer_when_draped()
    manifest["surface"]["shading"] = {
        "weights": [[5 * v for v in r] for r in strong.weights],
        "bias": [0.0, 5 * 3 * 5.2, 0.0], "neutral": strong.neutral}
    (model / "manifest.json").write_text(json.dumps(manifest))
    clf = load_classifier(ClassifyConfig(model_dir=model, threads=1))
    assert clf.available, clf.error
    said = [int(np.argmax(clf.packaging(_parcel(d), BOX, LABEL))) for d in (False, True)]
    assert said[1] == 1 and said[0] != 1


def test_the_shading_is_told_in_words_only_where_it_was_measured() -> None:
    from edge.classify.shading import shading_words, with_shading
    from edge.records import Classification

    assert "flat" in shading_words(0.004) and "as board is" in shading_words(0.004)
    assert "as film does" in shading_words(0.08) and "8.0%" in shading_words(0.08)
    middle = shading_words(0.02)
    assert "flat" not in middle and "film" not in middle and "2.0%" in middle
    bare = Classification(model=None, scores={})
    assert with_shading(bare, None) is bare
    assert with_shading(bare, 0.08).evidence["packaging"] == shading_words(0.08)
    assert [with_shading(bare, v).surface_drape for v in (0.004, 0.02, 0.08)] == \
        ["flat", "", "draped"]
    assert bare.surface_drape == ""


def _turned_board(angle: float) -> tuple[np.ndarray, Box]:
    """A flat grey board turned ``angle`` degrees on a grey belt (no chroma tells them apart)
    and its upright box, whose corners are belt."""
    frame = np.full((960, 1280, 3), 62, np.uint8)
    corners = cv2.boxPoints(((640.0, 480.0), (560.0, 420.0), angle)).astype(np.int32)
    cv2.fillConvexPoly(frame, corners, (196, 196, 196))
    frame = cv2.add(frame, np.random.default_rng(5).normal(0, 3, frame.shape).astype(np.int8),
                    dtype=cv2.CV_8U)
    x, y, w, h = cv2.boundingRect(corners)
    return frame, Box(x, y, w, h)


def test_belt_in_a_turned_boards_corners_is_not_taken_for_its_surface(
        monkeypatch: pytest.MonkeyPatch) -> None:
    frame, box = _turned_board(40.0)
    flat = broad_shading(Pyramid(frame), box, None)
    assert flat is not None and flat < 0.01
    monkeypatch.setattr(shading, "belt_colour", lambda *a: None)  # the belt's colour unknown
    seen = broad_shading(Pyramid(frame), box, None)
    assert seen is not None and seen > 0.03  # the corners' belt read as the surface's swells
