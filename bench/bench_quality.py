"""Benchmark of the photographic standard (not a test): timings, sizes, rejections per nuisance.

    .venv/bin/python bench/bench_quality.py --count 20

Prints markdown tables: quality checks ms per 1280x960 frame (median/p95),
JPEG encode ms, package build ms and bytes per view; on the synthetic set, the
share of frames each check rejects per nuisance next to the share the decode
stage reads; and whether sharpness agrees with the decodable limit.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.decode import LabelReader  # noqa: E402
from edge.package import PackageConfig, build_package  # noqa: E402
from edge.package.build import view_regions  # noqa: E402
from edge.package.jpeg import ImageMeta, encode_jpeg  # noqa: E402
from edge.quality import assess  # noqa: E402
from edge.quality.config import QualityProfile  # noqa: E402
from edge.records import Box, LabelReading, ParcelRecord, Symbol, Verdict  # noqa: E402

Read = Callable[[np.ndarray], tuple[Symbol, ...]]
from edge.synth.nuisance import NAMES, motion_kernel  # noqa: E402
from edge.synth.scene import render_still, sample_parcel  # noqa: E402

CHECKS = ("sharpness", "brightness", "shadows", "highlights", "glare", "framing", "legibility")


def _ms(fn: Callable[[], Any], repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) * 1000 / repeat


def _frames(count: int, seed: int) -> list[tuple[str, np.ndarray, dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    out = []
    for name in NAMES:
        for _ in range(count):
            image, truth = render_still(sample_parcel(rng), rng, () if name == "clean" else (name,))
            out.append((name, image, truth))
    return out


def _stats(values: list[float]) -> str:
    return f"{np.median(values):.2f} / {np.percentile(values, 95):.2f}"


def _record(seq: int, symbols: tuple[Symbol, ...]) -> ParcelRecord:
    return ParcelRecord(id=f"bench-{seq}", unit="bench-01", seq=seq, time_utc="2026-11-23T02:00:00Z",
                        reference=None, symbols=symbols, verdict=Verdict("clear"),
                        classification=None, quality=())


def _measure(frames: list[tuple[str, np.ndarray, dict[str, Any]]], profile: QualityProfile,
             cfg: PackageConfig, reader: LabelReader) -> dict[str, Any]:
    """Each frame as the unit handles it: decode, assess, package (label box from decode)."""
    m: dict[str, Any] = {"assess": [], "encode": [], "build": [], "sizes": defaultdict(list),
                         "rejects": defaultdict(lambda: defaultdict(int)),
                         "decoded": defaultdict(int), "redacted": 0,
                         "hidden": defaultdict(list), "codes_kept": []}
    meta = ImageMeta("bench", "bench-01", "2026-11-23T02:00:00Z", "NOREAD", "", profile.name,
                     "parcel", False)
    for i, (name, image, truth) in enumerate(frames):
        parcel, reading = Box(*truth["parcel_box"]), reader.read_image(image)
        report = assess(image, profile, parcel, reading)
        m["assess"].append(_ms(lambda: assess(image, profile, parcel, reading), 3))
        m["encode"].append(_ms(lambda: encode_jpeg(image, profile.jpeg_quality, meta)))
        for check in report.failed + (("any",) if not report.passed else ()):
            m["rejects"][name][check] += 1
        texts = {s.text for s in reading.symbols}
        m["decoded"][name] += bool({b["text"] for b in truth["barcodes"]} & texts)
        start = time.perf_counter()
        package = build_package(_record(i, reading.symbols), image, reading.label_box, profile,
                                cfg, parcel)
        m["build"].append((time.perf_counter() - start) * 1000)
        m["redacted"] += any(r.redacted for r in package.record.images)
        _score_redaction(m, package, view_regions(image.shape, parcel, None, profile, cfg),
                         truth, reader)
        for ref in package.record.images:
            m["sizes"][ref.view].append(ref.bytes)
    return m


def _ink_hidden(before: np.ndarray, after: np.ndarray, box: list[int], origin: Box) -> float:
    x, y, w, h = box[0] - origin.x, box[1] - origin.y, box[2], box[3]
    gray = cv2.cvtColor(before[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY)
    ink = gray < 0.5 * np.percentile(gray, 95)
    black = cv2.cvtColor(after[y:y + h, x:x + w], cv2.COLOR_BGR2GRAY) < 16
    return float(np.count_nonzero(ink & black)) / max(1, np.count_nonzero(ink))


def _score_redaction(m: dict[str, Any], package: Any, regions: dict[str, Box],
                     truth: dict[str, Any], reader: LabelReader) -> None:
    """Against the truth: addressee and sender ink hidden, barcodes still read, in the
    shared parcel view."""
    views = {f.view: cv2.imdecode(np.frombuffer(f.data, np.uint8), cv2.IMREAD_COLOR)
             for f in package.files if f.view in ("parcel", "parcel-redacted")}
    if len(views) < 2:
        return
    for block in ("addressee", "sender"):
        m["hidden"][block].append(_ink_hidden(views["parcel"], views["parcel-redacted"],
                                              truth["text_boxes"][block], regions["parcel"]))
    texts = {s.text for s in reader.read_image(views["parcel-redacted"]).symbols}
    m["codes_kept"].append({b["text"] for b in truth["barcodes"]} <= texts)


def _print_redaction(m: dict[str, Any]) -> None:
    print("\n## Redaction against the truth (shared parcel view)\n")
    print("| what | mean | share of copies >= 0.85 |\n|---|---|---|")
    for block, values in m["hidden"].items():
        print(f"| {block} ink hidden | {np.mean(values):.3f} | "
              f"{np.mean(np.array(values) >= 0.85):.2f} |")
    print(f"| all barcodes still read | {np.mean(m['codes_kept']):.3f} | |")


def run(count: int, seed: int) -> None:
    profile, cfg, reader = QualityProfile(), PackageConfig(), LabelReader()
    frames = _frames(count, seed)
    m = _measure(frames, profile, cfg, reader)
    print(f"## Timings ({len(frames)} synthetic 1280x960 frames, one process)\n")
    print("| what | median ms / p95 ms |\n|---|---|")
    print(f"| quality checks (assess) | {_stats(m['assess'])} |")
    print(f"| JPEG encode q{profile.jpeg_quality} full frame + XMP | {_stats(m['encode'])} |")
    print(f"| build_package (views + redaction + sidecar) | {_stats(m['build'])} |")
    print(f"\nRedacted copies made for {m['redacted']} of {len(frames)} frames "
          "(none where no label was read).")
    print("\n## Package size per view (bytes, median / p95)\n\n| view | bytes |\n|---|---|")
    for view, values in m["sizes"].items():
        print(f"| {view} | {np.median(values):.0f} / {np.percentile(values, 95):.0f} |")
    print(f"\n## Share of frames rejected per check and nuisance ({count} frames each)\n")
    print("| nuisance | decoded | " + " | ".join(CHECKS) + " | any |")
    print("|---" * (len(CHECKS) + 3) + "|")
    for name in NAMES:
        row = [f"{m['rejects'][name][c] / count:.2f}" for c in CHECKS + ("any",)]
        print(f"| {name} | {m['decoded'][name] / count:.2f} | " + " | ".join(row) + " |")
    _print_redaction(m)
    _agreement(frames, profile, lambda im: reader.read_image(im).symbols)


def _agreement(frames: list[tuple[str, np.ndarray, dict[str, Any]]], profile: QualityProfile,
               read: Read) -> None:
    """Blur past the decodable limit must fail sharpness; the same frames clean must pass."""
    blurs = {"none": lambda im: im,
             "gaussian sigma 2.5": lambda im: cv2.GaussianBlur(im, (0, 0), 2.5),
             "motion 10 px": lambda im: cv2.filter2D(im, -1, motion_kernel(10))}
    clean = [(im, t) for name, im, t in frames if name == "clean"]
    print("\n## Sharpness against the decodable limit (clean frames, blurred)\n")
    print("| blur | decoded | sharpness passed | agree |\n|---|---|---|---|")
    for label, blur in blurs.items():
        dec = sharp = agree = 0
        for image, truth in clean:
            im = blur(image)
            ok = bool({b["text"] for b in truth["barcodes"]} & {s.text for s in read(im)})
            reading = LabelReading((), None, label_box=Box(*truth["label_box"]))
            passed = "sharpness" not in assess(im, profile, Box(*truth["parcel_box"]), reading).failed
            dec, sharp, agree = dec + ok, sharp + passed, agree + (ok == passed)
        n = max(1, len(clean))
        print(f"| {label} | {dec / n:.2f} | {sharp / n:.2f} | {agree / n:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20, help="frames per nuisance")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    run(args.count, args.seed)


if __name__ == "__main__":
    main()
