"""Perceptual colour difference: CIELAB and CIEDE2000 (ΔE00).

ΔE00 is the CIE's recommended difference between two colours as people see
them: about 1 is just noticeable, 2-10 is "same colour, different batch", and
above about 25 the colours are plainly different (a red for a blue).  An
officer can check a "colour differs from the reference by ΔE 31" claim with
any colour tool.  Formula: Sharma, Wu & Dalal (2005).
"""
from __future__ import annotations

import math
import re

import cv2
import numpy as np

Lab = tuple[float, float, float]
HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


def hex_to_bgr(value: str) -> tuple[int, int, int]:
    if not isinstance(value, str) or not HEX.match(value):
        raise ValueError(f"colour {value!r} must be written #RRGGBB")
    r, g, b = (int(value[i:i + 2], 16) for i in (1, 3, 5))
    return b, g, r


def bgr_to_lab(bgr: tuple[float, float, float] | np.ndarray) -> Lab:
    """CIELAB (D65) of one 8-bit sRGB colour given as B, G, R."""
    px = np.float32(bgr).reshape(1, 1, 3) / 255.0
    lab = cv2.cvtColor(px, cv2.COLOR_BGR2Lab)[0, 0]
    return float(lab[0]), float(lab[1]), float(lab[2])


def hex_to_lab(value: str) -> Lab:
    return bgr_to_lab(hex_to_bgr(value))


def delta_e00(lab1: Lab, lab2: Lab) -> float:
    """CIEDE2000 difference of two CIELAB colours (kL = kC = kH = 1)."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar ** 7 / (c_bar ** 7 + 25 ** 7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dlp, dcp = l2 - l1, c2p - c1p
    dh = 0.0
    if c1p * c2p:
        dh = h2p - h1p
        dh = dh - 360 if dh > 180 else dh + 360 if dh < -180 else dh
    dhp = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    lbp, cbp = (l1 + l2) / 2, (c1p + c2p) / 2
    hbp = h1p + h2p
    if c1p * c2p:
        hbp = (h1p + h2p) / 2 if abs(h1p - h2p) <= 180 else \
            (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(hbp - 30)) + 0.24 * math.cos(math.radians(2 * hbp))
         + 0.32 * math.cos(math.radians(3 * hbp + 6)) - 0.20 * math.cos(math.radians(4 * hbp - 63)))
    d_theta = 30 * math.exp(-(((hbp - 275) / 25) ** 2))
    rc = 2 * math.sqrt(cbp ** 7 / (cbp ** 7 + 25 ** 7))
    sl = 1 + 0.015 * (lbp - 50) ** 2 / math.sqrt(20 + (lbp - 50) ** 2)
    sc, sh = 1 + 0.045 * cbp, 1 + 0.015 * cbp * t
    rt = -math.sin(math.radians(2 * d_theta)) * rc
    return math.sqrt((dlp / sl) ** 2 + (dcp / sc) ** 2 + (dhp / sh) ** 2
                     + rt * (dcp / sc) * (dhp / sh))


def colour_difference(ink: tuple[int, int, int], reference_hex: str) -> float:
    """ΔE00 between the ink and a recorded colour once the light's brightness is taken out.

    Belt lighting dims or brightens all three channels by one factor (a gain);
    the ink is scaled so its strongest channel matches the reference's (the gain
    bounded to 0.5..2.5) before comparing, so only a change of hue or
    saturation counts, which lighting does not cause.
    """
    ref = hex_to_bgr(reference_hex)
    gain = float(np.clip(max(ref) / max(1, max(ink)), 0.5, 2.5))
    seen = tuple(min(255.0, c * gain) for c in ink)
    return delta_e00(bgr_to_lab(seen), bgr_to_lab(ref))
