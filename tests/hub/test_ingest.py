"""Hub ingest against a real mosquitto and the unit's real publisher (outbox + paho)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from delivery_helpers import wait_until
from edge.hub.app import build_for_test
from edge.hub.store.base import SearchQuery, image_path
from edge.outbox import Outbox
from edge.outbox.config import OutboxConfig
from edge.outbox.resend import resend_command
from edge.publish import Publisher
from edge.publish import wire
from edge.publish.config import MqttConfig, StatusConfig
from records import package, record_json

pytestmark = pytest.mark.integration
FAST = {"ingest": {"units": ["unit-01"], "gap_check_s": 0.2, "gap_grace_s": 0.5,
                   "resend_retry_s": 2.0}}


def unit(tmp_path: Path, port: int) -> tuple[Outbox, Publisher]:
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    cfg = MqttConfig(host="127.0.0.1", port=port, backoff_min_s=0.1, backoff_max_s=0.5)
    pub = Publisher(cfg, box, unit="unit-01", status_cfg=StatusConfig(interval_s=1),
                    commands={"resend": resend_command(box)})
    pub.start()
    return box, pub


def raw_client(port: int) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="forger", protocol=MQTTProtocolVersion.MQTTv5)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def count(hub) -> int:
    return len(hub.store.search(SearchQuery(limit=1000)))


def test_the_units_records_alerts_and_images_arrive_verified(broker, tmp_path):
    hub = build_for_test(tmp_path / "hub", broker.port, **FAST)
    hub.start()
    assert hub.ingest.ready.wait(20)
    box, pub = unit(tmp_path, broker.port)
    try:
        pkgs = [package(box.next_seq(), outcome="flag" if i % 3 == 0 else "clear") for i in range(9)]
        for p in pkgs:
            box.commit(p)
        assert wait_until(lambda: count(hub) == 9 and hub.ingest.counters["image_new"] == 27, 30)
        for p in pkgs:
            detail = hub.services.parcel(p.record.id)
            assert all(i.stored for i in detail.images)
            assert detail.row.has_alert == p.flagged
            for f in p.files:
                assert hashlib.sha256(image_path(hub.services.images, f.sha256).read_bytes()).hexdigest() == f.sha256
        assert wait_until(lambda: hub.services.fleet() and hub.services.fleet()[0].online, 10)
        case = hub.services.case(pkgs[0].record.reference.value)
        assert case.state == "flagged" and [e.kind for e in case.events] == ["seen", "flagged"]
        assert not [k for k in hub.ingest.counters if k.startswith("refused")]
    finally:
        pub.stop()
        hub.stop()


def test_forged_and_malformed_messages_are_refused_and_never_stored(broker, tmp_path):
    hub = build_for_test(tmp_path / "hub", broker.port, **FAST)
    hub.start()
    assert hub.ingest.ready.wait(20)
    c = raw_client(broker.port)
    try:
        good = record_json(package(1))
        stranger = dict(record_json(package(2, unit="unit-99")))
        wrong_schema = {**good, "id": "a" * 32, "schema": "parcel-edge/parcel/99"}
        mismatch = {**good, "id": "b" * 32, "unit": "unit-02"}
        c.publish("parcel-edge/unit-99/parcels", json.dumps(stranger), qos=1)
        c.publish("parcel-edge/unit-01/parcels", json.dumps(wrong_schema), qos=1)
        c.publish("parcel-edge/unit-01/parcels", json.dumps(mismatch), qos=1)
        c.publish("parcel-edge/unit-01/parcels", b"{" + b" " * 2_000_000 + b"}", qos=1)
        c.publish("parcel-edge/unit-01/parcels", b"\xff\xfe not json", qos=1)
        data = b"\xff\xd8 not what was announced"
        props = wire.publish_properties({wire.MSG_ID: "img1", wire.SHA256: "0" * 64}, "image/jpeg")
        c.publish("parcel-edge/unit-01/images/abc/parcel", data, qos=1, properties=props)
        c.publish("parcel-edge/unit-01/parcels", json.dumps(good), qos=1)
        want = {"refused_unknown_unit": 1, "refused_wrong_schema": 1, "refused_unit_mismatch": 1,
                "refused_too_large": 1, "refused_malformed": 1, "refused_bad_image": 1}
        assert wait_until(lambda: all(hub.ingest.counters[k] == n for k, n in want.items())
                          and count(hub) == 1, 20), hub.ingest.counters
        assert hub.store.search(SearchQuery())[0].parcel_id == good["id"]
        assert not [p for p in hub.services.images.rglob("*") if p.is_file()]
    finally:
        c.loop_stop()
        c.disconnect()
        hub.stop()


def test_two_hub_processes_on_one_shared_subscription_give_one_effect_each(broker, tmp_path):
    hubs = [build_for_test(tmp_path / "hub", broker.port, i, **FAST) for i in range(2)]
    for h in hubs:
        h.start()
    assert all(h.ingest.ready.wait(20) for h in hubs)
    c = raw_client(broker.port)
    try:
        records = [record_json(package(s)) for s in range(1, 121)]
        for r in records + records[::3]:   # every third one twice: at-least-once delivery
            c.publish("parcel-edge/unit-01/parcels", json.dumps(r), qos=1)
        assert wait_until(lambda: count(hubs[0]) == 120 and sum(
            h.ingest.counters["record_new"] + h.ingest.counters["record_duplicate"] for h in hubs) == 160, 30)
        new = [h.ingest.counters["record_new"] for h in hubs]
        assert sum(new) == 120 and min(new) > 0, new          # both processes took a share
        events = hubs[0].store.case_events(records[0]["reference"]["value"])
        assert [e.kind for e in events] == ["seen", "flagged"]
    finally:
        c.loop_stop()
        c.disconnect()
        for h in hubs:
            h.stop()


def test_a_lost_tail_is_found_from_the_units_status_and_resent(broker, tmp_path):
    """The newest parcels lost and nothing after them: no later number shows the gap, the
    unit's status (its newest committed record, nothing left to send) does."""
    hub = build_for_test(tmp_path / "hub", broker.port, **FAST)
    hub.start()
    assert hub.ingest.ready.wait(20)
    box, pub = unit(tmp_path, broker.port)
    try:
        for _ in range(6):
            box.commit(package(box.next_seq(), outcome="clear", views={}))
        assert wait_until(lambda: count(hub) == 6, 30)
        hub.store.execute_text("DELETE FROM parcels WHERE seq IN (5, 6)")   # the tail, lost
        assert wait_until(lambda: count(hub) == 6, 30), hub.ingest.counters
        assert hub.ingest.counters["resend_requests"] >= 1
        assert sorted(r.seq for r in hub.store.search(SearchQuery())) == list(range(1, 7))
    finally:
        pub.stop()
        hub.stop()


def test_a_gap_is_healed_by_asking_the_unit_to_resend(broker, tmp_path):
    hub = build_for_test(tmp_path / "hub", broker.port, **FAST)
    hub.start()
    assert hub.ingest.ready.wait(20)
    box, pub = unit(tmp_path, broker.port)
    try:
        pkgs = [package(box.next_seq(), outcome="clear", views={}) for _ in range(10)]
        for p in pkgs:
            box.commit(p)
        assert wait_until(lambda: count(hub) == 10, 30)
        hub.store.execute_text("DELETE FROM parcels WHERE seq IN (4, 5, 6)")   # lost (a restore)
        assert [(g.first, g.last) for g in hub.store.gaps()] == [(4, 6)]
        assert wait_until(lambda: count(hub) == 10 and not hub.store.gaps(), 30)
        assert hub.ingest.counters["resend_requests"] >= 1
        assert sorted(r.seq for r in hub.store.search(SearchQuery())) == list(range(1, 11))
    finally:
        pub.stop()
        hub.stop()


def test_a_hub_whose_store_fails_and_restarts_loses_nothing(broker, tmp_path):
    """Messages taken but not committed are not acknowledged: the broker redelivers them
    to the restarted process (same instance, same broker session)."""
    hub = build_for_test(tmp_path / "hub", broker.port, **FAST)
    real_ingest = hub.store.ingest
    hub.store.ingest = lambda items, now: (_ for _ in ()).throw(RuntimeError("disk gone"))
    hub.start()
    assert hub.ingest.ready.wait(20)
    c = raw_client(broker.port)
    records = [record_json(package(s)) for s in range(1, 21)]
    for r in records:
        c.publish("parcel-edge/unit-01/parcels", json.dumps(r), qos=1)
    assert wait_until(lambda: hub.ingest.counters["store_errors"] >= 1, 10)
    hub.stop()                                   # nothing was acknowledged
    hub2 = build_for_test(tmp_path / "hub", broker.port, **FAST)
    assert hub2.store.ingest.__func__ is real_ingest.__func__
    hub2.start()
    try:
        assert wait_until(lambda: count(hub2) == 20, 30)
    finally:
        c.loop_stop()
        c.disconnect()
        hub2.stop()


def test_an_officers_decision_is_published_for_other_systems(broker, tmp_path):
    hub = build_for_test(tmp_path / "hub", broker.port, **FAST)
    hub.start()
    assert hub.ingest.ready.wait(20)
    got: list[dict] = []
    c = raw_client(broker.port)
    c.on_message = lambda cl, ud, msg: got.append(json.loads(msg.payload))
    c.subscribe("parcel-edge-hub/hub/dispositions", qos=1)
    try:
        pkg = package(1)
        c.publish("parcel-edge/unit-01/parcels", json.dumps(record_json(pkg)), qos=1)
        assert wait_until(lambda: count(hub) == 1, 20)
        ref = pkg.record.reference.value
        hub.services.add_case_event(ref, "presented", "alice")
        hub.services.add_case_event(ref, "detained", "alice")
        assert wait_until(lambda: len(got) == 1, 10)
        assert got[0]["disposition"] == "detained" and got[0]["reference"] == ref
        assert got[0]["parcels"][0]["id"] == pkg.record.id
    finally:
        c.loop_stop()
        c.disconnect()
        hub.stop()


def test_a_stored_image_is_kept_only_when_its_bytes_are_whole(tmp_path) -> None:
    """A cut before the batch's sync can leave a file of the right size holding zeros;
    the redelivered image must then be written again, not taken as stored."""
    import hashlib

    from edge.durable import holds, sync_filesystem, write_replace

    data = b"\xff\xd8 a jpeg's bytes \xff\xd9" * 100
    digest = hashlib.sha256(data).hexdigest()
    path = tmp_path / digest
    path.write_bytes(b"\0" * len(data))
    assert not holds(path, digest, len(data))
    write_replace(path, data, 0o644)
    sync_filesystem(tmp_path)
    assert holds(path, digest, len(data)) and not list(tmp_path.glob(".*.tmp"))


def test_an_image_folder_removed_while_the_hub_runs_is_made_again(tmp_path) -> None:
    """Folders are remembered so mkdir is not paid per image; one deleted by hand (a cleanup,
    a restore) must not make every later image of that folder fail."""
    import shutil

    from edge.hub.config import HubConfig
    from edge.hub.ingest import Ingest
    from edge.receive.assemble import Image

    cfg = HubConfig.model_validate({"data_dir": str(tmp_path), "ingest": {"units": ["unit-01"]}})
    ingest = Ingest(cfg, store=None, images=tmp_path / "images")
    data = b"an image's bytes" * 50
    digest = hashlib.sha256(data).hexdigest()
    image = Image("p", "parcel", "label", "id", 1, digest, "image/jpeg", data)
    ingest._save(image)
    shutil.rmtree(ingest.images)
    ingest._save(image)
    assert image_path(ingest.images, digest).read_bytes() == data
