"""Images for the quality, package and print tests: synthetic parcels, real decodes, odd
files, a cheap press's ink."""
from __future__ import annotations

import struct
import zlib
from typing import Any, Sequence

import cv2
import numpy as np
import zxingcpp

from edge.records import Box, LabelReading, Symbol
from edge.synth.scene import render_still, sample_parcel

_DC_CODES = {0: "00", 1: "010", 2: "011", 3: "100", 4: "101", 5: "110", 6: "1110", 7: "11110",
             8: "111110", 9: "1111110", 10: "11111110", 11: "111111110"}


def parcel_frame(seed: int, nuisances: Sequence[str] = ()) -> tuple[np.ndarray, dict[str, Any]]:
    """A 1280x960 synthetic frame and its truth, the same for the same seed."""
    rng = np.random.default_rng(seed)
    return render_still(sample_parcel(rng), rng, tuple(nuisances))


def boxes(truth: dict[str, Any]) -> tuple[Box, Box]:
    return Box(*truth["parcel_box"]), Box(*truth["label_box"])


def reading(truth: dict[str, Any], module_px: float | None = 2.5) -> LabelReading:
    return LabelReading(symbols=(), reference=None, label_box=Box(*truth["label_box"]),
                        module_px=module_px)


def decode(image: np.ndarray) -> tuple[Symbol, ...]:
    """Every symbol zxing-cpp finds, with its corners, as the decode stage would report it."""
    out = []
    for r in zxingcpp.read_barcodes(image):
        p = r.position
        corners = tuple((q.x, q.y) for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
        out.append(Symbol(format=r.format.name, text=r.text, decoder="zxing", corners=corners))
    return tuple(out)


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def cmyk_jpeg(values: Sequence[int] = (30, 120, 200, 60)) -> bytes:
    """An 8x8 flat Adobe CMYK baseline JPEG (one DC-only block per component)."""
    bits = ""
    for v in values:
        dc = 8 * (v - 128)
        size = abs(dc).bit_length()
        magnitude = dc if dc > 0 else dc + (1 << size) - 1
        bits += _DC_CODES[size] + (format(magnitude, f"0{size}b") if size else "") + "0"
    bits += "1" * (-len(bits) % 8)
    scan = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)).replace(b"\xff", b"\xff\x00")
    dc_counts = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    return (b"\xff\xd8" + _segment(0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 0))
            + _segment(0xDB, b"\x00" + bytes([1] * 64))
            + _segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 4)
                       + b"".join(bytes([i, 0x11, 0]) for i in range(1, 5)))
            + _segment(0xC4, b"\x00" + dc_counts + bytes(range(12))
                       + b"\x10" + bytes([1] + [0] * 15) + b"\x00")
            + _segment(0xDA, bytes([4]) + b"".join(bytes([i, 0]) for i in range(1, 5)) + bytes([0, 63, 0]))
            + scan + b"\xff\xd9")


def png_claiming(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def blotched(alpha: np.ndarray, seed: int) -> np.ndarray:
    """Ink cover (0..1) as a cheap press leaves it: varying from a quarter to full in spots
    about a stroke across, run a little."""
    rng = np.random.default_rng(seed)
    h, w = alpha.shape
    spots = cv2.resize(rng.random((h // 8 + 1, w // 8 + 1)), (w, h), interpolation=cv2.INTER_CUBIC)
    cover = np.clip((spots - 0.2) * 2.5, 0.25, 1.0)
    return cv2.GaussianBlur(alpha * cover, (0, 0), 2.0)


def photographed(alpha: np.ndarray, paper: tuple[int, int, int], ink: tuple[int, int, int],
                 lens: float, band: bool = False) -> np.ndarray:
    """Ink of cover ``alpha`` (0..1) printed in ``ink`` on ``paper`` (RGB) and photographed
    (BGR): blurred by a lens of ``lens`` px and the sensor's noise; with ``band`` a strip of
    pale tape across the whole picture at rows 30-37."""
    img = np.float32(paper) * (1 - alpha[..., None]) + np.float32(ink) * alpha[..., None]
    if band:
        img[30:38, :] = (185, 160, 130)
    img = cv2.GaussianBlur(img, (0, 0), lens)
    img += np.random.default_rng(7).normal(0, 2.0, img.shape)  # the sensor
    return np.clip(img, 0, 255).astype(np.uint8)[:, :, ::-1].copy()
