"""A second parcel renderer, written apart from ``edge.synth``, for figures that cannot flatter the reader.

Nothing here imports ``edge``: symbols are drawn by zxing-cpp's own writer
(rendered large, then resampled to a fractional 1.5-3 px per module, as a
camera sees print), text with PIL in the URW/Liberation/DejaVu faces Debian
ships (other fonts than the project's), on surfaces the project's generator
does not draw (poly mailers, padded envelopes, dark plastic totes, kraft with
tape), with decoys (a product EAN, a Code 39 internal label, a wrong-check
S10 look-alike).  Check digits are computed here from the UPU S10 and UPS
specifications independently of ``edge.identify``.

    python bench/independent_labels.py OUT_DIR --n 200 --seed 1000
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

NUISANCES = ("clean", "jpeg", "rotation", "perspective", "low_light", "defocus", "motion_blur")
FONTS = sorted(str(p) for d in ("/usr/share/fonts/opentype/urw-base35", "/usr/share/fonts/truetype/liberation")
               for p in Path(d).glob("*.[ot]tf") if "Symbol" not in p.name and "D050000L" not in p.name)
COUNTRIES = ("GB", "CN", "US", "DE", "FR", "JP", "HK", "NL", "SG", "KR", "CA", "AU")
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10(rng: np.random.Generator) -> str:
    """A UPU S10 id: the mod-11 check over weights 8 6 4 2 3 5 9 7 (10 -> 0, 11 -> 5)."""
    serial = "".join(str(d) for d in rng.integers(0, 10, 8))
    c = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS)) % 11
    check = {10: 0, 11: 5}.get(c, c)
    service = rng.choice(["RR", "RB", "LX", "EE", "CP", "UA", "LM"])
    return f"{service}{serial}{check}{rng.choice(COUNTRIES)}"


def ups(rng: np.random.Generator) -> str:
    """A UPS 1Z number: 15 characters (letters map to (ord-63) mod 10), odd positions doubled, mod 10."""
    alphabet = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    body = "".join(rng.choice(list(alphabet), 6)) + "".join(str(d) for d in rng.integers(0, 10, 9))
    vals = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
    total = sum(v * (2 if i % 2 else 1) for i, v in enumerate(vals))
    return "1Z" + body + str((10 - total % 10) % 10)


def draw_symbol(text: str, fmt: str, module_px: float, bar_mm_px: float) -> np.ndarray:
    """The symbol at ``module_px`` pixels per module: rendered at 8x and area-resampled (fractional modules)."""
    barcode = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt))
    art = np.asarray(zxingcpp.write_barcode_to_image(barcode, scale=8, add_quiet_zones=True))
    if art.shape[0] <= 8 * 2:  # 1D: give it a bar height (about 15 mm)
        art = np.repeat(art[:1], int(bar_mm_px * 15 * 8 / module_px), axis=0)
    f = module_px / 8.0
    return cv2.resize(art, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)


def _font(rng: np.random.Generator, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONTS[int(rng.integers(len(FONTS)))], max(8, px))


def label(rng: np.random.Generator, module_px: float) -> tuple[np.ndarray, str, str]:
    """A shipping label (gray) with address lines, the reference symbol, its printed line and decoys."""
    px_mm = module_px / 0.33  # print at 0.33 mm modules: the scale follows
    kind = rng.choice(["s10_128", "s10_128", "s10_128", "ups_128", "s10_dm", "s10_qr"])
    ref = ups(rng) if kind == "ups_128" else s10(rng)
    fmt = {"s10_dm": "DataMatrix", "s10_qr": "QRCode"}.get(kind, "Code128")
    sym = draw_symbol(ref, fmt, module_px if fmt == "Code128" else module_px * 1.6, px_mm)
    w, h = int(rng.uniform(75, 105) * px_mm), int(rng.uniform(55, 75) * px_mm)
    w = max(w, sym.shape[1] + int(10 * px_mm))
    paper = Image.new("L", (w, h), int(rng.integers(228, 252)))
    d = ImageDraw.Draw(paper)
    y = int(4 * px_mm)
    for line in ("FROM: " + "".join(rng.choice(list("ABCDEFGHIJKLMNOPRSTUVWZ "), 14)),
                 f"{int(rng.integers(1, 999))} {rng.choice(['HIGH ST', 'MAIN ROAD', 'RUE DU PORT', 'HAFENSTR'])}",
                 f"TO: {rng.choice(['JFK IMF', 'ISC CHICAGO', 'ISC LOS ANGELES', 'ISC MIAMI'])}"):
        d.text((int(4 * px_mm), y), line, fill=int(rng.integers(0, 60)), font=_font(rng, int(3.2 * px_mm)))
        y += int(5 * px_mm)
    arr = np.array(paper)
    sy, sx = y + int(4 * px_mm), int((w - sym.shape[1]) / 2)
    arr[sy:sy + sym.shape[0], sx:sx + sym.shape[1]] = np.minimum(arr[sy:sy + sym.shape[0], sx:sx + sym.shape[1]], sym)
    paper = Image.fromarray(arr)
    d = ImageDraw.Draw(paper)
    d.text((sx, sy + sym.shape[0] + int(1 * px_mm)), " ".join([ref[:2], ref[2:6], ref[6:10], ref[10:]]),
           fill=0, font=_font(rng, int(3.5 * px_mm)))
    arr = np.array(paper)
    if rng.random() < 0.5:  # a decoy: a product EAN-13 or an internal Code 39 that must never be the reference
        decoy = draw_symbol("4006381333931", "EAN13", module_px, px_mm) if rng.random() < 0.5 else \
            draw_symbol("X" + "".join(str(v) for v in rng.integers(0, 10, 7)), "Code39", module_px, px_mm)
        dy, dx = h - decoy.shape[0] - int(4 * px_mm), int(4 * px_mm)
        if dy > sy + sym.shape[0] + int(6 * px_mm) and dx + decoy.shape[1] < w:
            arr[dy:dy + decoy.shape[0], dx:dx + decoy.shape[1]] = decoy
    return arr, ref, fmt


def surface(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A parcel top: poly mailer, padded envelope, dark tote or taped kraft, with low-frequency shading."""
    kind = rng.choice(["poly", "padded", "tote", "kraft"])
    base = {"poly": 200, "padded": 185, "tote": 55, "kraft": 150}[kind]
    noise = cv2.resize(rng.normal(0, 1, (max(2, h // 40), max(2, w // 40))).astype(np.float32), (w, h))
    img = base + 18 * noise + rng.normal(0, 4, (h, w))
    if kind == "kraft":
        y = int(rng.integers(0, max(1, h - 60)))
        img[y:y + int(h * 0.12)] += 35  # packing tape
    return np.clip(img, 0, 255).astype(np.float32)


def scene(rng: np.random.Generator, size: tuple[int, int], module_px: float) -> tuple[np.ndarray, str, str]:
    """A belt frame (gray) with one parcel and its label somewhere on it."""
    fw, fh = size
    lab, ref, fmt = label(rng, module_px)
    lh, lw = lab.shape
    ph, pw = int(lh * rng.uniform(1.3, 1.8)), int(lw * rng.uniform(1.3, 2.0))
    ph, pw = min(ph, fh - 10), min(pw, fw - 10)
    frame = np.clip(rng.normal(70, 6, (fh, fw)), 0, 255).astype(np.float32)  # dark rubber belt
    py, px = int(rng.integers(0, fh - ph)), int(rng.integers(0, fw - pw))
    frame[py:py + ph, px:px + pw] = surface(rng, ph, pw)
    ly, lx = py + int(rng.integers(0, max(1, ph - lh))), px + int(rng.integers(0, max(1, pw - lw)))
    lh, lw = min(lh, fh - ly), min(lw, fw - lx)
    frame[ly:ly + lh, lx:lx + lw] = lab[:lh, :lw]
    return frame, ref, fmt


def nuisance(rng: np.random.Generator, img: np.ndarray, name: str, module_px: float) -> np.ndarray:
    """One degradation, sized in module widths where the physics is in module widths."""
    h, w = img.shape
    if name == "rotation":
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-180, 180)), 1.0)
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=70)
    elif name == "perspective":
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = src + rng.uniform(-0.12, 0.12, (4, 2)).astype(np.float32) * np.float32([w, h])
        img = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=70)
    elif name == "low_light":
        img = img * rng.uniform(0.12, 0.3) + rng.normal(0, rng.uniform(1.5, 3.5), img.shape)
    elif name == "defocus":
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.4, 1.1) * module_px))
    elif name == "motion_blur":
        n = float(rng.uniform(1.5, 5.0) * module_px)
        k = np.zeros((1, int(np.ceil(n)) | 1), np.float32)
        k[0, :] = 1.0
        img = cv2.filter2D(img, -1, k / k.sum())
    img = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
    if name == "jpeg":
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 40))])
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return img


def generate(out: Path, n: int, seed: int, size: tuple[int, int] = (1280, 960)) -> list[dict[str, Any]]:
    """``n`` frames split evenly over the nuisances, PNG + index.json in ``out``; reused when present."""
    index = out / "index.json"
    if index.exists():
        return json.loads(index.read_text())
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        name = NUISANCES[i % len(NUISANCES)]
        module_px = float(rng.uniform(1.5, 3.0))
        frame, ref, fmt = scene(rng, size, module_px)
        img = nuisance(rng, frame, name, module_px)
        path = out / f"{i:04d}_{name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
        rows.append({"file": path.name, "nuisance": name, "reference": ref, "format": fmt,
                     "module_px": round(module_px, 2)})
    index.write_text(json.dumps(rows, indent=1))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=210)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=960)
    a = ap.parse_args()
    rows = generate(a.out, a.n, a.seed, (a.width, a.height))
    print(f"{len(rows)} frames in {a.out}")


if __name__ == "__main__":
    main()
