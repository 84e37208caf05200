"""Fictional brand marks and their counterfeit-looking variants.

Each variant changes exactly one thing a customs officer would notice (name,
colour, proportions, print quality, packaging), so a classifier trained on
these images learns that cue and not a side effect of the generator.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PACKAGINGS = ("cardboard_box", "poly_mailer", "padded_envelope")
VARIANTS = ("genuine", "misspelled", "wrong_colour", "distorted", "low_quality", "wrong_packaging")
BASE_H = 200


@dataclass(frozen=True)
class Brand:
    name: str
    colour: tuple[int, int, int]  # BGR
    emblem: str
    font: int
    packagings: tuple[str, ...]
    aspect: float  # genuine width / height of the whole mark


BRANDS: tuple[Brand, ...] = (
    Brand("NORVEX", (150, 70, 15), "hexagon", cv2.FONT_HERSHEY_DUPLEX, ("cardboard_box",), 1.9),
    Brand("KALIMBA", (0, 125, 235), "triangle", cv2.FONT_HERSHEY_TRIPLEX,
          ("poly_mailer", "padded_envelope"), 2.2),
    Brand("ZENTRO", (60, 150, 25), "diamond", cv2.FONT_HERSHEY_SIMPLEX,
          ("cardboard_box", "poly_mailer"), 1.8),
    Brand("ORBIQ", (140, 35, 125), "ring", cv2.FONT_HERSHEY_COMPLEX,
          ("padded_envelope", "cardboard_box"), 1.6),
    Brand("LUMERA", (45, 35, 200), "star", cv2.FONT_HERSHEY_DUPLEX, ("poly_mailer",), 2.0),
)
BRAND_BY_NAME = {b.name: b for b in BRANDS}


@dataclass(frozen=True)
class MarkSpec:
    """One printed mark: what is drawn, fully determined (no randomness at draw time)."""

    brand: str
    variant: str
    text: str
    colour: tuple[int, int, int]
    stretch: float = 1.0  # width multiplier against the genuine aspect
    blur: float = 0.0
    plate_offset: int = 0  # px at BASE_H between colour plates
    blotch_seed: int = -1


def _misspell(name: str, rng: np.random.Generator) -> str:
    """Swap two neighbouring letters or replace one with a look-alike."""
    chars = list(name)
    i = int(rng.integers(0, len(chars) - 1))
    if rng.random() < 0.5 and chars[i] != chars[i + 1]:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
        return "".join(chars)
    lookalike = {"O": "0", "I": "1", "E": "F", "A": "R", "N": "M", "R": "P", "V": "U", "X": "K",
                 "Z": "2", "M": "N", "L": "I", "B": "8", "Q": "O", "K": "X", "T": "I"}
    chars[i] = lookalike.get(chars[i], "Y")
    return "".join(chars)


def _other_colour(colour: tuple[int, int, int], rng: np.random.Generator) -> tuple[int, int, int]:
    """The brand's colour with hue turned by 90-270 degrees: clearly not the brand's."""
    hsv = cv2.cvtColor(np.uint8([[colour]]), cv2.COLOR_BGR2HSV)[0, 0].astype(int)
    hsv[0] = (hsv[0] + int(rng.integers(45, 136))) % 180
    bgr = cv2.cvtColor(np.uint8([[hsv]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def sample_mark(rng: np.random.Generator, variant: str, brand: Brand | None = None) -> MarkSpec:
    brand = brand or BRANDS[int(rng.integers(len(BRANDS)))]
    spec = MarkSpec(brand.name, variant, brand.name, brand.colour)
    if variant == "misspelled":
        return MarkSpec(brand.name, variant, _misspell(brand.name, rng), brand.colour)
    if variant == "wrong_colour":
        return MarkSpec(brand.name, variant, brand.name, _other_colour(brand.colour, rng))
    if variant == "distorted":
        stretch = float(rng.uniform(0.5, 0.68) if rng.random() < 0.5 else rng.uniform(1.45, 1.9))
        return MarkSpec(brand.name, variant, brand.name, brand.colour, stretch=stretch)
    if variant == "low_quality":
        return MarkSpec(brand.name, variant, brand.name, brand.colour, blur=float(rng.uniform(3.0, 6.0)),
                        plate_offset=int(rng.integers(7, 15)), blotch_seed=int(rng.integers(2**31)))
    return spec


def _emblem(alpha: np.ndarray, kind: str, size: int) -> None:
    c, r = size // 2, size // 2 - 4
    if kind == "ring":
        cv2.circle(alpha, (c, c), r, 255, -1, cv2.LINE_AA)
        cv2.circle(alpha, (c, c), r // 2, 0, -1, cv2.LINE_AA)
        cv2.circle(alpha, (c, c), r // 5, 255, -1, cv2.LINE_AA)
        return
    n, turn, inner = {"hexagon": (6, 0.0, 1.0), "triangle": (3, -np.pi / 2, 1.0),
                      "diamond": (4, 0.0, 1.0), "star": (10, -np.pi / 2, 0.45)}[kind]
    k = np.arange(n)
    radii = np.where(k % 2 == 1, r * inner, r) if inner < 1 else np.full(n, r)
    pts = np.stack([c + radii * np.cos(turn + 2 * np.pi * k / n), c + radii * np.sin(turn + 2 * np.pi * k / n)], 1)
    cv2.fillPoly(alpha, [pts.astype(np.int32)], 255, cv2.LINE_AA)
    cv2.circle(alpha, (c, c), r // 4, 0, -1, cv2.LINE_AA)


def mark_alpha(spec: MarkSpec) -> np.ndarray:
    """The mark's ink coverage at BASE_H height and genuine aspect (float32, 0..1).

    Emblem above the wordmark: a stacked mark keeps letters tall enough to read
    in a 128-224 px crop, where a one-line logo would be a thin smudge.
    """
    brand = BRAND_BY_NAME[spec.brand]
    width = int(round(BASE_H * brand.aspect))
    alpha = np.zeros((BASE_H, width), np.uint8)
    icon = int(BASE_H * 0.55)
    sub = np.zeros((icon, icon), np.uint8)
    _emblem(sub, brand.emblem, icon)
    x0 = (width - icon) // 2
    alpha[:icon, x0:x0 + icon] = sub
    room_w, room_h = width - 8, BASE_H - icon - 8
    (tw, th), _ = cv2.getTextSize(spec.text, brand.font, 1.0, 2)
    scale = min(room_w / tw, room_h / th)
    thick = max(2, int(round(scale * 2.0)))
    (tw, th), _ = cv2.getTextSize(spec.text, brand.font, scale, thick)
    org = ((width - tw) // 2, icon + 4 + (room_h + th) // 2)
    cv2.putText(alpha, spec.text, org, brand.font, scale, 255, thick, cv2.LINE_AA)
    return alpha.astype(np.float32) / 255.0


def _degrade(alpha: np.ndarray, spec: MarkSpec) -> np.ndarray:
    """Blotchy, blurred ink: what a cheap press does to a crisp mark."""
    if spec.blotch_seed >= 0:
        rng = np.random.default_rng(spec.blotch_seed)
        small = rng.random((max(2, alpha.shape[0] // 6), max(2, alpha.shape[1] // 6))).astype(np.float32)
        holes = cv2.resize(small, (alpha.shape[1], alpha.shape[0]), interpolation=cv2.INTER_CUBIC)
        alpha = alpha * np.clip((holes - 0.15) * 2.2, 0.25, 1.0)
    if spec.blur > 0:
        alpha = cv2.GaussianBlur(alpha, (0, 0), spec.blur)
    return alpha


def mark_size(spec: MarkSpec, width: int) -> tuple[int, int]:
    """Printed (w, h) for a mark whose undistorted width would be ``width``."""
    brand = BRAND_BY_NAME[spec.brand]
    height = max(8, int(round(width / brand.aspect)))
    return max(8, int(round(width * spec.stretch))), height


def draw_mark(canvas: np.ndarray, spec: MarkSpec, x: int, y: int, width: int) -> tuple[int, int, int, int]:
    """Print the mark onto ``canvas`` (BGR, in place) at (x, y); returns its box."""
    w, h = mark_size(spec, width)
    alpha = _degrade(mark_alpha(spec), spec)
    region = canvas[y:y + h, x:x + w].astype(np.float32)
    h, w = region.shape[:2]
    alpha = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_AREA)
    shift = spec.plate_offset * h / BASE_H
    for ch, colour in enumerate(spec.colour):
        a = alpha
        if shift and ch != 1:
            sign = 1 if ch == 0 else -1
            m = np.float32([[1, 0, sign * shift], [0, 1, sign * shift * 0.5]])
            a = cv2.warpAffine(alpha, m, (w, h))
        region[:, :, ch] = region[:, :, ch] * (1 - a) + colour * a
    canvas[y:y + h, x:x + w] = np.clip(region, 0, 255).astype(np.uint8)
    return x, y, w, h
