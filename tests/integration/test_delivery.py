"""Delivery against a real mosquitto: outages, SIGKILL, big images, budget, bad commands."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from delivery_helpers import broker_args, make_package, wait_until
from edge.outbox import Outbox
from edge.outbox.config import OutboxConfig
from edge.publish import Publisher
from edge.publish.config import MqttConfig, StatusConfig
from edge.receive.receiver import Receiver
from edge.receive.subscriber import subscriber

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("outbox_worker.py")
FILTERS = ["parcel-edge/+/parcels", "parcel-edge/+/alerts", "parcel-edge/+/images/#"]


class Collector:
    """The reference receiver on its own persistent session, counting raw image messages."""

    def __init__(self, port: int, out: Path) -> None:
        self.receiver = Receiver(out)
        self.image_messages = 0
        self.client = subscriber(broker_args(port, f"test-receiver-{port}"), FILTERS, self._on)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=0.5)  # type: ignore[arg-type]
        self.client.loop_start()
        assert wait_until(self.client.is_connected, 10)
        time.sleep(0.2)  # let the SUBACK arrive

    def _on(self, topic: str, payload: bytes, props: Any) -> None:
        if "/images/" in topic:
            self.image_messages += 1
        self.receiver.handle(topic, payload, props)

    def ids(self, kind: str) -> list[str]:
        return [i for i, _ in self.receiver.ids(kind)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.receiver.close()


def _publisher(box: Outbox, port: int, data_dir: Path, **commands: Any) -> Publisher:
    cfg = MqttConfig(host="127.0.0.1", port=port, backoff_min_s=0.1, backoff_max_s=0.5)
    return Publisher(cfg, StatusConfig(interval_s=1), box, "unit-01", data_dir, commands=commands)


def test_broker_outage_under_a_steady_stream_loses_and_duplicates_nothing(broker, tmp_path):
    collector = Collector(broker.port, tmp_path / "received")
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    publisher = _publisher(box, broker.port, tmp_path / "unit")
    publisher.start()
    committed = []

    def stream() -> None:
        for i in range(60):
            pkg = make_package(box.next_seq(), outcome="flag" if i % 7 == 3 else "clear")
            box.commit(pkg)
            committed.append(pkg)
            time.sleep(0.04)

    feeder = threading.Thread(target=stream)
    feeder.start()
    time.sleep(0.6)
    broker.restart(down_s=1.5)
    feeder.join()
    try:
        assert wait_until(lambda: len(collector.ids("parcels")) == 60 and box.stats()["depth"] == 0, 30)
        records = collector.receiver.ids("parcels")
        assert sorted(i for i, _ in records) == sorted(p.record.id for p in committed)
        assert [s for _, s in records] == list(range(1, 61)), "sequence order recoverable"
        flagged = sorted(p.record.id for p in committed if p.flagged)
        assert sorted(collector.ids("alerts")) == flagged
        images = {f"{p.record.id}.{f.view}" for p in committed for f in p.files}
        assert wait_until(lambda: set(collector.ids("images")) == images, 10)
        assert collector.receiver.counts["rejected"] == 0
        assert publisher.link.reconnects >= 1
    finally:
        publisher.stop()
        collector.close()


def _run_worker(data_dir: Path, port: int, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(WORKER), str(data_dir), str(port), str(count)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])


def test_unit_killed_with_sigkill_mid_stream_loses_nothing(broker, tmp_path):
    collector = Collector(broker.port, tmp_path / "received")
    data_dir = tmp_path / "unit"
    first = _run_worker(data_dir, broker.port, 50)
    lines: list[str] = []
    assert first.stdout is not None
    while len(lines) < 15:
        line = first.stdout.readline()
        assert line, "worker died before it was killed"
        lines.append(line)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    lines += first.stdout.read().splitlines()
    second = _run_worker(data_dir, broker.port, 50)
    out, _ = second.communicate(timeout=60)
    try:
        assert second.returncode == 0
        lines += out.splitlines()
        processed = {line.split()[1] for line in lines if line.startswith("committed")}
        assert len(processed) >= 48, "at most one parcel in the making when killed"
        assert wait_until(lambda: processed <= set(collector.ids("parcels")), 15)
        seqs = [s for _, s in collector.receiver.ids("parcels")]
        assert len(seqs) == len(set(seqs)) == len(processed)
        assert wait_until(lambda: len(collector.ids("images")) == 2 * len(processed), 10)
    finally:
        collector.close()


def test_image_bigger_than_the_broker_packet_limit_arrives_whole(small_broker, tmp_path):
    collector = Collector(small_broker.port, tmp_path / "received")
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    publisher = _publisher(box, small_broker.port, tmp_path / "unit")
    publisher.start()
    pkg = make_package(box.next_seq(), outcome="flag", views={"parcel": 200_000, "thumb": 2_000})
    box.commit(pkg)
    try:
        assert wait_until(lambda: len(collector.ids("images")) == 2 and collector.ids("alerts"), 15)
        assert publisher.drainer.max_packet == 32 * 1024
        assert collector.image_messages >= 1 + 200_000 // (32 * 1024)
        stored = sorted((collector.receiver.out / "images").rglob("parcel-*.jpg"))
        assert len(stored) == 1 and stored[0].read_bytes() == pkg.files[0].data
        assert collector.ids("alerts") == [pkg.record.id]
    finally:
        publisher.stop()
        collector.close()


def test_outbox_at_its_budget_delivers_every_record_alert_and_kept_image(broker, tmp_path):
    box = Outbox(OutboxConfig(disk_budget_mb=1), tmp_path / "unit")
    pkgs = [make_package(box.next_seq(), outcome="flag" if i % 4 == 0 else "clear",
                         views={"parcel": 100_000, "thumb": 2_000}) for i in range(16)]
    for pkg in pkgs:  # broker unreachable for the unit: nothing is acknowledged yet
        box.commit(pkg)
    evicted = {p.record.id for p in pkgs if box.evicted_views(p.record.id)}
    assert evicted and not any(p.flagged for p in pkgs if p.record.id in evicted)
    collector = Collector(broker.port, tmp_path / "received")
    publisher = _publisher(box, broker.port, tmp_path / "unit")
    publisher.start()
    try:
        assert wait_until(lambda: box.stats()["depth"] == 0, 20)
        assert wait_until(lambda: len(collector.ids("parcels")) == len(pkgs), 10)
        assert sorted(collector.ids("parcels")) == sorted(p.record.id for p in pkgs)
        assert sorted(collector.ids("alerts")) == sorted(p.record.id for p in pkgs if p.flagged)
        expected = {f"{p.record.id}.{f.view}" for p in pkgs for f in p.files
                    if not (p.record.id in evicted and f.view == "parcel")}
        assert wait_until(lambda: set(collector.ids("images")) == expected, 10)
    finally:
        publisher.stop()
        collector.close()


def _command_client(port: int, replies: list[dict[str, Any]]) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-operator",
                         protocol=MQTTProtocolVersion.MQTTv5)
    client.on_message = lambda c, u, m: replies.append(
        dict(json.loads(m.payload), _corr=getattr(m.properties, "CorrelationData", None)))
    client.connect("127.0.0.1", port)
    client.subscribe("parcel-edge/unit-01/cmd/reply/#", qos=1)
    client.loop_start()
    return client


def _ask(client: mqtt.Client, name: str, payload: bytes, corr: bytes) -> None:
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = "parcel-edge/unit-01/cmd/reply/test"
    props.CorrelationData = corr
    client.publish(f"parcel-edge/unit-01/cmd/{name}", payload, qos=1, properties=props)


def test_malformed_commands_get_an_error_reply_and_the_unit_keeps_running(broker, tmp_path):
    captures: list[dict[str, Any]] = []
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    publisher = _publisher(box, broker.port, tmp_path / "unit",
                           **{"test-capture": lambda args: captures.append(dict(args)) or {"queued": 1},
                              "reload-config": lambda args: {"reloaded": True}})
    publisher.start()
    replies: list[dict[str, Any]] = []
    operator = _command_client(broker.port, replies)
    try:
        assert wait_until(publisher.link.client.is_connected, 10)
        time.sleep(0.3)
        _ask(operator, "self-destruct", b"{}", b"1")
        _ask(operator, "reload-config", b"{not json", b"2")
        _ask(operator, "test-capture", b"[1, 2]", b"3")
        _ask(operator, "test-capture", b'{"note": "belt 3"}', b"4")
        assert wait_until(lambda: len(replies) == 4, 10)
        by_corr = {r["_corr"]: r for r in replies}
        assert [by_corr[c]["ok"] for c in (b"1", b"2", b"3")] == [False, False, False]
        assert "unknown command" in by_corr[b"1"]["error"]
        assert "not JSON" in by_corr[b"2"]["error"]
        assert by_corr[b"4"]["ok"] and by_corr[b"4"]["result"] == {"queued": 1}
        assert captures == [{"note": "belt 3"}]
        assert publisher.errors["command_rejected"] == 3
        box.commit(make_package(box.next_seq()))
        assert wait_until(lambda: box.stats()["depth"] == 0, 10), "still delivering"
    finally:
        operator.disconnect()
        operator.loop_stop()
        publisher.stop()
