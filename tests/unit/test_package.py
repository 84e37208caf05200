"""The package: standard names from validated parts, JPEG + XMP, redaction, sidecar, atomic writes."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.package import PackageConfig, PackageError, build_package, write_package
from edge.package import naming, redact
from edge.package.jpeg import ImageMeta, encode_jpeg, read_xmp
from edge.quality.config import QualityProfile
from edge.records import Box, PackageFile, ParcelRecord, Reference, Verdict
from imaging_helpers import boxes, decode, parcel_frame

PROFILE = QualityProfile()
CFG = PackageConfig()
S10 = Reference(kind="upu_s10", value="RR346421674DE", valid=True)


def _record(reference: Reference | None = S10, symbols=(), **kw) -> ParcelRecord:
    base = dict(id="unit-01-00000042", unit="unit-01", seq=42, time_utc="2026-11-23T04:05:06.789+02:00",
                reference=reference, symbols=symbols, verdict=Verdict("clear"),
                classification=None, quality=())
    return ParcelRecord(**{**base, **kw})


def _image(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


@pytest.fixture(scope="module")
def parcel():
    image, truth = parcel_frame(0)
    return image, truth, decode(image)


def test_names_come_only_from_validated_parts() -> None:
    name = naming.file_name(S10, "unit-01", "2026-11-23T04:05:06+02:00", 42, "parcel")
    assert name == "RR346421674DE_unit-01_20261123T020506Z_00000042_parcel.jpg"
    hostile = ["../../etc/passwd", "RR34642/674DE", "rr346421674de", "A" * 41, "RR 3464", ""]
    for value in hostile:
        ref = Reference(kind="upu_s10", value=value, valid=True)
        assert naming.file_name(ref, "u1", "2026-01-01T00:00:00Z", 1, "label").startswith("NOREAD_")
    assert naming.reference_part(dataclasses.replace(S10, valid=False)) == "NOREAD"
    assert naming.reference_part(dataclasses.replace(S10, kind="evil")) == "NOREAD"
    assert naming.reference_part(None) == "NOREAD"
    bad = [("../u", 1, "parcel", "2026-01-01T00:00:00Z"), ("u1", -1, "parcel", "2026-01-01T00:00:00Z"),
           ("u1", 1, "../x", "2026-01-01T00:00:00Z"), ("u1", 1, "parcel", "yesterday")]
    for unit, seq, view, when in bad:
        with pytest.raises(naming.NamingError):
            naming.file_name(S10, unit, when, seq, view)
    with pytest.raises(naming.NamingError):
        naming.check_name("../RR346421674DE_u1_20260101T000000Z_00000001_parcel.jpg")


def test_jpeg_carries_escaped_xmp_metadata() -> None:
    image = np.full((48, 64, 3), 90, np.uint8)
    meta = ImageMeta(parcel_id="p-1", unit="unit-01", time_utc="2026-11-23T02:05:06.789Z",
                     reference='NOREAD"/><x a="&', reference_kind="", profile="imf-default-v1",
                     view="parcel", redacted=True)
    data = encode_jpeg(image, 90, meta)
    assert data[:2] == b"\xff\xd8" and data[2:4] == b"\xff\xe0"
    decoded = _image(data)
    assert decoded.shape == image.shape and abs(int(decoded.mean()) - 90) <= 1
    xmp = read_xmp(data)
    assert xmp["reference"] == meta.reference and xmp["unit"] == "unit-01"
    assert xmp["redacted"] == "true" and xmp["ColorSpace"] == "1"
    assert xmp["CreateDate"] == "2026-11-23T02:05:06.789Z"
    assert read_xmp(encode_jpeg(image, 90)) == {}


def test_package_has_standard_views_sidecar_and_hashes(parcel) -> None:
    image, truth, symbols = parcel
    parcel_box, label_box = boxes(truth)
    package = build_package(_record(symbols=symbols), image, label_box, PROFILE, CFG, parcel_box)
    views = [f.view for f in package.files]
    assert views == ["parcel", "label", "parcel-redacted", "label-redacted", "record"]
    by_name = {f.name: f for f in package.files}
    for ref in package.record.images:
        data = by_name[ref.name].data
        assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.bytes == len(data)
        assert _image(data).shape[:2] == (ref.height, ref.width)
        assert read_xmp(data)["view"] == ref.view and ref.redacted == ref.view.endswith("redacted")
        assert naming.NAME.match(ref.name)
    label = next(r for r in package.record.images if r.view == "label")
    assert label_box.w + 16 <= label.width <= label_box.w + 32
    assert label_box.h + 16 <= label.height <= label_box.h + 32
    sidecar = json.loads(package.files[-1].data)
    assert sidecar["images"] == [dataclasses.asdict(r) for r in package.record.images]
    assert sidecar["redaction"].startswith("black:") and "reference" in sidecar["redaction"]
    assert package.files[-1].name.endswith("_record.json")


def _ink_hidden(original: np.ndarray, redacted: np.ndarray, box: list[int]) -> float:
    x, y, w, h = box
    before = cv2.cvtColor(original[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY)
    after = cv2.cvtColor(redacted[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY)
    ink = before < 0.75 * np.percentile(before, 95)  # light-grey print counts too
    return float(np.count_nonzero(ink & (after < 16))) / max(1, np.count_nonzero(ink))


def _codes_box(symbols) -> Box:
    """The label box the decode stage reports: the box around every decoded symbol."""
    xs = [x for s in symbols for x, _ in s.corners]
    ys = [y for s in symbols for _, y in s.corners]
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


@pytest.mark.parametrize("seed,nuisance,seed_box", [
    (0, "clean", "truth"), (1, "clean", "codes"), (4, "perspective", "codes"),
    (8, "clean", "codes"), (21, "clean", "truth"), (29, "perspective", "codes")])
def test_redaction_hides_addresses_but_keeps_codes_and_marks(seed: int, nuisance: str,
                                                             seed_box: str) -> None:
    image, truth = parcel_frame(seed, [nuisance])
    symbols = decode(image)
    label = boxes(truth)[1] if seed_box == "truth" else redact.locate_label(image, _codes_box(symbols))
    mark = [Box(*truth["mark"]["box"])] if truth["mark"] and truth["mark"]["box"] else []
    plan = redact.plan(image, label, symbols, mark)
    hidden = redact.apply(image, plan, "black")
    for block in ("addressee", "sender"):
        assert _ink_hidden(image, hidden, truth["text_boxes"][block]) >= 0.97, block
    wanted = {b["text"] for b in truth["barcodes"]}
    assert wanted <= {s.text for s in decode(hidden)}
    label = plan.label
    outside = np.ones(image.shape[:2], bool)
    outside[label.y:label.y + label.h, label.x:label.x + label.w] = False
    assert np.array_equal(hidden[outside], image[outside])
    for m in mark:
        assert np.array_equal(hidden[m.y:m.y + m.h, m.x:m.x + m.w], image[m.y:m.y + m.h, m.x:m.x + m.w])


def test_no_label_means_no_redacted_copy(parcel) -> None:
    image, truth, _ = parcel
    package = build_package(_record(reference=None), image, None, PROFILE, CFG, boxes(truth)[0])
    assert [f.view for f in package.files] == ["parcel", "record"]
    assert package.record.redaction.startswith("no redacted copy")
    assert package.files[0].name.startswith("NOREAD_")


def test_label_filling_the_frame_and_grayscale_input(parcel) -> None:
    image, truth, _ = parcel
    _, label = boxes(truth)
    close_up = cv2.cvtColor(image[label.y:label.y + label.h, label.x:label.x + label.w],
                            cv2.COLOR_BGR2GRAY)
    whole = Box(0, 0, close_up.shape[1], close_up.shape[0])
    package = build_package(_record(), close_up, whole, PROFILE, CFG, None)
    assert {f.view for f in package.files} == {"parcel", "label", "parcel-redacted",
                                              "label-redacted", "record"}
    assert _image(package.files[0].data).shape[:2] == close_up.shape


def test_oversized_views_shrink_instead_of_shipping_a_huge_file() -> None:
    noise = np.random.default_rng(3).integers(0, 256, (4500, 4200, 3), dtype=np.uint8)
    cfg = PackageConfig(max_image_bytes=400_000, redact=False)
    package = build_package(_record(), noise, None, PROFILE, cfg, None)
    ref = package.record.images[0]
    assert ref.bytes <= 400_000 and max(ref.width, ref.height) <= PROFILE.max_width
    with pytest.raises(PackageError):
        build_package(_record(time_utc="not a time"), noise[:64, :64], None, PROFILE, cfg)


def test_write_package_is_atomic_and_checked(tmp_path: Path, parcel) -> None:
    image, truth, symbols = parcel
    parcel_box, label_box = boxes(truth)
    package = build_package(_record(symbols=symbols), image, label_box, PROFILE, CFG, parcel_box)
    paths = write_package(package, tmp_path / "out")
    assert paths[-1].name.endswith("_record.json") and len(paths) == len(package.files)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)
    for f in package.files:
        assert (tmp_path / "out" / f.name).read_bytes() == f.data
    tampered = dataclasses.replace(package, files=(PackageFile(
        "../escape.jpg", "parcel", b"x", hashlib.sha256(b"x").hexdigest(), "image/jpeg"),))
    with pytest.raises(naming.NamingError):
        write_package(tampered, tmp_path / "out2")
    assert not (tmp_path / "escape.jpg").exists()
    corrupt = dataclasses.replace(package, files=(dataclasses.replace(
        package.files[0], data=b"changed"),))
    with pytest.raises(PackageError):
        write_package(corrupt, tmp_path / "out3")


def _conveyor_frames(seed: int, count: int):
    """Frames of the synthetic conveyor in which one parcel lies wholly in view, centred."""
    from edge.camera.synthetic import Config, open as open_camera
    from edge.config import ConveyorConfig
    from edge.camera import CameraContext

    camera = open_camera(Config(parcels=count, realtime=False, seed=seed),
                         CameraContext(conveyor=ConveyorConfig(belt_speed_m_s=1.0)))
    camera.start()
    seen: set[int] = set()
    try:
        while len(seen) < count:
            frame = camera.read(1.0)
            parcels = [p for p in frame.truth["parcels"] if p["complete"]] if frame else []
            if len(parcels) == 1 and parcels[0]["parcel_id"] not in seen:
                x, _, w, _ = parcels[0]["parcel_box"]
                if abs(x + w / 2 - frame.image.shape[1] / 2) < 80:
                    seen.add(parcels[0]["parcel_id"])
                    yield frame.image, parcels[0]
    finally:
        camera.stop()


def test_redaction_on_conveyor_frames_leaves_no_light_print_readable() -> None:
    """Conveyor frames carry motion blur and light-grey print that a global ink level missed."""
    for image, truth in _conveyor_frames(seed=5, count=4):
        symbols = decode(image)
        if not symbols:
            continue
        plan = redact.plan(image, redact.locate_label(image, _codes_box(symbols)), symbols)
        hidden = redact.apply(image, plan, "black")
        for block in ("addressee", "sender"):
            assert _ink_hidden(image, hidden, truth["text_boxes"][block]) >= 0.97, block


def test_a_mark_box_on_the_label_does_not_protect_the_address() -> None:
    """A locator that takes address print for a brand mark must not punch a hole in the redaction."""
    image, truth = parcel_frame(0, ["clean"])
    symbols = decode(image)
    label = redact.locate_label(image, _codes_box(symbols))
    wrong_mark = Box(*truth["text_boxes"]["addressee"])
    hidden = redact.apply(image, redact.plan(image, label, symbols, [wrong_mark]), "black")
    assert _ink_hidden(image, hidden, truth["text_boxes"]["addressee"]) >= 0.97
