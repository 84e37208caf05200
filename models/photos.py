"""Training data from a folder of labelled photographs, beside the synthetic renders.

The folder holds the pictures and one ``annotations.jsonl``, one JSON object
per line and picture::

    {"image": "0001.jpg", "packaging": "poly_mailer", "parcel_box": [40, 60, 900, 700],
     "marks": [{"box": [120, 200, 210, 90], "angle": 0, "label": "genuine",
                "brand": "LUMERA", "text": "LUMERA"}]}

``parcel_box`` is optional (the whole picture); ``marks`` may be empty (an
unbranded parcel); ``angle`` is the mark's baseline in degrees (0 upright),
``box`` its axis-aligned bounds in pixels.  Two more optional keys serve the
packaging network (``models.train_packaging``): ``label_box``, the shipping
label's paper (its patches are cut off it), and ``px_per_mm``, the picture's
resolution on the parcel (its patches are cut at the training's; a unit's own
views are its frame width over ``conveyor.field_of_view_mm``).  Each picture becomes one training
item exactly as a render does (``models.train.train_item``): the locator's
thumbnail and targets and mark and negative crops, cut with the unit's own
functions.  Errors name the file, the line and the key.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.classify.crops import MarkGuess
from edge.classify.manifest import PX_PER_MM, bounded_float
from models import dataset as ds

ANNOTATIONS = "annotations.jsonl"
KEYS = {"image", "packaging", "parcel_box", "marks", "label_box", "px_per_mm"}
MARK_KEYS = {"box", "angle", "label", "brand", "text"}


class PhotoError(ValueError):
    """An annotation that cannot be used; the message names file, line and key."""


def add_arguments(parser: argparse.ArgumentParser, repeat: int, repeat_help: str) -> None:
    """The trainers' photograph options: folders (repeatable) and how often each is used."""
    parser.add_argument("--photos", type=Path, action="append", default=[],
                        help=f"folder of labelled photographs ({ANNOTATIONS}, see "
                        "models/photos.py); repeatable")
    parser.add_argument("--photo-repeat", type=int, default=repeat, help=repeat_help)


def load_annotations(folder: Path) -> list[dict[str, Any]]:
    """Every annotation, validated; raises PhotoError at the first bad one."""
    path = Path(folder) / ANNOTATIONS
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PhotoError(f"{path}: cannot read: {exc.strerror or exc}") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            out.append(_check(path, n, line))
    if not out:
        raise PhotoError(f"{path}: no annotations")
    return out


def _check(path: Path, n: int, line: str) -> dict[str, Any]:
    where = f"{path}:{n}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise PhotoError(f"{where}: not JSON: {exc.msg}") from None
    if not isinstance(row, dict) or set(row) - KEYS or "image" not in row:
        raise PhotoError(f"{where}: keys must be among {sorted(KEYS)}, 'image' required")
    if row.get("packaging") not in ds.PACKAGINGS:
        raise PhotoError(f"{where}: packaging {row.get('packaging')!r} is not one of "
                         f"{list(ds.PACKAGINGS)}")
    for key in ("parcel_box", "label_box"):
        if key in row:
            _box(row[key], where, key)
    if row.get("px_per_mm") is not None:
        try:
            bounded_float(row["px_per_mm"], "px_per_mm", *PX_PER_MM)
        except ValueError as exc:
            raise PhotoError(f"{where}: {exc}") from None
    marks = row.get("marks", [])
    if not isinstance(marks, list):
        raise PhotoError(f"{where}: marks must be a list")
    for i, m in enumerate(marks):
        key = f"marks[{i}]"
        if not isinstance(m, dict) or set(m) - MARK_KEYS or "box" not in m:
            raise PhotoError(f"{where}: {key} keys must be among {sorted(MARK_KEYS)}, 'box' required")
        _box(m["box"], where, f"{key}.box")
        if m.get("label", "genuine") not in ds.LABELS[1:]:
            raise PhotoError(f"{where}: {key}.label {m.get('label')!r} is not one of "
                             f"{list(ds.LABELS[1:])}")
        if not isinstance(m.get("angle", 0), (int, float)):
            raise PhotoError(f"{where}: {key}.angle must be a number of degrees")
    return row


def _box(value: Any, where: str, key: str) -> None:
    if not (isinstance(value, list) and len(value) == 4
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            and value[2] > 0 and value[3] > 0):
        raise PhotoError(f"{where}: {key} must be [x, y, w, h] with w, h > 0")


def _guess(mark: dict[str, Any]) -> MarkGuess:
    """Centre, own size and angle from the axis-aligned box and the angle."""
    x, y, bw, bh = (float(v) for v in mark["box"])
    a = math.radians(float(mark.get("angle", 0)))
    c, s = abs(math.cos(a)), abs(math.sin(a))
    det = c * c - s * s
    if abs(det) < 0.2:  # near 45 degrees the box does not tell width from height
        w, h = bw / (c + s), bh / (c + s)
    else:
        w, h = (bw * c - bh * s) / det, (bh * c - bw * s) / det
    return MarkGuess(x + bw / 2, y + bh / 2, max(4.0, w), max(4.0, h), math.degrees(a), 1.0)


def photo_parcel(folder: Path, row: dict[str, Any]) -> ds.Parcel:
    """The annotated photograph as the training code's Parcel (first mark is the locator's)."""
    path = Path(folder) / str(row["image"])
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise PhotoError(f"{path}: image missing or unreadable")
    height, width = image.shape[:2]
    truth = {"parcel_box": row.get("parcel_box", [0, 0, width, height]),
             "packaging": row["packaging"]}
    marks = row.get("marks", [])
    if not marks:
        return ds.Parcel(image, truth, "none", "", "", None)
    m = marks[0]
    truth["mark"] = {"box": m["box"], "text": m.get("text", ""), "brand": m.get("brand", "")}
    return ds.Parcel(image, truth, m.get("label", "genuine"), str(m.get("brand", "")),
                     "photo", _guess(m))


def photo_item(folder: Path, row: dict[str, Any], index: int) -> dict[str, Any]:
    """One training item from a photograph, in the form ``train_item`` gives for a render."""
    p = photo_parcel(folder, row)
    rng = np.random.default_rng([7177, index])
    brand = ds.BRANDS.index(p.brand) if p.brand in ds.BRANDS else -1
    return ds.parcel_item(p, rng, brand, p.text[:12])


def photo_items(folder: Path, repeat: int = 1) -> list[dict[str, Any]]:
    """Every photograph's item, each ``repeat`` times with fresh jitter (few photos, many renders)."""
    rows = load_annotations(folder)
    return [photo_item(folder, row, k * len(rows) + i) for k in range(repeat)
            for i, row in enumerate(rows)]
