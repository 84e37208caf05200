"""The appliance under MQTT commands: test-capture and reload-config against a real broker."""
from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def unit_config(tmp_path: Path, port: int, extra: str = "") -> str:
    frames = tmp_path / "frames"
    frames.mkdir(exist_ok=True)
    cv2.imwrite(str(frames / "belt.png"), np.full((480, 640, 3), 40, np.uint8))
    return (f"unit:\n  id: t1\n  data_dir: {tmp_path / 'data'}\n"
            f"camera:\n  type: replay\n  path: {frames}\n  fps: 10\n  loop: true\n"
            f"trigger:\n  type: motion\nmqtt:\n  host: 127.0.0.1\n  port: {port}\n"
            f"status:\n  interval_s: 1\n{extra}")


class Listener:
    """Everything the unit publishes, as (topic, payload) in arrival order."""

    def __init__(self, port: int) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("parcel-edge/t1/#", qos=1)
        self.client.loop_start()

    def expect(self, topic: str, predicate=lambda body: True, timeout: float = 20.0) -> bytes:
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                got, payload = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if got == topic and predicate(payload):
                return payload
            seen.append(got)
        raise AssertionError(f"nothing on {topic} within {timeout} s; saw {seen[-20:]}")

    def command(self, name: str) -> dict:
        self.client.publish(f"parcel-edge/t1/cmd/{name}", b"{}", qos=1)
        return json.loads(self.expect("parcel-edge/t1/cmd/reply"))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_test_capture_and_reload_config_over_mqtt(tmp_path: Path, broker) -> None:
    cfg = tmp_path / "unit.yaml"
    cfg.write_text(unit_config(tmp_path, broker.port))
    listener = Listener(broker.port)
    # stderr to a file, not a pipe: a pipe nobody reads fills and blocks the unit's logging.
    with open(tmp_path / "stderr.txt", "w") as log:
        unit = subprocess.Popen([sys.executable, "-m", "edge", "run", "--config", str(cfg)],
                                cwd=REPO, stderr=log, text=True)
    try:
        _test_capture_then_reloads(listener, cfg, tmp_path, broker.port)
    finally:
        unit.send_signal(signal.SIGTERM)
        unit.wait(timeout=30)
        listener.close()
    err = (tmp_path / "stderr.txt").read_text()
    assert unit.returncode == 0, err
    assert "config reloaded" in err


def _test_capture_then_reloads(listener: Listener, cfg: Path, tmp_path: Path, port: int) -> None:
    listener.expect("parcel-edge/t1/availability", lambda p: p == b"online")
    assert listener.command("test-capture")["ok"] is True
    record = json.loads(listener.expect("parcel-edge/t1/parcels"))
    assert record["trigger"] == "test" and record["unit"] == "t1"

    cfg.write_text(unit_config(tmp_path, port, "capture:\n  best_frames: 99\n"))
    reply = listener.command("reload-config")
    assert reply["ok"] is False and "capture.best_frames" in reply["error"]
    assert b"t1" in listener.expect("parcel-edge/t1/status")  # still running

    cfg.write_text(unit_config(tmp_path, port, "capture:\n  best_frames: 2\n"))
    assert listener.command("reload-config")["ok"] is True
    listener.expect("parcel-edge/t1/availability", lambda p: p == b"online")
    assert listener.command("test-capture")["ok"] is True
    again = json.loads(listener.expect("parcel-edge/t1/parcels"))
    assert again["seq"] == record["seq"] + 1
