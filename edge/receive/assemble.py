"""Images as a receiver gets them: whole or in chunks, verified by SHA-256 before use.

Everything here comes off a broker the receiver does not control: properties
may be missing or lie, chunks may repeat or arrive out of order, a sender may
die half-way.  An image is returned only when its bytes hash to the SHA-256
its sender announced; partial images are bounded in number and age.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from edge.publish import wire
from edge.publish.topics import SAFE_PART, split_received

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MAX_CHUNKS = 100_000
MAX_IMAGE_BYTES = 64 * 1024 * 1024


class ImageError(ValueError):
    """An image message that cannot be used (bad properties, digest mismatch)."""


@dataclass(frozen=True)
class Image:
    """One complete, verified image."""

    prefix: str
    parcel: str
    view: str
    id: str
    seq: int
    sha256: str
    content_type: str
    data: bytes


@dataclass
class _Partial:
    count: int
    total: int
    started: float
    parts: dict[int, bytes] = field(default_factory=dict)


def _header(topic: str, props: Any) -> tuple[str, str, str, dict[str, str]]:
    where = split_received(topic)
    if where is None or where[1] != "images":
        raise ImageError("not an image topic")
    user = wire.user_properties(props)
    for key in (wire.MSG_ID, wire.SHA256):
        if key not in user:
            raise ImageError(f"missing user property {key!r}")
    if not SHA256_HEX.match(user[wire.SHA256]) or not SAFE_PART.match(user[wire.MSG_ID]):
        raise ImageError("malformed id or sha256 property")
    return where[0], where[2], where[3], user


def _seq(user: dict[str, str]) -> int:
    try:
        return int(user.get(wire.SEQ, "-1"))
    except ValueError:
        return -1


def _chunk(user: dict[str, str]) -> tuple[int, int, int]:
    try:
        index_s, count_s = user[wire.CHUNK].split("/", 1)
        index, count, total = int(index_s), int(count_s), int(user.get(wire.TOTAL_BYTES, "-1"))
    except (ValueError, KeyError):
        raise ImageError("malformed chunk header") from None
    if not (0 <= index < count <= MAX_CHUNKS and 0 < total <= MAX_IMAGE_BYTES):
        raise ImageError("chunk header out of range")
    return index, count, total


class Assembler:
    """Feed every image message to ``add``; it returns each image once it is whole and verified."""

    def __init__(self, max_partial: int = 64, max_age_s: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._partials: OrderedDict[tuple[str, str, str], _Partial] = OrderedDict()
        self._max_partial = max_partial
        self._max_age = max_age_s
        self._clock = clock
        self.dropped_partials = 0

    def add(self, topic: str, payload: bytes, props: Any) -> Image | None:
        """The verified image, None while chunks are missing; ImageError for bad messages."""
        prefix, parcel, view, user = _header(topic, props)
        content_type = str(getattr(props, "ContentType", "") or user.get(wire.CONTENT_TYPE, ""))
        if wire.CHUNK not in user:
            return self._verified(prefix, parcel, view, user, content_type, payload)
        index, count, total = _chunk(user)
        chunk_sha = user.get(wire.CHUNK_SHA256)
        if chunk_sha is not None and hashlib.sha256(payload).hexdigest() != chunk_sha:
            raise ImageError(f"chunk {index}/{count} of {user[wire.MSG_ID]} fails its SHA-256")
        key = (prefix, user[wire.MSG_ID], user[wire.SHA256])
        partial = self._partial(key, count, total)
        partial.parts.setdefault(index, bytes(payload))
        if len(partial.parts) < partial.count:
            return None
        del self._partials[key]
        data = b"".join(partial.parts[i] for i in range(partial.count))
        return self._verified(prefix, parcel, view, user, content_type, data)

    def _partial(self, key: tuple[str, str, str], count: int, total: int) -> _Partial:
        self._expire()
        partial = self._partials.get(key)
        if partial is None or partial.count != count or partial.total != total:
            partial = _Partial(count, total, self._clock())
            self._partials[key] = partial
            while len(self._partials) > self._max_partial:
                self._partials.popitem(last=False)
                self.dropped_partials += 1
        return partial

    def _expire(self) -> None:
        limit = self._clock() - self._max_age
        for key in [k for k, p in self._partials.items() if p.started < limit]:
            del self._partials[key]
            self.dropped_partials += 1

    @staticmethod
    def _verified(prefix: str, parcel: str, view: str, user: dict[str, str],
                  content_type: str, data: bytes) -> Image:
        if hashlib.sha256(data).hexdigest() != user[wire.SHA256]:
            raise ImageError(f"image {user[wire.MSG_ID]} fails its SHA-256")
        return Image(prefix, parcel, view, user[wire.MSG_ID], _seq(user), user[wire.SHA256],
                     content_type, bytes(data))
