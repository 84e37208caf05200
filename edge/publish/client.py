"""The MQTT 5 connection: paho-mqtt 2.x, callbacks API version 2, will, TLS, backoff.

paho's network thread reconnects on its own; we only choose how long it waits
(exponential with jitter, so a hundred units do not reconnect in lockstep when
a broker comes back) and keep what the broker told us in CONNACK (its Maximum
Packet Size).  Callbacks never block: they hand events to the owner through
``on_event``, which runs on paho's thread and must only queue.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge.backoff import Backoff
from edge.publish.config import MqttConfig
from edge.publish.topics import Topics

log = logging.getLogger(__name__)

EventFn = Callable[[str, Any], None]


def _read_password(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


class MqttLink:
    """One paho client with the unit's will and credentials; events go to ``on_event``.

    Events: ``("connected", (max_packet or None, window))``, ``("disconnected", reason)``,
    ``("puback", (mid, failed, reason))``, ``("message", MQTTMessage)``.
    """

    def __init__(self, cfg: MqttConfig, topics: Topics, client_id: str, on_event: EventFn) -> None:
        self.cfg = cfg
        self.topics = topics
        self._on_event = on_event
        self._connected = threading.Event()
        self._backoff = Backoff(cfg.backoff_min_s, cfg.backoff_max_s)
        self.reconnects = 0
        self.client = self._build(client_id)

    def _build(self, client_id: str) -> mqtt.Client:
        cfg = self.cfg
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=MQTTProtocolVersion.MQTTv5)
        client.will_set(self.topics.availability, b"offline", qos=1, retain=True)
        if cfg.tls is not None:
            client.tls_set(ca_certs=str(cfg.tls.ca_file) if cfg.tls.ca_file else None,
                           certfile=str(cfg.tls.cert_file) if cfg.tls.cert_file else None,
                           keyfile=str(cfg.tls.key_file) if cfg.tls.key_file else None)
        if cfg.username is not None:
            password = _read_password(cfg.password_file) if cfg.password_file else None
            client.username_pw_set(cfg.username, password)
        client.max_inflight_messages_set(cfg.inflight)
        client.connect_timeout = cfg.connect_timeout_s
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.reconnect_delay_set(min_delay=cfg.backoff_min_s, max_delay=cfg.backoff_min_s)  # type: ignore[arg-type]
        return client

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background; paho's thread retries until ``stop``."""
        self.client.connect_async(self.cfg.host, self.cfg.port, keepalive=self.cfg.keepalive_s)
        self.client.loop_start()

    def stop(self, timeout: float) -> None:
        """Say ``offline`` ourselves (a clean disconnect sends no will), then disconnect."""
        if self.connected:
            info = self.client.publish(self.topics.availability, b"offline", qos=1, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as exc:
                log.warning("could not publish offline before disconnecting: %s", exc)
        self.client.disconnect()
        self.client.loop_stop()
        self._connected.clear()

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool,
                properties: Properties | None = None) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)

    def _delay(self, seconds: float) -> None:
        self.client.reconnect_delay_set(min_delay=seconds, max_delay=seconds)  # type: ignore[arg-type]

    # -- paho callbacks (paho's thread) -------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                    reason_code: Any, properties: Properties | None) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        self._backoff.reset()
        self._delay(self.cfg.backoff_min_s)
        self._connected.set()
        max_packet = getattr(properties, "MaximumPacketSize", None)
        # paho does not honour the broker's Receive Maximum (exceeding it gets us disconnected),
        # so the drainer keeps below it, leaving room for status, availability and replies.
        receive_max = getattr(properties, "ReceiveMaximum", 65535)
        window = max(1, min(self.cfg.inflight, receive_max - 2))
        # "online" only once the broker has our command subscription (on_subscribe): a central
        # system that sends a command on seeing "online" must not have it dropped unheard.
        client.subscribe(self.topics.cmd_filter, options=SubscribeOptions(qos=1, noLocal=True))
        log.info("connected to %s:%s (max packet %s, window %s)", self.cfg.host, self.cfg.port,
                 max_packet, window)
        self._on_event("connected", (max_packet, window))

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any,
                      properties: Any) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("broker refused the command subscription: %s", reason_codes)
        client.publish(self.topics.availability, b"online", qos=1, retain=True)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._retry("connect failed")

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Properties | None) -> None:
        if self._connected.is_set():
            self.reconnects += 1
        self._connected.clear()
        self._retry(str(reason_code))
        self._on_event("disconnected", str(reason_code))

    def _retry(self, why: str) -> None:
        delay = self._backoff.next()
        self._delay(delay)
        log.info("broker connection down (%s); next attempt in %.1f s", why, delay)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any,
                    properties: Properties | None) -> None:
        self._on_event("puback", (mid, bool(reason_code.is_failure), str(reason_code)))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._on_event("message", message)


def reply_properties(correlation: bytes | None) -> Properties | None:
    """Echo the requester's correlation data so it can match our reply."""
    if correlation is None:
        return None
    props = Properties(PacketTypes.PUBLISH)
    props.CorrelationData = correlation
    return props
