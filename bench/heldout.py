"""A second parcel renderer, written apart from the training one, for evaluation only.

Nothing here is shared with ``edge.synth`` drawing code: other fonts (Debian's
URW base35 OpenType faces through Pillow, never the Hershey fonts or the
DejaVu/Liberation faces training may use), other surfaces (white, kraft,
coloured and printed boxes, glossy mailers, bubble envelopes, tape), other
layouts (emblem left of or above the name, or no emblem), and decoys: red
handling print ("FRAGILE", "THIS SIDE UP") and made-up shop marks in the
watched brands' colours.  Brands are taken from their specification only
(name, colour, emblem, aspect, packaging).

Kinds: ``unbranded`` (shop-mark decoys), ``handling`` (only coloured handling
print), ``genuine``, ``wrong_packaging`` and the suspects ``misspelled``,
``wrong_colour``, ``distorted``, ``low_quality``.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from edge.synth import marks as spec

URW = Path("/usr/share/fonts/opentype/urw-base35")
FONT_FILES = ("NimbusSans-Bold", "NimbusSans-Regular", "NimbusSansNarrow-Bold", "URWGothic-Demi",
              "URWGothic-Book", "URWBookman-Demi", "URWBookman-Light", "C059-Bold", "C059-Roman",
              "P052-Bold", "P052-Roman", "NimbusRoman-Bold", "NimbusMonoPS-Bold")
# The typeface each brand's genuine mark is set in, as this renderer reads its spec.
BRAND_FONT = {"NORVEX": "NimbusSans-Bold", "KALIMBA": "URWBookman-Demi", "ZENTRO": "URWGothic-Demi",
              "ORBIQ": "C059-Bold", "LUMERA": "NimbusSans-Regular"}
KINDS = ("unbranded", "handling", "genuine", "wrong_packaging", "misspelled", "wrong_colour",
         "distorted", "low_quality")
SUSPECTS = ("misspelled", "wrong_colour", "distorted", "low_quality", "wrong_packaging")
HANDLING = ("FRAGILE", "THIS SIDE UP", "HANDLE WITH CARE", "KEEP DRY", "FRAGILE - GLASS",
            "DO NOT STACK", "PERISHABLE", "URGENT")
SYLLABLES = ("ka", "lo", "mi", "ter", "va", "no", "ro", "zen", "bel", "qui", "sa", "dor", "lux",
             "pin", "ar", "ex", "ul", "mo", "ri", "ta", "cor", "vel", "ia", "on")
LOOKALIKE = {"O": "0", "I": "1", "L": "1", "E": "3", "S": "5", "B": "8", "A": "4", "M": "RN",
             "N": "H", "U": "V", "R": "P", "Q": "O", "Z": "2", "K": "X", "X": "K", "V": "U",
             "T": "7", "C": "G", "G": "C"}
SURFACES = {"cardboard_box": ("kraft", "white_box", "coloured_box", "printed_box"),
            "poly_mailer": ("mailer",), "padded_envelope": ("bubble",)}
FRAME = (1280, 960)


@dataclass(frozen=True, eq=False)
class Rendered:
    image: np.ndarray
    truth: dict[str, Any]


@functools.lru_cache(maxsize=256)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(URW / f"{name}.otf"), size)


def fonts() -> tuple[str, ...]:
    return FONT_FILES


def _word(rng: np.random.Generator) -> str:
    return "".join(SYLLABLES[int(rng.integers(len(SYLLABLES)))] for _ in range(rng.integers(2, 4)))


def misspell(name: str, rng: np.random.Generator) -> str:
    """One or two edits a counterfeiter makes: look-alike, dropped, doubled or swapped letter."""
    text = name
    for _ in range(1 if rng.random() < 0.7 else 2):
        i = int(rng.integers(len(text)))
        how = rng.choice(["look", "drop", "double", "swap", "other"])
        if how == "look" and text[i] in LOOKALIKE:
            text = text[:i] + LOOKALIKE[text[i]] + text[i + 1:]
        elif how == "drop" and len(text) > 4:
            text = text[:i] + text[i + 1:]
        elif how == "double":
            text = text[:i] + text[i] + text[i:]
        elif how == "swap" and i + 1 < len(text) and text[i] != text[i + 1]:
            text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
        else:
            text = text[:i] + "AEIOUY"[int(rng.integers(6))] + text[i + 1:]
    return text if text != name else name[:-1] + ("A" if name[-1] != "A" else "O")


def word_image(rng: np.random.Generator, names: tuple[str, ...]) -> tuple[np.ndarray, str]:
    """A word in a random face on a coloured sheet, blurred and compressed (the OCR bench set)."""
    text = _word(rng).upper() if rng.random() < 0.6 else \
        spec.BRANDS[int(rng.integers(len(spec.BRANDS)))].name
    f = font(names[int(rng.integers(len(names)))], int(rng.integers(18, 44)))
    x0, y0, x1, y1 = f.getbbox(text)
    bg = tuple(int(v) for v in rng.integers(150, 256, 3))
    ink = tuple(int(v) for v in rng.integers(0, 120, 3))
    img = Image.new("RGB", (x1 - x0 + 24, y1 - y0 + 20), bg)
    ImageDraw.Draw(img).text((12 - x0, 10 - y0), text, fill=ink, font=f)
    out = cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.3, 1.2)))
    return _jpeg(out, int(rng.integers(40, 90))), text


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if ok else img


def _rgb(bgr: tuple[int, int, int]) -> tuple[int, int, int]:
    return int(bgr[2]), int(bgr[1]), int(bgr[0])


def _surface(kind: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """An RGB sheet of the packaging material, with its own texture."""
    base = {"kraft": rng.integers([170, 120, 70], [210, 160, 110]),
            "white_box": rng.integers([225, 225, 220], [252, 252, 250]),
            "coloured_box": np.array([(40, 80, 150), (30, 120, 60), (150, 40, 40), (30, 30, 35),
                                      (230, 200, 60)][int(rng.integers(5))]),
            "printed_box": rng.integers([190, 180, 160], [240, 235, 225]),
            "mailer": np.array([(235, 235, 238), (40, 40, 45), (230, 150, 190), (60, 110, 190),
                                (190, 192, 196), (120, 60, 150)][int(rng.integers(6))]),
            "bubble": np.array([(225, 200, 120), (245, 245, 240), (200, 170, 110)][int(rng.integers(3))]),
            }[kind].astype(np.float32)
    img = np.ones((h, w, 3), np.float32) * base
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "kraft" or kind == "printed_box":
        img += (rng.normal(0, 6, (h, w, 1)) + 4 * np.sin(xx / rng.uniform(3, 9))[..., None])
    if kind == "mailer":
        folds = sum(np.sin(xx * rng.uniform(0.005, 0.02) + yy * rng.uniform(-0.02, 0.02)
                           + rng.uniform(0, 6)) for _ in range(3))
        img += (folds * rng.uniform(6, 16))[..., None]
    if kind == "bubble":
        cell = int(rng.integers(9, 15))
        dots = ((np.hypot((xx % cell) - cell / 2, (yy % cell) - cell / 2) < cell / 3) * 10.0)
        img += cv2.GaussianBlur(dots, (0, 0), 1.5)[..., None]
    img = np.clip(img + rng.normal(0, 3, (h, w, 1)), 0, 255).astype(np.uint8)
    if kind == "printed_box":
        _print_pattern(img, rng)
    return img


def _print_pattern(img: np.ndarray, rng: np.random.Generator) -> None:
    """A shop's own box print: a repeated small word and dots in one ink."""
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    ink = tuple(int(v) for v in rng.integers(40, 160, 3))
    word, f = _word(rng).lower(), font(FONT_FILES[int(rng.integers(len(FONT_FILES)))], 14)
    for y in range(10, img.shape[0], 60):
        for x in range(10 + (y // 60 % 2) * 40, img.shape[1], 140):
            draw.text((x, y), word, fill=ink, font=f)
    img[:] = np.asarray(pil)


def _tape(sheet: Image.Image, rng: np.random.Generator) -> None:
    w, h = sheet.size
    draw = ImageDraw.Draw(sheet, "RGBA")
    band = int(rng.integers(40, 70))
    colour = [(180, 140, 90, 150), (230, 230, 230, 70), (200, 50, 40, 200)][int(rng.integers(3))]
    if rng.random() < 0.5:
        y = int(rng.integers(0, h - band))
        draw.rectangle((0, y, w, y + band), fill=colour)
    else:
        x = int(rng.integers(0, w - band))
        draw.rectangle((x, 0, x + band, h), fill=colour)


def _label(rng: np.random.Generator) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A shipping label: address lines in a plain face and bars (evaluation needs no decoding),
    and where the bars are on it (x, y, w, h): what a unit's label reader would report."""
    w, h = int(rng.integers(300, 380)), int(rng.integers(200, 260))
    img = Image.new("RGB", (w, h), (250, 250, 246))
    draw = ImageDraw.Draw(img)
    f = font("NimbusSans-Regular", 15)
    for i, line in enumerate(("TO: " + _word(rng).title() + " " + _word(rng).title(),
                              f"{rng.integers(1, 400)} " + _word(rng).title() + " St",
                              _word(rng).title() + " " + str(rng.integers(10000, 99999)))):
        draw.text((14, 12 + 20 * i), line, fill=(15, 15, 15), font=f)
    x = 14
    while x < w - 20:
        bw = int(rng.integers(1, 5))
        draw.rectangle((x, h - 110, x + bw, h - 30), fill=(10, 10, 10))
        x += bw + int(rng.integers(1, 5))
    draw.text((14, h - 24), "RR " + str(rng.integers(10**8, 10**9)) + " CN", fill=(15, 15, 15), font=f)
    return img, (14, h - 110, x - 14, 80)


def _emblem(draw: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, r: float,
            fill: tuple[int, ...], hole: tuple[int, ...]) -> None:
    if kind == "ring":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        draw.ellipse((cx - r / 2, cy - r / 2, cx + r / 2, cy + r / 2), fill=hole)
        return
    n, turn, inner = {"hexagon": (6, 0.0, 1.0), "triangle": (3, -math.pi / 2, 1.0),
                      "diamond": (4, 0.0, 1.0), "star": (10, -math.pi / 2, 0.45)}.get(
        kind, (5, -math.pi / 2, 1.0))
    pts = [(cx + (r * inner if k % 2 and inner < 1 else r) * math.cos(turn + 2 * math.pi * k / n),
            cy + (r * inner if k % 2 and inner < 1 else r) * math.sin(turn + 2 * math.pi * k / n))
           for k in range(n)]
    draw.polygon(pts, fill=fill)


def mark_layer(text: str, face: str, emblem: str | None, colour_rgb: tuple[int, int, int],
               height: int, stretch: float, rng: np.random.Generator) -> Image.Image:
    """The mark as an RGBA picture: emblem above or left of the name (or none), then stretched."""
    f = font(face, height)
    x0, y0, x1, y1 = f.getbbox(text)
    tw, th = x1 - x0, y1 - y0
    left = emblem is not None and rng.random() < 0.4
    ew = int(th * 1.6) if emblem else 0
    w = tw + (ew + 10 if left else 0) + 12
    h = th + (0 if left or not emblem else ew + 6) + 12
    w = max(w, ew + 12)
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    ink = (*colour_rgb, 255)
    if emblem and left:
        _emblem(draw, emblem, 6 + ew / 2, h / 2, ew / 2, ink, (0, 0, 0, 0))
        draw.text((ew + 16 - x0, 6 - y0 + (h - 12 - th) / 2), text, fill=ink, font=f)
    else:
        if emblem:
            _emblem(draw, emblem, w / 2, 6 + ew / 2, ew / 2, ink, (0, 0, 0, 0))
        draw.text(((w - tw) / 2 - x0, h - 6 - th - y0), text, fill=ink, font=f)
    if abs(stretch - 1.0) > 1e-3:
        layer = layer.resize((max(8, int(w * stretch)), h), Image.BICUBIC)
    return layer


def _degrade(layer: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A cheap press: ink blurred, blotchy and its plates out of register."""
    arr = np.asarray(layer).astype(np.float32)
    alpha = arr[..., 3]
    holes = cv2.resize(rng.random((max(2, alpha.shape[0] // 5), max(2, alpha.shape[1] // 5))),
                       alpha.shape[::-1], interpolation=cv2.INTER_CUBIC)
    alpha = alpha * np.clip((holes - 0.1) * 2.5, 0.2, 1.0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), float(rng.uniform(1.6, 3.2)))
    shift = int(rng.integers(3, 7))
    ghost = np.roll(alpha, (shift, shift), (0, 1)) * 0.6
    arr[..., 3] = np.clip(np.maximum(alpha, ghost), 0, 255)
    return Image.fromarray(arr.astype(np.uint8), "RGBA")


def _other_colour(bgr: tuple[int, int, int], rng: np.random.Generator) -> tuple[int, int, int]:
    hsv = cv2.cvtColor(np.uint8([[bgr]]), cv2.COLOR_BGR2HSV)[0, 0].astype(int)
    hsv[0] = (hsv[0] + int(rng.integers(40, 140))) % 180
    hsv[2] = min(230, hsv[2] + int(rng.integers(-30, 30)))
    out = cv2.cvtColor(np.uint8([[hsv]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(out[0]), int(out[1]), int(out[2])


def _brand_mark(kind: str, brand: spec.Brand, rng: np.random.Generator,
                height: int) -> Image.Image:
    face = BRAND_FONT[brand.name]
    text, colour, stretch = brand.name, brand.colour, 1.0
    if kind == "misspelled":
        text = misspell(brand.name, rng)
    elif kind == "wrong_colour":
        colour = _other_colour(brand.colour, rng)
    elif kind == "distorted":
        stretch = float(rng.uniform(0.5, 0.66) if rng.random() < 0.5 else rng.uniform(1.5, 1.9))
    layer = mark_layer(text, face, brand.emblem, _rgb(colour), height, stretch, rng)
    return _degrade(layer, rng) if kind == "low_quality" else layer


def recorded_reference(brand: spec.Brand, height: int = 72) -> np.ndarray:
    """The brand's genuine mark as this renderer draws it, on white (BGR): what a site would
    record in its catalogue from the rights holder's own artwork for this world's marks."""
    # mark_layer draws once for the emblem's place: this seed's first draw (0.51, not under
    # 0.4) puts it above the name, as the demo catalogue's references show it
    rng = np.random.default_rng(1)
    layer = mark_layer(brand.name, BRAND_FONT[brand.name], brand.emblem, _rgb(brand.colour),
                       height, 1.0, rng)
    sheet = Image.new("RGBA", (layer.size[0] + 32, layer.size[1] + 32), (255, 255, 255, 255))
    sheet.alpha_composite(layer, (16, 16))
    return cv2.cvtColor(np.asarray(sheet.convert("RGB")), cv2.COLOR_RGB2BGR)


def _decoy(kind: str, rng: np.random.Generator, height: int) -> Image.Image:
    face = FONT_FILES[int(rng.integers(len(FONT_FILES)))]
    if kind == "handling":
        reds = ((200, 30, 30), (220, 40, 50), (180, 20, 20), (230, 90, 20), (30, 60, 170))
        return mark_layer(HANDLING[int(rng.integers(len(HANDLING)))], face, None,
                          reds[int(rng.integers(len(reds)))], height, 1.0, rng)
    colour = _rgb(spec.BRANDS[int(rng.integers(len(spec.BRANDS)))].colour)
    emblem = [None, "hexagon", "triangle", "diamond", "ring", "star", "pentagon"][
        int(rng.integers(7))]
    return mark_layer(_word(rng).upper(), face, emblem, colour, height, 1.0, rng)


def _paste(sheet: Image.Image, layer: Image.Image, taken: list[tuple[int, int, int, int]],
           rng: np.random.Generator) -> tuple[int, int, int, int] | None:
    w, h = sheet.size
    lw, lh = layer.size
    for _ in range(40):
        if lw >= w - 10 or lh >= h - 10:
            return None
        x, y = int(rng.integers(5, w - lw - 5)), int(rng.integers(5, h - lh - 5))
        if all(x + lw < a or a + c < x or y + lh < b or b + d < y for a, b, c, d in taken):
            sheet.alpha_composite(layer, (x, y))
            taken.append((x, y, lw, lh))
            return x, y, lw, lh
    return None


def _choose(kind: str, rng: np.random.Generator) -> tuple[spec.Brand | None, str]:
    if kind in ("unbranded", "handling"):
        pack = ("cardboard_box", "poly_mailer", "padded_envelope")[int(rng.integers(3))]
        return None, pack
    brand = spec.BRANDS[int(rng.integers(len(spec.BRANDS)))]
    if kind == "wrong_packaging":
        others = [p for p in spec.PACKAGINGS if p not in brand.packagings]
        return brand, others[int(rng.integers(len(others)))]
    return brand, brand.packagings[int(rng.integers(len(brand.packagings)))]


def render(seed: int, index: int, kind: str | None = None) -> Rendered:
    """Parcel ``index`` of split ``seed``; ``kind`` fixed or drawn evenly from KINDS."""
    rng = np.random.default_rng([seed, index, 4242])
    kind = kind or KINDS[int(rng.integers(len(KINDS)))]
    brand, packaging = _choose(kind, rng)
    surface = SURFACES[packaging][int(rng.integers(len(SURFACES[packaging])))]
    pw, ph = int(rng.integers(560, 900)), int(rng.integers(420, 680))
    sheet = Image.fromarray(_surface(surface, pw, ph, rng)).convert("RGBA")
    taken: list[tuple[int, int, int, int]] = []
    label, bars = _label(rng)
    at = _paste(sheet, label.convert("RGBA"), taken, rng)
    codes = None if at is None else (at[0] + bars[0], at[1] + bars[1], bars[2], bars[3])
    height = int(rng.integers(28, 52))
    mark_box = None
    if brand is not None:
        mark_box = _paste(sheet, _brand_mark(kind, brand, rng, height), taken, rng)
    if kind == "handling" or rng.random() < 0.3:
        _paste(sheet, _decoy("handling", rng, int(rng.integers(22, 44))), taken, rng)
    if kind == "unbranded" or rng.random() < 0.2:
        _paste(sheet, _decoy("shop", rng, int(rng.integers(26, 48))), taken, rng)
    if rng.random() < 0.4:
        _tape(sheet, rng)
    image, parcel_box, boxes = _on_belt(sheet, (mark_box, codes), rng)
    image = _camera(image, rng)
    truth = {"kind": kind, "brand": brand.name if brand else "", "packaging": packaging,
             "surface": surface, "parcel_box": parcel_box, "mark_box": boxes[0],
             "codes_box": boxes[1]}
    return Rendered(image, truth)


def _on_belt(sheet: Image.Image, parts: tuple[tuple[int, int, int, int] | None, ...],
             rng: np.random.Generator) -> tuple[np.ndarray, list[int], list[list[int] | None]]:
    fw, fh = FRAME
    belt = np.full((fh, fw, 3), rng.integers(50, 80), np.float32)
    belt[:, :, 1] += 8
    belt += (np.sin(np.arange(fh) / 3.0)[:, None, None] * 5)
    art = cv2.cvtColor(np.asarray(sheet.convert("RGB")), cv2.COLOR_RGB2BGR)
    pw, ph = sheet.size
    scale = min(1.0, 0.95 * min(fw, fh) / math.hypot(pw, ph)) if rng.random() < 0.5 else \
        min(1.0, 0.9 * fw / pw, 0.9 * fh / ph)
    angle = float(rng.uniform(-180, 180)) if scale < 1.0 or rng.random() < 0.5 else \
        float(rng.uniform(-12, 12))
    m = cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, scale)
    m[:, 2] += (fw / 2 - pw / 2 + rng.uniform(-60, 60), fh / 2 - ph / 2 + rng.uniform(-40, 40))
    warped = cv2.warpAffine(art, m, (fw, fh), flags=cv2.INTER_AREA)
    cover = cv2.warpAffine(np.ones((ph, pw), np.float32), m, (fw, fh))[..., None]
    out = belt * (1 - cover) + warped.astype(np.float32) * cover
    return np.clip(out, 0, 255).astype(np.uint8), _bounds(m, (0, 0, pw, ph)), \
        [_bounds(m, part) if part else None for part in parts]


def _bounds(m: np.ndarray, box: tuple[int, int, int, int]) -> list[int]:
    x, y, w, h = box
    pts = np.float32([[x, y, 1], [x + w, y, 1], [x + w, y + h, 1], [x, y + h, 1]]) @ m.T
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def _camera(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light falling off across the belt, a little defocus, sensor noise and JPEG."""
    h, w = img.shape[:2]
    out = img.astype(np.float32)
    ramp = np.linspace(rng.uniform(0.8, 1.0), rng.uniform(0.9, 1.1), w, dtype=np.float32)
    out *= ramp[None, :, None] * rng.uniform(0.85, 1.1)
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.4, 1.1)))
    out += rng.normal(0, 2.5, out.shape).astype(np.float32)
    return _jpeg(np.clip(out, 0, 255).astype(np.uint8), int(rng.integers(60, 92)))
