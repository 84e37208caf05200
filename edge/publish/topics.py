"""MQTT topics built from safe parts only.

Decoded barcode text is untrusted and never reaches a topic: every part is
checked against a strict pattern here, so a '+', '#', '/' or NUL smuggled into
an id cannot widen a subscription or land in another unit's subtree.
"""
from __future__ import annotations

import re

from edge.publish.config import TOPIC_PREFIX

SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
REPLY = "reply"


def safe_part(value: str) -> str:
    """One topic level from our own identifiers; anything else is a programming error."""
    if not SAFE_PART.match(value) or ".." in value:
        raise ValueError(f"unsafe topic part {value[:40]!r}")
    return value


class Topics:
    """Every topic of one unit under its prefix (default ``parcel-edge/<unit>``)."""

    def __init__(self, prefix: str) -> None:
        if not TOPIC_PREFIX.match(prefix):
            raise ValueError(f"unsafe topic prefix {prefix[:60]!r}")
        self.prefix = prefix
        self.availability = f"{prefix}/availability"
        self.status = f"{prefix}/status"
        self.parcels = f"{prefix}/parcels"
        self.alerts = f"{prefix}/alerts"
        self.cmd_filter = f"{prefix}/cmd/+"
        self.cmd_reply = f"{prefix}/cmd/{REPLY}"

    def image(self, parcel_id: str, view: str) -> str:
        return f"{self.prefix}/images/{safe_part(parcel_id)}/{safe_part(view)}"

    def for_kind(self, kind: str, parcel_id: str = "", view: str = "") -> str:
        """The topic of an outbox item."""
        if kind == "alert":
            return self.alerts
        if kind == "record":
            return self.parcels
        if kind == "image":
            return self.image(parcel_id, view)
        raise ValueError(f"unknown item kind {kind!r}")

    def command_name(self, topic: str) -> str | None:
        """The command a ``<prefix>/cmd/<name>`` topic names, raw (the router validates it)."""
        head = f"{self.prefix}/cmd/"
        if not topic.startswith(head):
            return None
        return topic[len(head):]


def split_received(topic: str) -> tuple[str, str, str, str] | None:
    """``(prefix, kind, parcel_id, view)`` of a topic a receiver got, or None if not ours.

    kind is one of alerts, parcels, images, status, availability.  Receivers use
    this on topics from a broker they do not control, so nothing is assumed.
    """
    parts = topic.split("/")
    if len(parts) >= 4 and parts[-3] == "images":
        prefix, parcel, view = "/".join(parts[:-3]), parts[-2], parts[-1]
        if SAFE_PART.match(parcel) and SAFE_PART.match(view):
            return prefix, "images", parcel, view
        return None
    if len(parts) >= 2 and parts[-1] in ("alerts", "parcels", "status", "availability"):
        return "/".join(parts[:-1]), parts[-1], "", ""
    return None
