"""An officer's phone (headless Chromium, 390x844, touch) at the exam table, end to end.

A real hub with ingest over a real mosquitto: a failing photo shows its reason and the retake
prompt; the passing set is filed as a standard package, arrives on MQTT from the exam station
unit and appears in the case with its SHA-256; the guide's PDF is served.
"""
from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from capture_scenes import REFERENCE, jpeg, scene
from tests.conftest import MOSQUITTO, Broker, free_port
from tests.hub.web.conftest import (PASSWORD, PHONE, ROLE_USERS, LiveServer, browser_login,
                                    chromium, make_app)
from tests.hub.web.unit_feed import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]
VIEWS = ("exterior", "label", "interior", "product", "mark")


class Listener:
    """Everything published under the exam station's prefix, with its user properties."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="capture-listener",
                                  protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("parcel-edge/exam-table/#", qos=1)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        from edge.publish.wire import user_properties

        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), user_properties(msg.properties)))

    def records(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith("/parcels")]

    def images(self) -> dict[str, str]:
        with self.lock:
            return {t.rsplit("/", 1)[1]: hashlib.sha256(p).hexdigest()
                    for t, p, _ in self.messages if "/images/" in t}

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, LiveServer, Listener, Path]]:
    from edge.hub.app import build_for_test

    if not MOSQUITTO.exists():
        pytest.skip("mosquitto is not installed")
    root = tmp_path_factory.mktemp("exam")
    (root / "broker").mkdir()
    broker = Broker(root / "broker", free_port())
    broker.start()
    listener = Listener(broker.port)
    hub = build_for_test(root / "hub", broker_port=broker.port, capture={
        "data_dir": str(root / "capture"), "mqtt": {"host": "127.0.0.1", "port": broker.port}})
    for role, name in ROLE_USERS.items():
        hub.services.add_user(name, PASSWORD, role, "test")
    hub.start()
    photos = root / "photos"
    photos.mkdir()
    for view in VIEWS:
        (photos / f"{view}.jpg").write_bytes(jpeg(scene(view, seed=3)))
    (photos / "exterior-dark.jpg").write_bytes(jpeg(scene("exterior", "dark", seed=3)))
    (photos / "label-far.jpg").write_bytes(jpeg(scene("label", "far", seed=3)))
    (photos / "notes.txt").write_bytes(b"not a photo at all")
    app = make_app(hub)
    app.state.capture = hub.capture
    try:
        with LiveServer(app) as server:
            yield hub, server, listener, photos
    finally:
        listener.stop()
        hub.stop()
        broker.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium for this module only: closed before other modules start their own
    (two sync Playwright instances cannot be open in one thread)."""
    yield from chromium()


@pytest.fixture()
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    yield page
    context.close()


def _upload(page: Any, path: Path) -> None:
    """Take the photo: the page sends it as soon as it is picked, and answers with a page."""
    with page.expect_navigation():
        page.set_input_files("#photo-form input[type=file]", str(path))


def test_an_exam_set_on_a_phone(site: Any, phone: Any) -> None:
    hub, server, listener, photos = site
    page = phone
    browser_login(page, server.url, "officer1")
    page.goto(f"{server.url}/capture")
    page.fill("#open-typed input[name=reference]", REFERENCE[:2] + " " + REFERENCE[2:])
    page.click("#open-typed button")
    page.wait_for_selector("#capture-reference")
    assert page.inner_text("#capture-reference") == REFERENCE
    assert page.get_attribute("#photo-form input[type=file]", "capture") == "environment"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    _upload(page, photos / "notes.txt")  # bad input: said on the page, nothing kept
    assert "not a photo" in page.inner_text("#capture-error")
    _upload(page, photos / "exterior-dark.jpg")
    verdict = page.inner_text("#verdict")
    assert "Retake the exterior packaging photo" in verdict and "too dark: use the exam light" in verdict
    assert page.get_attribute("#photo-form input[name=key]", "value") == "exterior"
    assert hub.capture.staging.shots("officer1", REFERENCE) == []

    _upload(page, photos / "exterior.jpg")
    assert page.get_attribute("#verdict", "data-passed") == "1"
    _upload(page, photos / "label-far.jpg")
    assert "move closer: the barcode has" in page.inner_text("#verdict")
    for view in VIEWS[1:]:
        assert page.get_attribute("#photo-form input[name=key]", "value").startswith(view)
        _upload(page, photos / f"{view}.jpg")
        assert page.get_attribute("#verdict", "data-passed") == "1", page.inner_text("main")
    assert listener.records() == []  # nothing published before the set is filed

    with page.expect_navigation():
        page.click("#file-form button")
    filed = dict(page.evaluate("""Array.from(document.querySelectorAll('#filed-files tbody tr'))
        .map(tr => [tr.children[1].textContent.trim(), tr.children[2].textContent.trim()])"""))
    assert len(filed) == 11 and "mark-1-redacted" in filed

    wait_for(lambda: len(listener.records()) == 1 and len(listener.images()) == 10, 30, "MQTT")
    record = listener.records()[0]
    assert record["reference"]["value"] == REFERENCE and record["trigger"] == "exam"
    assert listener.images() == {v: h for v, h in filed.items() if v != "record"}
    assert {i["view"]: i["sha256"] for i in record["images"]} == listener.images()

    def ingested() -> bool:
        case = hub.services.case(REFERENCE)
        return case is not None and any(p.parcel_id == record["id"] for p in case.parcels)
    wait_for(ingested, 30, "the hub to ingest the exam package")
    detail = hub.services.parcel(record["id"])
    wait_for(lambda: all(i.stored for i in hub.services.parcel(record["id"]).images), 30, "images")
    assert {i.view: i.sha256 for i in detail.images} == listener.images()

    page.goto(f"{server.url}/case/{REFERENCE}")
    with page.expect_navigation():
        page.click(f"a[href='/parcel/{record['id']}']")
    captions = page.inner_text(".images")
    for view, sha in listener.images().items():
        assert sha[:12] in captions, view


def test_the_guide_pdf_is_served(site: Any, phone: Any) -> None:
    _, server, _, _ = site
    browser_login(phone, server.url, "readonly1")
    response = phone.request.get(f"{server.url}/capture/guide.pdf")
    assert response.status == 200 and response.body().startswith(b"%PDF")
    phone.goto(f"{server.url}/capture/guide")
    assert "at least 8 px per mm" in phone.inner_text("#guide-views")
