"""Training data from the synthetic generator: parcel thumbnails (locator), mark crops (classifier).

Each parcel is rendered from ``default_rng([seed, index])``, so any sample can
be regenerated on its own and the held-out splits (other seeds) never share a
parcel with training.  Thumbnails and crops are cut with the unit's own
functions (edge.classify.crops / preprocess), so training sees what the unit sees.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.classify.crops import MarkGuess, crop_mark, cut_padded, parcel_region
from edge.classify.manifest import InputSpec
from edge.classify.preprocess import resize_to, to_tensors
from edge.records import Box
from edge.synth import marks, nuisance, scene

LABELS = ("none", "genuine", "suspect_misspelled", "suspect_colour", "suspect_distorted",
          "suspect_quality")
FLAG_LABELS = LABELS[2:]
VARIANT_LABEL = {"genuine": "genuine", "wrong_packaging": "genuine",
                 "misspelled": "suspect_misspelled", "wrong_colour": "suspect_colour",
                 "distorted": "suspect_distorted", "low_quality": "suspect_quality"}
BRANDS = tuple(b.name for b in marks.BRANDS)
PACKAGINGS = tuple(marks.PACKAGINGS)
MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
LOCATOR = InputSpec(name="parcel", height=192, width=256, colour="RGB", scale=255.0,
                    mean=MEAN, std=STD, resize="area")
CROP = InputSpec(name="mark", height=64, width=128, colour="RGB", scale=255.0,
                 mean=MEAN, std=STD, resize="area")
STRIDE = 8
MARGIN = 0.12
# What the text head reads: the wordmark's letters and the digits look-alikes use; 0 is blank.
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
NUISANCE_P = 0.25


@dataclass(frozen=True, eq=False)
class Parcel:
    """One rendered parcel and what the classifier should say about it."""

    image: np.ndarray
    truth: dict[str, Any]
    label: str
    brand: str
    variant: str
    mark: MarkGuess | None

    @property
    def text(self) -> str:
        """The wordmark as printed (misspelt on a misspelt mark); empty without a mark."""
        return str((self.truth.get("mark") or {}).get("text", "")) if self.label != "none" else ""


def encode_text(text: str) -> list[int]:
    """Letters to CTC targets (1-based: 0 is the blank)."""
    return [ALPHABET.index(ch) + 1 for ch in text if ch in ALPHABET]


def render(seed: int, index: int, mark_prob: float, materials: bool = False) -> Parcel:
    """Parcel ``index`` of the split ``seed``, with each conveyor nuisance at ``NUISANCE_P``;
    ``materials`` draws its packaging as a material in any colour (``edge.synth.surfaces``)."""
    rng = np.random.default_rng([seed, index])
    spec = scene.sample_parcel(rng, mark_prob=mark_prob, materials=materials)
    names = tuple(n for n in nuisance.NAMES if n != "clean" and rng.random() < NUISANCE_P)
    image, truth = scene.render_still(spec, rng, names)
    box = (truth.get("mark") or {}).get("box")
    if spec.mark is None or box is None or box[2] < 16 or box[3] < 8:
        return Parcel(image, truth, "none", "", "", None)
    label, variant = VARIANT_LABEL[spec.mark.variant], spec.mark.variant
    if not _inside(box, image.shape[:2]):
        # Cut by the frame edge: still a marked parcel, but its geometry is unknown.
        return Parcel(image, truth, label, spec.mark.brand, variant, None)
    aspect = marks.BRAND_BY_NAME[spec.mark.brand].aspect * spec.mark.stretch
    return Parcel(image, truth, label, spec.mark.brand, variant,
                  _true_mark(truth, spec.label_angle, aspect))


def _inside(box: list[int], hw: tuple[int, int]) -> bool:
    x, y, w, h = box
    return x > 2 and y > 2 and x + w < hw[1] - 2 and y + h < hw[0] - 2


def _true_mark(truth: dict[str, Any], label_angle: float, aspect: float) -> MarkGuess:
    """The mark's centre, own size and angle from the truth.

    The angle comes from the first barcode's corners (exact through every
    transform) less the label's own tilt on the parcel; the size from the
    axis-aligned box, the angle and the mark's known aspect.
    """
    corners = np.asarray(truth["barcodes"][0]["corners"], dtype=np.float64)
    v = corners[1] - corners[0]
    angle = math.degrees(math.atan2(v[1], v[0])) + label_angle
    c, s = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    x, y, bw, bh = truth["mark"]["box"]
    h = (bw + bh) / ((aspect + 1.0) * (c + s))
    return MarkGuess(cx=x + bw / 2, cy=y + bh / 2, w=aspect * h, h=h, angle=angle, score=1.0)


def jitter_region(p: Parcel, rng: np.random.Generator) -> Box:
    """The parcel's region as the unit would cut it from a loose or tight capture box."""
    hw = p.image.shape[:2]
    if rng.random() < 0.15:
        return parcel_region(p.image, None, LOCATOR.width / LOCATOR.height)
    x, y, w, h = p.truth["parcel_box"]
    g = rng.uniform(-0.03, 0.1, size=4)
    box = Box(int(x - g[0] * w), int(y - g[1] * h), int(w * (1 + g[0] + g[2])),
              int(h * (1 + g[1] + g[3]))).clip(hw[1], hw[0])
    return parcel_region(p.image, box, LOCATOR.width / LOCATOR.height)


def locator_sample(p: Parcel, region: Box) -> dict[str, Any]:
    """Thumbnail of ``region`` and the targets: mark centre cell, its offsets, size, angle."""
    thumb = resize_to(cut_padded(p.image, region), LOCATOR)
    out: dict[str, Any] = {"thumb": thumb, "has": 0.0, "cell": (0, 0),
                           "geom": np.zeros(6, np.float32),
                           "packaging": PACKAGINGS.index(p.truth["packaging"])}
    if p.mark is None:
        return out
    per_cell = region.w / LOCATOR.width * STRIDE
    gx, gy = (p.mark.cx - region.x) / per_cell, (p.mark.cy - region.y) / per_cell
    if not (0 <= gx < LOCATOR.width // STRIDE and 0 <= gy < LOCATOR.height // STRIDE):
        return out
    a = math.radians(p.mark.angle)
    out.update(has=1.0, cell=(int(gy), int(gx)),
               geom=np.float32([gx - int(gx), gy - int(gy), min(1.0, p.mark.w / region.w),
                                min(1.0, p.mark.h / region.w), math.cos(a), math.sin(a)]))
    return out


def mark_crops(p: Parcel, rng: np.random.Generator, count: int) -> list[np.ndarray]:
    assert p.mark is not None
    return jittered_crops(p.image, p.mark, rng, count)


def crop_label(p: Parcel, guess: MarkGuess) -> str | None:
    """What a crop at ``guess`` shows: the mark's label on a hit, ``none`` far off, else unsure."""
    if p.label == "none":
        return "none"
    if p.mark is None:
        return None
    miss = math.hypot(guess.cx - p.mark.cx, guess.cy - p.mark.cy) / p.mark.w
    if miss < 0.3:
        return p.label
    return "none" if miss > 1.0 else None


def jittered_crops(image: np.ndarray, m: MarkGuess, rng: np.random.Generator,
                   count: int) -> list[np.ndarray]:
    """Upright crops of a mark with the locator's typical errors in place, size and angle."""
    crops = []
    for _ in range(count):
        sw, sh = rng.uniform(0.88, 1.15, size=2)
        guess = MarkGuess(cx=m.cx + rng.uniform(-0.07, 0.07) * m.w,
                          cy=m.cy + rng.uniform(-0.07, 0.07) * m.h, w=m.w * sw, h=m.h * sh,
                          angle=m.angle + rng.normal(0, 5.0), score=1.0)
        crops.append(crop_mark(image, guess, MARGIN, (CROP.height, CROP.width)))
    return crops


PATCH_VARIANTS = ("genuine", "misspelled", "wrong_colour", "distorted", "low_quality")
PATCH_WEIGHTS = np.array([2.0, 3.0, 1.0, 1.0, 1.5]) / 8.5
PATCH_NUISANCES = ("motion_blur", "defocus", "low_light", "gradient", "glare", "jpeg")


def mark_patch(seed: int, index: int) -> tuple[np.ndarray, str, str, str]:
    """A mark printed on a small packaging-coloured sheet: many more marks than full scenes give.

    Misspellings are the hardest cue, so they are drawn most often; the same
    conveyor nuisances as the scenes (bar the geometric ones) are applied.
    """
    rng = np.random.default_rng([seed, index])
    brand = marks.BRANDS[int(rng.integers(len(marks.BRANDS)))]
    variant = PATCH_VARIANTS[int(rng.choice(len(PATCH_VARIANTS), p=PATCH_WEIGHTS))]
    spec = marks.sample_mark(rng, variant, brand)
    w, h = marks.mark_size(spec, int(rng.uniform(60, 240)))
    canvas = np.empty((h * 3, w * 2 + 40, 3), np.float32)
    kinds = list(scene.PACKAGING_COLOURS.values())
    options = kinds[int(rng.integers(len(kinds)))]
    canvas[:] = options[int(rng.integers(len(options)))]
    canvas += rng.normal(0, 5, canvas.shape[:2])[:, :, None].astype(np.float32)
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    x, y = int(rng.integers(10, w + 30)), int(rng.integers(10, 2 * h - 10))
    bx, by, bw, bh = marks.draw_mark(image, spec, x, y, int(round(w / spec.stretch)))
    keep = scene.quad((bx, by, bw, bh))
    for name in PATCH_NUISANCES:
        if rng.random() < NUISANCE_P:
            image = nuisance.NUISANCES[name](image, rng, keep)[0]
    mark = MarkGuess(cx=bx + bw / 2, cy=by + bh / 2, w=bw, h=bh, angle=float(rng.normal(0, 3)),
                     score=1.0)
    crop = jittered_crops(image, mark, rng, 1)[0]
    return crop, VARIANT_LABEL[variant], brand.name, spec.text


def negative_crops(p: Parcel, rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Mark-sized windows elsewhere: label text, tape, bubbles, edges, belt."""
    px, py, pw, ph = p.truth["parcel_box"]
    crops: list[np.ndarray] = []
    for _ in range(count * 4):
        w = max(24.0, pw * rng.uniform(0.08, 0.25))
        guess = MarkGuess(cx=px + rng.uniform(0, 1) * pw, cy=py + rng.uniform(0, 1) * ph, w=w,
                          h=w / rng.uniform(1.2, 2.6), angle=rng.uniform(-180, 180), score=1.0)
        if p.mark is not None and math.hypot(guess.cx - p.mark.cx, guess.cy - p.mark.cy) < \
                0.6 * (p.mark.w + guess.w):
            continue
        crops.append(crop_mark(p.image, guess, MARGIN, (CROP.height, CROP.width)))
        if len(crops) == count:
            break
    return crops


def batch_tensor(images: list[np.ndarray] | np.ndarray, spec: InputSpec) -> np.ndarray:
    """Stacked tensors through the unit's own pre-processing (images already at the input size)."""
    return to_tensors(np.asarray(images), spec)


def parcel_item(p: Any, rng: np.random.Generator, brand: int, text: str) -> dict[str, Any]:
    """A parcel's training item: thumbnail and targets, its mark crops and negative crops.

    Renders and labelled photographs both come through here, so they train alike.
    """
    item = locator_sample(p, jitter_region(p, rng))
    crops = negative_crops(p, rng, 2 if p.mark is None else 1)
    labels, brands, texts = [0] * len(crops), [-1] * len(crops), [""] * len(crops)
    if p.mark is not None:
        pos = mark_crops(p, rng, 2)
        crops += pos
        labels += [LABELS.index(p.label)] * len(pos)
        brands += [brand] * len(pos)
        texts += [text] * len(pos)
    item.update(crops=crops, crop_labels=labels, crop_brands=brands, crop_texts=texts)
    return item
