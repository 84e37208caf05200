"""The photographic standard: checks agree with the synthetic truth, bad files get clear errors."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from edge.imageio import ImageError, load_image, load_image_info
from edge.package.config import PackageConfig
from edge.quality import assess, checks, choose_frame
from edge.quality.config import QualityProfile
from edge.quality.standard_doc import render
from edge.records import Box, Frame, ParcelCapture
from edge.synth.nuisance import motion_kernel
from imaging_helpers import boxes, cmyk_jpeg, decode, parcel_frame, png_claiming, reading

ROOT = Path(__file__).resolve().parents[2]
PROFILE = QualityProfile()
SEEDS = (0, 1, 2, 3)


def _values(report) -> dict[str, float]:
    return {c.name: c.value for c in report.checks}


@pytest.fixture(scope="module")
def clean() -> dict[int, tuple[np.ndarray, dict]]:
    return {s: parcel_frame(s) for s in SEEDS}


def test_clean_frames_meet_the_standard(clean) -> None:
    for image, truth in clean.values():
        parcel, _ = boxes(truth)
        report = assess(image, PROFILE, parcel, reading(truth))
        assert report.passed, report.failed
        assert {c.name for c in report.checks} >= {"sharpness", "glare", "legibility", "framing"}


@pytest.mark.parametrize("blur", ["gaussian", "motion"])
def test_blur_past_the_decodable_limit_fails_sharpness(clean, blur: str) -> None:
    for image, truth in clean.values():
        wanted = {b["text"] for b in truth["barcodes"]}
        assert wanted & {s.text for s in decode(image)}, "the clean frame must decode"
        blurred = (cv2.GaussianBlur(image, (0, 0), 2.5) if blur == "gaussian"
                   else cv2.filter2D(image, -1, motion_kernel(10)))
        assert not wanted & {s.text for s in decode(blurred)}, "blur must defeat the decoder"
        report = assess(blurred, PROFILE, boxes(truth)[0], reading(truth))
        assert "sharpness" in report.failed


def test_dark_frame_fails_exposure() -> None:
    image, truth = parcel_frame(5, ["low_light"])
    report = assess(image, PROFILE, boxes(truth)[0], reading(truth))
    assert "brightness" in report.failed
    assert _values(report)["brightness"] < PROFILE.min_brightness


def test_glare_on_the_packaging_fails_but_white_label_paper_does_not(clean) -> None:
    image, truth = clean[0]
    parcel, label = boxes(truth)
    before = assess(image, PROFILE, parcel, reading(truth))
    assert "glare" not in before.failed
    corners = [(parcel.x + int(parcel.w * fx), parcel.y + int(parcel.h * fy))
               for fx in (0.2, 0.8) for fy in (0.2, 0.8)]
    spot = next(p for p in corners if not (label.x <= p[0] <= label.x + label.w
                                           and label.y <= p[1] <= label.y + label.h))
    shiny = image.copy()
    cv2.circle(shiny, spot, 90, (255, 255, 255), -1)
    after = assess(shiny, PROFILE, parcel, reading(truth))
    assert "glare" in after.failed and _values(after)["glare"] > PROFILE.max_glare


def test_framing_and_legibility_limits(clean) -> None:
    image, truth = clean[1]
    inside = assess(image, PROFILE, Box(100, 100, 1000, 700), reading(truth, module_px=2.5))
    touching = assess(image, PROFILE, Box(0, 100, 1000, 700), reading(truth, module_px=1.2))
    assert "framing" not in inside.failed and "legibility" not in inside.failed
    assert {"framing", "legibility"} <= set(touching.failed)


def test_checks_that_cannot_be_measured_are_left_out(clean) -> None:
    image, _ = clean[0]
    names = {c.name for c in assess(image, PROFILE).checks}
    assert "framing" not in names and "legibility" not in names
    assert {"width", "height", "sharpness", "brightness"} <= names


def test_choose_frame_replaces_a_failing_frame(clean) -> None:
    image, truth = clean[2]
    parcel, _ = boxes(truth)
    blurred = cv2.GaussianBlur(image, (0, 0), 3)
    frames = tuple(Frame(seq=i, t_mono=float(i), t_utc="2026-01-01T00:00:00Z", image=img)
                   for i, img in enumerate((blurred, image)))
    capture = ParcelCapture(capture_id=1, frames=frames, boxes=(parcel, parcel), sharpness=(1.0, 0.5))
    read_on_blurred = dataclasses.replace(reading(truth), frame_seq=0)
    index, report = choose_frame(capture, read_on_blurred, PROFILE)
    assert index == 1 and report.passed
    dark = (image // 6).astype(np.uint8)
    worst = ParcelCapture(2, (frames[0], dataclasses.replace(frames[1], image=dark)),
                          (parcel, parcel), (1.0, 0.5))
    index, report = choose_frame(worst, None, PROFILE)
    failures = [len(assess(f.image, PROFILE, parcel).failed) for f in worst.frames]
    assert not report.passed and failures[index] == min(failures)
    assert report == assess(worst.frames[index].image, PROFILE, parcel)


def test_profile_bounds_and_consistency() -> None:
    with pytest.raises(ValidationError):
        QualityProfile(jpeg_quality=101)
    with pytest.raises(ValidationError):
        QualityProfile(min_width=5000, max_width=4000)
    with pytest.raises(ValidationError):
        QualityProfile(views=("label", "label"))
    with pytest.raises(ValidationError):
        QualityProfile(name="../etc")
    with pytest.raises(ValidationError):
        QualityProfile(sharpnes=3)


def test_committed_standard_document_matches_the_profile() -> None:
    committed = (ROOT / "config" / "photographic-standard.md").read_text(encoding="utf-8")
    assert committed == render(QualityProfile(), PackageConfig())


def test_documented_default_profile_is_the_built_in_default() -> None:
    data = yaml.safe_load((ROOT / "config" / "quality-profile.yaml").read_text(encoding="utf-8"))
    assert QualityProfile(**data["quality"]) == QualityProfile()
    assert PackageConfig(**data["package"]) == PackageConfig()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    ok, buf = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    jpeg = buf.tobytes()
    cases = {
        "empty": b"", "truncated": jpeg[: len(jpeg) // 2], "text": b"hello, not an image",
        "corrupt": b"\xff\xd8" + bytes(range(256)) * 8 + b"\xff\xd9",
        "huge": png_claiming(30000, 30000),
    }
    for name, data in cases.items():
        with pytest.raises(ImageError) as err:
            load_image(_write(tmp_path / f"{name}.img", data))
        assert "\n" not in str(err.value) and str(err.value)
    with pytest.raises(ImageError):
        load_image(tmp_path)
    with pytest.raises(ImageError):
        load_image(tmp_path / "missing.jpg")


def test_odd_but_valid_files_load_as_bgr8(tmp_path: Path) -> None:
    gray = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    cv2.imwrite(str(tmp_path / "deep.png"), gray.astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "one.png"), np.zeros((1, 1, 3), np.uint8))
    _write(tmp_path / "cmyk.jpg", cmyk_jpeg())
    expect = {"gray.png": (1, 8), "deep.png": (1, 16), "one.png": (3, 8), "cmyk.jpg": (4, 8)}
    for name, (channels, depth) in expect.items():
        image, info = load_image_info(tmp_path / name)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert (info.channels, info.bit_depth) == (channels, depth)
    assert np.array_equal(load_image(tmp_path / "deep.png")[:, :, 0], gray)
    tiny = assess(load_image(tmp_path / "one.png"), PROFILE)
    assert {"width", "height"} <= set(tiny.failed)


def test_label_filling_the_frame_and_no_label_give_a_report(clean) -> None:
    image, truth = clean[3]
    _, label = boxes(truth)
    close_up = cv2.resize(image[label.y:label.y + label.h, label.x:label.x + label.w], (1280, 960))
    whole = Box(0, 0, 1280, 960)
    report = assess(close_up, PROFILE, whole, dataclasses.replace(reading(truth), label_box=whole))
    assert "framing" in report.failed and np.isfinite(_values(report)["sharpness"])
    belt = np.full((960, 1280, 3), 36, np.uint8)
    assert not assess(belt, PROFILE, None, None).passed


def _inspect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge", "inspect", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_inspect_cli_reports_each_image_and_keeps_going(tmp_path: Path, clean) -> None:
    image, truth = clean[0]
    parcel, _ = boxes(truth)
    good = tmp_path / "parcel.jpg"
    cv2.imwrite(str(good), image[parcel.y:parcel.y + parcel.h, parcel.x:parcel.x + parcel.w])
    cv2.imwrite(str(tmp_path / "gray.png"), cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    _write(tmp_path / "zero.jpg", b"")
    passing = _inspect("--json", str(good))
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert json.loads(passing.stdout)["passed"] is True
    mixed = _inspect("--json", str(tmp_path / "zero.jpg"), str(tmp_path / "gray.png"), str(good))
    assert mixed.returncode == 2
    lines = [json.loads(x) for x in mixed.stdout.splitlines()]
    assert [Path(x["image"]).name for x in lines] == ["gray.png", "parcel.jpg"]
    assert {"file_type", "colour"} <= set(lines[0]["failed"])
    assert mixed.stderr.strip().endswith("zero.jpg: empty file (0 bytes)")
    text = _inspect(str(tmp_path / "gray.png"))
    assert text.returncode == 1 and "FAIL colour" in text.stdout
    cv2.imwrite(str(tmp_path / "frame.jpg"), image)
    decoded = json.loads(_inspect("--json", "--decode", str(tmp_path / "frame.jpg")).stdout)
    assert {"legibility", "glare"} <= {c["name"] for c in decoded["checks"]}


def test_quality_checks_are_pure_functions_of_their_inputs() -> None:
    hist = checks.histogram(np.full((10, 10), 255, np.uint8))
    first = checks.check_highlights(hist, PROFILE)
    assert first == checks.check_highlights(hist, PROFILE) and not first.passed
    assert first.value == 1.0 and "250" in first.limit


def test_arrays_of_an_odd_shape_are_refused_not_passed_on() -> None:
    from edge.imageio import ImageError, bgr8, to_bgr8

    grey = np.full((4, 6), 7, np.uint8)
    assert bgr8(grey).shape == (4, 6, 3) and bgr8(grey[:, :, None]).shape == (4, 6, 3)
    assert bgr8(np.zeros((4, 6, 4), np.uint8)).shape == (4, 6, 3)
    assert to_bgr8(np.full((2, 2), 0xFF00, np.uint16)).max() == 0xFF
    for bad in (np.zeros((4, 6, 2), np.uint8), np.zeros((4, 6), np.float32), np.zeros((0, 0), np.uint8)):
        with pytest.raises(ImageError):
            to_bgr8(bad)
