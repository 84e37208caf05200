"""The publisher: drains the outbox to the broker, reports status, answers commands.

One drain thread owns the outbox side (what is in flight, what to send next);
paho's thread owns the socket.  They meet in a queue, so a slow disk or a
slow command handler never blocks PUBACK processing and paho's callbacks never
wait on our locks (paho calls ``on_publish`` holding its own message lock).
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter
from typing import Any, Callable, Mapping

from edge.outbox import Outbox
from edge.publish.client import MqttLink, reply_properties
from edge.publish.commands import CommandHandler, CommandRouter
from edge.publish.config import MqttConfig, StatusConfig
from edge.publish.drain import NO_LIMIT, Drainer
from edge.publish.status import StatusReporter
from edge.publish.topics import Topics

log = logging.getLogger(__name__)

IDLE_WAKE_S = 0.5
SETTLE_S = 2.0


def _empty() -> Mapping[str, Any]:
    return {}


class Publisher:
    """MQTT 5 delivery of one unit's outbox.

    ``status`` is any callable returning the path's counters (the lead's
    ``Stats.snapshot``); ``commands`` maps command names to handlers taking the
    JSON arguments and returning a JSON-able mapping (or None).
    """

    def __init__(self, cfg: MqttConfig, outbox: Outbox, *, unit: str,
                 status: Callable[[], Mapping[str, Any]] = _empty,
                 status_cfg: StatusConfig | None = None,
                 commands: Mapping[str, CommandHandler] | None = None) -> None:
        self.topics = Topics(cfg.prefix_for(unit))
        self.errors = Counter[str]()
        self._outbox = outbox
        self._events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.link = MqttLink(cfg, self.topics, cfg.client_id or f"parcel-edge-{unit}", self._post)
        self.drainer = Drainer(outbox, self.topics, self.link.publish, cfg.inflight, self.errors)
        self.router = CommandRouter(self.topics, commands or {})
        interval = (status_cfg or StatusConfig()).interval_s
        self.status = StatusReporter(unit, interval, outbox.root, status)
        self._connected = False
        outbox.add_listener(self._wake.set)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and start draining; returns at once."""
        self._stop.clear()
        self._closing.clear()
        self._thread = threading.Thread(target=self._run, name="publisher-drain", daemon=True)
        self._thread.start()
        self.link.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop draining, publish ``offline``, disconnect.  Unacknowledged items stay queued.

        What is already in flight gets a short grace to be acknowledged, so a
        planned restart resends (and receivers drop) as little as possible.
        """
        self._closing.set()
        deadline = time.monotonic() + min(timeout / 2, SETTLE_S)
        while self._thread is not None and self.drainer.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.link.stop(timeout)

    def snapshot(self) -> dict[str, Any]:
        """Delivery counters, also part of the status payload."""
        return {
            "connected": self.link.connected,
            "reconnects": self.link.reconnects,
            "in_flight": self.drainer.in_flight,
            "max_packet": self.drainer.max_packet,
            "sent": dict(self.drainer.sent),
            "acked": dict(self.drainer.acked),
            "commands": self.router.handled,
        }

    # -- paho's thread -------------------------------------------------------------

    def _post(self, kind: str, value: Any) -> None:
        self._events.put((kind, value))
        self._wake.set()

    # -- drain thread ------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(IDLE_WAKE_S)
            self._wake.clear()
            try:
                self._step()
            except Exception:  # keep delivering: one bad item must not stop the unit
                self.errors["publisher_step"] += 1
                log.exception("publisher step failed")
                self._stop.wait(1.0)

    def _step(self) -> None:
        self._handle_events()
        if not self._connected:
            return
        if not self._closing.is_set():
            self.drainer.pump()
        if self.status.due():
            self._publish_status()

    def _handle_events(self) -> None:
        while True:
            try:
                kind, value = self._events.get_nowait()
            except queue.Empty:
                return
            if kind == "puback":
                self.drainer.on_ack(*value)
            elif kind == "connected":
                self._connected = True
                self.drainer.max_packet = value[0] or NO_LIMIT
                self.drainer.window = value[1]
                self._publish_status()
            elif kind == "disconnected":
                self._connected = False
            elif kind == "message":
                self._command(value)

    def _command(self, message: Any) -> None:
        reply = self.router.handle(message.topic, bytes(message.payload), message.properties)
        self.errors.update(self.router.errors)
        self.router.errors.clear()
        if reply is not None:
            self.link.publish(reply.topic, reply.payload, 1, False, reply_properties(reply.correlation))

    def _publish_status(self) -> None:
        body = self.status.payload(self._outbox.stats(), self.snapshot(), self.errors)
        data = json.dumps(body, sort_keys=True, default=str, ensure_ascii=True).encode()
        self.link.publish(self.topics.status, data, 1, True)
