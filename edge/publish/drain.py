"""Moving outbox items to the broker: drain order, in-flight window, chunks, acknowledgements.

Alerts go first (an officer is waiting); then parcels in sequence order, each
parcel's images before the record that references them, so a receiver that
has a record can already have its images.  An item is acknowledged in the
outbox only when every one of its packets got a PUBACK with a success code.
All methods run on the publisher's drain thread; paho's callbacks only queue.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Protocol

from paho.mqtt.client import MQTTMessageInfo
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties

from edge.outbox import Outbox, OutboxItem
from edge.publish import wire
from edge.publish.topics import Topics

log = logging.getLogger(__name__)

NO_LIMIT = 268_435_455
RETRY_REJECTED_S = 30.0


class PublishFn(Protocol):
    def __call__(self, topic: str, payload: bytes, qos: int, retain: bool,
                 properties: Properties) -> MQTTMessageInfo: ...


@dataclass
class _Flight:
    """An item on its way: its packets (one, or the chunks), how many went, which await PUBACK."""

    item: OutboxItem
    topic: str
    packets: list[tuple[bytes, Properties]]
    sent: int = 0
    left: set[int] = field(default_factory=set)
    mids: list[int] = field(default_factory=list)

    @property
    def done_sending(self) -> bool:
        return self.sent == len(self.packets)


class Drainer:
    """The outbox's side of the connection; counters feed the status topic."""

    def __init__(self, outbox: Outbox, topics: Topics, publish: PublishFn, window: int,
                 errors: Counter[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._outbox = outbox
        self._topics = topics
        self._publish = publish
        self.window = window
        self._errors = errors
        self._clock = clock
        self._by_mid: dict[int, tuple[int, int]] = {}
        self._flights: dict[int, _Flight] = {}
        self._retry_at: dict[int, float] = {}
        self.max_packet = NO_LIMIT
        self.sent = Counter[str]()
        self.acked = Counter[str]()

    @property
    def in_flight(self) -> int:
        return len(self._by_mid)

    def pump(self) -> int:
        """Publish in drain order until the window is full; returns packets sent.

        Chunks of an image already under way go first, so a big image never
        holds more than the window and a receiver's partial stays short-lived.
        """
        room = self.window - len(self._by_mid)
        sent = 0
        for flight in [f for f in self._flights.values() if not f.done_sending]:
            if sent < room:
                sent += self._send_packets(flight, room - sent)
        if sent >= room:
            return sent
        items = self._outbox.pending(room - sent + 8, skip=self._flights.keys())
        waiting = {f.item.parcel for f in self._flights.values() if f.item.kind == "image"}
        now = self._clock()
        for item in items:
            if sent >= room:
                break
            if item.kind == "image":
                waiting.add(item.parcel)
            elif item.kind == "record" and item.parcel in waiting:
                continue
            if self._retry_at.get(item.n, 0.0) > now:
                continue
            flight = self._start(item)
            if flight is not None:
                sent += self._send_packets(flight, room - sent)
        return sent

    def _start(self, item: OutboxItem) -> _Flight | None:
        try:
            body = item.read()
        except FileNotFoundError:
            return None  # evicted between the query and now; the outbox has already marked it
        topic = self._topics.for_kind(item.kind, item.parcel, item.view)
        flight = _Flight(item, topic, [])
        try:
            flight.packets = self._packets(item, topic, body)
        except ValueError as exc:
            log.error("cannot publish %s %s: %s", item.kind, item.id, exc)
            self._abandon(flight, "too_large")
            return None
        self._flights[item.n] = flight
        self.sent[item.kind] += 1
        return flight

    def _send_packets(self, flight: _Flight, limit: int) -> int:
        count = 0
        while not flight.done_sending and count < limit:
            payload, props = flight.packets[flight.sent]
            info = self._publish(flight.topic, payload, 1, False, props)
            if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
                self._abandon(flight, f"publish_error:{info.rc}")
                return count
            flight.left.add(flight.sent)
            flight.mids.append(info.mid)
            self._by_mid[info.mid] = (flight.item.n, flight.sent)
            flight.sent += 1
            count += 1
        return count

    def _user(self, item: OutboxItem, body: bytes) -> dict[str, str]:
        user = {wire.MSG_ID: item.id, wire.KIND: item.kind, wire.PARCEL: item.parcel,
                wire.SEQ: str(item.seq)}
        if item.kind == "image":
            user.update({wire.VIEW: item.view, wire.SHA256: item.sha256,
                         wire.TOTAL_BYTES: str(len(body)), wire.CONTENT_TYPE: item.content_type})
        elif item.kind == "record":
            missing = self._outbox.evicted_views(item.parcel)
            if missing:
                user[wire.MISSING] = ",".join(missing)
        return user

    def _packets(self, item: OutboxItem, topic: str, body: bytes) -> list[tuple[bytes, Properties]]:
        """One packet, or ordered chunks when the image exceeds the broker's packet limit."""
        user = self._user(item, body)
        whole = wire.publish_properties(user, item.content_type)
        if len(body) + wire.packet_overhead(topic, whole) <= self.max_packet:
            return [(body, whole)]
        if item.kind != "image":
            raise ValueError(f"{item.kind} {item.id} exceeds the broker's packet limit")
        size = wire.chunk_payload_size(self.max_packet, topic, user, item.content_type)
        count = (len(body) + size - 1) // size
        packets = []
        for index in range(count):
            part = body[index * size:(index + 1) * size]
            header = dict(user, **{wire.CHUNK: f"{index}/{count}", wire.OFFSET: str(index * size),
                                   wire.CHUNK_SHA256: hashlib.sha256(part).hexdigest()})
            packets.append((part, wire.publish_properties(header, item.content_type)))
        return packets

    def _abandon(self, flight: _Flight, reason: str) -> None:
        self._errors[reason] += 1
        for mid in flight.mids:
            self._by_mid.pop(mid, None)
        self._flights.pop(flight.item.n, None)
        self._retry_at[flight.item.n] = self._clock() + RETRY_REJECTED_S
        log.warning("publish of %s %s failed (%s); retrying in %ss",
                    flight.item.kind, flight.item.id, reason, RETRY_REJECTED_S)

    def on_ack(self, mid: int, failed: bool, reason: str) -> None:
        """A PUBACK arrived; the item is acknowledged once all its packets are."""
        entry = self._by_mid.pop(mid, None)
        flight = self._flights.get(entry[0]) if entry else None
        if entry is None or flight is None:
            return
        if failed:  # the rest of a rejected item is pointless: retry it whole, later
            self._abandon(flight, f"rejected:{reason}")
            return
        flight.left.discard(entry[1])
        if flight.left or not flight.done_sending:
            return
        del self._flights[flight.item.n]
        self._retry_at.pop(flight.item.n, None)
        self._outbox.ack(flight.item.n)
        self.acked[flight.item.kind] += 1
