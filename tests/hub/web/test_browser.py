"""Headless Chromium driving the real pages over a hub fed by the real unit through mosquitto.

An officer at a desk and at a phone's size: log in, take a flag from the queue, detain it,
download both share packages and check their hashes, find the parcel by reference number;
and a barcode carrying ``<script>`` is shown as text, never run.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import MOSQUITTO, Broker, free_port
from tests.hub.web.conftest import DESK, PHONE, LiveServer, browser_login, make_app, make_hub
from tests.hub.web.unit_feed import PARCELS, UNIT_ID, run_unit, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]

EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, LiveServer]]:
    """A hub that ingested the real unit's 12 parcels over a real broker, served live."""
    if not MOSQUITTO.exists():
        pytest.skip("mosquitto is not installed")
    root = tmp_path_factory.mktemp("fed")
    (root / "broker").mkdir()
    broker = Broker(root / "broker", free_port())
    broker.start()
    hub = make_hub(root / "hub", broker_port=broker.port)
    hub.start()
    try:
        run_unit(root / "unit", broker.port)
        wait_for(lambda: len(hub.services.search(_everything())) >= PARCELS, 60, "ingest")
        _publish_evil_parcel(hub, broker.port)
        with LiveServer(make_app(hub)) as server:
            server.broker_port = broker.port  # type: ignore[attr-defined]
            yield hub, server
    finally:
        hub.stop()
        broker.stop()


def _everything() -> Any:
    from edge.hub.store.base import SearchQuery
    return SearchQuery(unit=UNIT_ID, limit=1000)


def _publish_copy(hub: Any, port: int, suffix: str, **changes: Any) -> dict[str, Any]:
    """A copy of one of the unit's flagged records under a new id and the next sequence
    number, published on the unit's topic; returns it once the hub has stored it."""
    import paho.mqtt.client as mqtt
    import paho.mqtt.publish as publish

    rows = hub.services.search(_everything())
    row = next(r for r in rows if r.outcome == "flag")
    record = json.loads(json.dumps(hub.services.parcel(row.parcel_id).record))
    record.update(id=record["id"][:-len(suffix)] + suffix, seq=max(r.seq for r in rows) + 1,
                  **changes)
    publish.single(f"parcel-edge/{UNIT_ID}/parcels", json.dumps(record), qos=1,
                   hostname="127.0.0.1", port=port, protocol=mqtt.MQTTv5)
    wait_for(lambda: hub.services.parcel(record["id"]) is not None, 30, "the published record")
    return record


def _publish_evil_parcel(hub: Any, port: int) -> None:
    """A unit's record whose barcode text and reason carry markup (as a label printed to
    attack the hub would), published on the unit's topic and ingested like any other."""
    rows = hub.services.search(_everything())
    record = json.loads(json.dumps(hub.services.parcel(
        next(r for r in rows if r.outcome == "flag").parcel_id).record))
    record["symbols"] = [{**record["symbols"][0], "text": EVIL}] if record["symbols"] else \
        [{"format": "Code128", "text": EVIL, "decoder": "zxing", "frame_seq": 0, "corners": []}]
    record["verdict"]["reasons"] = [f"label says {EVIL}"]
    _publish_copy(hub, port, "evil", symbols=record["symbols"], verdict=record["verdict"])


def _zip_ok(data: bytes) -> dict[str, Any]:
    """Every file in the package matches the SHA-256 its manifest states."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        manifest = json.loads(z.read("manifest.json"))
        files = manifest["files"]
        assert files
        for entry in files:
            assert hashlib.sha256(z.read(entry["name"])).hexdigest() == entry["sha256"], entry
    return manifest


def _officer_flow(page: Any, base: str, tmp: Path) -> dict[str, str]:
    """Returns the SHA-256 of each downloaded package, by audience."""
    browser_login(page, base, "officer1")
    assert page.url.endswith("/queue")
    # the newest flag whose case nobody has decided yet (the other size's run detained one)
    page.click("table.parcels tr:has(td[data-label=Case] a:text-is('flagged')) a.outcome-flag"
               " >> nth=0")
    page.wait_for_url("**/parcel/**")
    reference = page.inner_text("#reference").strip()
    assert page.locator(".images img").count() >= 1
    page.click("dd a[href^='/case/']")
    page.wait_for_url("**/case/**")
    page.on("dialog", lambda d: d.accept())
    hashes: dict[str, str] = {}
    if page.locator("button[value=presented]").count():
        page.click("button[value=presented]")
        page.wait_for_selector(".flash.ok")
    page.click("button[value=detained]")
    page.wait_for_selector(".flash.ok")
    assert page.locator("#timeline li[data-kind=detained]").count() == 1
    for audience in ("importer", "rights_holder"):
        with page.expect_download() as info:
            page.click(f"button[data-share={audience}]")
        path = tmp / f"{audience}.zip"
        info.value.save_as(path)
        manifest = _zip_ok(path.read_bytes())
        assert manifest["reference"] == reference and manifest["audience"] == audience
        images = [f["name"] for f in manifest["files"] if f["name"].startswith("images/")]
        assert images and all(("-redacted." in n) == (audience == "rights_holder") for n in images)
        hashes[audience] = hashlib.sha256(path.read_bytes()).hexdigest()
    page.goto(f"{base}/search")
    page.fill("input[name=reference]", reference)
    page.click("form.search button[type=submit]")
    page.wait_for_selector("table.parcels")
    assert reference in page.inner_text("table.parcels")
    return hashes


@pytest.mark.parametrize("size", ["desk", "phone"])
def test_officer_takes_a_flag_detains_it_shares_and_finds_it(
        fed: tuple[Any, LiveServer], browser: Any, tmp_path: Path, size: str) -> None:
    hub, server = fed
    context = browser.new_context(accept_downloads=True, **(PHONE if size == "phone" else DESK))
    try:
        page = context.new_page()
        hashes = _officer_flow(page, server.url, tmp_path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= (390 if size == "phone" else 1366), "page scrolls sideways"
    finally:
        context.close()
    entries = hub.services.audit_log(0, 5000)
    assert any(e.action == "case.detained" and e.actor == "officer1" for e in entries)
    for audience, digest in hashes.items():  # the audit log holds the hash of what was sent
        assert any(e.action == f"share.{audience}" and e.detail.get("sha256") == digest
                   for e in entries), audience
    assert hub.services.verify_audit().ok


def test_markup_in_barcode_text_and_reasons_is_shown_not_run(fed: tuple[Any, LiveServer],
                                                             browser: Any) -> None:
    hub, server = fed
    context = browser.new_context(**DESK)
    try:
        page = context.new_page()
        browser_login(page, server.url, "readonly1")
        evil = next(r for r in hub.services.search(_everything()) if r.parcel_id.endswith("evil"))
        page.goto(f"{server.url}/parcel/{evil.parcel_id}")
        assert EVIL in page.inner_text("#symbols")
        assert EVIL in page.inner_text("#reasons")
        page.goto(f"{server.url}/queue")
        page.wait_for_timeout(1500)  # one live refresh of the queue swaps rows in
        assert f"label says {EVIL}" in page.inner_text("#queue")
        assert page.evaluate("window.__pwned") is None
        assert page.locator("main script, main img[src=x]").count() == 0
    finally:
        context.close()


def test_pages_refuse_the_browser_without_login(fed: tuple[Any, LiveServer], browser: Any) -> None:
    _, server = fed
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        for path in ("/queue", "/search?reference=RR", "/audit", "/fleet", f"/img/{'a' * 64}"):
            page.goto(server.url + path)
            assert "/login?next=" in page.url, path
        assert page.request.get(f"{server.url}/img/{'a' * 64}").status == 401
    finally:
        context.close()


def test_supervisor_sees_fleet_precision_and_an_intact_audit_chain(
        fed: tuple[Any, LiveServer], browser: Any) -> None:
    _, server = fed
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        browser_login(page, server.url, "supervisor1")
        page.goto(f"{server.url}/fleet")
        row = page.locator(f"#fleet tr[data-unit={UNIT_ID}]")
        assert row.count() == 1
        assert row.locator("td[data-label=State] .badge").inner_text() in ("online", "offline")
        page.goto(f"{server.url}/precision")
        assert page.locator("#precision tbody tr").count() >= 1
        page.goto(f"{server.url}/audit")
        assert "Chain intact" in page.inner_text("#chain")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_the_queue_shows_a_new_flag_without_a_reload(fed: tuple[Any, LiveServer],
                                                     browser: Any) -> None:
    hub, server = fed
    context = browser.new_context(**DESK)
    try:
        page = context.new_page()
        browser_login(page, server.url, "officer1")
        page.evaluate("window.__same_page = true")
        record = _publish_copy(hub, server.broker_port, "live")  # type: ignore[attr-defined]
        page.wait_for_selector(f'#queue tr[data-parcel="{record["id"]}"]', timeout=15_000)
        assert page.evaluate("window.__same_page") is True  # swapped in, not reloaded
    finally:
        context.close()
