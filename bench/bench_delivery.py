"""Delivery benchmark (not a test): durable commits, publish throughput, backlog drain, latency.

    .venv/bin/python bench/bench_delivery.py [--quick]

Starts its own mosquitto on a free loopback port (the test fixture's Broker)
and works in a temporary folder on the same file system as /tmp.  Image bytes
are random, so sizes match real JPEGs and nothing compresses.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion  # noqa: E402

from conftest import Broker, free_port  # noqa: E402
from delivery_helpers import make_package, wait_until  # noqa: E402
from edge.outbox import Outbox  # noqa: E402
from edge.outbox.config import OutboxConfig  # noqa: E402
from edge.publish import Publisher  # noqa: E402
from edge.publish.config import MqttConfig, StatusConfig  # noqa: E402

REALISTIC = {"parcel": 200_000, "label": 30_000, "thumb": 8_000}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_commits(work: Path, n: int, views: dict[str, int]) -> dict[str, Any]:
    box = Outbox(OutboxConfig(), work)
    pkgs = [make_package(i + 1, views=views) for i in range(n)]
    times = []
    start = time.perf_counter()
    for pkg in pkgs:
        t0 = time.perf_counter()
        box.next_seq()
        box.commit(pkg)
        times.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - start
    box.close()
    return {"commits_per_s": round(n / total, 1), "ms_p50": round(statistics.median(times), 2),
            "ms_p95": round(pct(times, 0.95), 2), "n": n,
            "bytes_per_package": sum(views.values())}


def _publisher(box: Outbox, port: int, inflight: int = 32) -> Publisher:
    cfg = MqttConfig(host="127.0.0.1", port=port, inflight=inflight, backoff_min_s=0.1)
    return Publisher(cfg, box, unit="bench-01", status_cfg=StatusConfig(interval_s=60))


def bench_drain(work: Path, port: int, n: int, views: dict[str, int],
                flag_every: int = 0) -> dict[str, Any]:
    """Preload ``n`` parcels while disconnected, then time until the broker acknowledged all."""
    box = Outbox(OutboxConfig(disk_budget_mb=100_000), work)
    for i in range(n):
        outcome = "flag" if flag_every and i % flag_every == 0 else "clear"
        box.commit(make_package(box.next_seq(), outcome=outcome, views=views))
    depth = box.stats()["depth"]
    publisher = _publisher(box, port)
    start = time.perf_counter()
    publisher.start()
    ok = wait_until(lambda: box.stats()["depth"] == 0, 900, step=0.02)
    elapsed = time.perf_counter() - start
    publisher.stop()
    box.close()
    payload = n * sum(views.values())
    return {"parcels": n, "messages": depth, "seconds": round(elapsed, 2), "complete": ok,
            "messages_per_s": round(depth / elapsed, 1), "parcels_per_s": round(n / elapsed, 1),
            "payload_MB_per_s": round(payload / elapsed / 1e6, 1)}


def _listener(port: int, topics: list[str], on: Callable[[mqtt.MQTTMessage], None]) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
    client.on_message = lambda c, u, m: on(m)
    client.connect("127.0.0.1", port)
    client.subscribe([(t, 1) for t in topics])
    client.loop_start()
    time.sleep(0.3)
    return client


def bench_latency(work: Path, port: int, n: int, rate: float, flag_every: int) -> dict[str, Any]:
    """Commit start -> alert (and record) received by a subscriber, under a steady stream."""
    box = Outbox(OutboxConfig(), work)
    publisher = _publisher(box, port, inflight=16)
    publisher.start()
    assert wait_until(publisher.link.client.is_connected, 10)
    started: dict[str, float] = {}
    alert_ms: list[float] = []
    record_ms: list[float] = []
    lock = threading.Lock()

    def on(msg: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        body = json.loads(msg.payload)
        with lock:
            t0 = started.get(body["id"])
        if t0 is not None:
            (alert_ms if msg.topic.endswith("/alerts") else record_ms).append((now - t0) * 1000)

    listener = _listener(port, ["parcel-edge/bench-01/alerts", "parcel-edge/bench-01/parcels"], on)
    for i in range(n):
        pkg = make_package(box.next_seq(), outcome="flag" if i % flag_every == 0 else "clear",
                           views=REALISTIC)
        with lock:
            started[pkg.record.id] = time.perf_counter()
        box.commit(pkg)
        time.sleep(1.0 / rate)
    wait_until(lambda: len(record_ms) >= n, 30)
    listener.loop_stop()
    publisher.stop()
    box.close()
    return {"parcels": n, "rate_per_s": rate, "alerts": len(alert_ms),
            "alert_ms_p50": round(statistics.median(alert_ms), 1),
            "alert_ms_p95": round(pct(alert_ms, 0.95), 1),
            "record_ms_p50": round(statistics.median(record_ms), 1),
            "record_ms_p95": round(pct(record_ms, 0.95), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        work = Path(tmp)
        results["commit_record_only"] = bench_commits(work / "c1", int(1000 * scale), {})
        results["commit_realistic"] = bench_commits(work / "c2", int(300 * scale), REALISTIC)
        (work / "broker").mkdir()
        broker = Broker(work / "broker", free_port())
        broker.start()
        try:
            results["publish_records"] = bench_drain(work / "p1", broker.port, int(3000 * scale), {})
            results["publish_200kB_images"] = bench_drain(work / "p2", broker.port, int(500 * scale),
                                                          {"parcel": 200_000})
            results["drain_10min_backlog_3pps"] = bench_drain(
                work / "p3", broker.port, int(1800 * scale), REALISTIC, flag_every=10)
            (work / "small").mkdir()
            small = Broker(work / "small", free_port(), max_packet_size=64 * 1024)
            small.start()
            try:
                results["publish_200kB_images_in_64kB_chunks"] = bench_drain(
                    work / "p5", small.port, int(500 * scale), {"parcel": 200_000})
            finally:
                small.stop()
            results["latency"] = bench_latency(work / "p4", broker.port, int(150 * scale) or 15,
                                               rate=5.0, flag_every=3)
        finally:
            broker.stop()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
