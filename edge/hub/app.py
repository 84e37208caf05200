"""The hub's composition root: config in, store + ingest + services + web out.

Nothing else builds hub objects; the web app gets ``hub.services`` and
``hub.cfg`` from here.  ``serve`` is what ``parcel-edge hub serve`` runs.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.hub.config import ANY_UNIT, HubConfig, IngestConfig
from edge.hub.services import HubServices, Lockout
from edge.hub.store import open_store

log = logging.getLogger(__name__)


@dataclass
class Hub:
    """What a running hub is made of; ``start``/``stop`` run its background parts."""

    cfg: HubConfig
    store: Any
    services: HubServices
    ingest: Any = None
    capture: Any = None

    def start(self) -> None:
        if self.ingest is not None:
            self.ingest.start()

    def stop(self) -> None:
        if self.ingest is not None:
            self.ingest.stop()
        if self.capture is not None:
            self.capture.stop()
        self.store.close()


def _hasher(cfg: HubConfig) -> Any:
    from argon2 import PasswordHasher

    p = cfg.passwords
    return PasswordHasher(time_cost=p.argon2_time_cost, memory_cost=p.argon2_memory_kib,
                          parallelism=p.argon2_parallelism)


def _aed(cfg: HubConfig) -> Any:
    if cfg.aed_path is None:
        return None
    from edge.rules.aed import AedTable

    table = AedTable(cfg.aed_path)
    table.refresh()
    return table


def build(cfg: HubConfig, mqtt: bool = True, instance: int = 0) -> Hub:
    """The hub for ``cfg``; ``mqtt=False`` leaves ingest out (tools, tests of pages).
    ``instance`` numbers the processes of one hub: each keeps its own broker session."""
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(cfg.database, cfg.data_dir)
    images = cfg.data_dir / "images"
    images.mkdir(exist_ok=True)
    ingest = None
    publish = None
    if mqtt:
        from edge.hub.ingest import Ingest

        ingest = Ingest(_with_capture_unit(cfg), store, images, instance)
        publish = ingest.publish_hub
    services = HubServices(store, images, lockout=Lockout(cfg.lockout.max_failures,
                                                          cfg.lockout.lock_s),
                           publish=publish, aed=_aed(cfg), facility=cfg.facility.model_dump(),
                           hasher=_hasher(cfg))
    capture = None
    if cfg.capture is not None and mqtt:
        from edge.hub.photos.service import open_capture

        capture = open_capture(cfg.capture, broker=_unit_broker(cfg))
    return Hub(cfg, store, services, ingest, capture)


def _unit_broker(cfg: HubConfig) -> Any:
    """The hub's broker as a unit's MQTT section: the exam table publishes like a unit."""
    from edge.publish.config import MqttConfig

    m = cfg.mqtt
    return MqttConfig(host=m.host, port=m.port, tls=m.tls, username=m.username,
                      password_file=m.password_file)


def _with_capture_unit(cfg: HubConfig) -> HubConfig:
    """The exam table files packages as a unit of its own: ingest accepts it when configured."""
    units = cfg.ingest.units
    if cfg.capture is None or ANY_UNIT in units or cfg.capture.unit in units:
        return cfg
    ingest = IngestConfig(**{**cfg.ingest.model_dump(), "units": [*units, cfg.capture.unit]})
    return cfg.model_copy(update={"ingest": ingest})


def build_for_test(root: Path, broker_port: int | None = None, instance: int = 0,
                   **overrides: Any) -> Hub:
    """A hub on SQLite in ``root`` (tests, demos); MQTT ingest only when a broker port is given."""
    data: dict[str, Any] = {"data_dir": str(root), "ingest": {"units": [ANY_UNIT]}}
    if broker_port is not None:
        data["mqtt"] = {"host": "127.0.0.1", "port": broker_port}
    data.update(overrides)
    return build(HubConfig.model_validate(data), mqtt=broker_port is not None, instance=instance)


def serve(cfg: HubConfig, web: bool = True, instance: int = 0) -> int:
    """Ingest in the background, the web app in front (unless ``web`` is False: an
    ingest-only process beside others on the shared subscription); returns on SIGTERM."""
    hub = build(cfg, instance=instance)
    hub.start()
    try:
        if web:
            from edge.hub.web.server import serve as web_serve

            web_serve(hub)
        else:
            _wait_for_signal()
    finally:
        hub.stop()
    return 0


def _wait_for_signal() -> None:
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    log.info("hub ingest running (pid %s), no web app", os.getpid())
    done.wait()
