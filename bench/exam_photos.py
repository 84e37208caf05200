"""Phone photos of an exam table for bench_capture, drawn apart from the capture checks' tuning.

Written separately from the tests' OpenCV scenes (tests/hub/capture/capture_scenes.py) that
the capture thresholds were set on: Pillow drawing with TrueType fonts, a steel or paper
table, objects at a slant, the scale card rotated, and a phone's pipeline (vignetting,
shot noise, the phone's own sharpening, JPEG at 85-93, sometimes portrait with an EXIF
orientation tag).  Faults are what happens to a hand-held phone: shake or missed focus,
a dim room at high ISO, a lamp's reflection, a subject too far away.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from edge.hub.photos.scale import MARKER_MM, marker_image
from edge.identify import make_s10

W, H = 4032, 3024  # a 12 MP phone sensor, landscape
FONTS = ("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf")
BRANDS = ("LUXORA", "Vantelle", "KORVEX", "Maison Ardent", "ZEPHYRA")


@dataclass(frozen=True)
class ExamPhoto:
    """One phone photo: the JPEG bytes, its view, the fault drawn ("" for a good photo)."""

    view: str
    fault: str
    data: bytes
    reference: str


def _font(rng: np.random.Generator, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONTS[int(rng.integers(len(FONTS)))], max(8, int(size)))


def _table(rng: np.random.Generator) -> Image.Image:
    if rng.random() < 0.5:  # brushed steel
        base = float(rng.uniform(120, 165))
        grey = cv2.resize(rng.normal(base, 6, (H, 64)).astype(np.float32), (W, H))
        grey += np.linspace(-15, 15, W, dtype=np.float32)[None, :]
        tone = (0.97, 1.0, 1.03)
    else:  # kraft paper on the bench
        grey = cv2.resize(rng.normal(0, 9, (30, 40)).astype(np.float32), (W, H))
        level = float(rng.uniform(0.75, 1.0))
        grey += 170 * level
        tone = (196 / 170, 1.0, 130 / 170)
    rgb = cv2.merge([np.clip(grey * t, 0, 255).astype(np.uint8) for t in tone])
    return Image.fromarray(rgb)


def _barcode(text: str, module: float) -> Image.Image:
    bits = np.asarray(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
                      .to_image(scale=1, add_quiet_zones=False))[:1]
    width = max(1, int(round(bits.shape[1] * module)))
    row = cv2.resize(bits, (width, 1), interpolation=cv2.INTER_AREA)
    return Image.fromarray(np.repeat(row, max(8, int(module * 40)), axis=0)).convert("RGB")


def _label(rng: np.random.Generator, reference: str, module: float) -> Image.Image:
    code = _barcode(reference, module)
    w, h = code.width + int(30 * module), int(code.height * 3.2)
    label = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(236, 252, 3)))
    draw = ImageDraw.Draw(label)
    f = _font(rng, 5.5 * module)
    lines = ("FROM: Shenzhen Export Co", "TO: J. Doe, 42 Elm Road", "Springfield IL 62704",
             "CN 22  gift  USD 18.00")
    for i, line in enumerate(lines):
        draw.text((int(15 * module), int(6 * module) + i * int(7 * module)), line, fill=(25, 25, 30), font=f)
    y = h - code.height - int(14 * module)
    label.paste(code, (int(15 * module), y))
    draw.text((int(15 * module), y + code.height + int(2 * module)), reference, fill=(20, 20, 20),
              font=_font(rng, 7 * module))
    return label


def _card(rng: np.random.Generator, px_per_mm: float) -> Image.Image:
    side = int(round(MARKER_MM * px_per_mm))
    pad = int(8 * px_per_mm)
    card = Image.new("RGB", (side + 2 * pad + int(105 * px_per_mm), side + 2 * pad), (246, 246, 242))
    printed = np.where(marker_image(side) > 127, 242, 18).astype(np.uint8)  # ink on paper
    card.paste(Image.fromarray(printed).convert("RGB"), (pad, pad))
    draw = ImageDraw.Draw(card)
    x0, y0 = side + 2 * pad, pad + side
    for mm in range(101):
        tall = (8 if mm % 10 == 0 else 5 if mm % 5 == 0 else 3) * px_per_mm
        x = x0 + mm * px_per_mm
        draw.line([(x, y0), (x, y0 - tall)], fill=(10, 10, 10), width=max(1, int(px_per_mm / 4)))
    return card


Box = tuple[int, int, int, int]


def _place(canvas: Image.Image, part: Image.Image, x: int, y: int, angle: float = 0.0) -> Box:
    rgba = part.convert("RGBA").rotate(angle, expand=True, resample=Image.BICUBIC)
    canvas.paste(rgba, (x, y), rgba)
    return x, y, min(rgba.width, W - x), min(rgba.height, H - y)


def _box(rng: np.random.Generator, w: int, h: int, colour: tuple[int, int, int]) -> Image.Image:
    img = Image.new("RGB", (w, h), colour)
    arr = np.asarray(img).astype(np.float32)
    arr += cv2.resize(rng.normal(0, 7, (h // 50 + 2, w // 50 + 2)).astype(np.float32), (w, h))[..., None]
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    tape = int(w * 0.12)
    draw.rectangle([w // 2 - tape // 2, 0, w // 2 + tape // 2, h], fill=(210, 190, 150))
    return img


def _brand(rng: np.random.Generator, width: int) -> Image.Image:
    """A product face or a mark: the brand's name and a ring, ``width`` px wide."""
    name = BRANDS[int(rng.integers(len(BRANDS)))]
    size = max(12, int(width / (0.62 * len(name) + 1.5)))
    f = _font(rng, size)
    left, top, right, bottom = f.getbbox(name)
    img = Image.new("RGB", (right + size, bottom + size), tuple(int(v) for v in rng.integers(170, 250, 3)))
    draw = ImageDraw.Draw(img)
    r = size // 3
    draw.ellipse([size // 4, size // 2 - r, size // 4 + 2 * r, size // 2 + r], outline=(120, 20, 20), width=max(2, size // 20))
    draw.text((size // 2, size // 4), name, fill=tuple(int(v) for v in rng.integers(10, 90, 3)), font=f)
    return img


def _scene(view: str, fault: str, rng: np.random.Generator, reference: str) -> tuple[Image.Image, Box]:
    canvas = _table(rng)
    far = fault == "far"
    if view == "label":
        module = rng.uniform(0.9, 1.6) if far else rng.uniform(4.0, 8.0)
        box = _place(canvas, _label(rng, reference, module), int(W * rng.uniform(0.05, 0.2)),
                     int(H * rng.uniform(0.08, 0.25)), float(rng.uniform(-4, 4)))
        return canvas, box
    scale = {"exterior": rng.uniform(2.0, 4.0), "product": rng.uniform(4.5, 8.0),
             "mark": rng.uniform(10.0, 18.0), "interior": rng.uniform(2.5, 4.0)}[view]
    if far:
        scale = {"exterior": rng.uniform(0.5, 0.8), "product": rng.uniform(1.5, 2.5),
                 "mark": rng.uniform(3.0, 6.0), "interior": 1.0}[view]
    if view in ("exterior", "interior"):
        bw, bh = int(rng.uniform(250, 380) * scale), int(rng.uniform(180, 260) * scale)
        bw, bh = min(bw, int(W * 0.6)), min(bh, int(H * 0.65))
        part = _box(rng, bw, bh, (int(rng.integers(150, 200)), int(rng.integers(110, 150)), 80))
        if view == "exterior":
            part.paste(_label(rng, reference, max(1.0, scale * 0.33 / 1.0 * 2.2)), (bw // 12, bh // 10))
        else:
            draw = ImageDraw.Draw(part)
            for _ in range(40):
                cx, cy = rng.integers(0, bw), rng.integers(0, bh)
                rr = int(rng.uniform(0.03, 0.09) * bw)
                g = int(rng.integers(200, 245))
                draw.ellipse([cx - rr, cy - rr, cx + rr, cy + int(rr * 0.7)], fill=(g, g, g - 10), outline=(150, 150, 150))
        box = _place(canvas, part, int(W * 0.3), int(H * 0.12), float(rng.uniform(-6, 6)))
    else:
        mm = rng.uniform(50, 90) if view == "mark" else rng.uniform(120, 200)
        part = _brand(rng, min(int(W * 0.55), int(mm * scale)))
        box = _place(canvas, part, int(W * 0.35), int(H * 0.15), float(rng.uniform(-5, 5)))
    if view != "interior":
        _place(canvas, _card(rng, scale), int(W * 0.03), int(H * 0.55))
    return canvas, box


def _phone(img: Image.Image, subject: Box, fault: str, rng: np.random.Generator) -> np.ndarray:
    arr = np.asarray(img).astype(np.float32)
    yy, xx = np.mgrid[0:H:8, 0:W:8].astype(np.float32)
    if fault == "glare":  # a lamp's reflection on the subject
        x, y, w, h = subject
        cx, cy = x + w * rng.uniform(0.3, 0.7), y + h * rng.uniform(0.3, 0.7)
        rx, ry = w * rng.uniform(0.2, 0.35), h * rng.uniform(0.2, 0.35)
        d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
        arr += cv2.resize(np.clip(1.6 - d, 0, 1) * 255, (W, H))[..., None]
    if fault == "blur":
        if rng.random() < 0.5:
            length = int(rng.uniform(18, 45))
            k = np.zeros((length, length), np.float32)
            k[length // 2, :] = 1
            k = cv2.warpAffine(k, cv2.getRotationMatrix2D((length / 2, length / 2), float(rng.uniform(0, 180)), 1), (length, length))
            arr = cv2.filter2D(arr, -1, k / max(k.sum(), 1e-6))
        else:
            arr = cv2.GaussianBlur(arr, (0, 0), float(rng.uniform(5, 12)))
    # The phone's auto-exposure keeps white paper just below clipping; a dim room defeats it.
    gain = rng.uniform(0.06, 0.16) if fault == "dark" else rng.uniform(0.85, 1.0)
    shade = 1 - 0.25 * (((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2) / 2
    shade = cv2.resize((shade * gain).astype(np.float32), (W, H))
    arr = cv2.multiply(arr, cv2.merge([shade, shade, shade]))
    # Shot noise grows with the signal; a dim room means high ISO, i.e. more read noise.
    sigma = cv2.sqrt(cv2.max(arr, 0.0)) * 0.25 + (6.0 if fault == "dark" else 2.0)
    noise = np.empty_like(arr)
    cv2.setRNGSeed(int(rng.integers(1 << 30)))
    cv2.randn(noise, 0.0, 1.0)
    arr = cv2.add(arr, cv2.multiply(noise, sigma))
    np.clip(arr, 0, 255, out=arr)
    arr = arr.astype(np.uint8)
    soft = cv2.GaussianBlur(arr, (0, 0), 1.0)
    return cv2.addWeighted(arr, 1.4, soft, -0.4, 0)  # the phone's own sharpening


def reference_for(seed: int) -> str:
    """The parcel's reference number drawn for ``seed`` (its label shows it)."""
    return make_s10("RR", f"{int(np.random.default_rng(seed).integers(0, 10**8)):08d}", "CN")


def render(view: str, fault: str, seed: int) -> ExamPhoto:
    rng = np.random.default_rng(seed)
    reference = reference_for(seed)
    rng.integers(0, 10**8)  # the draw reference_for made
    scene, subject = _scene(view, fault, rng, reference)
    rgb = _phone(scene, subject, fault, rng)
    img = Image.fromarray(rgb)
    kwargs = {"quality": int(rng.integers(85, 94))}
    if rng.random() < 0.3:  # held upright: stored sideways, EXIF says turn it
        img = img.transpose(Image.Transpose.ROTATE_90)
        exif = Image.Exif()
        exif[0x0112] = 6
        kwargs["exif"] = exif.tobytes()
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kwargs)
    return ExamPhoto(view, fault, buf.getvalue(), reference)
