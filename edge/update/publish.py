"""The maintainer's side of delivery: a signed bundle folder onto the broker, retained.

Chunks go first and the offer last, so a unit never sees an offer whose
chunks are not there yet; everything is retained so units that are offline
now fetch it when they come back, with no server beyond the broker.
"""
from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any, Iterator

from edge.update.bundle import file_path, parse_manifest
from edge.update.checks import read_bundle_dir
from edge.update.manager import OFFER_SCHEMA
from edge.update.mqtt import OFFER, chunk_topic


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


def publish_bundle(client: Any, bundle: Path, topic: str, chunk_size: int = 64 * 1024,
                   timeout: float = 120.0) -> dict[str, Any]:
    """Publish (QoS 1, retained) and wait for every PUBACK; returns counts for the report."""
    deadline = time.monotonic() + timeout
    infos = [client.publish(t, data, qos=1, retain=True) for t, data in
             chunks(bundle, topic, chunk_size)]
    offer = offer_payload(bundle, chunk_size)
    for info in infos:
        info.wait_for_publish(max(0.1, deadline - time.monotonic()))
    client.publish(f"{topic}/{OFFER}", offer, qos=1, retain=True).wait_for_publish(
        max(0.1, deadline - time.monotonic()))
    return {"chunks": len(infos), "bytes": sum(len(d) for _, d in chunks(bundle, topic,
                                                                       chunk_size)),
            "offer_topic": f"{topic}/{OFFER}"}
