"""Delivery pieces without a broker: chunking round trip, sequence gaps, commands, topics."""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from delivery_helpers import make_package
from edge.outbox import Outbox
from edge.outbox.config import OutboxConfig
from edge.publish import wire
from edge.backoff import Backoff
from edge.publish.commands import CommandRouter
from edge.publish.drain import Drainer
from edge.publish.status import StatusReporter, cpu_temperature_c
from edge.publish.topics import Topics, safe_part
from edge.receive.assemble import Assembler, ImageError
from edge.receive.sequence import SeqTracker

TOPICS = Topics("parcel-edge/unit-01")


class FakeLink:
    """Records what the drainer publishes, as paho would accept it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, Properties, int]] = []

    def __call__(self, topic: str, payload: bytes, qos: int, retain: bool, properties: Properties) -> Any:
        mid = len(self.sent) + 1
        self.sent.append((topic, payload, properties, mid))
        return SimpleNamespace(rc=MQTTErrorCode.MQTT_ERR_SUCCESS, mid=mid)


def _drainer(tmp_path: Path, window: int = 100) -> tuple[Outbox, FakeLink, Drainer, Counter[str]]:
    box = Outbox(OutboxConfig(), tmp_path)
    link = FakeLink()
    errors: Counter[str] = Counter()
    return box, link, Drainer(box, TOPICS, link, window, errors), errors


def test_big_image_goes_in_chunks_that_fit_and_reassemble_in_any_order(tmp_path: Path) -> None:
    box, link, drainer, _ = _drainer(tmp_path)
    drainer.max_packet = 16 * 1024
    pkg = make_package(box.next_seq(), views={"parcel": 100_000})
    box.commit(pkg)
    drainer.pump()
    chunks = [s for s in link.sent if "/images/" in s[0]]
    assert len(chunks) >= 7
    for topic, payload, props, _ in chunks:
        assert len(payload) + len(topic) + 2 + len(props.pack()) + 5 <= drainer.max_packet
    assert not any(t.endswith("/parcels") for t, *_ in link.sent), "record waits for its image"
    shuffled = chunks[:] + chunks[:2]
    random.Random(3).shuffle(shuffled)
    assembler = Assembler()
    done = [img for t, p, props, _ in shuffled if (img := assembler.add(t, p, props)) is not None]
    assert len(done) == 1 and done[0].data == pkg.files[0].data
    for *_, mid in chunks:
        drainer.on_ack(mid, False, "Success")
    drainer.pump()
    assert link.sent[-1][0].endswith("/parcels")


def test_chunks_of_a_big_image_stay_inside_the_window(tmp_path: Path) -> None:
    box, link, drainer, _ = _drainer(tmp_path, window=3)
    drainer.max_packet = 16 * 1024
    box.commit(make_package(box.next_seq(), views={"parcel": 100_000}))
    peaks = []
    while not any(t.endswith("/parcels") for t, *_ in link.sent):
        before = len(link.sent)
        drainer.pump()
        peaks.append(drainer.in_flight)
        for *_, mid in link.sent[before:]:
            drainer.on_ack(mid, False, "Success")
        assert len(peaks) < 10
    assert max(peaks) == 3 and len(peaks) >= 3
    topics = [t for t, *_ in link.sent]
    assert topics[-1].endswith("/parcels") and topics.count(topics[0]) >= 7
    assert box.stats()["depth"] == 0


def test_a_rejected_puback_keeps_the_item_queued(tmp_path: Path) -> None:
    box, link, drainer, errors = _drainer(tmp_path)
    box.commit(make_package(box.next_seq(), views={}))
    drainer.pump()
    drainer.on_ack(link.sent[0][3], True, "Not authorized")
    assert box.stats()["depth"] == 1 and errors["rejected:Not authorized"] == 1
    drainer.pump()
    assert len(link.sent) == 1, "a rejected item waits before it is retried"


def test_window_bounds_what_is_in_flight(tmp_path: Path) -> None:
    box, link, drainer, _ = _drainer(tmp_path, window=3)
    for _ in range(4):
        box.commit(make_package(box.next_seq()))
    drainer.pump()
    drainer.pump()
    assert drainer.in_flight == 3 and len(link.sent) == 3


def _image_props(user: dict[str, str]) -> Properties:
    return wire.publish_properties(user, "image/jpeg")


def test_assembler_refuses_tampered_and_unlabelled_images() -> None:
    topic = "parcel-edge/unit-01/images/abc/parcel"
    good = {"id": "abc.parcel", "sha256": "0" * 64}
    with pytest.raises(ImageError):
        Assembler().add(topic, b"data", _image_props(good))
    with pytest.raises(ImageError):
        Assembler().add(topic, b"data", _image_props({"id": "abc.parcel"}))
    chunk = dict(good, chunk="0/2", bytes="8", **{"chunk-sha256": "1" * 64})
    with pytest.raises(ImageError):
        Assembler().add(topic, b"data", _image_props(chunk))
    with pytest.raises(ImageError):
        Assembler().add("parcel-edge/unit-01/images/a+b/parcel", b"x", _image_props(good))


def test_sequence_tracker_reports_gaps_late_arrivals_and_duplicates() -> None:
    seqs = SeqTracker()
    kinds = [seqs.see("u", s).kind for s in (1, 2, 5, 3, 3, 6)]
    assert kinds == ["new", "new", "gap", "late", "duplicate", "new"]
    assert seqs.missing("u") == (4,)


def _router(calls: list[dict[str, Any]]) -> CommandRouter:
    def capture(args: Any) -> dict[str, Any]:
        calls.append(dict(args))
        return {"queued": True}

    def broken(args: Any) -> None:
        raise RuntimeError("camera busy")

    return CommandRouter(TOPICS, {"test-capture": capture, "reload-config": broken})


@pytest.mark.parametrize("name,payload,error", [
    ("format-disk", b"{}", "unknown command"),
    ("test capture", b"{}", "malformed"),
    ("test-capture", b"{oops", "not JSON"),
    ("test-capture", b"[1]", "JSON object"),
    ("test-capture", b"{}" + b" " * 70_000, "payload over"),
    ("reload-config", b"", "camera busy"),
])
def test_bad_commands_get_an_error_reply_and_run_nothing(name: str, payload: bytes, error: str) -> None:
    calls: list[dict[str, Any]] = []
    reply = _router(calls).handle(f"parcel-edge/unit-01/cmd/{name}", payload, None)
    assert reply is not None and reply.topic == "parcel-edge/unit-01/cmd/reply"
    body = json.loads(reply.payload)
    assert body["ok"] is False and error in body["error"] and calls == []


def test_command_reply_goes_to_a_response_topic_only_inside_our_subtree() -> None:
    calls: list[dict[str, Any]] = []
    router = _router(calls)
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = "other-unit/cmd"
    props.CorrelationData = b"42"
    reply = router.handle("parcel-edge/unit-01/cmd/test-capture", b'{"n": 1}', props)
    assert reply is not None and reply.topic == "parcel-edge/unit-01/cmd/reply"
    assert reply.correlation == b"42" and json.loads(reply.payload)["ok"] is True
    props.ResponseTopic = "parcel-edge/unit-01/cmd/reply/desk-4"
    assert router.handle("parcel-edge/unit-01/cmd/test-capture", b"", props).topic.endswith("desk-4")
    assert router.handle("parcel-edge/unit-01/cmd/reply", b"{}", props) is None
    assert calls == [{"n": 1}, {}]


@pytest.mark.parametrize("part", ["+", "#", "a/b", "..", "", "x" * 200, "a\x00b", "é"])
def test_topic_parts_from_untrusted_text_are_refused(part: str) -> None:
    with pytest.raises(ValueError):
        safe_part(part)
    if "/" not in part:  # a prefix may have several levels
        with pytest.raises(ValueError):
            Topics(f"parcel-edge/{part}")


def test_backoff_grows_with_jitter_up_to_its_ceiling_and_resets() -> None:
    backoff = Backoff(0.5, 8.0, random.Random(1))
    delays = [backoff.next() for _ in range(10)]
    assert all(0.5 <= d <= 8.0 for d in delays) and max(delays) > 4.0
    assert len({round(d, 6) for d in delays[5:]}) > 1, "jitter"
    backoff.reset()
    assert backoff.next() <= 0.5 + 1e-9


def test_status_payload_survives_broken_stats_and_reads_thermal_zones(tmp_path: Path) -> None:
    zone = tmp_path / "thermal_zone0"
    zone.mkdir()
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text("51234\n")
    assert cpu_temperature_c(tmp_path) == 51.2
    assert cpu_temperature_c(tmp_path / "none") is None

    def broken() -> dict[str, Any]:
        raise KeyError("fps")

    reporter = StatusReporter("unit-01", 30, tmp_path, broken)
    body = reporter.payload({"depth": 3}, {"connected": True}, Counter({"rejected": 2}))
    assert body["outbox"]["depth"] == 3 and body["errors"]["rejected"] == 2
    assert body["errors"]["stats:KeyError"] == 1 and body["schema"].startswith("parcel-edge/status/")
    good = StatusReporter("unit-01", 30, tmp_path,
                          lambda: {"fps": 12.5, "parcels": 7, "errors": {"decode": 1}})
    body = good.payload({}, {}, Counter({"decode": 2}))
    assert body["fps"] == 12.5 and body["parcels"] == 7 and body["errors"]["decode"] == 3
