"""A bundle's download into ``staging/<version>/``: chunk by chunk, resumable, size-capped.

Each file of the signed manifest arrives as numbered chunks of the offer's
chunk size; a chunk is kept only if its file and index exist and its length
is exactly what the signed size implies, so no more bytes than the manifest
promised ever reach the disk.  Every chunk is its own fsync'd file, so a
disconnect or a restart resumes with the chunks already held.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from edge.durable import write_atomic
from edge.update.bundle import MANIFEST_FILE, SIGNATURES_FILE, BundleManifest
from edge.update.checks import Rejected

log = logging.getLogger(__name__)

MIN_CHUNK = 1024
MAX_CHUNK = 1 << 20
OFFER_FILE = "offer.json"
OFFER_SCHEMA = "parcel-edge/update-offer/1"
MAX_OFFER_BYTES = 512 * 1024


def parse_offer(payload: bytes) -> tuple[bytes, Any, int]:
    """Manifest bytes, signatures and chunk size from an offer message (untrusted)."""
    if len(payload) > MAX_OFFER_BYTES:
        raise Rejected("signature", f"offer over {MAX_OFFER_BYTES} bytes")
    try:
        body = json.loads(payload.decode("utf-8"))
        manifest = base64.b64decode(body["manifest"], validate=True)
        chunk = body["chunk_size"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, binascii.Error):
        raise Rejected("signature", "offer is not a parcel-edge update offer") from None
    if not isinstance(body, dict) or body.get("schema") != OFFER_SCHEMA or \
            isinstance(chunk, bool) or not isinstance(chunk, int):
        raise Rejected("signature", "offer is not a parcel-edge update offer")
    return manifest, body.get("signatures"), chunk


class Download:
    """Chunks of one bundle version; ``assemble`` turns a complete set into component files."""

    def __init__(self, staging: Path, manifest: BundleManifest, manifest_bytes: bytes,
                 signatures: Any, chunk_size: int) -> None:
        if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
            raise ValueError(f"chunk size {chunk_size} outside {MIN_CHUNK}..{MAX_CHUNK}")
        self.manifest = manifest
        self.chunk_size = chunk_size
        self.dir = staging / manifest.version
        self.chunks = self.dir / "chunks"
        self.refused = 0
        self._restart_if_changed(manifest_bytes, signatures)
        self._have = {p.name for p in self.chunks.iterdir() if not p.name.startswith(".")}

    def _restart_if_changed(self, manifest_bytes: bytes, signatures: Any) -> None:
        offer = {"manifest": manifest_bytes.decode("utf-8"), "signatures": signatures,
                 "chunk_size": self.chunk_size}
        try:
            same = json.loads((self.dir / OFFER_FILE).read_text()) == offer
        except (OSError, ValueError):
            same = False
        if not same:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.chunks.mkdir(parents=True)
            write_atomic(self.dir / OFFER_FILE, json.dumps(offer).encode())

    def count(self, index: int) -> int:
        size = self.manifest.files[index].size
        return -(-size // self.chunk_size)

    @property
    def total_chunks(self) -> int:
        return sum(self.count(i) for i in range(len(self.manifest.files)))

    @property
    def received(self) -> int:
        return len(self._have)

    @property
    def complete(self) -> bool:
        return self.received >= self.total_chunks

    def expected_length(self, index: int, chunk: int) -> int | None:
        if not 0 <= index < len(self.manifest.files) or not 0 <= chunk < self.count(index):
            return None
        size = self.manifest.files[index].size
        return min(self.chunk_size, size - chunk * self.chunk_size)

    def accept(self, index: int, chunk: int, data: bytes) -> bool:
        """Keep a chunk; False (and a count) for one not in the manifest or of the wrong length."""
        want = self.expected_length(index, chunk)
        if want is None or len(data) != want:
            self.refused += 1
            log.warning("update chunk %s/%s refused: %d bytes, expected %s", index, chunk,
                        len(data), want)
            return False
        name = f"{index}.{chunk}"
        if name not in self._have:
            write_atomic(self.chunks / name, data)
            self._have.add(name)
        return True

    def assemble(self) -> Path:
        """``staging/<v>/files/``: component files, bundle.json and signatures.json."""
        out = self.dir / "files"
        shutil.rmtree(out, ignore_errors=True)
        offer = json.loads((self.dir / OFFER_FILE).read_text())
        out.mkdir()
        (out / MANIFEST_FILE).write_bytes(offer["manifest"].encode("utf-8"))
        (out / SIGNATURES_FILE).write_text(json.dumps(offer["signatures"]))
        for index, entry in enumerate(self.manifest.files):
            target = out / entry.component / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as fh:
                for chunk in range(self.count(index)):
                    fh.write((self.chunks / f"{index}.{chunk}").read_bytes())
        return out

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
