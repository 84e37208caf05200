"""Exam-table photos for the capture tests, drawn with OpenCV (the bench draws its own, apart).

A scene is a table top with the view's subject, optionally the scale card, and
optionally one fault a phone photo really has: motion blur, a dark room, a
reflection, the label shot from too far.
"""
from __future__ import annotations

import cv2
import numpy as np
import zxingcpp

from edge.hub.photos.scale import marker_image
from edge.identify import make_s10

REFERENCE = make_s10("RB", "12345678", "GB")
OTHER_REFERENCE = make_s10("RB", "87654321", "GB")
SIZE = (2000, 1500)
# The scale card as a phone sees it for each view when the photo is taken right.
GOOD_SCALE = {"exterior": 4.0, "product": 4.0, "mark": 10.0}


def _table(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    base = np.array([70, 105, 140], np.float32)
    grain = cv2.resize(rng.normal(0, 14, (h // 40 + 1, 8)).astype(np.float32), (w, h))
    img = base + grain[..., None] + rng.normal(0, 3, (h, w, 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def _barcode(text: str, module: int) -> np.ndarray:
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    bits = np.asarray(code.to_image(scale=1, add_quiet_zones=False))
    big = np.repeat(bits[:1], module * 18, axis=0)
    return np.repeat(big, module, axis=1)


def _label(text: str, module: int) -> np.ndarray:
    bar = _barcode(text, module)
    h, w = bar.shape[0] * 3, bar.shape[1] + 24 * module
    label = np.full((h, w, 3), 242, np.uint8)
    x, y = 12 * module, h // 3
    label[y:y + bar.shape[0], x:x + bar.shape[1]] = bar[..., None]
    scale = module * 0.35
    for i, line in enumerate(("TO: A. EXAMPLE", "1 MAIN STREET", text)):
        cv2.putText(label, line, (x, int(h * 0.1) + int(i * 14 * scale) + 10),
                    cv2.FONT_HERSHEY_SIMPLEX, scale * 0.5, (20, 20, 20), max(1, module // 3))
    cv2.putText(label, text, (x, y + bar.shape[0] + int(24 * scale)),
                cv2.FONT_HERSHEY_SIMPLEX, scale * 0.8, (20, 20, 20), max(1, module // 2))
    return label


def _paste(img: np.ndarray, part: np.ndarray, x: int, y: int) -> None:
    h, w = part.shape[:2]
    h, w = min(h, img.shape[0] - y), min(w, img.shape[1] - x)
    img[y:y + h, x:x + w] = part[:h, :w]


def _card(px_per_mm: float) -> np.ndarray:
    side = int(round(40 * px_per_mm))
    q = max(4, side // 5)
    card = np.full((side + 2 * q, side + 2 * q + int(60 * px_per_mm), 3), 238, np.uint8)
    card[q:q + side, q:q + side] = np.where(marker_image(side) > 127, 238, 20)[..., None]  # on paper
    for mm in range(0, 60, 5):
        x = q * 2 + side + int(mm * px_per_mm)
        card[q:q + int((8 if mm % 10 == 0 else 4) * px_per_mm), x:x + max(1, int(px_per_mm / 3))] = 30
    return card


def _subject(view: str, rng: np.random.Generator, w: int, h: int, module: int) -> tuple[np.ndarray, int, int]:
    if view == "label":
        return _label(REFERENCE, module), w // 10, h // 8
    box = np.zeros((int(h * 0.55), int(w * 0.5), 3), np.uint8)
    box[:] = (95, 150, 195) if view != "product" else (160, 60, 40)
    box += rng.integers(0, 12, box.shape, dtype=np.uint8)
    cv2.rectangle(box, (box.shape[1] // 2 - 40, 0), (box.shape[1] // 2 + 40, box.shape[0]), (110, 170, 205), -1)
    if view == "exterior":
        _paste(box, _label(REFERENCE, 3), 30, 30)
    else:
        for i in range(6):
            cv2.putText(box, "BRANDX" if view != "interior" else "invoice 42", (20, 60 + i * 90),
                        cv2.FONT_HERSHEY_DUPLEX, 1.6 if view != "mark" else 2.6, (20, 20, 20), 3)
    return box, int(w * 0.3), int(h * 0.2)


def scene(view: str, fault: str = "", seed: int = 0, px_per_mm: float | None = None,
          module: int = 6, size: tuple[int, int] = SIZE) -> np.ndarray:
    """A BGR photo of ``view`` with an optional ``fault`` (blur, dark, glare, far, nocard)."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = _table(rng, w, h)
    subject, x, y = _subject(view, rng, w, h, 1 if fault == "far" else module)
    _paste(img, subject, x, y)
    px_per_mm = px_per_mm or GOOD_SCALE.get(view, 4.0)
    if view in ("exterior", "product", "mark") and fault != "nocard":
        _paste(img, _card(px_per_mm), int(w * 0.03), int(h * 0.8) - int(60 * px_per_mm))
    return _fault(img, fault, rng)


def _fault(img: np.ndarray, fault: str, rng: np.random.Generator) -> np.ndarray:
    if fault == "blur":
        k = np.zeros((1, 31), np.float32)
        k[0, :] = 1 / 31
        return cv2.filter2D(img, -1, k)
    if fault == "dark":
        return np.clip(img.astype(np.float32) * 0.12 + rng.normal(0, 2, img.shape), 0, 255).astype(np.uint8)
    if fault == "glare":
        out = img.copy()
        h, w = img.shape[:2]
        cv2.ellipse(out, (w // 2, h // 2), (w // 7, h // 9), 20, 0, 360, (255, 255, 255), -1)
        return out
    return img


def jpeg(img: np.ndarray, quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()
