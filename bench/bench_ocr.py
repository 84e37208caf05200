"""Which OCR engine reads marks: rapidocr vs Tesseract on mark crops (not a test).

    .venv/bin/python -m bench.bench_ocr [--count 60]

Two sets: the project's own marks cut upright from generator parcels (seed
9009) and words printed in Debian's TrueType/OpenType fonts on coloured
surfaces with blur and JPEG (the fonts none of the engines was tuned on here).
Reports exact-read rate (letters A-Z0-9 compared, case folded) and median ms
per crop on one thread.
"""
from __future__ import annotations

import argparse
import re
import statistics
import time

import cv2
import numpy as np

from edge.ocr import open_engine


def norm(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def generator_set(count: int) -> list[tuple[np.ndarray, str]]:
    from edge.classify.crops import crop_mark
    from models import dataset as ds

    out, i = [], 0
    while len(out) < count:
        p = ds.render(9009, i, 1.0)
        i += 1
        if p.mark is None:
            continue
        h = int(max(48, p.mark.h * 1.3))
        w = int(h * p.mark.w / p.mark.h * 1.1)
        out.append((crop_mark(p.image, p.mark, 0.12, (h, w)), p.text))
    return out


def font_set(count: int) -> list[tuple[np.ndarray, str]]:
    from bench.heldout import fonts, word_image

    rng = np.random.default_rng(77)
    return [word_image(rng, fonts()) for _ in range(count)]


def measure(engine_name: str, items: list[tuple[np.ndarray, str]]) -> tuple[float, float]:
    engine = open_engine(engine_name)
    hits, times = 0, []
    for image, truth in items:
        start = time.perf_counter()
        lines = engine.read_lines(image)
        times.append((time.perf_counter() - start) * 1000)
        read = [norm(t.text) for t in lines]
        hits += norm(truth) in read or norm(truth) == "".join(read)
    return hits / len(items), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=60)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    sets = {"generator marks": generator_set(args.count), "font words": font_set(args.count)}
    for engine in ("rapidocr", "tesseract"):
        for name, items in sets.items():
            rate, ms = measure(engine, items)
            print(f"{engine:<10} {name:<16} exact {rate:6.1%}  median {ms:6.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
