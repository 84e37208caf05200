"""The capture pages over HTTP: login and role, CSRF, verdicts in words, bad input refused."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from capture_scenes import REFERENCE, jpeg, scene
from edge.hub.photos.config import CaptureConfig
from edge.hub.photos.service import CaptureService
from edge.outbox import Outbox
from edge.outbox.config import OutboxConfig
from tests.imaging_helpers import png_claiming
from tests.hub.web.conftest import csrf_of, login, make_app, make_hub

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, CaptureService]]:
    from fastapi.testclient import TestClient

    root = tmp_path_factory.mktemp("capture")
    hub = make_hub(root / "hub")
    cfg = CaptureConfig(data_dir=str(root / "capture"), max_upload_mb=2)
    service = CaptureService(cfg, Outbox(OutboxConfig(), root / "capture" / "outbox"))
    app = make_app(hub)
    app.state.capture = service
    clients = {}
    for name in ("officer1", "readonly1"):
        clients[name] = TestClient(app)
        assert login(clients[name], name).status_code == 303
    clients["anonymous"] = TestClient(app)
    yield clients, service
    service.stop()
    hub.stop()


def _post_photo(client: Any, data: bytes, ctype: str = "image/jpeg", key: str = "label",
                reference: str = REFERENCE, csrf: str | None = None) -> Any:
    page = client.get(f"/capture/case/{reference}")
    token = csrf if csrf is not None else csrf_of(page.text)
    return client.post(f"/capture/case/{reference}/photo", data={"key": key, "csrf": token},
                       files={"photo": ("photo.jpg", data, ctype)})


def test_pages_need_login_and_the_capture_permission(site: Any) -> None:
    clients, _ = site
    anon = clients["anonymous"].get("/capture", headers={"accept": "text/html"},
                                    follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")
    assert clients["readonly1"].get(f"/capture/case/{REFERENCE}").status_code == 403
    assert clients["readonly1"].get("/capture/guide").status_code == 200
    page = clients["officer1"].get(f"/capture/case/{REFERENCE}")
    assert page.status_code == 200
    assert 'accept="image/*" capture="environment"' in page.text
    assert "Exterior packaging" in page.text


def test_a_failing_photo_comes_back_with_its_reason_and_a_retake(site: Any) -> None:
    clients, service = site
    response = _post_photo(clients["officer1"], jpeg(scene("label", "far")))
    assert response.status_code == 200
    assert "Retake the shipping label photo" in response.text
    assert "move closer: the barcode has 1." in response.text and "it needs 2" in response.text
    assert 'name="key" value="label"' in response.text
    assert service.staging.shots("officer1", REFERENCE) == []


def test_without_csrf_nothing_is_checked_or_kept(site: Any) -> None:
    clients, service = site
    before = dict(service.counters)
    response = _post_photo(clients["officer1"], jpeg(scene("label")), csrf="0" * 64)
    assert response.status_code == 403 and dict(service.counters) == before


@pytest.mark.parametrize("data,ctype,words", [
    (b"MZ\x90\x00 an executable", "application/octet-stream", "not a photo"),
    (b"<html>hi</html>", "text/html", "not a photo"),
    (None, "image/jpeg", "damaged"),
    (None, "image/png", "says image/png"),
    (png_claiming(30000, 30000), "image/png", "30000x30000"),
    (b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024), "image/jpeg", "upload limit"),
])
def test_bad_uploads_say_why_and_store_nothing(site: Any, data: bytes | None, ctype: str,
                                               words: str) -> None:
    clients, service = site
    good = jpeg(scene("label"))
    if data is None:
        data = good[: len(good) // 3] if words == "damaged" else good
    response = _post_photo(clients["officer1"], data, ctype)
    assert response.status_code in (400, 413)
    assert words in response.text and 'id="capture-error"' in response.text
    assert service.staging.shots("officer1", REFERENCE) == []
    assert service.outbox.pending(10) == []


def test_a_reference_that_does_not_validate_is_refused(site: Any) -> None:
    clients, service = site
    bad = REFERENCE[:-3] + "0GB"
    response = clients["officer1"].get(f"/capture/open?reference={bad}")
    assert response.status_code == 400 and "is not a valid reference number" in response.text
    hostile = clients["officer1"].get("/capture/open", params={"reference": "<script>x</script>"})
    assert "<script>x" not in hostile.text and "&lt;script&gt;" in hostile.text
    assert _post_photo(clients["officer1"], jpeg(scene("label")), reference=bad).status_code == 400
    assert not list((Path(service.cfg.data_dir)).glob(f"sets/*/{bad}"))


def test_opening_by_photographing_the_label(site: Any) -> None:
    clients, _ = site
    client = clients["officer1"]
    token = csrf_of(client.get("/capture").text)
    ok = client.post("/capture/label", data={"csrf": token}, follow_redirects=False,
                     files={"photo": ("l.jpg", jpeg(scene("label")), "image/jpeg")})
    assert ok.status_code == 303 and ok.headers["location"] == f"/capture/case/{REFERENCE}"
    unread = client.post("/capture/label", data={"csrf": token},
                         files={"photo": ("l.jpg", jpeg(scene("interior")), "image/jpeg")})
    assert unread.status_code == 400 and "could be read on this label" in unread.text


def test_the_guide_page_and_pdf(site: Any) -> None:
    clients, _ = site
    page = clients["officer1"].get("/capture/guide")
    assert "at least 8 px per mm" in page.text and "read, at least 2 px per module" in page.text
    pdf = clients["officer1"].get("/capture/guide.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
