"""`parcel-edge run` as systemd runs it: notify socket, journal stream, reload, hostile commands.

The unit is a real subprocess; systemd's side is played by a unix datagram socket
(``NOTIFY_SOCKET``) and by the pipe its stderr goes to (``JOURNAL_STREAM`` names
that pipe's device and inode, which is how journald's stream is recognised).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_unit_commands import Listener, unit_config

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


class NotifySocket:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.path = path
        self.messages: list[tuple[float, str]] = []

    def wait_for(self, prefix: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        for _, msg in self.messages:
            if msg.startswith(prefix):
                return msg
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            self.messages.append((time.monotonic(), msg))
            if msg.startswith(prefix):
                return msg
        raise AssertionError(f"no {prefix!r} in {[m for _, m in self.messages]}")

    def seen(self, prefix: str) -> list[str]:
        return [m for _, m in self.messages if m.startswith(prefix)]


def start_unit(cfg: Path, tmp_path: Path, notify: NotifySocket, **env: str):
    log_path = tmp_path / "journal.txt"
    stream = open(log_path, "w")
    st = os.fstat(stream.fileno())
    full = {**os.environ, "NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "2000000",
            "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}", **env}
    proc = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(cfg)],
                            cwd="/", env=full, stderr=stream)
    stream.close()
    return proc, log_path


def test_run_under_systemd_notifies_after_the_selftest_reloads_and_logs_priorities(
        tmp_path: Path, broker) -> None:
    cfg = tmp_path / "unit.yaml"
    cfg.write_text(unit_config(tmp_path, broker.port))
    notify = NotifySocket(tmp_path / "notify")
    listener = Listener(broker.port)
    proc, journal = start_unit(cfg, tmp_path, notify)
    try:
        ready = notify.wait_for("READY=1")
        assert "STATUS=self-test passed" in ready
        assert notify.seen("STATUS=self-test"), "STATUS is kept current during start-up"
        status = json.loads(listener.expect("parcel-edge/t1/status",
                                            lambda p: json.loads(p).get("selftest") is not None))
        assert status["selftest"]["ok"] is True
        assert {c["name"] for c in status["selftest"]["checks"]} == {
            "camera", "label", "model", "ocr", "outbox", "broker"}
        assert status["software"]["version"] and status["config"]["sha256"] == \
            __import__("hashlib").sha256(cfg.read_bytes()).hexdigest()
        assert status["camera"]["type"] == "replay" and "clock_synced" in status
        assert status["model"]["version"], "model_dir found although run from /"
        notify.wait_for("WATCHDOG=1", timeout=10)

        os.kill(proc.pid, signal.SIGHUP)
        reloading = notify.wait_for("RELOADING=1")
        assert "MONOTONIC_USEC=" in reloading
        count = len(notify.seen("READY=1"))
        deadline = time.monotonic() + 60
        while len(notify.seen("READY=1")) == count and time.monotonic() < deadline:
            notify.wait_for("__none__", timeout=0.5) if False else time.sleep(0.2)
            try:
                notify.sock.settimeout(0.2)
                notify.messages.append((time.monotonic(), notify.sock.recv(4096).decode()))
            except socket.timeout:
                pass
        assert len(notify.seen("READY=1")) == count + 1, "READY=1 again after the reload"
        assert not notify.seen("STOPPING=1"), "a reload is not a stop"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        listener.close()
    assert proc.returncode == 0
    notify.wait_for("STOPPING=1", timeout=5)
    lines = journal.read_text().splitlines()
    assert lines and all(line[:3] in {"<2>", "<3>", "<4>", "<6>", "<7>"} for line in lines), lines[:5]
    assert any(line.startswith("<6>edge.selftest: self-test passed") for line in lines)


def test_hostile_commands_get_replies_and_never_stall_delivery(tmp_path: Path, broker) -> None:
    cfg = tmp_path / "unit.yaml"
    cfg.write_text(unit_config(tmp_path, broker.port).replace("type: motion", "type: interval\n"
                                                              "  period_s: 0.5\n  window_s: 0.2"))
    listener = Listener(broker.port)
    with open(tmp_path / "stderr.txt", "w") as log:
        unit = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(cfg)],
                                cwd=REPO, stderr=log, text=True)
    try:
        listener.expect("parcel-edge/t1/availability", lambda p: p == b"online")
        nested = b"[" * 1000 + b"]" * 1000
        sent = time.monotonic()
        listener.client.publish("parcel-edge/t1/cmd/test-capture", nested, qos=1)
        body = json.loads(listener.expect("parcel-edge/t1/cmd/reply"))
        assert body["ok"] is False and "nested" in body["error"]
        assert time.monotonic() - sent < 2.0
        for _ in range(1000):
            listener.client.publish("parcel-edge/t1/cmd/test-capture", b"{}", qos=1)
        replies = []
        try:
            for _ in range(1000):
                replies.append(json.loads(listener.expect("parcel-edge/t1/cmd/reply", timeout=20)))
        except Exception:
            raise AssertionError(f"{len(replies)} replies")
        assert all("ok" in r for r in replies), "every command is answered"
        refused = [r for r in replies if not r["ok"]]
        assert refused and all("rate limited" in r["error"] or "busy" in r["error"]
                               for r in refused)
        time.sleep(3)
        status = json.loads(listener.expect(
            "parcel-edge/t1/status", lambda p: json.loads(p)["stats"]["counters"].get("parcels", 0) > 4))
        counters = status["stats"]["counters"]
        assert counters.get("dropped.capture_queue_full", 0) == 0
        assert status["errors"].get("command_rate_limited", 0) > 0
    finally:
        unit.send_signal(signal.SIGTERM)
        unit.wait(timeout=30)
        listener.close()
    err = (tmp_path / "stderr.txt").read_text()
    assert unit.returncode == 0, err
    assert "RecursionError" not in err and "Traceback" not in err
    assert len(err.splitlines()) < 100, "a flood of commands is not a flood of log lines"


def test_run_refuses_the_synthetic_camera_unless_a_demo(tmp_path: Path) -> None:
    cfg = tmp_path / "unit.yaml"
    cfg.write_text(f"unit:\n  data_dir: {tmp_path}\ncamera:\n  type: synthetic\n")
    proc = subprocess.run([sys.executable, "-m", "edge", "run", "--config", str(cfg)],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 2 and "unit.demo: true" in proc.stderr


def test_photo_eye_without_gpio_is_one_clear_line(tmp_path: Path) -> None:
    cfg = tmp_path / "unit.yaml"
    cfg.write_text(f"unit:\n  data_dir: {tmp_path}\ncamera:\n  type: replay\n  path: {tmp_path}\n"
                   "trigger:\n  type: photo_eye\n")
    proc = subprocess.run([sys.executable, "-m", "edge", "run", "--config", str(cfg)],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if "photo_eye" in ln or "Error" in ln]
    assert len(errors) == 1 and errors[0].startswith("run: cannot start: photo_eye on pin 17")
    assert "Traceback" not in proc.stderr


def test_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "edge", "--version"], capture_output=True,
                          text=True, cwd=REPO)
    from edge import __version__

    assert proc.returncode == 0 and proc.stdout.startswith(f"parcel-edge {__version__}")


def test_run_drain_waits_until_the_broker_has_everything(tmp_path: Path, broker) -> None:
    import cv2
    import numpy as np

    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(30):
        cv2.imwrite(str(frames / f"{i:03d}.png"), np.full((480, 640, 3), 40 + 5 * i, np.uint8))
    cfg = tmp_path / "unit.yaml"
    cfg.write_text(f"unit:\n  id: t1\n  data_dir: {tmp_path / 'data'}\n"
                   f"camera:\n  type: replay\n  path: {frames}\n  fps: 30\n  loop: false\n"
                   "trigger:\n  type: interval\n  period_s: 0.2\n  window_s: 0.1\n"
                   f"mqtt:\n  host: 127.0.0.1\n  port: {broker.port}\n")
    listener = Listener(broker.port)
    try:
        proc = subprocess.run([sys.executable, "-m", "edge", "run", "--config", str(cfg),
                               "--drain", "60"], capture_output=True, text=True, cwd=REPO,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "drain: the outbox is delivered" in proc.stderr
        from edge.outbox import Outbox
        from edge.outbox.config import OutboxConfig

        box = Outbox(OutboxConfig(), tmp_path / "data" / "outbox")
        stats = box.stats()
        with box._lock:
            records = box._db.execute("SELECT COUNT(*) FROM items WHERE kind='record'").fetchone()[0]
        box.close()
        assert records > 0 and stats["depth"] == 0
        got = set()
        while len(got) < records:
            got.add(json.loads(listener.expect("parcel-edge/t1/parcels", timeout=10))["seq"])
        assert len(got) == records
    finally:
        listener.close()
