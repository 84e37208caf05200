"""Hub benchmark (not a test): ingest rate with images into SQLite and PostgreSQL, two hub
processes on one shared subscription, queue/search time at 100,000 parcels, a hub killed
mid-stream.

    .venv/bin/python bench/bench_hub.py [--quick] [--json]

Starts its own mosquitto (the test fixture's Broker) and PostgreSQL (initdb in /tmp, a
Unix socket: tests/hub/pg.py).  Messages are the unit's own: records and alerts built by
edge.records, images with the unit's MQTT 5 user properties; image bytes are random
(incompressible like JPEG) at the sizes a 1280x960 unit sends.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "hub")]

import paho.mqtt.client as mqtt  # noqa: E402
import psutil  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion  # noqa: E402

from conftest import Broker, free_port  # noqa: E402
from edge.hub.app import build  # noqa: E402
from edge.hub.config import HubConfig  # noqa: E402
from edge.hub.store.base import RecordIn, SearchQuery  # noqa: E402
from edge.publish import wire  # noqa: E402
from edge.records import alert_payload, to_jsonable  # noqa: E402
from pg import start_server  # noqa: E402
from records import package  # noqa: E402

VIEWS = {"parcel": 200_000, "label": 30_000, "parcel-redacted": 200_000, "label-redacted": 30_000}
OUTCOMES = ["clear"] * 6 + ["flag", "review", "no_read", "quality_reject"]


def messages(seq: int, unit: str = "unit-01", views: dict[str, int] = VIEWS) -> list[tuple[str, bytes, Any]]:
    """One parcel as the unit publishes it: images first, then the alert (if flagged), the record."""
    pkg = package(seq, unit=unit, outcome=OUTCOMES[seq % len(OUTCOMES)], views=views)
    prefix = f"parcel-edge/{unit}"
    out = []
    for f in pkg.files:
        props = wire.publish_properties({wire.MSG_ID: f"{pkg.record.id}.{f.view}", wire.SHA256: f.sha256,
                                         wire.PARCEL: pkg.record.id, wire.SEQ: str(seq),
                                         wire.VIEW: f.view}, "image/jpeg")
        out.append((f"{prefix}/images/{pkg.record.id}/{f.view}", f.data, props))
    if pkg.flagged:
        out.append((f"{prefix}/alerts", json.dumps(alert_payload(pkg.record)).encode(), None))
    out.append((f"{prefix}/parcels", json.dumps(to_jsonable(pkg.record)).encode(), None))
    return out


class Sender:
    """A QoS 1 publisher with a bounded number of unacknowledged messages (memory stays flat)."""

    def __init__(self, port: int, window: int = 300) -> None:
        self.done = 0
        self.sent = 0
        self._cv = threading.Condition()
        self.window = window
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{os.getpid()}-{time.time_ns()}",
                             protocol=MQTTProtocolVersion.MQTTv5)
        self.c.max_queued_messages_set(0)
        self.c.on_publish = self._acked
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def _acked(self, *args: Any) -> None:
        with self._cv:
            self.done += 1
            self._cv.notify_all()

    def send(self, topic: str, payload: bytes, props: Any) -> None:
        with self._cv:
            while self.sent - self.done >= self.window:
                self._cv.wait(1)
        self.c.publish(topic, payload, qos=1, properties=props)
        self.sent += 1

    def close(self) -> None:
        with self._cv:
            while self.done < self.sent:
                self._cv.wait(1)
        self.c.loop_stop()
        self.c.disconnect()


def mqtt_section(port: int, work: Path) -> dict[str, Any]:
    """Each stage its own group and client ids (hub_id): a stopped hub's persistent session
    stays in its group and keeps taking its share (queued for its return) until it expires."""
    return {"host": "127.0.0.1", "port": port, "group": f"bench-{work.name}"}


def hub_cfg(work: Path, port: int, database: dict[str, Any]) -> HubConfig:
    return HubConfig.model_validate({"data_dir": str(work), "database": database,
                                     "hub_id": f"bench-{work.name}",
                                     "mqtt": mqtt_section(port, work),
                                     "ingest": {"units": ["*"], "gap_check_s": 3600}})


def count(store: Any) -> int:
    return int(store.execute_text("SELECT COUNT(*) FROM parcels")[0][0])


def wait_count(store: Any, n: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while count(store) < n:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def bench_ingest(work: Path, port: int, database: dict[str, Any], parcels: int) -> dict[str, Any]:
    """Parcels/s with images: a live stream pre-built in memory, the hub storing it."""
    hub = build(hub_cfg(work, port, database))
    hub.start()
    hub.ingest.ready.wait(20)
    batches = [messages(s) for s in range(1, parcels + 1)]
    volume = sum(len(p) for b in batches for _, p, _ in b)
    sender = Sender(port)
    t0 = time.perf_counter()
    for batch in batches:
        for m in batch:
            sender.send(*m)
    sent_s = time.perf_counter() - t0
    ok = wait_count(hub.store, parcels, 600)
    images_ok = lambda: hub.ingest.counters["image_new"] >= parcels * len(VIEWS)  # noqa: E731
    while ok and not images_ok() and time.perf_counter() - t0 < 600:
        time.sleep(0.05)
    total = time.perf_counter() - t0
    sender.close()
    counters = dict(hub.ingest.counters)
    hub.stop()
    return {"parcels": parcels, "complete": ok and images_ok(), "seconds": round(total, 2),
            "parcels_per_s": round(parcels / total, 1), "MB_per_s": round(volume / total / 1e6, 1),
            "publisher_only_s": round(sent_s, 2), "counters": counters}


def bench_backlog(work: Path, port: int, database: dict[str, Any], parcels: int) -> dict[str, Any]:
    """The hub's own rate, apart from any publisher's: the broker holds a backlog for the
    hub's persistent session (the hub was away), then the hub drains it."""
    cfg = hub_cfg(work, port, database)
    hub = build(cfg)
    hub.start()
    hub.ingest.ready.wait(20)
    hub.stop()                                   # the session and its subscriptions stay
    sender = Sender(port)
    volume = 0
    for s in range(1, parcels + 1):
        for m in messages(s):
            volume += len(m[1])
            sender.send(*m)
    sender.close()
    hub = build(cfg)
    t0 = time.perf_counter()
    hub.start()
    ok = wait_count(hub.store, parcels, 600)
    while ok and hub.ingest.counters["image_new"] < parcels * len(VIEWS) and \
            time.perf_counter() - t0 < 600:
        time.sleep(0.05)
    total = time.perf_counter() - t0
    counters = dict(hub.ingest.counters)
    hub.stop()
    return {"parcels": parcels, "complete": ok and counters.get("image_new", 0) == parcels * len(VIEWS),
            "seconds": round(total, 2), "parcels_per_s": round(parcels / total, 1),
            "MB_per_s": round(volume / total / 1e6, 1), "counters": counters}


def bench_two_processes(work: Path, port: int, database: dict[str, Any], records: int) -> dict[str, Any]:
    """Two `parcel-edge hub serve --no-web` processes on one shared subscription."""
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "hub.yaml"
    cfg.write_text(json.dumps({"data_dir": str(work), "database": database,
                               "hub_id": f"bench-{work.name}",
                               "mqtt": mqtt_section(port, work),
                               "ingest": {"units": ["unit-01"], "gap_check_s": 3600}}))
    hub = build(HubConfig.model_validate(json.loads(cfg.read_text())), mqtt=False)
    procs = [_serve(cfg, i, work / f"hub-{i}.log") for i in range(2)]
    for i in range(2):
        _subscribed(work / f"hub-{i}.log")
    sender = Sender(port)
    recs = [messages(s, views={})[-1] for s in range(1, records + 1)]
    dupes = recs[::4]
    for m in recs + dupes:
        sender.send(*m)
    sender.close()
    ok = wait_count(hub.store, records, 300)
    time.sleep(1.0)
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait(60)
    counters = [_stopped_counters(work / f"hub-{i}.log") for i in range(2)]
    stored = count(hub.store)
    distinct = int(hub.store.execute_text("SELECT COUNT(DISTINCT id) FROM parcels")[0][0])
    seen = int(hub.store.execute_text("SELECT COUNT(*) FROM case_events WHERE kind = 'seen'")[0][0])
    hub.stop()
    return {"records_sent": records, "duplicates_sent": len(dupes), "complete": ok,
            "stored": stored, "distinct_ids": distinct, "seen_events": seen,
            "new_per_process": [c.get("record_new", 0) for c in counters],
            "duplicates_per_process": [c.get("record_duplicate", 0) for c in counters],
            "exactly_once": stored == distinct == seen == records}


def bench_backlog_processes(work: Path, port: int, database: dict[str, Any], parcels: int,
                            n: int = 2) -> dict[str, Any]:
    """The scaled-out hub: ``n`` ``serve --no-web`` processes on one shared subscription drain
    a backlog with images (the broker queues each process's share while it is away)."""
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "hub.yaml"
    cfg.write_text(json.dumps({"data_dir": str(work), "database": database,
                               "hub_id": f"bench-{work.name}", "mqtt": mqtt_section(port, work),
                               "ingest": {"units": ["unit-01"], "gap_check_s": 3600}}))
    hub = build(HubConfig.model_validate(json.loads(cfg.read_text())), mqtt=False)
    logs = [work / f"hub-{i}.log" for i in range(n)]
    procs = [_serve(cfg, i, logs[i]) for i in range(n)]
    for log in logs:
        _subscribed(log)
    _stop_all(procs)
    sender = Sender(port)
    for s in range(1, parcels + 1):
        for m in messages(s):
            sender.send(*m)
    sender.close()
    again = [work / f"hub-{i}.again.log" for i in range(n)]
    procs = [_serve(cfg, i, again[i]) for i in range(n)]
    _first_connected(again)   # from here the broker sends; before it, Python starts up
    t0 = time.perf_counter()
    ok = wait_count(hub.store, parcels, 600)
    images = 0
    while ok and (images := _image_count(hub.store)) < parcels * len(VIEWS) and \
            time.perf_counter() - t0 < 600:
        time.sleep(0.05)
    total = time.perf_counter() - t0
    cpu = sum(sum(psutil.Process(p.pid).cpu_times()[:2]) for p in procs)
    _stop_all(procs)
    hub.stop()
    return {"processes": n, "parcels": parcels, "complete": ok and images == parcels * len(VIEWS),
            "seconds": round(total, 2), "parcels_per_s": round(parcels / total, 1),
            "hub_cpu_s": round(cpu, 1), "parcels_per_cpu_s": round(parcels / cpu, 1)}


def _first_connected(logs: list[Path], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not any("hub ingest subscribed" in (log.read_text(errors="replace") if log.exists()
                                              else "") for log in logs):
        if time.monotonic() > deadline:
            raise RuntimeError("no hub process connected")
        time.sleep(0.01)


def _image_count(store: Any) -> int:
    return int(store.execute_text("SELECT COUNT(*) FROM images")[0][0])


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(60)


def _serve(cfg: Path, instance: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "edge", "hub", "--config", str(cfg), "serve",
                             "--no-web", "--instance", str(instance)], env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def _subscribed(log: Path, timeout: float = 120) -> None:
    """Waits for a hub process's 'subscribed' line: a shared subscription made after a
    publish does not get it."""
    deadline = time.monotonic() + timeout
    while "hub ingest subscribed" not in (log.read_text(errors="replace") if log.exists() else ""):
        if time.monotonic() > deadline:
            raise RuntimeError(f"hub process did not subscribe: {log}")
        time.sleep(0.1)
    time.sleep(0.5)   # the SUBACK follows the log line


def _stopped_counters(log: Path) -> dict[str, int]:
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if "hub ingest stopped:" in line:
            return json.loads(line.split("hub ingest stopped:", 1)[1])
    return {}


def bench_restart(work: Path, port: int, database: dict[str, Any], parcels: int) -> dict[str, Any]:
    """A hub process SIGKILLed half-way through a stream, restarted: is anything lost?"""
    work.mkdir(parents=True, exist_ok=True)
    cfg = work / "hub.yaml"
    cfg.write_text(json.dumps({"data_dir": str(work), "database": database,
                               "hub_id": f"bench-{work.name}",
                               "mqtt": mqtt_section(port, work),
                               "ingest": {"units": ["unit-01"], "gap_check_s": 3600}}))
    hub = build(HubConfig.model_validate(json.loads(cfg.read_text())), mqtt=False)
    proc = _serve(cfg, 0, work / "hub-a.log")
    _subscribed(work / "hub-a.log")
    sender = Sender(port)
    killed_at = -1
    views = {"parcel": 200_000, "label": 30_000}
    for s in range(1, parcels + 1):
        for m in messages(s, views=views):
            sender.send(*m)
        if s == parcels // 2:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            killed_at = count(hub.store)
            proc = _serve(cfg, 0, work / "hub-b.log")
        time.sleep(0.004)
    sender.close()
    ok = wait_count(hub.store, parcels, 300)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    seqs = [r[0] for r in hub.store.execute_text("SELECT seq FROM parcels ORDER BY seq")]
    missing_images = int(hub.store.execute_text(
        "SELECT COUNT(*) FROM parcel_images p LEFT JOIN images i ON i.sha256 = p.sha256 "
        "WHERE i.sha256 IS NULL")[0][0])
    hub.stop()
    return {"parcels": parcels, "stored_when_killed": killed_at, "complete": ok,
            "lost_records": parcels - len(set(seqs)), "duplicates": len(seqs) - len(set(seqs)),
            "images_missing": missing_images}


def bench_queries(work: Path, database: dict[str, Any], parcels: int, runs: int = 30) -> dict[str, Any]:
    """Store-level queue and search time with ``parcels`` stored (filled in batches of 1000)."""
    hub = build(HubConfig.model_validate({"data_dir": str(work), "database": database,
                                          "ingest": {"units": ["*"]}}), mqtt=False)
    t0 = time.perf_counter()
    template = to_jsonable(package(1, views={}).record)
    for start in range(1, parcels + 1, 1000):
        items = []
        for s in range(start, min(start + 1000, parcels + 1)):
            rec = dict(template, id=hashlib.md5(str(s).encode()).hexdigest(), seq=s // 20 + 1,
                       unit=f"unit-{s % 20:02d}")   # 20 units, each numbering its own parcels
            rec["reference"] = dict(template["reference"], value=f"RR{s:08d}9DE")
            rec["verdict"] = dict(template["verdict"], outcome=OUTCOMES[s % len(OUTCOMES)])
            rec["time_utc"] = f"2026-{1 + s % 12:02d}-{1 + s % 28:02d}T10:00:00.000Z"
            items.append(RecordIn(rec, rec["unit"], f"parcel-edge/{rec['unit']}", False))
        hub.store.ingest(items, "2026-11-28T00:00:00.000Z")
    fill_s = time.perf_counter() - t0
    s = hub.services
    cases = {
        "queue_100": lambda i: s.queue(limit=100),
        "search_reference_prefix": lambda i: s.search(SearchQuery(reference=f"RR{(i * 7919) % parcels:06d}")),
        "search_reference_exact": lambda i: s.search(SearchQuery(reference=f"RR{1 + (i * 7919) % parcels:08d}9DE")),
        "search_unit": lambda i: s.search(SearchQuery(unit=f"unit-{i % 20:02d}")),
        "search_brand_outcome": lambda i: s.search(SearchQuery(brand="acme", outcome="review")),
        "search_time_range": lambda i: s.search(SearchQuery(since_utc="2026-03-01", until_utc="2026-03-15")),
        "parcel_detail": lambda i: s.parcel(hashlib.md5(str(1 + i).encode()).hexdigest()),
        "fleet_and_gaps": lambda i: s.fleet(),
    }
    out: dict[str, Any] = {"parcels": count(hub.store), "fill_s": round(fill_s, 1)}
    for name, fn in cases.items():
        times = []
        for i in range(runs):
            t = time.perf_counter()
            fn(i)
            times.append((time.perf_counter() - t) * 1000)
        out[name] = {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2)}
    hub.stop()
    return out


def hub_broker(workdir: Path) -> Broker:
    """The test fixture's mosquitto, with the in-flight window a hub's broker is given:
    the hub acknowledges per committed batch, so the window bounds its batches."""
    workdir.mkdir()
    broker = Broker(workdir, free_port())
    text = broker._config().read_text().replace("max_inflight_messages 100",
                                                 "max_inflight_messages 1000")
    broker.config = workdir / "hub-broker.conf"
    broker.config.write_text(text)
    broker.start()
    return broker


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    parser.add_argument("--only", nargs="*", default=None,
                        help="ingest, backlog, backlog2, two, queries, restart (default: all)")
    args = parser.parse_args()
    q = args.quick
    only = set(args.only or ["ingest", "backlog", "backlog2", "two", "queries", "restart"])
    results: dict[str, Any] = {}
    pg = start_server()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        work = Path(tmp)
        broker = hub_broker(work / "broker")
        dbs = {"sqlite": lambda: {"type": "sqlite", "path": "hub.db"},
               "postgres": lambda: {"type": "postgres", "url": pg.new_database()}}
        try:
            for name, db in dbs.items():
                if "ingest" in only:
                    results[f"ingest_{name}"] = bench_ingest(work / f"i-{name}", broker.port, db(),
                                                             200 if q else 2000)
                if "backlog" in only:
                    results[f"backlog_{name}"] = bench_backlog(work / f"b-{name}", broker.port, db(),
                                                               200 if q else 1000)
                if "backlog2" in only:
                    results[f"backlog_two_processes_{name}"] = bench_backlog_processes(
                        work / f"b2-{name}", broker.port, db(), 200 if q else 1000)
                if "two" in only:
                    results[f"two_processes_{name}"] = bench_two_processes(
                        work / f"t-{name}", broker.port, db(), 500 if q else 5000)
                if "queries" in only:
                    results[f"queries_{name}"] = bench_queries(work / f"q-{name}", db(),
                                                               5000 if q else 100_000)
                print(json.dumps({k: v for k, v in results.items() if k.endswith(name)}, indent=1),
                      file=sys.stderr)
            if "restart" in only:
                results["restart_sqlite"] = bench_restart(work / "r", broker.port, dbs["sqlite"](),
                                                          200 if q else 1000)
        finally:
            broker.stop()
            pg.stop()
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
