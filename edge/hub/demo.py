"""``parcel-edge demo --hub``: the synthetic conveyor, a local broker and the hub side by side.

A person runs it to see what an officer sees: a private mosquitto on a free loopback
port, the hub ingesting from it into SQLite under the demo's folder, the officers'
web app on loopback, and the unit publishing its parcels over MQTT 5 as a real one
does.  It prints the address and a one-time login, and serves until Ctrl-C.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from edge.config import EdgeConfig

DEMO_USER = "officer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class LocalBroker:
    """A private mosquitto on loopback for the demo (its own config and log in ``workdir``)."""

    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false",
                 f"log_dest file {self.workdir / 'mosquitto.log'}"]
        if os.geteuid() == 0:
            lines.append("user root")
        conf.write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not _listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start (see {self.workdir / 'mosquitto.log'})")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def run_unit_over_mqtt(cfg: EdgeConfig, broker_port: int, *, client_id: str = "demo-unit",
                       drain_s: float = 60.0) -> Any:
    """Runs the unit over its synthetic conveyor, publishing to the broker, until all is
    delivered (its outbox empty) or ``drain_s`` passed; returns the unit's stats."""
    from edge.app import build_unit
    from edge.publish.config import MqttConfig

    cfg = cfg.model_copy(update={"mqtt": MqttConfig(host="127.0.0.1", port=broker_port,
                                                    client_id=client_id)})
    unit = build_unit(cfg, backpressure=True)
    assert unit.publisher is not None
    unit.publisher.start()
    try:
        unit.pipeline.run(threading.Event())
        wait_until(lambda: unit.outbox.stats()["depth"] == 0, drain_s)
    finally:
        unit.close()
    return unit.stats


def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


class WebThread:
    """The officers' web app under uvicorn in a thread (the demo's process owns the hub)."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn
        self.url = f"http://127.0.0.1:{port}/"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                                    log_level="warning", access_log=False))
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not wait_until(lambda: self.server.started or not self.thread.is_alive(), 20):
            raise RuntimeError("the web app did not start")
        if not self.server.started:
            raise RuntimeError("the web app did not start (is the port taken?)")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def build_demo_hub(root: Path, broker_port: int, unit_id: str) -> Any:
    """The hub for the demo: SQLite under ``root``, subscribed to the local broker, taking
    the demo unit's messages only."""
    from edge.hub.app import build
    from edge.hub.config import HubConfig, HubMqttConfig, IngestConfig
    return build(HubConfig(hub_id="demo-hub", data_dir=root,
                           mqtt=HubMqttConfig(host="127.0.0.1", port=broker_port),
                           ingest=IngestConfig(units=[unit_id])))


def run(cfg: EdgeConfig, out: Path, *, serve_s: float | None, stream: TextIO,
        port: int = 0) -> int:
    """The whole demo; returns the unit's exit code (0 when every parcel was delivered)."""
    from edge.hub.web.app import create_web_app
    from edge.hub.web.settings import WebConfig

    broker = LocalBroker(out / "broker")
    broker.start()
    hub, web = None, None
    try:
        hub = build_demo_hub(out / "hub", broker.port, cfg.unit.id)
        password = secrets.token_urlsafe(12)
        hub.services.add_user(DEMO_USER, password, "officer", "demo")
        hub.start()
        port = port or free_port()
        web = WebThread(create_web_app(hub.services, WebConfig(host="127.0.0.1", port=port,
                                                               poll_s=2.0),
                                       secrets.token_bytes(32)), port)
        web.start()
        stream.write(f"demo: officers' hub at {web.url}  (log in as {DEMO_USER!r}, "
                     f"password {password!r})\n"
                     f"demo: broker mqtt://127.0.0.1:{broker.port}, hub data in {out / 'hub'}\n")
        stream.flush()
        stats = run_unit_over_mqtt(cfg, broker.port)
        snap = stats.snapshot()
        stream.write(f"demo: the unit delivered {snap['parcels']} parcels; open {web.url} "
                     f"({'Ctrl-C to stop' if serve_s is None else f'serving {serve_s:.0f} s'})\n")
        stream.flush()
        _serve(serve_s)
        return 0
    finally:
        if web is not None:
            web.stop()
        if hub is not None:
            hub.stop()
        broker.stop()


def _serve(serve_s: float | None) -> None:
    """Blocks until Ctrl-C / SIGTERM, or ``serve_s`` seconds."""
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait(serve_s)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
