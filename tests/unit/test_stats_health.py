"""Stats summaries and the systemd notify/watchdog path, over a real unix datagram socket."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from edge.health import Watchdog, sd_notify, watchdog_interval_s
from edge.stats import Stats, percentile, summarize


def test_percentiles_and_empty_summary() -> None:
    assert percentile(range(1, 101), 50) in (50, 51)
    assert percentile(range(1, 101), 95) in (95, 96)
    assert summarize([]).median_ms == 0.0


def test_snapshot_counts_and_read_rate() -> None:
    stats = Stats()
    for _ in range(4):
        stats.incr("parcels")
    stats.incr("read", 3)
    stats.error("camera")
    stats.time("decode", 10.0)
    snap = stats.snapshot()
    assert snap["read_rate"] == 0.75 and snap["errors"] == {"camera": 1}
    assert snap["timings_ms"]["decode"]["median"] == 10.0


def test_stats_are_thread_safe() -> None:
    stats = Stats()
    threads = [threading.Thread(target=lambda: [stats.incr("n") for _ in range(10000)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stats.count("n") == 40000


def _listener(tmp_path: Path) -> tuple[socket.socket, str]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2.0)
    return sock, path


def test_sd_notify_reaches_the_socket(tmp_path: Path) -> None:
    sock, path = _listener(tmp_path)
    with sock:
        assert sd_notify("READY=1", {"NOTIFY_SOCKET": path})
        assert sock.recv(64) == b"READY=1"
    assert not sd_notify("READY=1", {})


def test_watchdog_interval_is_half_of_systemds() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "junk"}) is None


def test_watchdog_is_fed_only_while_capture_progresses() -> None:
    sent: list[str] = []
    counter = {"n": 0}
    dog = Watchdog(0.02, lambda: counter["n"], notify=lambda m: sent.append(m) or True)
    dog.start()
    for _ in range(10):
        counter["n"] += 1
        time.sleep(0.02)
    fed = len(sent)
    time.sleep(0.15)  # progress stops: the dog must stop being fed
    dog.stop()
    dog.join()
    assert fed >= 3 and len(sent) - fed <= 1 and dog.stalled >= 3
