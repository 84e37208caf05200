"""Shipping labels: real barcodes from zxing-cpp's writer, printed text from OpenCV.

The barcodes are the writer's own module matrices scaled by whole pixels, so a
decoder that fails on a clean label fails on the symbol itself, not on
resampling artefacts of the generator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from edge.synth import ids

FONT = cv2.FONT_HERSHEY_SIMPLEX
INK = (20, 20, 20)
PAD = 14
BAR_HEIGHT = 96
KINDS = ("upu_s10", "usps_impb", "ups")
KIND_WEIGHTS = (0.5, 0.25, 0.25)

FIRST = ("Anna", "Malik", "Chen", "Olga", "Pedro", "Yuki", "Fatima", "Liam", "Ines", "Tomasz", "Aisha", "Jonas")
LAST = ("Berger", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Keller", "Reyes")
STREETS = ("Harbour Rd", "Linden Str", "Rue Verte", "Maple Ave", "Via Roma", "Canal St", "Oak Lane", "Kade")
CITIES = (("Rotterdam", "NL"), ("Leeds", "GB"), ("Lyon", "FR"), ("Shenzhen", "CN"), ("Osaka", "JP"),
          ("Bremen", "DE"), ("Geneva", "CH"), ("Perth", "AU"), ("Malmo", "SE"), ("Denver", "US"))
US_CITIES = ("Denver CO", "Austin TX", "Tampa FL", "Boise ID", "Reno NV", "Albany NY")
CONTENTS = (("Books", 8, 60), ("Clothing", 15, 120), ("Phone case", 3, 25), ("Sneakers", 40, 180),
            ("Cosmetics", 10, 90), ("Wrist watch", 20, 400), ("Handbag", 30, 350), ("Toys", 5, 60),
            ("Electronic parts", 10, 250), ("Documents", 0, 5), ("Headphones", 15, 200), ("Tea", 5, 40))
HEADERS = {"upu_s10": ("R  REGISTERED", "PRIORITY / PRIORITAIRE", "EMS  EXPRESS MAIL"),
           "usps_impb": ("USPS PRIORITY MAIL INTL", "USPS GROUND ADVANTAGE"),
           "ups": ("UPS 2ND DAY AIR", "UPS WORLDWIDE SAVER", "UPS STANDARD")}


@dataclass(frozen=True)
class LabelSpec:
    """Everything printed on one label; rendering it is a pure function of this."""

    kind: str
    value: str
    content: str
    gs1: bool
    hrt: str
    header: str
    sender: tuple[str, ...]
    addressee: tuple[str, ...]
    declared: tuple[str, float, str, str]
    second: str = ""
    module_px: int = 2


@dataclass(frozen=True, eq=False)
class LabelArt:
    """A rendered label and where its parts are, in label pixels."""

    image: np.ndarray
    barcodes: tuple[dict[str, Any], ...]
    text_boxes: dict[str, tuple[int, int, int, int]]


def _pick(rng: np.random.Generator, items: tuple[Any, ...]) -> Any:
    return items[int(rng.integers(len(items)))]


def _person(rng: np.random.Generator, city: str, country: str, prefix: str) -> tuple[str, ...]:
    name = f"{prefix}{_pick(rng, FIRST)} {_pick(rng, LAST)}"
    street = f"{int(rng.integers(1, 300))} {_pick(rng, STREETS)}"
    return name, street, f"{city} {country}".strip()


def _declared(rng: np.random.Generator, origin: str) -> tuple[str, float, str, str]:
    what, low, high = _pick(rng, CONTENTS)
    return what, round(float(rng.uniform(low, high)), 2), "USD", origin


def _reference(rng: np.random.Generator, kind: str) -> tuple[str, str, bool, str, str]:
    """(value, writer content, gs1, human-readable text, addressee ZIP or '')."""
    if kind == "upu_s10":
        value = ids.make_s10(rng)
        return value, value, False, f"{value[:2]} {value[2:5]} {value[5:8]} {value[8:11]} {value[11:]}", ""
    if kind == "usps_impb":
        zip5, pic = ids.make_impb(rng)
        groups = " ".join(pic[i:i + 4] for i in range(0, len(pic), 4))
        return pic, f"(420){zip5}(92){pic[2:]}", True, f"USPS TRACKING # {groups}", zip5
    value = ids.make_ups(rng)
    hrt = f"TRACKING #: {value[:2]} {value[2:5]} {value[5:8]} {value[8:10]} {value[10:14]} {value[14:]}"
    return value, value, False, hrt, ""


def sample_label(rng: np.random.Generator, second_prob: float = 0.3) -> LabelSpec:
    kind = KINDS[int(rng.choice(len(KINDS), p=KIND_WEIGHTS))]
    value, content, gs1, hrt, zip5 = _reference(rng, kind)
    origin_city, origin = _pick(rng, CITIES)
    if zip5:
        city, country = f"{_pick(rng, US_CITIES)} {zip5}", ""
    else:
        city, country = _pick(rng, CITIES)
    second = _pick(rng, ("QRCode", "DataMatrix")) if rng.random() < second_prob else ""
    return LabelSpec(kind=kind, value=value, content=content, gs1=gs1, hrt=hrt,
                     header=_pick(rng, HEADERS[kind]),
                     sender=_person(rng, origin_city, origin, "FROM: "),
                     addressee=_person(rng, city, country, "TO: ") + (("UNITED STATES",) if zip5 else ()),
                     declared=_declared(rng, origin), second=second,
                     module_px=3 if rng.random() < 0.3 else 2)


def _symbol(content: str, fmt_name: str, gs1: bool, scale: int) -> tuple[np.ndarray, str]:
    """The writer's bitmap (no quiet zone) scaled by whole pixels, and the text a reader returns."""
    import zxingcpp

    fmt = getattr(zxingcpp.BarcodeFormat, fmt_name)
    options: dict[str, Any] = {"gs1": True} if gs1 else {}
    if fmt_name == "DataMatrix":
        options["forceSquare"] = True
    barcode = zxingcpp.create_barcode(content, fmt, **options)
    bitmap = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False))
    big = np.repeat(np.repeat(bitmap, scale, axis=0), scale, axis=1)
    if fmt_name == "Code128":
        height = int(np.clip(0.22 * big.shape[1], BAR_HEIGHT, 1.6 * BAR_HEIGHT))
        big = cv2.resize(big, (big.shape[1], height), interpolation=cv2.INTER_NEAREST)
    return big, barcode.text


def _text_block(img: np.ndarray, lines: tuple[str, ...], x: int, y: int, scale: float,
                thick: int, step: int) -> tuple[int, int, int, int]:
    """Draw lines top-down from (x, y); returns the block's bounding box."""
    width = 0
    for i, line in enumerate(lines):
        (w, h), _ = cv2.getTextSize(line, FONT, scale, thick)
        cv2.putText(img, line, (x, y + i * step + h), FONT, scale, INK, thick, cv2.LINE_AA)
        width = max(width, w)
    return x, y, width, step * len(lines)


def _layout_width(spec: LabelSpec, bar: np.ndarray, code2d: np.ndarray | None) -> int:
    text_w = max(cv2.getTextSize(s, FONT, 0.62, 2)[0][0] for s in spec.addressee)
    side = 0 if code2d is None else code2d.shape[1] + PAD
    return max(bar.shape[1], text_w + side, 360) + 2 * PAD + 2 * 10 * spec.module_px


def _paste(img: np.ndarray, symbol: np.ndarray, x: int, y: int, fmt: str, text: str, gs1: bool) -> dict[str, Any]:
    img[y:y + symbol.shape[0], x:x + symbol.shape[1]] = symbol[:, :, None]
    return {"format": fmt, "text": text, "gs1": gs1, "box": (x, y, symbol.shape[1], symbol.shape[0])}


def _print_customs(img: np.ndarray, spec: LabelSpec, y: int) -> tuple[int, int, int, int]:
    """The CN 22 block under a rule: what the sender declared, as an officer reads it."""
    cv2.line(img, (PAD, y), (img.shape[1] - PAD, y), INK, 1)
    what, value, currency, origin = spec.declared
    lines = ("CN 22  CUSTOMS DECLARATION", f"Contents: {what}  Value: {value:.2f} {currency}  Origin: {origin}")
    return _text_block(img, lines, PAD, y + 8, 0.45, 1, 19)


def render_label(spec: LabelSpec) -> LabelArt:
    """White label: header, sender, addressee (+ 2D code), main barcode, HRT, CN 22 line."""
    bar, bar_text = _symbol(spec.content, "Code128", spec.gs1, spec.module_px)
    code2d, text2d = (_symbol(spec.value, spec.second, False, 4) if spec.second else (None, ""))
    width = _layout_width(spec, bar, code2d)
    img = np.full((540, width, 3), 250, np.uint8)
    _text_block(img, (spec.header,), PAD, PAD, 0.7, 2, 26)
    cv2.line(img, (PAD, PAD + 32), (width - PAD, PAD + 32), INK, 2)
    sender = _text_block(img, spec.sender, PAD, PAD + 42, 0.45, 1, 19)
    addressee = _text_block(img, spec.addressee, PAD, PAD + 112, 0.62, 2, 26)
    bx, by = (width - bar.shape[1]) // 2, addressee[1] + addressee[3] + 18
    barcodes = [_paste(img, bar, bx, by, "Code128", bar_text, spec.gs1)]
    if code2d is not None:
        x2d = width - PAD - code2d.shape[1]
        barcodes.append(_paste(img, code2d, x2d, PAD + 42, spec.second, text2d, False))
    ref = _text_block(img, (spec.hrt,), max(PAD, bx), by + bar.shape[0] + 8, 0.5, 1, 20)
    contents = _print_customs(img, spec, ref[1] + ref[3] + 10)
    boxes = {"sender": sender, "addressee": addressee, "reference": ref, "contents": contents}
    return LabelArt(image=img[:contents[1] + contents[3] + PAD], barcodes=tuple(barcodes), text_boxes=boxes)
