"""The unit's update link: its own MQTT 5 session for offers, chunks and ``model/status``.

Offers are retained on ``<update topic>/offer``; a bundle's chunks are retained
on ``<update topic>/bundles/<name>/<version>/<file>/<chunk>``, so the unit
fetches them by subscribing, and after a disconnect or a restart simply
subscribes again and keeps the chunks it already holds: no server beyond the
broker.  A separate client keeps update traffic out of the outbox's window.
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.publish.config import MqttConfig

log = logging.getLogger(__name__)

OFFER = "offer"
BUNDLES = "bundles"


def chunk_topic(topic: str, name: str, version: str, index: int, chunk: int) -> str:
    return f"{topic}/{BUNDLES}/{name}/{version}/{index}/{chunk}"


def chunk_filter(topic: str, name: str, version: str) -> str:
    return f"{topic}/{BUNDLES}/{name}/{version}/#"


def parse_chunk_topic(topic: str, base: str) -> tuple[str, str, int, int] | None:
    """``(name, version, file, chunk)`` of a chunk topic under ``base``, or None."""
    head = f"{base}/{BUNDLES}/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head):].split("/")
    if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
        return None
    if len(parts[2]) > 6 or len(parts[3]) > 9:
        return None
    return parts[0], parts[1], int(parts[2]), int(parts[3])


class UpdateLink:
    """Subscribes to offers and the wanted bundle's chunks; publishes ``model/status``."""

    def __init__(self, cfg: MqttConfig, client_id: str, topic: str, status_topic: str,
                 on_event: Callable[[str, Any], None]) -> None:
        self.cfg, self.topic, self.status_topic = cfg, topic, status_topic
        self._on_event = on_event
        self._lock = threading.Lock()
        self._wanted: str | None = None
        self._status: bytes | None = None
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=MQTTProtocolVersion.MQTTv5)
        if cfg.tls is not None:
            self.client.tls_set(ca_certs=str(cfg.tls.ca_file) if cfg.tls.ca_file else None,
                                certfile=str(cfg.tls.cert_file) if cfg.tls.cert_file else None,
                                keyfile=str(cfg.tls.key_file) if cfg.tls.key_file else None)
        if cfg.username is not None:
            password = cfg.password_file.read_text().strip() if cfg.password_file else None
            self.client.username_pw_set(cfg.username, password)
        self.client.reconnect_delay_set(cfg.backoff_min_s, cfg.backoff_max_s)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def start(self) -> None:
        self.client.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def want(self, name_version: tuple[str, str] | None) -> None:
        """Fetch this bundle's chunks (None: stop fetching)."""
        new = chunk_filter(self.topic, *name_version) if name_version else None
        with self._lock:
            old, self._wanted = self._wanted, new
        if old and old != new:
            self.client.unsubscribe(old)
        if new and new != old:
            self.client.subscribe(new, qos=1)

    def publish_status(self, status: dict) -> None:
        data = json.dumps(status, sort_keys=True, default=str, ensure_ascii=True).encode()
        with self._lock:
            self._status = data
        self.client.publish(self.status_topic, data, qos=1, retain=True)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            log.error("update link refused by the broker: %s", reason)
            return
        with self._lock:
            wanted, status = self._wanted, self._status
        client.subscribe(f"{self.topic}/{OFFER}", qos=1)
        if wanted:
            client.subscribe(wanted, qos=1)
        if status:
            client.publish(self.status_topic, status, qos=1, retain=True)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == f"{self.topic}/{OFFER}":
            if msg.payload:
                self._on_event("offer", bytes(msg.payload))
            return
        parsed = parse_chunk_topic(msg.topic, self.topic)
        if parsed is not None:
            self._on_event("chunk", (*parsed, bytes(msg.payload)))
