"""Parcels on a belt: sampling a parcel, drawing it once, composing a still with its truth.

Every part (label, barcodes, text blocks, mark) is tracked as a quadrilateral
through each geometric step, so the truth boxes stay exact under rotation and
perspective instead of being re-guessed from the image.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import cv2
import numpy as np

from edge.synth import label as labels
from edge.synth import marks
from edge.synth import nuisance as nz
from edge.synth import surfaces

FRAME_W, FRAME_H = 1280, 960
# The belt width a still frame shows (config/demo.yaml's field): labels and bars are to scale
# at 6.4 px per mm, and networks trained on these frames know that resolution.
FIELD_MM = 200.0
BELT_BGR = (38, 36, 34)
MAX_PARCEL = (1180, 880)
PACKAGING_COLOURS = {
    "cardboard_box": ((70, 125, 170), (60, 110, 150), (95, 150, 190)),
    "poly_mailer": ((205, 205, 205), (235, 235, 232), (150, 150, 150), (175, 95, 40), (60, 60, 185)),
    "padded_envelope": ((95, 200, 225), (200, 215, 220), (120, 175, 205)),
}


@dataclass(frozen=True)
class ParcelSpec:
    """One parcel, fully determined: rendering it twice gives the same pixels."""

    packaging: str
    width: int
    height: int
    colour: tuple[int, int, int]
    label: labels.LabelSpec
    label_angle: float
    mark: marks.MarkSpec | None
    mark_frac: float
    seed: int
    # A material from ``surfaces`` (training's wide looks); None draws the packaging's own look.
    material: surfaces.Material | None = None


@dataclass(frozen=True, eq=False)
class Sprite:
    """A drawn parcel: image, coverage mask and its parts as quads in sprite pixels."""

    image: np.ndarray
    mask: np.ndarray
    quads: dict[str, Any] = field(default_factory=dict)


def quad(box: Sequence[float]) -> np.ndarray:
    x, y, w, h = box
    return np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])


def move(q: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine or 3x3 homography to quad points."""
    m3 = m if m.shape == (3, 3) else np.vstack([m, [0, 0, 1]])
    return cv2.perspectiveTransform(q.reshape(-1, 1, 2).astype(np.float32), m3.astype(np.float32)).reshape(-1, 2)


def box_of(q: np.ndarray, width: int, height: int) -> list[int]:
    """Axis-aligned bounding box [x, y, w, h] of a quad, clipped to the frame."""
    x0, y0 = np.floor(q.min(0)).astype(int)
    x1, y1 = np.ceil(q.max(0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    return [int(x0), int(y0), int(max(0, x1 - x0)), int(max(0, y1 - y0))]


def _pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _choose_mark(rng: np.random.Generator, mark_prob: float, variant: str | None,
                 packaging: str | None) -> tuple[marks.MarkSpec | None, str]:
    """A mark (or none) and a packaging consistent with its variant.

    Only ``wrong_packaging`` puts a brand on packaging it does not ship in, so
    packaging is a cue for that variant alone.
    """
    if variant == "none" or (variant is None and rng.random() >= mark_prob):
        return None, packaging or _pick(rng, marks.PACKAGINGS)
    variant = variant or _pick(rng, marks.VARIANTS)
    wrong = variant == "wrong_packaging"
    brand = _pick(rng, [b for b in marks.BRANDS if packaging is None or (packaging in b.packagings) != wrong])
    allowed = [p for p in marks.PACKAGINGS if (p in brand.packagings) != wrong]
    return marks.sample_mark(rng, variant, brand), packaging or _pick(rng, allowed)


def sample_parcel(rng: np.random.Generator, mark_prob: float = 0.5, second_code_prob: float = 0.3,
                  packaging: str | None = None, variant: str | None = None,
                  materials: bool = False) -> ParcelSpec:
    """A random parcel big enough for its label and, beside it, its mark.

    ``packaging`` and ``variant`` (one of ``marks.VARIANTS`` or ``"none"``) fix
    those choices, for balanced training sets.  Marks are 120-220 px wide
    (10-30 % of the parcel): big enough that a misspelt letter survives a
    224 px crop, as the classifier needs.  ``materials`` draws the packaging
    from :mod:`edge.synth.surfaces` (any colour, told apart by its material)
    after every other choice, so the same ``rng`` gives the same parcel otherwise.
    """
    if packaging not in (None, *marks.PACKAGINGS) or variant not in (None, "none", *marks.VARIANTS):
        raise ValueError(f"unknown packaging {packaging!r} or mark variant {variant!r}")
    mark, kind = _choose_mark(rng, mark_prob, variant, packaging)
    label = labels.sample_label(rng, second_code_prob)
    lw, lh = labels.render_label(label).image.shape[1::-1]
    mark_px = float(rng.uniform(120, 220))
    if mark is not None:
        mark_px = min(mark_px, 300 / mark.stretch)
    need = mark_px * mark.stretch + 90 if mark else 80
    width = min(MAX_PARCEL[0], int(lw + max(need, rng.uniform(80, 420))))
    frac = mark_px / width
    height = min(MAX_PARCEL[1], int(lh + rng.uniform(90, 400)))
    colours = PACKAGING_COLOURS[kind]
    spec = ParcelSpec(packaging=kind, width=width, height=height,
                      colour=colours[int(rng.integers(len(colours)))], label=label,
                      label_angle=float(rng.uniform(-3, 3)), mark=mark, mark_frac=frac,
                      seed=int(rng.integers(2**31)))
    if not materials:
        return spec
    material = surfaces.sample_material(rng, kind)
    return replace(spec, colour=material.colour, material=material)


def _noise(rng: np.random.Generator, w: int, h: int, cell: int, amp: float) -> np.ndarray:
    small = rng.normal(0, amp, (h // cell + 2, w // cell + 2)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _box_surface(img: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    lines = np.sin(np.arange(w, dtype=np.float32) * 2 * np.pi / rng.uniform(14, 22)) * 2.5
    img += lines[None, :, None]
    tape_w = int(rng.uniform(0.12, 0.2) * h)
    y = h // 2 - tape_w // 2 + int(rng.integers(-h // 8, h // 8))
    img[y:y + tape_w] = img[y:y + tape_w] * 0.75 + np.float32([150, 175, 190]) * 0.35
    img[y:y + 3] *= 0.8
    cv2.line(img, (int(w * 0.02), h // 2), (int(w * 0.98), h // 2), (40, 70, 95), 1)


def _mailer_surface(img: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    sheen = np.exp(-(((xx - cx) / (0.35 * w)) ** 2 + ((yy - cy) / (0.25 * h)) ** 2)) * rng.uniform(25, 45)
    img += sheen[:, :, None]
    folds = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(3, 7))):
        p = rng.uniform([0, 0, 0, 0], [w, h, w, h]).astype(int)
        cv2.line(folds, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), float(rng.uniform(-30, 20)), 5)
    img += cv2.GaussianBlur(folds, (0, 0), 6)[:, :, None]
    img[: max(4, h // 20)] *= 0.9


def _envelope_surface(img: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    step = int(rng.integers(14, 20))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    bubbles = np.sin(xx * np.pi / step) * np.sin((yy + (xx // step % 2) * step / 2) * np.pi / step)
    img += (np.abs(bubbles) * 9.0)[:, :, None]
    img[:, : max(6, w // 40)] *= 0.88
    crimp = max(6, h // 40)
    for x in range(0, w, 8):
        cv2.line(img, (x, 0), (x, crimp), (0, 0, 0), 1)


def _surface(spec: ParcelSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    w, h = spec.width, spec.height
    img = np.empty((h, w, 3), np.float32)
    img[:] = spec.colour
    if spec.material is not None:
        surfaces.paint(img, spec.material, rng)  # its own grain: fibre or film
    else:
        img += _noise(rng, w, h, 3, 4.0)[:, :, None] + _noise(rng, w, h, 40, 6.0)[:, :, None]
        {"cardboard_box": _box_surface, "poly_mailer": _mailer_surface,
         "padded_envelope": _envelope_surface}[spec.packaging](img, rng)
    mask = np.full((h, w), 255, np.uint8)
    if spec.packaging == "poly_mailer":
        mask[:] = 0
        r = min(w, h) // 14
        cv2.rectangle(mask, (r, 0), (w - 1 - r, h - 1), 255, -1)
        cv2.rectangle(mask, (0, r), (w - 1, h - 1 - r), 255, -1)
        for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
            cv2.circle(mask, (cx, cy), r, 255, -1)
    shade = np.minimum(1.0, 0.82 + 0.18 * cv2.blur(mask, (25, 25)).astype(np.float32) / 255)
    return np.clip(img * shade[:, :, None], 0, 255).astype(np.uint8), mask


def _place_label(img: np.ndarray, art: labels.LabelArt, spec: ParcelSpec, rng: np.random.Generator,
                 mark_w: int) -> np.ndarray:
    """Paste the label at a small angle; returns its 2x3 label->parcel transform."""
    lh, lw = art.image.shape[:2]
    h, w = img.shape[:2]
    room_x = max(0, w - lw - mark_w - 40)
    left = rng.random() < 0.5 if mark_w else True
    x = 20 + (mark_w if mark_w and not left else 0) + rng.uniform(0, room_x)
    y = rng.uniform(20, max(21, h - lh - 20))
    m = cv2.getRotationMatrix2D((lw / 2, lh / 2), spec.label_angle, 1.0)
    m[:, 2] += (x, y)
    paper = cv2.warpAffine(art.image, m, (w, h), flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(np.full((lh, lw), 255, np.uint8), m, (w, h))
    np.copyto(img, paper, where=cover[:, :, None] > 127)
    return m


def _place_mark(img: np.ndarray, spec: ParcelSpec, label_q: np.ndarray, rng: np.random.Generator) -> list[int] | None:
    """Print the mark in the larger free strip beside the label, if there is room."""
    assert spec.mark is not None
    h, w = img.shape[:2]
    x0, x1 = label_q[:, 0].min(), label_q[:, 0].max()
    strips = [(12, x0 - 12), (x1 + 12, w - 12)]
    a, b = max(strips, key=lambda s: s[1] - s[0])
    mw, mh = marks.mark_size(spec.mark, int(spec.mark_frac * w))
    if b - a < mw:
        scale = max(0.0, (b - a) / mw)
        mw, mh = int(mw * scale), int(mh * scale)
    if mw < 24 or mh < 8 or mh > h - 24:
        return None
    x = int(a + rng.uniform(0, b - a - mw))
    y = int(rng.uniform(12, h - mh - 12))
    base = int(round(mw / spec.mark.stretch))
    return list(marks.draw_mark(img, spec.mark, x, y, base))


def render_parcel(spec: ParcelSpec) -> Sprite:
    """Draw the parcel once (surface, mark, label); the camera composites this sprite."""
    rng = np.random.default_rng(spec.seed)
    img, mask = _surface(spec, rng)
    art = labels.render_label(spec.label)
    mark_w = marks.mark_size(spec.mark, int(spec.mark_frac * spec.width))[0] + 30 if spec.mark else 0
    m = _place_label(img, art, spec, rng, mark_w)
    lh, lw = art.image.shape[:2]
    label_q = move(quad((0, 0, lw, lh)), m)
    mark_box = _place_mark(img, spec, label_q, rng) if spec.mark else None
    quads: dict[str, Any] = {
        "parcel": quad((0, 0, spec.width, spec.height)), "label": label_q,
        "barcodes": [(b["format"], b["text"], b["gs1"], move(quad(b["box"]), m)) for b in art.barcodes],
        "text": {k: move(quad(v), m) for k, v in art.text_boxes.items()},
        "mark": quad(mark_box) if mark_box else None,
    }
    return Sprite(img, mask, quads)


def transform_quads(quads: dict[str, Any], m: np.ndarray) -> dict[str, Any]:
    return {
        "parcel": move(quads["parcel"], m), "label": move(quads["label"], m),
        "barcodes": [(f, t, g, move(q, m)) for f, t, g, q in quads["barcodes"]],
        "text": {k: move(q, m) for k, q in quads["text"].items()},
        "mark": None if quads["mark"] is None else move(quads["mark"], m),
    }


def truth_of(spec: ParcelSpec, quads: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    """The JSON-able truth of a parcel whose part quads are in frame pixels."""
    what, value, currency, origin = spec.label.declared
    mark = None
    if spec.mark is not None:
        mark = {"brand": spec.mark.brand, "variant": spec.mark.variant, "text": spec.mark.text,
                "box": None if quads["mark"] is None else box_of(quads["mark"], width, height)}
    return {
        "parcel_box": box_of(quads["parcel"], width, height),
        "packaging": spec.packaging,
        "label_box": box_of(quads["label"], width, height),
        "barcodes": [{"format": f, "text": t, "gs1": g, "box": box_of(q, width, height),
                      "corners": np.round(q.astype(float), 1).tolist()} for f, t, g, q in quads["barcodes"]],
        "reference": {"kind": spec.label.kind, "value": spec.label.value},
        "text_boxes": {k: box_of(q, width, height) for k, q in quads["text"].items()},
        "mark": mark,
        "declared": {"contents": what, "value": value, "currency": currency, "origin": origin},
        "seed": spec.seed,
    }


def belt(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Dark rubber belt with streaks along the direction of travel (x)."""
    grey = _noise(rng, width, height, 4, 3.0)
    grey += rng.normal(0, 3.0, (height, 1)).astype(np.float32) + float(BELT_BGR[0])
    base = np.clip(grey, 0, 255).astype(np.uint8)
    return cv2.merge([cv2.add(base, int(c) - BELT_BGR[0]) for c in BELT_BGR])


def place_on_belt(sprite: Sprite, frame: np.ndarray, m: np.ndarray) -> None:
    """Composite a sprite into ``frame`` (in place) through the 2x3 affine ``m``."""
    h, w = frame.shape[:2]
    warped = cv2.warpAffine(sprite.image, m, (w, h), flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(sprite.mask, m, (w, h), flags=cv2.INTER_NEAREST)
    cv2.copyTo(warped, cover, frame)


def render_still(spec: ParcelSpec, rng: np.random.Generator,
                 nuisances: Sequence[str] = ()) -> tuple[np.ndarray, dict[str, Any]]:
    """One 1280x960 BGR frame of the parcel on the belt, after ``nuisances``, and its truth."""
    sprite = render_parcel(spec)
    frame = belt(rng, FRAME_W, FRAME_H)
    angle = float(rng.uniform(-4, 4))
    m = cv2.getRotationMatrix2D((spec.width / 2, spec.height / 2), angle, 1.0)
    cx = FRAME_W / 2 + rng.uniform(-1, 1) * max(0, (FRAME_W - spec.width) / 2 - 30)
    cy = FRAME_H / 2 + rng.uniform(-1, 1) * max(0, (FRAME_H - spec.height) / 2 - 30)
    m[:, 2] += (cx - spec.width / 2, cy - spec.height / 2)
    place_on_belt(sprite, frame, m)
    quads = transform_quads(sprite.quads, m)
    # A material drawn from edge.synth.surfaces is known: board and paper give no glare but
    # off the label; the scene's own looks keep the glare anywhere they were trained with.
    matte = spec.material is not None and spec.material.packaging != "poly_mailer"
    frame, h3, params = nz.apply(frame, rng, nuisances, quads["label"], matte)
    quads = transform_quads(quads, h3)
    truth = truth_of(spec, quads, FRAME_W, FRAME_H)
    truth["nuisances"] = list(nuisances)
    truth["nuisance_params"] = params
    return frame, truth
