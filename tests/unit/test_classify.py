"""The classifier stage with the shipped model: real onnxruntime, real synthetic parcels, bad models."""
from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.classify import Classifier, ClassifyConfig, load_classifier
from edge.classify.crops import MarkGuess, crop_mark, decode_peaks, parcel_region
from edge.classify.golden import check_golden
from edge.classify.manifest import InputSpec, sha256_file
from edge.classify.preprocess import to_tensor
from edge.cli import main as cli_main
from edge.records import Box
from edge.synth import scene

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "current"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    clf = load_classifier(ClassifyConfig(model_dir=SHIPPED))
    assert clf.available, clf.error
    return clf


@pytest.fixture()
def model_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(SHIPPED, dst)
    return dst


def _parcel(seed: int, variant: str | None):  # type: ignore[no-untyped-def]
    """A clean synthetic parcel with a chosen mark variant, or none."""
    from edge.synth import marks

    rng = np.random.default_rng(seed)
    spec = scene.sample_parcel(rng, mark_prob=0.0 if variant is None else 1.0)
    if variant is not None:
        brand = marks.BRAND_BY_NAME[spec.mark.brand]
        spec = dataclasses.replace(spec, mark=marks.sample_mark(rng, variant, brand))
    return scene.render_still(spec, rng, ())


def test_shipped_model_loads_and_passes_its_golden_check(classifier: Classifier) -> None:
    assert classifier.info.sha256 == sha256_file(SHIPPED / "model.onnx")
    assert check_golden(classifier, SHIPPED) == []
    size = sum(f.stat().st_size for f in SHIPPED.iterdir())
    assert size <= 10_000_000


def test_shipped_model_was_measured_within_the_targets(classifier: Classifier) -> None:
    """A retrained model that misses the targets on its held-out seed must not be committed."""
    held_out = classifier.manifest.raw["metrics"]["held_out"]
    summary = held_out["summary"]
    assert held_out["n"] >= 1000 and held_out["seed"] not in (1001, 2002)
    assert summary["suspect_recall_flag_or_review"] >= 0.90
    assert summary["genuine_false_flag"] <= 0.05 and summary["unbranded_false_flag"] <= 0.01
    assert classifier.manifest.locator_candidates == 5


def test_scores_are_measurements_and_carry_thresholds_and_catalogue(classifier: Classifier) -> None:
    image, truth = _parcel(1, "genuine")
    c = classifier.classify(image, Box(*truth["parcel_box"]))
    assert c.available and c.error == ""
    assert set(c.scores) == set(classifier.manifest.labels)
    assert all(0.0 <= v <= 1.0 for v in c.scores.values())
    assert c.top == max(c.scores, key=c.scores.get)
    assert set(c.flag_thresholds) == set(classifier.manifest.flag_labels)
    assert c.model is not None and c.model.version == classifier.manifest.version
    assert c.catalogue is not None and c.catalogue.name == "demo-brands"
    assert len(c.catalogue.sha256) == 64


def test_finds_marks_and_tells_unbranded_parcels(classifier: Classifier) -> None:
    hits = 0
    for seed in range(6):
        image, truth = _parcel(100 + seed, "genuine")
        c = classifier.classify(image, Box(*truth["parcel_box"]))
        mx, my, mw, mh = truth["mark"]["box"]
        found = c.mark_box is not None and abs(c.mark_box.x + c.mark_box.w / 2 - mx - mw / 2) < mw
        hits += found and c.brand == truth["mark"]["brand"]
    assert hits >= 5
    plain = [classifier.classify(*_boxed(_parcel(200 + s, None))).top for s in range(6)]
    assert plain.count("none") >= 5


def _boxed(parcel):  # type: ignore[no-untyped-def]
    image, truth = parcel
    return image, Box(*truth["parcel_box"])


def test_missing_model_dir_is_unavailable_with_one_log_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        clf = load_classifier(ClassifyConfig(model_dir=tmp_path / "nope"))
        result = clf.classify(np.zeros((100, 100, 3), np.uint8))
        clf.classify(np.zeros((100, 100, 3), np.uint8))
    assert not clf.available and not result.available
    assert "no model manifest" in result.error
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1


def test_truncated_onnx_fails_the_hash_before_parsing(model_copy: Path) -> None:
    data = (model_copy / "model.onnx").read_bytes()
    (model_copy / "model.onnx").write_bytes(data[: len(data) // 2])
    clf = load_classifier(ClassifyConfig(model_dir=model_copy))
    assert not clf.available
    assert "model.onnx" in clf.error and "SHA-256" in clf.error and "truncated" in clf.error


def _edit_manifest(model_dir: Path, edit) -> None:  # type: ignore[no-untyped-def]
    path = model_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


def test_sha_mismatch_in_manifest_is_refused(model_copy: Path) -> None:
    _edit_manifest(model_copy, lambda m: m["locator"].update(sha256="ab" * 32))
    clf = load_classifier(ClassifyConfig(model_dir=model_copy))
    assert not clf.available and "locator.onnx" in clf.error and "does not match" in clf.error


def test_manifest_input_spec_that_does_not_match_the_model(model_copy: Path) -> None:
    _edit_manifest(model_copy, lambda m: m["model"]["input"].update(height=32))
    clf = load_classifier(ClassifyConfig(model_dir=model_copy))
    assert not clf.available
    assert "does not match the manifest" in clf.error and "32" in clf.error


def test_manifest_labels_that_do_not_match_the_outputs(model_copy: Path) -> None:
    def drop_label(m: dict) -> None:
        m["labels"] = m["labels"][:-1]
        m["flag_labels"] = m["flag_labels"][:-1]
        m["thresholds"].pop("suspect_quality")
    _edit_manifest(model_copy, drop_label)
    clf = load_classifier(ClassifyConfig(model_dir=model_copy))
    assert not clf.available and "output labels has 6 values" in clf.error


def test_garbage_with_a_matching_hash_is_refused_by_onnxruntime(model_copy: Path) -> None:
    (model_copy / "model.onnx").write_bytes(b"\x08\x07not a model at all" * 10)
    sha = sha256_file(model_copy / "model.onnx")
    _edit_manifest(model_copy, lambda m: m["model"].update(sha256=sha))
    clf = load_classifier(ClassifyConfig(model_dir=model_copy))
    assert not clf.available and "onnxruntime cannot load it" in clf.error


def test_manifest_naming_a_file_outside_the_model_dir_is_refused(model_copy: Path) -> None:
    _edit_manifest(model_copy, lambda m: m["model"].update(file="../model.onnx"))
    clf = load_classifier(ClassifyConfig(model_dir=model_copy))
    assert not clf.available and "unsafe file" in clf.error


def test_golden_check_catches_a_model_that_computes_something_else(model_copy: Path) -> None:
    _edit_manifest(model_copy, lambda m: m["golden"][0]["expected"].update(
        labels=[v + 1.0 for v in m["golden"][0]["expected"]["labels"]]))
    clf = load_classifier(ClassifyConfig(model_dir=model_copy))
    assert clf.available
    problems = check_golden(clf, model_copy)
    assert len(problems) == 1 and "labels differs" in problems[0]


def test_preprocessing_follows_the_spec() -> None:
    spec = InputSpec("x", 2, 4, "RGB", 255.0, (0.5, 0.4, 0.3), (0.25, 0.5, 1.0), "area")
    bgr = np.zeros((2, 4, 3), np.uint8)
    bgr[..., 0] = 255  # blue
    t = to_tensor(bgr, spec)
    assert t.shape == (1, 3, 2, 4) and t.dtype == np.float32
    np.testing.assert_allclose(t[0, :, 0, 0], [(0 - 0.5) / 0.25, (0 - 0.4) / 0.5, (1 - 0.3) / 1.0])


def test_locator_peaks_map_back_to_frame_pixels_strongest_first() -> None:
    heat = np.zeros((24, 32), np.float32)
    heat[10, 20], heat[10, 21], heat[3, 4] = 0.9, 0.8, 0.5  # (10, 21) is a shoulder, not a peak
    geom = np.zeros((6, 24, 32), np.float32)
    geom[:, 10, 20] = [0.5, 0.5, 0.1, 0.05, 0.0, 1.0]
    region = Box(100, 50, 512, 384)  # two frame pixels per thumbnail pixel
    g, second = decode_peaks(heat, geom, region, 8, 2)
    assert (g.cx, g.cy) == (100 + 20.5 * 16, 50 + 10.5 * 16)
    assert (g.w, g.h, g.angle, g.score) == pytest.approx((51.2, 25.6, 90.0, 0.9), rel=1e-5)
    assert (second.cx, second.cy, second.score) == (100 + 4 * 16, 50 + 3 * 16, 0.5)
    assert len(decode_peaks(heat, geom, region, 8, 1)) == 1
    assert parcel_region(np.zeros((960, 1280, 3), np.uint8), Box(0, 0, 300, 100), 4 / 3).h == 225


def test_a_mark_the_locator_ranks_below_a_decoy_is_still_judged(
        classifier: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    """The classifier, not the locator's ranking, decides which candidate is the mark."""
    import edge.classify as stage

    image, truth = _parcel(101, "genuine")
    honest = stage.decode_peaks

    def decoy_first(*args):  # type: ignore[no-untyped-def]
        found = honest(*args)
        return [dataclasses.replace(found[0], cx=5.0, cy=5.0), *found]
    monkeypatch.setattr(stage, "decode_peaks", decoy_first)
    c = classifier.classify(image, Box(*truth["parcel_box"]))
    assert c.top == "genuine" and c.brand == truth["mark"]["brand"]
    assert c.mark_box is not None and c.mark_box.x > 20


def test_manifest_candidates_out_of_bounds_are_refused(model_copy: Path) -> None:
    for bad in (0, 9, 2.5, "3"):
        _edit_manifest(model_copy, lambda m: m["locator"].update(candidates=bad))
        clf = load_classifier(ClassifyConfig(model_dir=model_copy))
        assert not clf.available and "locator.candidates" in clf.error


def test_manifest_suspect_total_outside_0_1_is_refused(model_copy: Path) -> None:
    _edit_manifest(model_copy, lambda m: m.update(review_total_suspect=1.5))
    clf = load_classifier(ClassifyConfig(model_dir=model_copy))
    assert not clf.available and "review_total_suspect = 1.5 is outside 0..1" in clf.error


def test_manifest_without_a_none_label_is_refused(model_copy: Path) -> None:
    _edit_manifest(model_copy, lambda m: m.update(labels=["blank", *m["labels"][1:]]))
    clf = load_classifier(ClassifyConfig(model_dir=model_copy))
    assert not clf.available and "'none'" in clf.error


def test_crop_turns_a_rotated_mark_upright() -> None:
    image = np.full((400, 400, 3), 200, np.uint8)
    cv2.rectangle(image, (150, 190), (250, 210), (0, 0, 255), -1)  # a red bar, 100 x 20
    rot = cv2.getRotationMatrix2D((200, 200), -90, 1.0)  # now vertical
    image = cv2.warpAffine(image, rot, (400, 400), borderValue=(200, 200, 200))
    crop = crop_mark(image, MarkGuess(200, 200, 100, 20, 90.0, 1.0), 0.1, (32, 128))
    red = (crop[:, :, 2] > 150) & (crop[:, :, 1] < 80)
    rows, cols = np.nonzero(red)
    assert cols.max() - cols.min() > 3 * (rows.max() - rows.min())


def test_cli_classifies_good_images_and_reports_bad_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image, _ = _parcel(5, "genuine")
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    cv2.imwrite(str(good), image)
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    status = cli_main(["classify", "--json", "--model-dir", str(SHIPPED), str(bad), str(good)])
    out, err = capsys.readouterr()
    assert status == 2
    assert "bad.png: cannot classify" in err and len(err.strip().splitlines()) == 1
    result = json.loads(out.strip().splitlines()[-1])
    assert result["image"] == str(good) and result["model"]["name"] == "parcel-mark"
    assert set(result["scores"]) >= {"none", "genuine", "suspect_misspelled"}
    assert result["catalogue"]["name"] == "demo-brands" and len(result["catalogue"]["sha256"]) == 64
    assert result["verdict"] in ("clear", "review", "flag") and result["reasons"]


def test_cli_classifies_a_photo_of_known_scale_as_the_unit_would(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same parcel photographed at three times the resolution reads the same packaging
    once its scale is given (patches at the model's px per mm); a nonsense scale is refused.
    This parcel's reading is unsure (box and envelope about 0.46 each in the near picture),
    where the patches' small differences between the two pictures move the scores most: 0.15
    is that margin, for every packaging's score."""
    from models import dataset as ds

    p = ds.render(7007, 2, 0.5, materials=True)
    near, far = tmp_path / "near.png", tmp_path / "far.png"
    cv2.imwrite(str(near), p.image)
    cv2.imwrite(str(far), np.repeat(np.repeat(p.image, 3, axis=0), 3, axis=1))
    read = []
    for path, scale in ((near, "6.4"), (far, "19.2")):
        assert cli_main(["classify", "--json", "--model-dir", str(SHIPPED), "--px-per-mm", scale,
                         str(path)]) == 0
        read.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    near_scores, far_scores = (r["packaging_scores"] for r in read)
    assert near_scores.keys() == far_scores.keys() == set(ds.PACKAGINGS)
    assert all(abs(near_scores[k] - far_scores[k]) < 0.15 for k in near_scores)
    assert all(r["packaging_scores"]["padded_envelope"] > 0.4 for r in read)
    assert all(r["packaging_scores"]["poly_mailer"] < 0.15 for r in read)
    assert cli_main(["classify", "--px-per-mm", "0", str(near)]) == 2
    assert "--px-per-mm 0" in capsys.readouterr().err


def test_inference_failure_costs_one_parcel_not_the_unit(classifier: Classifier) -> None:
    class Broken:
        def run(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("device lost")

    broken = Classifier(classifier.manifest, (Broken(), Broken()), classifier.info)
    result = broken.classify(np.zeros((480, 640, 3), np.uint8))
    assert not result.available and "device lost" in result.error
    with pytest.raises(ValueError):
        broken.classify(np.zeros((0, 0), np.float32))
