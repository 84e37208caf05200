"""Shared fixtures: a real mosquitto broker on a free loopback port.

Each broker gets its own config, persistence folder and log in ``tmp_path``;
``restart`` stops it (SIGTERM, so it saves its persistence file) and starts it
again on the same port, which is what a unit sees when a broker reboots.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

MOSQUITTO = Path("/usr/sbin/mosquitto")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Broker:
    """A mosquitto process the test controls; ``port`` survives ``restart``."""

    workdir: Path
    port: int
    max_packet_size: int = 0
    config: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def _config(self) -> Path:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            f"log_dest file {self.workdir / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_type subscribe",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # else mosquitto drops to 'mosquitto' and cannot write here
        if self.max_packet_size:
            lines.append(f"max_packet_size {self.max_packet_size}")
        path = self.workdir / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self, timeout: float = 10.0) -> None:
        config = self.config or self._config()
        self.proc = subprocess.Popen([str(MOSQUITTO), "-c", str(config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / "mosquitto.log")
                raise RuntimeError(f"mosquitto did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


def _broker(tmp_path: Path, name: str, max_packet_size: int = 0):
    workdir = tmp_path / name
    workdir.mkdir()
    broker = Broker(workdir, free_port(), max_packet_size)
    broker.start()
    return broker


@pytest.fixture
def broker(tmp_path: Path):
    """A plain local broker."""
    if not MOSQUITTO.exists():
        pytest.skip("mosquitto is not installed")
    b = _broker(tmp_path, "broker")
    yield b
    b.stop()


@pytest.fixture
def small_broker(tmp_path: Path):
    """A broker whose Maximum Packet Size (32 KiB) is below a typical image."""
    if not MOSQUITTO.exists():
        pytest.skip("mosquitto is not installed")
    b = _broker(tmp_path, "small-broker", max_packet_size=32 * 1024)
    yield b
    b.stop()


def production_config(template: Path, workdir: Path, port: int, pki: Path, acl: Path) -> Path:
    """The shipped production.conf with its example paths pointed at test files."""
    replace = {
        "listener": f"listener {port} 127.0.0.1",
        "acl_file": f"acl_file {acl}",
        "cafile": f"cafile {pki / 'ca.crt'}",
        "certfile": f"certfile {pki / 'broker.crt'}",
        "keyfile": f"keyfile {pki / 'broker.key'}",
        "persistence_location": f"persistence_location {workdir}/",
        "log_dest": f"log_dest file {workdir / 'mosquitto.log'}",
    }
    lines = []
    for line in template.read_text().splitlines():
        key = line.split(" ", 1)[0]
        lines.append(replace.get(key, line))
    if os.geteuid() == 0:
        lines.append("user root")
    path = workdir / "production.conf"
    path.write_text("\n".join(lines) + "\n")
    return path
