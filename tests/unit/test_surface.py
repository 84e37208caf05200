"""Packaging read from the surface: patches off the label, colour taken out, the shipped network."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.classify import Classifier, ClassifyConfig, load_classifier
from edge.classify.golden import check_golden
from edge.classify import surface
from edge.classify.surface import patch_corners, scaled_patches, surface_patches
from edge.process import classify_reduced
from edge.pyramid import Pyramid, Surface
from edge.records import Classification
from edge.records import Box
from models import dataset as ds

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "current"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    clf = load_classifier(ClassifyConfig(model_dir=SHIPPED, threads=1))
    assert clf.available, clf.error
    return clf


def _share(corner: tuple[int, int], size: int, label: Box) -> float:
    x, y = corner
    w = min(x + size, label.x + label.w) - max(x, label.x)
    h = min(y + size, label.y + label.h) - max(y, label.y)
    return max(0, w) * max(0, h) / size / size


def test_patches_stay_inside_the_parcel_and_off_its_label() -> None:
    box, label = Box(100, 80, 900, 700), Box(100, 80, 450, 700)  # the label fills the left half
    corners = patch_corners(box, label, 128, 6)
    assert len(corners) == 6 and len(set(corners)) == 6
    assert all(_share(c, 128, label) <= 0.15 for c in corners)
    assert all(box.x <= x and x + 128 <= box.x + box.w and box.y <= y and y + 128 <= box.y + box.h
               for x, y in corners)
    assert corners == patch_corners(box, label, 128, 6)  # the unit's choice is fixed
    moved = patch_corners(box, label, 128, 6, np.random.default_rng(1))
    assert moved != corners and len(moved) == 6


def test_a_parcel_that_is_all_label_still_gives_its_least_covered_patches() -> None:
    box = Box(0, 0, 300, 260)
    corners = patch_corners(box, box, 128, 6)
    assert len(corners) == 6
    patches = surface_patches(np.zeros((260, 300, 3), np.uint8), Box(0, 0, 60, 40), None, 128, 3)
    assert patches.shape == (3, 128, 128, 3)  # smaller than a patch: padded, not an error


def _turned_board(angle: float, board: int) -> tuple[np.ndarray, Box]:
    """A grey board turned ``angle`` degrees on a darker belt, and its upright box."""
    frame = np.full((960, 1280, 3), 62, np.uint8)
    corners = cv2.boxPoints(((640.0, 480.0), (700.0, 520.0), angle)).astype(np.int32)
    cv2.fillConvexPoly(frame, corners, (board, board, board))
    x, y, w, h = cv2.boundingRect(corners)
    return frame, Box(x, y, w, h)


def test_patches_of_a_turned_parcel_are_cut_from_it_not_from_the_belt_in_its_box_corners(
        monkeypatch: pytest.MonkeyPatch) -> None:
    frame, box = _turned_board(40.0, 196)
    patches = surface_patches(frame, box, None, 128, 6)
    # at most a tenth belt as the test sees it (a coarse copy), a little more at full size
    assert (patches.reshape(6, -1) == 196).mean(axis=1).min() > 0.8
    monkeypatch.setattr(surface, "belt_shares", lambda *a: None)  # the belt not looked for
    blind = surface_patches(frame, box, None, 128, 6)
    assert (blind.reshape(6, -1) == 196).mean(axis=1).min() < 0.5


def test_a_parcel_the_belts_own_colour_keeps_its_patches() -> None:
    frame, box = _turned_board(40.0, 62)  # no colour tells board from belt: the test says nothing
    assert surface_patches(frame, box, None, 128, 6).shape == (6, 128, 128, 3)
    assert patch_corners(box, None, 128, 6, on_belt=lambda cells: [1.0] * len(cells)) == \
        patch_corners(box, None, 128, 6)


def test_the_network_reads_relief_not_colour(classifier: Classifier) -> None:
    rng = np.random.default_rng(4)
    patches = np.clip(rng.normal(120, 12, (6, 128, 128, 3)), 0, 255).astype(np.uint8)
    tinted = (patches.astype(np.int16) + np.int16([40, -30, 60])).astype(np.uint8)
    assert np.allclose(classifier.run_surface(patches), classifier.run_surface(tinted), atol=1e-4)


def test_shipped_network_tells_packaging_by_its_material_on_parcels_it_never_saw(
        classifier: Classifier) -> None:
    """Parcels of a seed training never drew, in colours shared by all three packagings."""
    right = []
    for index in range(18):
        p = ds.render(7007, index, 0.5, materials=True)
        box = Box(*p.truth["parcel_box"])
        label = Box(*p.truth["label_box"])
        said = int(np.argmax(classifier.packaging(p.image, box, label)))
        right.append(ds.PACKAGINGS[said] == p.truth["packaging"])
    assert np.mean(right) >= 0.6, right


def test_model_without_surface_network_falls_back_to_the_locators_head(tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(SHIPPED, model)
    manifest = json.loads((model / "manifest.json").read_text())
    del manifest["surface"]
    for case in manifest["golden"]:
        case.pop("surface", None)
        case["expected"].pop("surface_packaging", None)
    (model / "manifest.json").write_text(json.dumps(manifest))
    clf = load_classifier(ClassifyConfig(model_dir=model, threads=1))
    assert clf.available and clf.manifest is not None and clf.manifest.surface is None
    image = np.full((480, 640, 3), 150, np.uint8)
    assert clf.packaging(image, Box(40, 40, 560, 400)).shape == (3,)
    assert check_golden(clf, model) == []


@pytest.mark.parametrize("edit,words", [
    (lambda s: s.update(sha256="ab" * 32), "does not match"),
    (lambda s: s["input"].update(width=96), "square"),
    (lambda s: s.update(patches=40), "surface.patches"),
    (lambda s: s.update(px_per_mm=0.01), "surface.px_per_mm"),
    (lambda s: s.update(px_per_mm="6.4"), "surface.px_per_mm"),
    (lambda s: s.update(shading={"weights": [[1, 0, 0]] * 3, "bias": [0, 0, 0], "neutral": -4}),
     "surface.shading.weights must be 3 rows of 4"),
    (lambda s: s.update(shading={"weights": [[1, 0, 0, 1e6]] * 3, "bias": [0, 0, 0],
                                 "neutral": -4}), "surface.shading.weights"),
    (lambda s: s.update(shading={"weights": [[1, 0, 0, 0]] * 3, "bias": [0, 0],
                                 "neutral": -4}), "surface.shading.bias"),
    (lambda s: s.update(shading={"weights": [[1, 0, 0, 0]] * 3, "bias": [0, 0, 0]}),
     "neutral"),
    (lambda s: s.update(shading={"weights": [[1, 0, 0, 0]] * 3, "bias": [0, 0, 0],
                                 "neutral": -4, "features": ["gloss"]}),
     "surface.shading.features must name distinct features among log_shading, flat"),
    (lambda s: s.update(shading={"weights": [[1, 0, 0, 0]] * 3, "bias": [0, 0, 0],
                                 "neutral": -4, "features": ["flat", "draped"]}),
     "surface.shading.weights must be 3 rows of 5"),
    (lambda s: s.update(pooling="median"), "surface.pooling must be one of"),
])
def test_a_bad_surface_entry_makes_the_model_unavailable_with_the_reason(
        tmp_path: Path, edit, words: str) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "model"
    shutil.copytree(SHIPPED, model)
    manifest = json.loads((model / "manifest.json").read_text())
    edit(manifest["surface"])
    (model / "manifest.json").write_text(json.dumps(manifest))
    clf = load_classifier(ClassifyConfig(model_dir=model, threads=1))
    assert not clf.available and words in clf.error


def test_golden_check_catches_a_surface_network_that_computes_something_else(
        tmp_path: Path, classifier: Classifier) -> None:
    model = tmp_path / "model"
    shutil.copytree(SHIPPED, model)
    manifest = json.loads((model / "manifest.json").read_text())
    expected = manifest["golden"][0]["expected"]
    expected["surface_packaging"] = [v + 0.5 for v in expected["surface_packaging"]]
    (model / "manifest.json").write_text(json.dumps(manifest))
    clf = load_classifier(ClassifyConfig(model_dir=model, threads=1))
    assert any("surface_packaging" in line for line in check_golden(clf, model))


def test_the_codes_box_is_the_box_around_every_code() -> None:
    assert Box.around([Box(10, 40, 100, 30), Box(60, 5, 20, 20)]) == Box(10, 5, 100, 65)
    assert Box.around([]) is None


def test_the_level_kept_is_the_coarsest_still_as_fine_as_training() -> None:
    frame = Pyramid(np.zeros((3040, 4056, 3), np.uint8))
    box = Box(1000, 800, 1500, 1200)
    assert Surface(frame, 4056 / 200, box).level_at_least(6.4) == 1   # 10.1 px/mm, not 5.1
    assert Surface(frame, 4056 / 634, box).level_at_least(6.4) == 0   # a 600 mm belt: full size
    assert Surface(frame, 4056 / 1000, box).level_at_least(6.4) == 0  # coarser than training


def test_the_classifier_gets_the_level_as_fine_as_it_was_built_at() -> None:
    """1280 px over 200 mm is 6.4 px/mm: over a 634 mm belt a 12 MP frame's full size is that
    fine and its 2028 px level half; over 200 mm the 2028 px level is still finer."""
    frame = Pyramid(np.zeros((3040, 4056, 3), np.uint8))
    assert frame.model_level() == 1
    assert frame.model_level(4056 / 634) == 0
    assert frame.model_level(4056 / 200) == 1
    assert Pyramid(np.zeros((960, 1280, 3), np.uint8)).model_level(1280 / 600) == 0


def _enlarged(p: ds.Parcel, k: int) -> tuple[np.ndarray, Box, Box]:
    """The parcel photographed at ``k`` times the resolution (each pixel k x k), and its boxes."""
    big = np.repeat(np.repeat(p.image, k, axis=0), k, axis=1)
    box, label = Box(*p.truth["parcel_box"]), Box(*p.truth["label_box"])
    return big, Box(box.x * k, box.y * k, box.w * k, box.h * k), \
        Box(label.x * k, label.y * k, label.w * k, label.h * k)


def test_patches_cover_the_same_millimetres_at_any_resolution() -> None:
    p = ds.render(7007, 3, 0.5, materials=True)
    box, label = Box(*p.truth["parcel_box"]), Box(*p.truth["label_box"])
    at_training = scaled_patches(Surface(Pyramid(p.image), 6.4, box, label), 6.4, 128, 6)
    assert np.array_equal(at_training, surface_patches(p.image, box, label, 128, 6))
    big, big_box, big_label = _enlarged(p, 2)
    finer = scaled_patches(Surface(Pyramid(big), 12.8, big_box, big_label), 6.4, 128, 6)
    assert np.array_equal(finer, at_training)  # the halved level is the picture itself
    coarse = scaled_patches(Surface(Pyramid(p.image), 3.2, box, label), 6.4, 128, 6)
    assert coarse.shape == (6, 128, 128, 3)  # upsampled where no level is fine enough


def test_the_unit_reads_packaging_alike_at_three_times_the_resolution(
        classifier: Classifier) -> None:
    """Through classify_reduced with the frame's scale, as the path calls it: a padded
    envelope seen at 19.2 px/mm gives the network what it gave at 6.4.  In pixels alone its
    model level (1.5x finer than training) shows bubbles too big: v1.6.3 read a box (0.94),
    v1.6.4, taught a wider range of cells, is left unsure (envelope 0.53, box 0.44)."""
    p = ds.render(7007, 2, 0.5, materials=True)
    assert p.truth["packaging"] == "padded_envelope"
    big, box, label = _enlarged(p, 3)
    said: list[np.ndarray] = []

    def packaging(image: np.ndarray, b: Box | None, paper: Box | None,
                  surface: Surface | None = None) -> Classification:
        said.append(classifier.packaging(image, b, paper, surface))
        return Classification(model=None, scores={})

    classify_reduced(packaging, Pyramid(p.image), Box(*p.truth["parcel_box"]),
                     Box(*p.truth["label_box"]), 6.4)
    classify_reduced(packaging, Pyramid(big), box, label, 19.2)
    classify_reduced(packaging, Pyramid(big), box, label)
    envelope = ds.PACKAGINGS.index("padded_envelope")
    sure = [float(np.exp(s[envelope])) for s in said]
    assert sure[0] > 0.95 and sure[1] > 0.95 and sure[2] < 0.8, sure
    assert np.allclose(np.exp(said[0]), np.exp(said[1]), atol=0.05)


def test_the_classifiers_resolution_is_the_generators() -> None:
    """The unit's level choice and the packaging trainer's patches both rest on this one scale."""
    from edge.pyramid import MODEL_PX_PER_MM
    from edge.synth.scene import FIELD_MM, FRAME_W
    from models.patches import PX_PER_MM

    assert MODEL_PX_PER_MM == FRAME_W / FIELD_MM == PX_PER_MM


def test_pooled_by_probability_one_patch_cannot_veto_what_the_rest_agree_on(
        monkeypatch: pytest.MonkeyPatch, classifier: Classifier) -> None:
    """Five patches of film read unsurely (mailer 0.6) and one on tape read surely (box 0.999):
    averaged as log-probabilities the tape patch outvotes the five; averaged as
    probabilities it holds its one sixth."""
    import edge.classify.surface as surface

    rows = np.log(np.float64([[0.35, 0.6, 0.05]] * 5 + [[0.999, 0.0005, 0.0005]]))
    monkeypatch.setattr(surface, "run", lambda *_: {"packaging": rows})
    entry = classifier.manifest.surface
    patches = np.zeros((6, 128, 128, 3), np.uint8)
    by_log = surface.patch_packaging(None, entry, patches, "mean_log_probability")
    by_p = surface.patch_packaging(None, entry, patches, "mean_probability")
    assert int(np.argmax(by_log)) == 0
    assert int(np.argmax(by_p)) == 1 and np.exp(by_p)[1] == pytest.approx(3.0005 / 6)
    assert np.exp(by_p).sum() == pytest.approx(1.0)
