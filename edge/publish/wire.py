"""What travels beside a payload: MQTT 5 properties and the chunk header.

Shared by the publisher and the receivers so both sides agree on names.  An
image larger than the broker's Maximum Packet Size goes as ordered chunks; each
chunk carries in its user properties the whole image's id, size and SHA-256,
its own index and offset, so a receiver can reassemble in any arrival order
and verify the result.
"""
from __future__ import annotations

from typing import Mapping

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

CONTENT_TYPE = "content-type"
SHA256 = "sha256"
MSG_ID = "id"
PARCEL = "parcel"
SEQ = "seq"
VIEW = "view"
KIND = "kind"
TOTAL_BYTES = "bytes"
CHUNK = "chunk"          # "<index>/<count>", index from 0
OFFSET = "offset"
CHUNK_SHA256 = "chunk-sha256"
MISSING = "missing"      # views of a record whose images were evicted unsent

# File name extensions receivers and the spool use for the image content types we send.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

# Fixed header, packet id, property length and slack: kept free in every chunk.
PACKET_SLACK = 64


def publish_properties(user: Mapping[str, str], content_type: str = "") -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    if content_type:
        props.ContentType = content_type
    props.UserProperty = [(k, str(v)) for k, v in user.items()]
    return props


def user_properties(props: Properties | None) -> dict[str, str]:
    """User properties of a received message as a dict (the first value of a repeated key)."""
    out: dict[str, str] = {}
    for key, value in getattr(props, "UserProperty", None) or []:
        out.setdefault(str(key), str(value))
    return out


def packet_overhead(topic: str, props: Properties) -> int:
    """Bytes of a PUBLISH packet that are not payload, with slack for varint growth."""
    return len(topic.encode()) + 2 + len(props.pack()) + PACKET_SLACK


def chunk_payload_size(max_packet: int, topic: str, user: Mapping[str, str],
                       content_type: str) -> int:
    """The largest chunk that still fits the broker's limit with the longest chunk header."""
    widest = dict(user)
    total = int(user.get(TOTAL_BYTES, "0") or 0)
    widest[CHUNK] = f"{total}/{total}"
    widest[OFFSET] = str(total)
    widest[CHUNK_SHA256] = "0" * 64
    size = max_packet - packet_overhead(topic, publish_properties(widest, content_type))
    if size < 256:
        raise ValueError(f"broker packet limit {max_packet} leaves no room for image chunks")
    return size
