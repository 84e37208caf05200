"""The exam-photo service: uploads decoded within limits, checked by the conveyor's code, filed."""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from capture_scenes import OTHER_REFERENCE, REFERENCE, jpeg, scene
from edge.decode import LabelReader
from edge.hub.photos.check import case_reference, check_photo
from edge.hub.photos.config import CaptureConfig
from edge.hub.photos.decode import PhotoError, decode_photo
from edge.hub.photos.service import CaptureService
from edge.outbox import Outbox
from edge.outbox.config import OutboxConfig
from edge.package import naming
from edge.package.jpeg import read_xmp
from edge.quality.config import QualityProfile
from tests.imaging_helpers import png_claiming

PROFILE = QualityProfile()
CASE = case_reference(REFERENCE)


def test_exif_orientation_is_applied_and_heic_is_read() -> None:
    pixels = np.zeros((60, 80, 3), np.uint8)
    pixels[:10, :20] = 255  # a white patch top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees clockwise
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=95, exif=exif)
    photo = decode_photo(buf.getvalue(), "image/jpeg")
    assert (photo.width, photo.height, photo.orientation) == (60, 80, 6)
    assert photo.image[:20, -10:].mean() > 200 and photo.image[:20, :10].mean() < 50
    import pillow_heif

    pillow_heif.register_heif_opener()
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "HEIF")
    heic = decode_photo(buf.getvalue(), "image/heic")
    assert (heic.format, heic.width, heic.height) == ("heic", 80, 60)


@pytest.mark.parametrize("data,ctype,words", [
    (b"", "image/jpeg", "empty"),
    (b"%PDF-1.7 not a photo", "application/pdf", "not a photo"),
    (b"<script>alert(1)</script>", "image/jpeg", "not a photo"),
    (png_claiming(30000, 30000), "image/png", "30000x30000"),
    (None, "image/jpeg", "damaged"),         # truncated JPEG
    (None, "image/png", "says image/png"),   # a JPEG declared as PNG
    (None, "text/html", "not a photo type"),
])
def test_bad_uploads_get_one_line_reasons(data: bytes | None, ctype: str, words: str) -> None:
    good = jpeg(np.full((64, 64, 3), 128, np.uint8))
    if data is None:
        data = good[: len(good) // 2] if words == "damaged" else good
    with pytest.raises(PhotoError) as err:
        decode_photo(data, ctype)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_upload_size_is_refused_before_decoding() -> None:
    with pytest.raises(PhotoError, match="over the limit"):
        decode_photo(b"\xff\xd8\xff" + b"\0" * 2048, "image/jpeg", max_bytes=1024)


@pytest.fixture(scope="module")
def reader() -> LabelReader:
    return LabelReader()


@pytest.mark.parametrize("view", list(PROFILE.exam_views))
def test_good_photos_of_every_view_pass(view: str, reader: LabelReader) -> None:
    verdict = check_photo(scene(view), view, PROFILE, reader, CASE)
    assert verdict.passed, verdict.report
    assert verdict.advice == ()


@pytest.mark.parametrize("view,fault,check,words", [
    ("label", "far", "legibility", "move closer: the barcode has 1."),
    ("label", "glare", "glare", "glare on the label"),
    ("mark", "glare", "reflection", "glare on the item: a reflection covers"),
    ("exterior", "dark", "brightness", "too dark: use the exam light"),
    ("interior", "blur", "sharpness", "blurred"),
    ("product", "nocard", "scale", "no scale card"),
])
def test_failures_name_the_check_and_what_to_do(view: str, fault: str, check: str, words: str,
                                                reader: LabelReader) -> None:
    verdict = check_photo(scene(view, fault), view, PROFILE, reader, CASE)
    assert not verdict.passed and check in verdict.report.failed
    assert any(words in a for a in verdict.advice), verdict.advice


def test_a_close_up_too_far_away_says_so(reader: LabelReader) -> None:
    verdict = check_photo(scene("mark", px_per_mm=4.0), "mark", PROFILE, reader, CASE)
    assert verdict.report.failed == ("scale",)
    assert verdict.advice == ("move closer: the scale card shows 4.0 px per mm, this view needs 8",)


def test_a_label_of_another_parcel_is_refused(reader: LabelReader) -> None:
    verdict = check_photo(scene("label"), "label", PROFILE, reader, case_reference(OTHER_REFERENCE))
    assert verdict.report.failed == ("reference",)


def test_references_are_validated() -> None:
    assert case_reference(REFERENCE) is not None
    assert case_reference(REFERENCE[:-3] + "0GB") is None  # wrong check digit
    assert case_reference("../../etc/passwd") is None


def _service(tmp_path: Path) -> CaptureService:
    cfg = CaptureConfig(data_dir=str(tmp_path / "capture"))
    return CaptureService(cfg, Outbox(OutboxConfig(), tmp_path / "capture" / "outbox"))


def test_a_passing_set_is_filed_as_a_standard_package(tmp_path: Path) -> None:
    service = _service(tmp_path)
    for state in service.views("officer1", CASE):
        if state.required:
            verdict = service.check("officer1", CASE, state.next_key,
                                    jpeg(scene(state.name)), "image/jpeg")
            assert verdict.passed, verdict.advice
    bad = service.check("officer1", CASE, "mark-2", jpeg(scene("mark", "blur")), "image/jpeg")
    assert not bad.passed
    assert service.missing("officer1", CASE) == []
    package = service.file("officer1", CASE)
    record = package.record
    views = [f.view for f in package.files]
    assert views == ["exterior", "exterior-redacted", "label", "label-redacted", "interior",
                     "interior-redacted", "product", "product-redacted", "mark-1",
                     "mark-1-redacted", "record"]
    assert record.reference == CASE and record.trigger == "exam" and record.unit == "exam-table"
    for f in package.files:
        assert naming.NAME.match(f.name) and f.name.startswith(REFERENCE + "_exam-table_")
        assert hashlib.sha256(f.data).hexdigest() == f.sha256
    assert {i.sha256 for i in record.images} == {f.sha256 for f in package.files[:-1]}
    label = next(f for f in package.files if f.view == "label")
    assert read_xmp(label.data)["reference"] == REFERENCE
    redacted = next(f for f in package.files if f.view == "label-redacted")
    assert redacted.data != label.data and "label:" in record.redaction
    sidecar = json.loads(package.files[-1].data)
    assert sidecar["id"] == record.id and len(sidecar["quality"]) == 5
    pending = service.outbox.pending(100)
    assert {i.kind for i in pending} == {"image", "record"} and len(pending) == 11
    assert service.staging.shots("officer1", REFERENCE) == []  # the set is cleared once filed
    service.outbox.close()


def test_an_incomplete_set_is_not_filed_and_failures_are_not_kept(tmp_path: Path) -> None:
    service = _service(tmp_path)
    odd_name = "j.doe@imf/../x"  # user names are not path parts
    assert service.check(odd_name, CASE, "label", jpeg(scene("label")), "image/jpeg").passed
    assert [s.key for s in service.staging.shots(odd_name, REFERENCE)] == ["label"]
    assert service.staging.folder(odd_name, REFERENCE).parent.parent == tmp_path / "capture" / "sets"
    verdict = service.check("officer1", CASE, "label", jpeg(scene("label", "far")), "image/jpeg")
    assert not verdict.passed and service.staging.shots("officer1", REFERENCE) == []
    with pytest.raises(PhotoError, match="not complete"):
        service.file("officer1", CASE)
    with pytest.raises(PhotoError):
        service.check("officer1", CASE, "../x", jpeg(scene("label")), "image/jpeg")
    with pytest.raises(PhotoError):
        service.check("officer1", CASE, "label", png_claiming(30000, 30000), "image/png")
    assert service.outbox.pending(10) == [] and service.counters["bad_upload"] == 1
    service.outbox.close()


@pytest.mark.parametrize("module", [1, 3, 6])
def test_the_bars_of_an_unread_label_give_their_size(module: int) -> None:
    import cv2

    from edge.hub.photos.bars import estimate_module_px

    gray = cv2.cvtColor(scene("label", module=module), cv2.COLOR_BGR2GRAY)
    assert estimate_module_px(gray) == pytest.approx(module, abs=0.6)
    assert estimate_module_px(np.full((600, 800), 200, np.uint8)) is None
