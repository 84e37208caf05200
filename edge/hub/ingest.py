"""Ingest: the units' messages off the broker into the store, each with exactly one effect.

Several hub processes share one MQTT 5 shared subscription
(``$share/<group>/<root>/+/…``): the broker hands each message to one of them.
Messages are acknowledged by hand (paho ``manual_ack``) only after the batch
they came in is committed, images on disk first (written, renamed, then one
syncfs of their file system per batch, so the names are as durable as the
data), so a process killed at any instant leaves the broker holding what it
had not stored, and redelivers it.
A record's id is unique in the database, so redeliveries and the other
process's copies change nothing.  Gaps in a unit's sequence numbers, seen in
the database (the one place that has every process's records), are healed by
asking the unit to resend (``<prefix>/cmd/resend``).
"""
from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.durable import holds, sync_filesystem, write_replace
from edge.hub import ingest_check as check
from edge.hub.config import HubConfig
from edge.hub.store.base import ImageIn, image_path
from edge.publish.wire import EXTENSIONS
from edge.receive.assemble import Assembler, Image, ImageError
from edge.records import utc_now

log = logging.getLogger(__name__)

STOP = object()


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    props: Any
    mid: int
    qos: int


class Ingest:
    """One hub process's share of the units' messages; ``start``/``stop`` run it."""

    def __init__(self, cfg: HubConfig, store: Any, images: Path, instance: int = 0) -> None:
        self.cfg = cfg
        self.store = store
        self.images = images
        self.counters: Counter[str] = Counter()
        self._queue: queue.Queue[Any] = queue.Queue(cfg.ingest.queue)
        self._ready: queue.Queue[Any] = queue.Queue(2)   # prepared batches awaiting commit
        self._assembler = Assembler()
        # Writes only (one sync per batch makes them durable): a few threads overlap them.
        self._files = ThreadPoolExecutor(4, thread_name_prefix="hub-images")
        self._stop = threading.Event()
        self.ready = threading.Event()   # set once the broker acknowledged our subscriptions
        self._threads: list[threading.Thread] = []
        self._gap_seen: dict[tuple[str, int], float] = {}
        self._asked: dict[str, float] = {}
        self._tries: Counter[tuple[str, int]] = Counter()
        self._folders: set[str] = set()   # image folders known to exist: mkdir is two syscalls
        self.client = self._client(instance)

    # --- MQTT ----------------------------------------------------------------------------
    def _client(self, instance: int) -> mqtt.Client:
        m = self.cfg.mqtt
        client_id = m.client_id or f"{self.cfg.hub_id}-{instance}"
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=MQTTProtocolVersion.MQTTv5, manual_ack=True)
        if m.tls is not None:
            client.tls_set(ca_certs=str(m.tls.ca_file) if m.tls.ca_file else None,
                           certfile=str(m.tls.cert_file) if m.tls.cert_file else None,
                           keyfile=str(m.tls.key_file) if m.tls.key_file else None)
        if m.username:
            password = m.password_file.read_text().strip() if m.password_file else None
            client.username_pw_set(m.username, password)
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._connected
        client.on_subscribe = lambda *args: self.ready.set()
        client.on_message = self._message
        return client

    def filters(self) -> list[tuple[str, int]]:
        """Shared for the streams (one process each); plain for retained status (every process)."""
        root, group = self.cfg.mqtt.topic_root, self.cfg.mqtt.group
        shared = [f"$share/{group}/{root}/+/{t}" for t in ("parcels", "alerts", "images/#")]
        return [(f, 1) for f in shared] + [(f"{root}/+/status", 1), (f"{root}/+/availability", 1)]

    def _connected(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                   props: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the hub: %s", reason)
            return
        client.subscribe(self.filters())
        log.info("hub ingest subscribed (session present: %s)", flags.session_present)

    def _message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        # Blocks when the writer is behind: paho stops reading, the broker holds the rest.
        self._queue.put(Message(msg.topic, bytes(msg.payload), msg.properties, msg.mid, msg.qos))

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.cfg.mqtt.session_expiry_s
        props.ReceiveMaximum = self.cfg.mqtt.receive_maximum
        self.client.connect_async(self.cfg.mqtt.host, self.cfg.mqtt.port,
                                  keepalive=self.cfg.mqtt.keepalive_s, clean_start=False,
                                  properties=props)
        for target, name in ((self._writer, "hub-ingest"), (self._gap_loop, "hub-gaps")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.client.loop_start()

    def stop(self) -> None:
        """Stops taking messages; what is queued but unacknowledged the broker redelivers."""
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()
        self._queue.put(STOP)
        for thread in self._threads:
            thread.join(timeout=10)
        self._files.shutdown()
        log.info("hub ingest stopped: %s", json.dumps(dict(sorted(self.counters.items()))))

    def publish_hub(self, name: str, body: Mapping[str, Any]) -> None:
        """Hub output (dispositions) under ``<root>-hub/<hub id>/<name>``, QoS 1."""
        topic = f"{self.cfg.mqtt.topic_root}-hub/{self.cfg.hub_id}/{name}"
        data = json.dumps(body, sort_keys=True, ensure_ascii=True)
        self.client.publish(topic, data, qos=1)
        self.counters[f"published_{name}"] += 1

    # --- the writer ----------------------------------------------------------------------
    def _writer(self) -> None:
        """Stage one: check a batch and make its images durable, then hand it to stage two
        (commit, acknowledge), so one batch's sync overlaps the previous batch's commit."""
        committer = threading.Thread(target=self._committer, name="hub-commit", daemon=True)
        committer.start()
        while True:
            batch = self._take()
            if batch is None:
                self._ready.put(None)
                committer.join()
                return
            self._ready.put((batch, self._prepare(batch)))

    def _committer(self) -> None:
        while True:
            job = self._ready.get()
            if job is None:
                return
            self._commit(*job)

    def _take(self) -> list[Message] | None:
        first = self._queue.get()
        if first is STOP:
            return None
        batch = [first]
        deadline = time.monotonic() + self.cfg.ingest.batch_wait_ms / 1000
        while len(batch) < self.cfg.ingest.batch_max:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is STOP:
                self._queue.put(STOP)
                break
            batch.append(item)
        return batch

    def _prepare(self, batch: list[Message]) -> list[Any]:
        """Checked items of a batch, its images written and synced (content-addressed)."""
        items = [i for i in (self._item(m) for m in batch) if i is not None]
        pending = [i for i in items if isinstance(i, tuple)]
        for future in [self._files.submit(self._save, img) for _, img in pending]:
            future.result()
        if pending:
            sync_filesystem(self.images)   # the batch's files and their names, in one commit
        return [i[0] if isinstance(i, tuple) else i for i in items]

    def _commit(self, batch: list[Message], stored: list[Any]) -> None:
        """Commit once, then acknowledge: never the other way round."""
        while not self._stop.is_set():
            try:
                results = self.store.ingest(stored, utc_now())
                break
            except Exception:  # database away: keep the batch unacknowledged and retry
                self.counters["store_errors"] += 1
                log.exception("store failed; retrying the batch of %s", len(stored))
                time.sleep(1.0)
        else:
            return
        for r in results:
            self.counters[f"{r.kind}_{'new' if r.new else 'duplicate'}"] += 1
        for m in batch:
            self.client.ack(m.mid, m.qos)

    def _item(self, m: Message) -> Any:
        try:
            w = check.where(m.topic, self.cfg.mqtt.topic_root, self.cfg.ingest)
            if w.kind == "parcels":
                return check.record(w, m.payload, self.cfg.ingest)
            if w.kind == "alerts":
                return check.alert(w, m.payload, self.cfg.ingest)
            if w.kind in ("status", "availability"):
                return check.status(w, m.payload, self.cfg.ingest)
            return self._image(m)
        except check.Refused as exc:
            self.counters[f"refused_{exc.reason}"] += 1
            log.warning("refused message on %r: %s", m.topic[:200], exc)
            return None

    def _image(self, m: Message) -> tuple[ImageIn, Image] | None:
        if len(m.payload) > self.cfg.ingest.max_image_bytes:
            raise check.Refused("too_large", f"{len(m.payload)} bytes of image")
        try:
            image = self._assembler.add(m.topic, m.payload, m.props)
        except ImageError as exc:
            raise check.Refused("bad_image", str(exc)) from None
        if image is None:
            return None  # a chunk; acknowledged, the assembler holds it
        if len(image.data) > self.cfg.ingest.max_image_bytes:
            raise check.Refused("too_large", f"{len(image.data)} bytes of image")
        if image.content_type not in EXTENSIONS:
            raise check.Refused("bad_image", f"content type {image.content_type[:40]!r}")
        return ImageIn(image.sha256, image.parcel, image.view, image.content_type,
                       len(image.data)), image

    def _save(self, image: Image) -> None:
        """Written and renamed into place; durable once the batch's file system sync returns."""
        path = image_path(self.images, image.sha256)
        if holds(path, image.sha256, len(image.data)):
            return
        folder = str(path.parent)
        if folder not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        try:
            write_replace(path, image.data, 0o644)
        except FileNotFoundError:   # the folder was removed under us: make it again, once
            self._folders.discard(folder)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_replace(path, image.data, 0o644)

    # --- gaps ----------------------------------------------------------------------------
    def _gap_loop(self) -> None:
        while not self._stop.wait(self.cfg.ingest.gap_check_s):
            try:
                self.heal_gaps(time.monotonic())
            except Exception:  # a failed sweep is retried at the next one
                self.counters["gap_check_errors"] += 1
                log.exception("gap check failed")

    def heal_gaps(self, now: float) -> int:
        """Ask each unit with settled gaps to resend from its first missing number."""
        cfg = self.cfg.ingest
        by_unit: dict[str, tuple[str, int, int]] = {}
        seen_now = set()
        for gap in self.store.gaps():
            key = (gap.unit, gap.first)
            seen_now.add(key)
            self._gap_seen.setdefault(key, now)
            if now - self._gap_seen[key] < cfg.gap_grace_s or self._tries[key] >= 5:
                continue
            low = by_unit.get(gap.unit, (gap.prefix, gap.first, gap.last))
            by_unit[gap.unit] = (gap.prefix, min(low[1], gap.first), max(low[2], gap.last))
        self._gap_seen = {k: v for k, v in self._gap_seen.items() if k in seen_now}
        asked = 0
        for unit, (prefix, first, last) in by_unit.items():
            if now - self._asked.get(unit, -1e18) < cfg.resend_retry_s:
                continue
            self._asked[unit] = now
            self._tries[(unit, first)] += 1
            body = json.dumps({"from_seq": first, "to_seq": last})
            self.client.publish(f"{prefix}/cmd/resend", body, qos=1)
            self.counters["resend_requests"] += 1
            log.info("asked %s to resend seq %s..%s", unit, first, last)
            asked += 1
        return asked

    def stats(self) -> dict[str, Any]:
        return {"counters": dict(self.counters), "queued": self._queue.qsize(),
                "partial_images_dropped": self._assembler.dropped_partials, "pid": os.getpid()}
