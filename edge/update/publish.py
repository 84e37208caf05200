"""The maintainer's side of delivery: a signed bundle folder onto the broker, retained.

Chunks go first and the offer last, so a unit never sees an offer whose
chunks are not there yet; everything is retained so units that are offline
now fetch it when they come back, with no server beyond the broker.  The
chunks of the offer it replaces are then cleared, so the broker holds one
bundle per update topic, not every release ever published.
"""
from __future__ import annotations

import base64
import json
import queue
import time
from pathlib import Path
from typing import Any, Iterator

from edge.update.bundle import BundleError, BundleManifest, file_path, parse_manifest
from edge.update.checks import Rejected, read_bundle_dir
from edge.update.fetch import OFFER_SCHEMA, parse_offer
from edge.update.mqtt import OFFER, chunk_topic

RETAINED_WAIT_S = 1.0


def offer_payload(bundle: Path, chunk_size: int) -> bytes:
    manifest, sigs = read_bundle_dir(bundle)
    return json.dumps({"schema": OFFER_SCHEMA, "manifest": base64.b64encode(manifest).decode(),
                       "signatures": sigs, "chunk_size": chunk_size}).encode()


def chunks(bundle: Path, topic: str, chunk_size: int) -> Iterator[tuple[str, bytes]]:
    """``(topic, bytes)`` of every chunk of every file the bundle's manifest lists."""
    manifest = parse_manifest(read_bundle_dir(bundle)[0])
    for index, entry in enumerate(manifest.files):
        data = file_path(bundle, entry).read_bytes()
        for n, start in enumerate(range(0, len(data), chunk_size)):
            yield (chunk_topic(topic, manifest.name, manifest.version, index, n),
                   data[start:start + chunk_size])


def chunk_topics(manifest: BundleManifest, topic: str, chunk_size: int) -> list[str]:
    return [chunk_topic(topic, manifest.name, manifest.version, i, n)
            for i, entry in enumerate(manifest.files) for n in range(-(-entry.size // chunk_size))]


def current_offer(client: Any, topic: str) -> tuple[BundleManifest, int] | None:
    """The offer retained on the topic now, if any and readable."""
    got: queue.Queue[bytes] = queue.Queue()
    client.message_callback_add(f"{topic}/{OFFER}", lambda c, u, m: got.put(bytes(m.payload)))
    client.subscribe(f"{topic}/{OFFER}", qos=1)
    try:
        payload = got.get(timeout=RETAINED_WAIT_S)
        manifest, _sigs, chunk = parse_offer(payload)
        return parse_manifest(manifest), max(1, chunk)
    except (queue.Empty, Rejected, BundleError):
        return None
    finally:
        client.unsubscribe(f"{topic}/{OFFER}")
        client.message_callback_remove(f"{topic}/{OFFER}")


def publish_bundle(client: Any, bundle: Path, topic: str, chunk_size: int = 64 * 1024,
                   timeout: float = 120.0) -> dict[str, Any]:
    """Publish (QoS 1, retained), wait for every PUBACK, clear the replaced bundle's chunks."""
    deadline = time.monotonic() + timeout
    replaced = current_offer(client, topic)
    sent = 0
    infos = []
    for t, data in chunks(bundle, topic, chunk_size):
        infos.append(client.publish(t, data, qos=1, retain=True))
        sent += len(data)
    infos.append(client.publish(f"{topic}/{OFFER}", offer_payload(bundle, chunk_size), qos=1,
                                retain=True))
    for info in infos:
        info.wait_for_publish(max(0.1, deadline - time.monotonic()))
    cleared = 0
    new = parse_manifest(read_bundle_dir(bundle)[0])
    if replaced and (replaced[0].name, replaced[0].version) != (new.name, new.version):
        for t in chunk_topics(replaced[0], topic, replaced[1]):
            client.publish(t, b"", qos=1, retain=True).wait_for_publish(
                max(0.1, deadline - time.monotonic()))
            cleared += 1
    return {"chunks": len(infos) - 1, "bytes": sent, "offer_topic": f"{topic}/{OFFER}",
            "cleared_chunks": cleared}
