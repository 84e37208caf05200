"""JPEG files that carry their own metadata, as an XMP packet in an APP1 segment.

XMP is a few hundred bytes of XML in one segment, so it is written here rather
than adding an EXIF library.  An image forwarded on its own to an importer or a
rights holder still says which unit took it, when, for which parcel and to
which standard.  ``exif:ColorSpace`` 1 declares sRGB, the standard's colour space.
"""
from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from xml.sax.saxutils import quoteattr

import cv2
import numpy as np

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
NS_PE = "https://parcel-edge.dev/ns/1.0/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_MAX_VALUE = 200


class JpegError(ValueError):
    """OpenCV refused to encode, or a segment would not fit."""


@dataclass(frozen=True)
class ImageMeta:
    """What every image states about itself; values already validated by the caller."""

    parcel_id: str
    unit: str
    time_utc: str
    reference: str
    reference_kind: str
    profile: str
    view: str
    redacted: bool


def xmp_packet(meta: ImageMeta) -> bytes:
    """The XMP packet (UTF-8 XML) for ``meta``; every value attribute-escaped and capped."""
    props = {f"pe:{k}": str(v).lower() if isinstance(v, bool) else str(v)[:_MAX_VALUE]
             for k, v in asdict(meta).items()}
    props["xmp:CreateDate"] = meta.time_utc[:_MAX_VALUE]
    props["xmp:CreatorTool"] = "parcel-edge"
    props["exif:ColorSpace"] = "1"
    attrs = "".join(f"\n   {k}={quoteattr(v)}" for k, v in props.items())
    xml = ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
           '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
           f' <rdf:RDF xmlns:rdf="{NS_RDF}">\n'
           '  <rdf:Description rdf:about=""\n'
           '   xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
           '   xmlns:exif="http://ns.adobe.com/exif/1.0/"\n'
           f'   xmlns:pe="{NS_PE}"{attrs}/>\n'
           ' </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="r"?>')
    return xml.encode("utf-8")


def _app1(payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise JpegError("XMP packet too large for one APP1 segment")
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def insert_xmp(jpeg: bytes, packet: bytes) -> bytes:
    """``jpeg`` with an XMP APP1 segment after SOI (and after the JFIF APP0, which must lead)."""
    if not jpeg.startswith(b"\xff\xd8"):
        raise JpegError("not a JPEG stream")
    pos = 2
    if jpeg[2:4] == b"\xff\xe0":
        pos += 2 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:pos] + _app1(XMP_HEADER + packet) + jpeg[pos:]


def encode_jpeg(image: np.ndarray, quality: int, meta: ImageMeta | None = None) -> bytes:
    """Baseline JPEG of a BGR uint8 image at ``quality``, with XMP when ``meta`` is given."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise JpegError("OpenCV could not encode the image as JPEG")
    data = buf.tobytes()
    return insert_xmp(data, xmp_packet(meta)) if meta is not None else data


def _find_xmp(jpeg: bytes) -> bytes | None:
    pos = 2
    while pos + 4 <= len(jpeg) and jpeg[pos] == 0xFF and jpeg[pos + 1] not in (0xDA, 0xD9):
        (length,) = struct.unpack(">H", jpeg[pos + 2:pos + 4])
        body = jpeg[pos + 4:pos + 2 + length]
        if jpeg[pos + 1] == 0xE1 and body.startswith(XMP_HEADER):
            return body[len(XMP_HEADER):]
        pos += 2 + length
    return None


def read_xmp(jpeg: bytes) -> dict[str, str]:
    """The properties of a JPEG's XMP packet by local name; empty if it has none."""
    packet = _find_xmp(jpeg)
    if packet is None:
        return {}
    try:
        root = ET.fromstring(packet.decode("utf-8"))
    except (ET.ParseError, UnicodeDecodeError):
        return {}
    desc = root.find(f".//{{{NS_RDF}}}Description")
    if desc is None:
        return {}
    return {key.rsplit("}", 1)[-1]: value for key, value in desc.attrib.items()
            if not key.startswith(f"{{{NS_RDF}}}")}
