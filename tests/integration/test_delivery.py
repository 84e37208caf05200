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

from conftest import Broker, free_port, production_config
from delivery_helpers import broker_args, make_package, wait_until
from delivery_tls import make_pki
from edge.outbox import Outbox
from edge.outbox.config import OutboxConfig
from edge.publish import Publisher
from edge.publish.config import MqttConfig, StatusConfig, TlsConfig
from edge.receive.receiver import Receiver
from edge.receive.subscriber import subscriber

pytestmark = pytest.mark.integration

WORKER = Path(__file__).with_name("outbox_worker.py")
MOSQUITTO_CONFIGS = Path(__file__).parents[2] / "config" / "mosquitto"
FILTERS = ["parcel-edge/+/parcels", "parcel-edge/+/alerts", "parcel-edge/+/images/#"]


class Collector:
    """The reference receiver on its own persistent session, counting raw image messages."""

    def __init__(self, port: int, out: Path, args: Any = None) -> None:
        self.receiver = Receiver(out)
        self.image_messages = 0
        self.topics: list[str] = []
        args = args or broker_args(port, f"test-receiver-{port}")
        self.client = subscriber(args, FILTERS, self._on)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=0.5)  # type: ignore[arg-type]
        self.client.loop_start()
        assert wait_until(self.client.is_connected, 10)
        time.sleep(0.2)  # let the SUBACK arrive

    def _on(self, topic: str, payload: bytes, props: Any) -> None:
        self.topics.append(topic)
        if "/images/" in topic:
            self.image_messages += 1
        self.receiver.handle(topic, payload, props)

    def ids(self, kind: str) -> list[str]:
        return [i for i, _ in self.receiver.ids(kind)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.receiver.close()


class Watch:
    """The latest payload per topic (retained ones included) under a filter."""

    def __init__(self, port: int, topic_filter: str) -> None:
        self.latest: dict[str, bytes] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_message = lambda c, u, m: self.latest.__setitem__(m.topic, bytes(m.payload))
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic_filter, qos=1)
        self.client.loop_start()

    def get(self, topic: str) -> bytes | None:
        return self.latest.get(topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


AVAILABILITY = "parcel-edge/unit-01/availability"


def _publisher(box: Outbox, port: int, **commands: Any) -> Publisher:
    cfg = MqttConfig(host="127.0.0.1", port=port, backoff_min_s=0.1, backoff_max_s=0.5)
    return Publisher(cfg, box, unit="unit-01", status_cfg=StatusConfig(interval_s=1), commands=commands)


def test_broker_outage_under_a_steady_stream_loses_and_duplicates_nothing(broker, tmp_path):
    collector = Collector(broker.port, tmp_path / "received")
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    publisher = _publisher(box, broker.port)
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
    watch = Watch(port=broker.port, topic_filter=AVAILABILITY)
    assert wait_until(lambda: watch.get(AVAILABILITY) == b"online", 5)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    assert wait_until(lambda: watch.get(AVAILABILITY) == b"offline", 10), "last will"
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
        assert watch.get(AVAILABILITY) == b"offline", "clean shutdown says offline"
    finally:
        watch.close()
        collector.close()


def test_image_bigger_than_the_broker_packet_limit_arrives_whole(small_broker, tmp_path):
    collector = Collector(small_broker.port, tmp_path / "received")
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    publisher = _publisher(box, small_broker.port)
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
    publisher = _publisher(box, broker.port)
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
    publisher = _publisher(box, broker.port,
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
        watch = Watch(broker.port, "parcel-edge/unit-01/+")

        def status() -> dict[str, Any]:
            return json.loads(watch.get("parcel-edge/unit-01/status") or b"{}")

        assert wait_until(lambda: status().get("errors", {}).get("command_rejected") == 3, 5)
        assert status()["schema"].startswith("parcel-edge/status/") and status()["unit"] == "unit-01"
        assert {"depth", "oldest_age_s", "disk_bytes"} <= set(status()["outbox"])
        assert watch.get(AVAILABILITY) == b"online"
        publisher.stop()
        assert wait_until(lambda: watch.get(AVAILABILITY) == b"offline", 5)
        watch.close()
    finally:
        operator.disconnect()
        operator.loop_stop()
        publisher.stop()


def _tls_args(pki: Path, port: int, cn: str) -> Any:
    args = broker_args(port, f"{cn}-test")
    args.ca_file, args.cert_file, args.key_file = pki / "ca.crt", pki / f"{cn}.crt", pki / f"{cn}.key"
    return args


def _tls_client(pki: Path, port: int, cn: str, seen: list[str]) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{cn}-probe",
                         protocol=MQTTProtocolVersion.MQTTv5)
    client.tls_set(ca_certs=str(pki / "ca.crt"), certfile=str(pki / f"{cn}.crt"),
                   keyfile=str(pki / f"{cn}.key"))
    client.on_message = lambda c, u, m: seen.append(m.topic)
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert wait_until(client.is_connected, 10)
    return client


def test_production_config_needs_client_certificates_and_confines_each_unit(tmp_path):
    pki = tmp_path / "pki"
    make_pki(pki, ["unit-01", "central-receiver", "maintainer"])
    workdir = tmp_path / "prod"
    workdir.mkdir()
    port = free_port()
    config = production_config(MOSQUITTO_CONFIGS / "production.conf", workdir, port, pki,
                               MOSQUITTO_CONFIGS / "production.acl")
    broker = Broker(workdir, port, config=config)
    broker.start()
    collector = Collector(port, tmp_path / "received", _tls_args(pki, port, "central-receiver"))
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    tls = TlsConfig(ca_file=pki / "ca.crt", cert_file=pki / "unit-01.crt", key_file=pki / "unit-01.key")
    publisher = Publisher(MqttConfig(host="127.0.0.1", port=port, tls=tls), box, unit="unit-01")
    publisher.start()
    seen: list[str] = []
    probe = _tls_client(pki, port, "unit-01", seen)
    maintainer = _tls_client(pki, port, "maintainer", [])
    try:
        pkg = make_package(box.next_seq(), outcome="flag")
        box.commit(pkg)
        assert wait_until(lambda: len(collector.ids("images")) == 2 and collector.ids("parcels"), 15)
        assert collector.ids("parcels") == collector.ids("alerts") == [pkg.record.id]
        probe.subscribe([("parcel-edge/unit-01/cmd/#", 1), ("parcel-edge/unit-02/cmd/#", 1)])
        forged = {"schema": "parcel-edge/parcel/1", "id": make_package(1).record.id, "seq": 1}
        probe.publish("parcel-edge/unit-02/parcels", json.dumps(forged), qos=1).wait_for_publish(5)
        time.sleep(0.3)
        for unit in ("unit-02", "unit-01"):
            maintainer.publish(f"parcel-edge/{unit}/cmd/test-capture", b"{}", qos=1).wait_for_publish(5)
        assert wait_until(lambda: "parcel-edge/unit-01/cmd/test-capture" in seen, 5)
        time.sleep(0.3)
        assert not any("unit-02" in t for t in seen), "a unit reads only its own commands"
        assert not any("unit-02" in t for t in collector.topics), "a unit writes only its own subtree"
    finally:
        for client in (probe, maintainer):
            client.disconnect()
            client.loop_stop()
        publisher.stop()
        collector.close()
        broker.stop()


def test_alerts_console_prints_alerts_saves_verified_images_and_reports_gaps(broker, tmp_path):
    save = tmp_path / "alerts"
    console = subprocess.Popen(
        [sys.executable, "-m", "edge", "alerts", "--port", str(broker.port), "--json", "--count", "2",
         "--save", str(save), "--timeout", "40", "--client-id", "test-console"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    box = Outbox(OutboxConfig(), tmp_path / "unit")
    publisher = _publisher(box, broker.port)
    try:
        assert wait_until(lambda: _has_session(broker, "test-console"), 15)
        publisher.start()
        flagged = [make_package(1, outcome="flag"), make_package(3, outcome="flag")]
        for pkg in flagged:   # seq 2 never committed: a gap the officer must see
            box.commit(pkg)
        out, _ = console.communicate(timeout=40)
    finally:
        console.kill()
        publisher.stop()
    events = [json.loads(line) for line in out.splitlines()]
    assert console.returncode == 0
    alerts = [e for e in events if e["event"] == "alert"]
    assert [a["alert"]["id"] for a in alerts] == [p.record.id for p in flagged]
    assert "#3" in alerts[1]["line"] and "FLAG" in alerts[1]["line"]
    gaps = [e for e in events if e["event"] == "seq_gap"]
    assert gaps and gaps[0]["missing"] == [2]
    saved = {Path(e["path"]).name: Path(e["path"]).read_bytes() for e in events if e["event"] == "image"}
    expected = {f.data for p in flagged for f in p.files}
    assert len(saved) == 4 and set(saved.values()) == expected


def _has_session(broker: Any, client_id: str) -> bool:
    """The broker logged the client's last subscription (mosquitto's ``log_type subscribe``)."""
    log = broker.workdir / "mosquitto.log"
    return log.exists() and any(client_id in line and "/images/#" in line
                                for line in log.read_text().splitlines())
